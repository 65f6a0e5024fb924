"""notebooks/README.md maps every fact-check row to claim cells that exist (and so are tested)."""
from __future__ import annotations

import re
from pathlib import Path

from tests.claimcells import all_claim_tags

README = Path(__file__).resolve().parents[2] / "notebooks" / "README.md"
TAG = re.compile(r"`(ch\d\d:[\w-]+)`")


def _rows() -> dict[int, str]:
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|", line)
        if m:
            rows[int(m.group(1))] = line
    return rows


def test_every_fact_check_row_names_claim_cells():
    rows = _rows()
    assert sorted(rows) == list(range(1, 15)), sorted(rows)
    assert all(TAG.search(line) for line in rows.values()), [n for n, line in rows.items() if not TAG.search(line)]


def test_every_tag_in_the_readme_is_a_claim_cell():
    named = set(TAG.findall(README.read_text()))
    unknown = sorted(named - set(all_claim_tags()))
    assert not unknown, f"notebooks/README.md names claim cells that no chapter has: {unknown}"


def test_every_claim_cell_is_in_the_readme():
    missing = sorted(set(all_claim_tags()) - set(TAG.findall(README.read_text())))
    assert not missing, f"claim cells notebooks/README.md does not list: {missing}"
