"""Fixtures shared by the integration tests of the labs."""
from __future__ import annotations

import pytest

from helpers.labs import progress


@pytest.fixture(scope="module")
def lab_world(world, tmp_path_factory):
    """The session world, with lab passes and check counts going to a throwaway record, never the
    learner's."""
    mp = pytest.MonkeyPatch()
    mp.setenv(progress.PROGRESS_ENV, str(tmp_path_factory.mktemp("progress")))
    yield world
    mp.undo()
