"""A claim offers the code that measured its evidence, folded under it (issue 20.6, d2l's habit).

- the mechanism: a `@measured` helper called before a claim is named in the claim's text and its
  source is in the claim's HTML, folded (`<details>`); a helper it calls is not named; a later claim
  with no new measurement shows the same code; the fact-check form keeps it;
- every claim cell of every chapter: the cells since the previous claim (the claim's own included, or
  the previous claim's when none) call at least one measuring helper by its notebook name
  (`ch01.egress_snat`, `facts.sh`), each a real function of helpers/lessons marked `@measured`, whose
  source `inspect.getsource` shows.
"""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import nbformat
import pytest

from helpers.lessons import ch02, ch07, claims
from helpers.observe.parse import parse_iptables_save

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
HELPERS = ("facts", "probes", "common")
MASQUERADE = "*nat\n[3:180] -A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n"


def test_a_claim_shows_the_source_of_the_helper_that_measured_it():
    found = ch02.drops_between([], [], ("br-a", "br-b"))
    claim = claims.holds("nothing dropped between the two bridges", not found["dropped_by"], evidence=found)
    assert claim.measured_by == [inspect.unwrap(ch02.drops_between)]
    assert "measured by: ch02.drops_between" in repr(claim)
    html = claim._repr_html_()
    folded = html[html.index("<details><summary>the code that measured it: ch02.drops_between</summary>"):]
    assert "helpers/lessons/ch02.py" in folded and "def drops_between(" in folded
    assert "return {&quot;bridges&quot;: list(bridges)," in folded   # the source, escaped, not a summary

    again = claims.equals("the same evidence backs a second claim", found["counted"], [])
    assert again.measured_by == claim.measured_by

    rules = ch07.source_nat_for(parse_iptables_save(MASQUERADE), "172.17.0.0/16", "eth0")
    proof = claims.article_vs_reality("only Docker's rule", "any rule that takes the traffic",
                                      claims.holds("-o eth0 -j MASQUERADE counts", len(rules) == 1))
    assert [claims.code_name(fn) for fn in proof.measured_by] == ["ch07.source_nat_for"]
    assert "def source_nat_for(" in proof._repr_html_()


def _measuring_calls(source: str, chapter: str) -> list[str]:
    """`module.name` of each call of a measuring helper a cell makes, as a notebook writes it."""
    names = []
    for module, name in re.findall(rf"\b({chapter}|{'|'.join(HELPERS)})\.([A-Za-z_]\w*)\(", source):
        fn = getattr(importlib.import_module(f"helpers.lessons.{module}"), name, None)
        if getattr(fn, "measures", None) is not None and f"{module}.{name}" not in names:
            names.append(f"{module}.{name}")
    return names


def _claims_and_their_code(notebook: Path) -> list[tuple[str, list[str]]]:
    chapter = "ch" + notebook.name[:2]
    out, since, last = [], [], []
    for cell in nbformat.read(notebook, 4).cells:
        if cell.cell_type != "code":
            continue
        since += [n for n in _measuring_calls(cell.source, chapter) if n not in since]
        tags = cell.metadata.get("tags", [])
        if "claim" in tags:
            if since:
                last, since = since, []
            out.append((next(t for t in tags if t.startswith("claim:")), list(last)))
    return out


@pytest.mark.parametrize("notebook", [nb for nb in CHAPTERS if _claims_and_their_code(nb)], ids=lambda nb: nb.stem)
def test_every_claim_names_real_measuring_code_and_shows_its_source(notebook):
    for tag, names in _claims_and_their_code(notebook):
        assert names, f"{tag}: no measuring helper runs before this claim, so it would show no code"
        for name in names:
            module, function = name.split(".")
            fn = getattr(importlib.import_module(f"helpers.lessons.{module}"), function)
            original = fn.measures
            assert inspect.isfunction(original) and original.__name__ == function, name
            assert f"def {function}(" in claims.code_of(original), f"{tag}: {name}'s source is not shown"
            # where it lives: the chapter's module, or the shared one it re-exports (common.py, ...)
            assert claims.code_file(original) == original.__module__.replace(".", "/") + ".py"
