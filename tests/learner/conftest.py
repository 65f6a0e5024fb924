"""The learner tier: notebooks executed as a learner runs them, outputs checked as a front end
shows them. `test_learner_view.py` needs the session's real lab world (root); the detector tests
run anywhere."""
from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    view_tests = []
    for item in items:
        if Path(str(item.fspath)).name == "test_learner_view.py":
            item.add_marker(pytest.mark.integration)
            view_tests.append(item)
    # After nbval's notebooks: a chapter nbval ran in this session is read from that run
    # (tests/learner/executed.py) instead of being executed a second time.
    if any(str(item.fspath).endswith(".ipynb") for item in items):
        items[:] = [item for item in items if item not in view_tests] + view_tests
