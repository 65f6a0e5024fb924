"""Fixtures shared by the integration tests of the labs."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def scenario_and_lesson(world, driver: str, lesson_name: str, start: bool = True) -> Iterator[tuple]:
    """A driver scenario (started, or fresh and stopped) and a test's own Lesson (its ad-hoc
    containers); both removed afterwards. For the chapters' failing-world tests."""
    from helpers import scenarios
    from helpers.lessons.lesson import Lesson

    scenario = scenarios.get(world, driver)
    if start:
        scenario.start()
    else:
        scenario.stop()
    lesson = Lesson(world, lesson_name).reset()
    try:
        yield scenario, lesson
    finally:
        lesson.stop()
        scenario.stop()
