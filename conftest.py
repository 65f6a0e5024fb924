"""Run-wide report: how long each notebook took under nbval (the chapters' CI budget is 8 minutes)."""
from __future__ import annotations

from collections import defaultdict

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
