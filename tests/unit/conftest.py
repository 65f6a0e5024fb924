"""The unit tier's shared saved runs and figures (tests/unit/saved_runs.py) are forgotten after its last
test: `make test` runs the slower tiers in the same process."""
from __future__ import annotations

from pathlib import Path

from tests.unit import saved_runs

HERE = Path(__file__).parent


def pytest_runtest_teardown(item, nextitem):
    if nextitem is None or not Path(nextitem.path).is_relative_to(HERE):
        saved_runs.forget()
