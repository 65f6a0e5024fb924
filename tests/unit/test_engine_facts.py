"""The one table of engine-dependent facts (helpers/world/engine_facts.py): its truths per release, and
a guard that no version-dependent sentence is written anywhere else in the course's text.

The guard reads the text a learner sees: the chapters' cells (notebooks/src/chNN.py: markdown, and the
strings and comments of code cells), and the strings of helpers/lessons and helpers/labs (plus the
labs' `# %%` lines, which become the solution notebooks' markdown). A version marker there ("Docker 28",
"26.1", a chain that exists on some releases only, ...) must come from the table instead:
`[[engine:ID]]` in markdown and `# %%` text, `engine_facts.say(ID)` in Python.
"""
from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from pathlib import Path

import pytest

from helpers.world import engine_facts

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("notebooks/src/ch[0-9][0-9].py"), *ROOT.glob("helpers/lessons/*.py"),
                  *ROOT.glob("helpers/labs/*.py")])
# A Docker release named in prose, or a chain name that exists on some releases only.
MARKER = re.compile(r"\bDocker (?:Engine )?\d{2}\b|(?<![\w.])(?:20\.10|2[1-9]\.\d+)(?![\d.]*[\d/])"
                    r"|DOCKER-(?:FORWARD|BRIDGE|CT|INTERNAL)\b|ISOLATION-STAGE|firewall-backend|moby#45610")
