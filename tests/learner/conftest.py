"""The learner tier: notebooks executed as a learner runs them, outputs checked as a front end
shows them. `test_learner_view.py` (tier `learner`) needs the session's real lab world (root); the
detector tests (tier `unit`) run anywhere. Run alone (`-m learner`), it executes each chapter itself;
in a run with nbval (`make test`) it comes after the notebooks and reads their run instead."""
from __future__ import annotations

from pathlib import Path


def pytest_collection_modifyitems(config, items):
    view_tests = [item for item in items if Path(str(item.fspath)).name == "test_learner_view.py"]
    # After nbval's notebooks: a chapter nbval ran in this session is read from that run
    # (tests/learner/executed.py) instead of being executed a second time.
    if any(str(item.fspath).endswith(".ipynb") for item in items):
        items[:] = [item for item in items if item not in view_tests] + view_tests
