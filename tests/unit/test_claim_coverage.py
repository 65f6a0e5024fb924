"""Every claim cell of every chapter is tagged, has a test that makes it fail on a false world, and
runs on the true world: in its chapter under nbval, or in a test that says why it runs it there."""
from __future__ import annotations

import ast
import fnmatch
import re
import shlex
from pathlib import Path

import nbformat
import pytest

from tests import tiers
from tests.claimcells import NOTEBOOKS, all_claim_tags
from tests.worlds import japanese_chapters_here

TESTS = Path(__file__).resolve().parent.parent
CLAIM_CALL = re.compile(r"\bclaims\.(holds|all_of|equals|article_vs_reality)\(")
FAILS_TEST = re.compile(r"assert_claim_fails\(\s*\"([a-z0-9]+:[\w-]+)\"")


def test_every_claim_cell_is_tagged():
    untagged = []
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for i, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
            if cell.cell_type != "code" or "solution" in cell.metadata.get("tags", []):
                continue
            tagged = any(t.startswith("claim:") for t in cell.metadata.get("tags", []))
            if CLAIM_CALL.search(cell.source) and not tagged:
                untagged.append(f"{notebook.name} cell {i}: {cell.source.splitlines()[0][:70]}")
    assert not untagged, "claim cells without a claim:<chapter>:<name> tag:\n" + "\n".join(untagged)


def test_every_claim_has_a_failing_world_test():
    tested = {m for path in TESTS.rglob("test_*.py") for m in FAILS_TEST.findall(path.read_text())}
    missing = sorted(set(all_claim_tags()) - tested)
    assert not missing, "claims no test makes fail on a false world:\n" + "\n".join(missing)


def test_failing_world_tests_name_existing_claims():
    tested = {m for path in TESTS.rglob("test_*.py") for m in FAILS_TEST.findall(path.read_text())}
    stale = sorted(tested - set(all_claim_tags()))
    assert not stale, "tests name claim cells that no chapter has:\n" + "\n".join(stale)


# Where a claim holds (the true world), its cell runs in its chapter: nbval executes every chapter
# notebook on the session world (scripts/test.sh, `--nbval-lax`), and a claim cell raises ClaimFailed
# when its claim is false. A true-world `run_claim("chNN:name", ...)` stays in tests/ only where it is
# not the notebook's run (another engine, or the control of a false world built from the same state).
TEST_SCRIPT = TESTS.parent / "scripts" / "test.sh"
NBVAL_SKIPS = ("nbval-skip", "skip-execution", "raises-exception", "nbval-raises-exception")
NBVAL_SKIP_COMMENTS = re.compile(r"^\s*#\s*NBVAL_(SKIP|RAISES_EXCEPTION)\b", re.MULTILINE)


def true_world_runs() -> dict[str, list[str]]:
    """{claim tag: [test files that run it with run_claim on a live world]}: files of every tier but
    unit (whose run_claim reads saved outputs). The tag is a literal first argument, or the variable
    of an enclosing loop over literal tags (`for tag in ("ch07:nat", ...): run_claim(tag, ...)`)."""
    runs: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        relative = path.relative_to(TESTS.parent).as_posix()
        if tiers.tier_of(relative) == "unit":
            continue
        tree = ast.parse(path.read_text())
        looped: dict[int, list[str]] = {}   # id(call) -> the tags its loop variable takes
        for loop in ast.walk(tree):
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) \
                    and isinstance(loop.iter, (ast.Tuple, ast.List)):
                for call in ast.walk(loop):
                    if isinstance(call, ast.Call) and call.args and getattr(call.args[0], "id", None) == loop.target.id:
                        looped[id(call)] = [e.value for e in loop.iter.elts if isinstance(e, ast.Constant)]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "run_claim" and node.args):
                continue
            if isinstance(node.args[0], ast.Constant):
                tags = [node.args[0].value]
            elif id(node) in looped:
                tags = looped[id(node)]
            else:
                raise AssertionError(f"{relative}:{node.lineno}: run_claim's tag is neither a literal nor a loop "
                                     "variable over literal tags; write it as one so this test can read it")
            for tag in tags:
                runs.setdefault(tag, []).append(relative)
    return runs


def _patterns(conftest: Path, node: ast.Assign) -> list[str]:
    """The patterns an assignment gives: a literal as written, else the conftest's own value (it
    decides, e.g. notebooks/ja/conftest.py by the leg)."""
    try:
        return ast.literal_eval(node.value)
    except ValueError:
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"_conftest_{abs(hash(str(conftest)))}", conftest)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, node.targets[0].id)