# Calls whose string arguments are commands run for real (a grep for the chains is not a sentence).
COMMANDS = {"sh", "cli", "typed_on_this_machine", "run_docker", "exec_run"}
CELLS = {"md", "code", "claim", "solution"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _texts(source: str, where: str, cells: bool, comments: str | None) -> list[tuple[str, str]]:
    """(where, text) of every prose string in `source`: no docstrings, no single words (identifiers),
    no command arguments; a chapter's code cells are parsed and read the same way, with their comments."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        strings = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name in COMMANDS:
            skip.update(id(a) for a in ast.walk(node) if isinstance(a, ast.Constant))
        elif cells and name in CELLS and strings:
            text = textwrap.dedent(strings[-1].value)
            skip.add(id(strings[-1]))
            if name == "md":
                found.append((f"{where}:{node.lineno} (markdown)", text))
            else:
                found += _texts(text, f"{where}:{node.lineno} (code cell)", False, "#")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                and len(node.value.split()) > 1:
            found.append((f"{where}:{getattr(node, 'lineno', '?')}", node.value))
    if comments:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.string.startswith(comments):
                found.append((f"{where}:{token.start[0]} (comment)", token.string))
    return found


def course_texts() -> list[tuple[str, str]]:
    texts = []
    for path in SOURCES:
        rel = str(path.relative_to(ROOT))
        chapter = rel.startswith("notebooks/src/")
        texts += _texts(path.read_text(), rel, chapter, "# %%" if "/labs/" in rel else None)
    return texts


def version_sentences(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {match.group(0)!r} in {text.strip()[:100]!r}"
            for where, text in texts for match in MARKER.finditer(text)]


def test_no_engine_dependent_sentence_outside_the_table():
    found = version_sentences(course_texts())
    assert not found, ("engine-dependent text written outside helpers/world/engine_facts.py; state it there "
                       "and render it ([[engine:ID]] in markdown and `# %%` text, engine_facts.say(ID) in "
                       "Python):\n" + "\n".join(found))


def test_the_guard_sees_a_version_sentence_in_every_kind_of_text():
    """The guard is not blind: each place a sentence can hide is caught, and commands are not."""
    chapter = textwrap.dedent('''
        def build():
            return [md("""On Docker 28 the chains moved."""),
                    code("""
                    # a comment that says 26.1 differs
                    facts.sh(world, "host1", "iptables-save | grep -e DOCKER-FORWARD -e ISOLATION")
                    print("the DOCKER-INTERNAL chain exists")
                    """)]
        ''')
    found = version_sentences(_texts(chapter, "chXX.py", True, None))
    assert sorted(f.split(": ", 1)[1].split(" in ")[0] for f in found) == ["'26.1'", "'DOCKER-INTERNAL'", "'Docker 28'"]
    lab = 'def lab(world):\n    # %% Since 28.0 the raw table drops it.\n    x = "DOCKER-CT"\n'
    assert len(version_sentences(_texts(lab, "labs/x.py", False, "# %%"))) == 1  # the comment; a lone name is not prose
    assert not version_sentences([("x", "172.28.0.0/14 and 10.20.10.1 are addresses, not releases")])


def test_every_engine_marker_in_the_course_names_a_fact():
    markers = {m.group(1) for path in SOURCES for m in engine_facts.MARKER.finditer(path.read_text())}
    assert markers, "no chapter renders a fact: the table is unused"
    for fact_id in markers:
        assert engine_facts.say(fact_id)
    with pytest.raises(KeyError, match="no engine fact 'nope'; there are chains"):
        engine_facts.say("nope")


def test_generated_notebooks_hold_no_unrendered_marker():
    for notebook in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("labs/*.ipynb"), *ROOT.glob("labs/solutions/*.ipynb")]:
        assert "[[engine:" not in notebook.read_text(), f"{notebook.name}: regenerate it"


def test_every_fact_has_a_truth_and_a_source_on_every_engine():
    for fact in engine_facts.FACTS:
        assert fact.sentence and fact.topic and fact.where
        for engine, era in fact.truth().items():
            assert era.value and era.source, (fact.id, engine)
            if engine == "29.0" and era.since == "29.0":
                assert "not run here" in era.source, (fact.id, "29 is cited, never claimed as measured")


def test_the_chains_per_release_are_moby_s_generated_tables():
    chains = engine_facts.fact("chains")
    on = {v: chains.on(v).value for v in ("20.10.24", "26.1.5", "28.0.0", "28.0.1", "28.5.2", "29.0.0")}
    assert on["20.10.24"] == on["26.1.5"] == "DOCKER-ISOLATION-STAGE-1 and DOCKER-ISOLATION-STAGE-2"
    assert "ipsets" in on["28.0.0"] and "DOCKER-FORWARD" not in on["28.0.0"]
    assert on["28.0.1"] == on["28.5.2"]
    assert "kept beside the new DOCKER-FORWARD, DOCKER-BRIDGE and DOCKER-CT" in on["28.5.2"]
    assert all("DOCKER-INTERNAL" not in on[v] for v in ("20.10.24", "26.1.5", "28.0.0", "28.5.2"))
    assert "DOCKER-INTERNAL" in on["29.0.0"] and "-A DOCKER ! -i <bridge> -o <bridge> -j DROP" in on["29.0.0"]
    assert engine_facts.IPTABLESDOC in chains.on("29.0.0").source
    # The same as data, for the claims that look for the chains.
    assert engine_facts.filter_chains("26.1.5") == ("DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2")
    assert engine_facts.filter_chains("28.0.0") == engine_facts.filter_chains("20.10.24")
    assert engine_facts.filter_chains("28.5.2")[:2] == ("DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2")
    assert "DOCKER-INTERNAL" not in engine_facts.filter_chains("28.5.2")
    assert "DOCKER-ISOLATION-STAGE-1" not in engine_facts.filter_chains("29.0.0")
    for since, names in engine_facts.FILTER_CHAINS:        # every chain named is in the sentence
        assert all(name.removeprefix("DOCKER-ISOLATION-STAGE-") in chains.on(since).value for name in names)


def test_the_other_engine_facts_per_release():
    assert "a default route" in engine_facts.fact("internal-route").on("20.10.24").value
    assert engine_facts.fact("internal-route").on("25.0.0").value == "no default route at all"
    assert "moby#45610" in engine_facts.fact("loopback-publish").on("27.5.1").value
    assert "dropped" in engine_facts.fact("loopback-publish").on("28.0.0").value
    assert "raw-table" in engine_facts.fact("direct-access").on("28.5.2").value
    assert "only the filter table" in engine_facts.fact("direct-access").on("26.1.5").value
    assert "cannot be enabled in swarm mode" in engine_facts.fact("nftables").on("29.0.0").value
    assert "iptables only" in engine_facts.fact("nftables").on("28.5.2").value
    assert engine_facts.fact("random-mac").on("28.5.2").value == "random"
    assert engine_facts.fact("macvlan-gateway").on("29.0.0").value == "no default gateway is assumed"
    assert "inner Ethernet header (14)" in engine_facts.say("overlay-mtu")


def test_render_replaces_markers_and_engine_notes_name_this_engine():
    assert engine_facts.render("x [[engine:kv-store]] y") == f"x {engine_facts.say('kv-store')} y"
    assert engine_facts.engine_notes(None) == ["(no dockerd: which statements hold cannot be told)"]
    notes = engine_facts.engine_notes("26.1.5")
    assert any(line.startswith("ch02 §2.5, ch08:") and line.endswith("no default route at all") for line in notes)
    assert not any("host network" in line or "`none` network" in line for line in notes)  # same on every release
    assert engine_facts.on_engine("userland-proxy", "20.10.24").startswith("on Docker 20.10.24: userland-proxy is on")
