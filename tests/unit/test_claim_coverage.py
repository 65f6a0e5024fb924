"""Every claim cell of every chapter is tagged, and has a test that makes it fail on a false world."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from tests.claimcells import NOTEBOOKS, all_claim_tags

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
