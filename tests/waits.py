"""Waiting in tests: poll for the event a test needs, with the reason it can take a while, and fail
naming that reason and what was last seen, never fall through after a deadline nor sleep a guessed
delay. An ordinary module (`from tests.waits import until`), usable by every tier."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitedTooLong(AssertionError):
    """The awaited event did not happen in time (an assertion failure: the test fails, it is not an error)."""


def until(event: Callable[[], T], *, timeout: float, every: float, reason: str,
          seen: Callable[[], object] | None = None) -> T:
    """Call `event` every `every` s until it returns something true, and return that. After `timeout`
    s fail with `reason` (what is awaited and why it takes time) and `seen()` (what was there instead)."""
    deadline = time.monotonic() + timeout
    while True:
        result = event()
        if result:
            return result
        if time.monotonic() >= deadline:
            last = f"; last seen: {seen()}" if seen is not None else ""
            raise WaitedTooLong(f"waited {timeout:g} s for {reason}{last}")
        time.sleep(every)
