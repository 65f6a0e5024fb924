"""Run-wide hooks: every test's tier marker (tests/tiers.py), how long each notebook took under nbval
(the chapters' CI budget is 8 minutes), and each nbval cell's outputs kept for the learner tier
(tests/learner/executed.py)."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from tests import tiers
from tests.learner import executed

REPO = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: it selects by these markers
def pytest_collection_modifyitems(config, items):
    """Mark each test with its file's tier; leave out the opt-in tiers unless `-m` names them."""
    named = tiers.named_opt_in(config.option.markexpr)
    kept, left_out, left_out_tiers = [], [], set()
    for item in items:
        # Not resolved: notebooks/explorer.ipynb is a link into helpers/widgets/, and its tier is its own.
        relative = Path(os.path.abspath(item.fspath)).relative_to(REPO).as_posix()
        try:
            tier = tiers.tier_of(relative)
        except tiers.UntieredTest as error:
            raise pytest.UsageError(str(error)) from None
        item.add_marker(tier)
        if tier in tiers.OPT_IN and tier not in named:
            left_out.append(item)
            left_out_tiers.add(tier)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
        config.get_terminal_writer().line(
            f"{len(left_out)} tests of the opt-in tiers {', '.join(sorted(left_out_tiers))} left out: "
            f"they run when -m names them (make test-classroom, make test-course-image)")


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
