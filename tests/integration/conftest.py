"""Fixtures shared by the integration tests of the labs."""
from __future__ import annotations

import pytest

from helpers.labs import progress

# What each troubleshooting lab's check reports once its fault is in place: the SYMPTOM the learner
# observes (a failing item's `what`), never the cause: the labs keep their mystery.
SYMPTOM = {
    8: "lab8-app reaches the internet service",
    9: "lab9-web reaches lab9-api by name",
    10: "the internet machine reaches the shop at host1:9081",
    11: "lab11-app reaches the internet service",
    12: "host1 reaches lab12-web over HTTP",
    13: "lab13-b reaches lab13-a with full-size packets (1450 bytes)",
}


@pytest.fixture(scope="module")
def lab_world(world, tmp_path_factory):
    """The session world, with lab passes and check counts going to a throwaway record, never the
    learner's."""
    mp = pytest.MonkeyPatch()
    mp.setenv(progress.PROGRESS_ENV, str(tmp_path_factory.mktemp("progress")))
    yield world
    mp.undo()
