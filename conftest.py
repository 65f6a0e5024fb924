"""Run-wide hooks: how long each notebook took under nbval (the chapters' CI budget is 8 minutes),
and each nbval cell's outputs kept for the learner tier (tests/learner/executed.py)."""
from __future__ import annotations

from collections import defaultdict

import pytest

from tests.learner import executed

_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    terminalreporter.section("notebook timings (nbval)")
    for group in ("notebooks/", "labs/"):
        rows = {p: s for p, s in _seconds.items() if p.startswith(group)}
        for path, seconds in sorted(rows.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
        if rows:
            terminalreporter.write_line(f"{sum(rows.values()):7.1f} s  all of {group}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Keep each nbval cell's outputs for the learner tier (tests/learner/executed.py), so the
    chapters are executed once per run, by nbval, and read as a learner sees them afterwards."""
    yield
    if item.nodeid.split("::")[0].endswith(".ipynb"):
        executed.record(item)
