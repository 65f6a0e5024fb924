"""pytest imports test modules by basename (rootdir-relative, no __init__.py): two test files of one
name in different tiers stop the whole run at collection ("import file mismatch"), as CI saw once."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_its_own_basename():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