def nbval_paths() -> list[Path]:
    """What scripts/test.sh hands to `--nbval-lax` (the words after it on its line, up to the next option)."""
    (line,) = [line for line in TEST_SCRIPT.read_text().splitlines()
               if "--nbval-lax" in line and not line.lstrip().startswith("#")]
    words = shlex.split(line.split("--nbval-lax", 1)[1])
    paths = []
    for word in words:
        if word.startswith("-") or word == "\\":
            break
        paths.append((TEST_SCRIPT.parent.parent / word).resolve())
    return paths


def ignored_by_a_conftest(notebook: Path, root: Path) -> bool:
    """A conftest.py in the notebook's folder or one above it, up to `root`, lists it in
    collect_ignore or collect_ignore_glob."""
    for folder in [notebook.parent, *notebook.parent.parents]:
        conftest = folder / "conftest.py"
        relative = notebook.relative_to(folder).as_posix()
        for node in ast.walk(ast.parse(conftest.read_text())) if conftest.exists() else ():
            names = {getattr(target, "id", "") for target in getattr(node, "targets", [])}
            if names & {"collect_ignore", "collect_ignore_glob"} and any(
                    fnmatch.fnmatch(relative, pattern) for pattern in _patterns(conftest, node)):
                return True
        if folder == root:
            return False
    return False


def collected_by_nbval(notebook: Path) -> bool:
    notebook = notebook.resolve()
    for path in nbval_paths():
        if notebook == path or path in notebook.parents:
            return not ignored_by_a_conftest(notebook, path if path.is_dir() else path.parent)
    return False


def claim_cells_run_by_nbval() -> dict[str, list[str]]:
    """{claim tag: [notebook names]} of every claim cell nbval executes and fails on an error."""
    found: dict[str, list[str]] = {}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if not collected_by_nbval(notebook):
            continue
        for cell in nbformat.read(notebook, as_version=4).cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if cell.cell_type != "code" or any(t in NBVAL_SKIPS for t in tags) \
                    or NBVAL_SKIP_COMMENTS.search(cell.source) or not CLAIM_CALL.search(cell.source):
                continue
            for tag in tags:
                if tag.startswith("claim:"):
                    found.setdefault(tag.removeprefix("claim:"), []).append(notebook.name)
    return found


def test_scripts_test_sh_hands_the_chapters_to_nbval():
    """The reading below is the script's: the chapters' folder is what `--nbval-lax` gets."""
    assert NOTEBOOKS.resolve() in nbval_paths()
    assert collected_by_nbval(NOTEBOOKS / "01_basics_nat.ipynb")
    # notebooks/ja/conftest.py: the Japanese chapters on one leg (tests/worlds.py)
    assert collected_by_nbval(NOTEBOOKS / "ja" / "01_basics_nat.ipynb") == japanese_chapters_here()


@pytest.mark.parametrize("chosen", ["0", "1"])
def test_the_japanese_chapters_leg_is_chosen(monkeypatch, chosen):
    monkeypatch.setenv("DNLAB_JA_NOTEBOOKS", chosen)
    assert collected_by_nbval(NOTEBOOKS / "ja" / "01_basics_nat.ipynb") is (chosen == "1")
    monkeypatch.delenv("DNLAB_JA_NOTEBOOKS")
    monkeypatch.setenv("DNLAB_ENGINE", "28")                              # the Docker 28 leg
    assert not collected_by_nbval(NOTEBOOKS / "ja" / "01_basics_nat.ipynb")


def test_every_claim_runs_on_the_true_world_somewhere():
    """Each claim without a true-world run_claim in tests/ is a code cell nbval executes on the
    session world, once, in a chapter notebook; nothing that was checked there is dropped."""
    in_tests, in_notebooks = true_world_runs(), claim_cells_run_by_nbval()
    nowhere = sorted(tag for tag in all_claim_tags() if tag not in in_tests and tag not in in_notebooks)
    assert not nowhere, "claims run on the true world by neither nbval nor a test:\n" + "\n".join(nowhere)
    twice = sorted(f"{tag}: {names}" for tag, names in in_notebooks.items() if len(names) > 1)
    assert not twice, "claim tags on more than one cell:\n" + "\n".join(twice)


def test_true_world_runs_name_existing_claims():
    stale = sorted(set(true_world_runs()) - set(all_claim_tags()))
    assert not stale, "run_claim names claim cells that no chapter has:\n" + "\n".join(stale)
