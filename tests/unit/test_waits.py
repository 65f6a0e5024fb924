"""tests/waits.py: a wait returns the event's value as soon as it happens, and a wait that times out
fails the test naming what it waited for, why, and what it saw instead."""
from __future__ import annotations

import time

import pytest

from tests.waits import WaitedTooLong, until


def test_the_event_is_returned_as_soon_as_it_happens():
    calls = []
    started = time.monotonic()
    value = until(lambda: calls.append(1) or (len(calls) >= 3 and "ready"), timeout=30, every=0.01,
                  reason="the third call")
    assert value == "ready" and len(calls) == 3
    assert time.monotonic() - started < 5   # not the timeout: the event ended the wait


def test_a_wait_that_times_out_fails_with_its_reason_and_what_it_saw():
    started = time.monotonic()
    with pytest.raises(WaitedTooLong) as failed:
        until(lambda: None, timeout=0.2, every=0.05, reason="a name host2 never learns", seen=lambda: "NXDOMAIN")
    assert time.monotonic() - started >= 0.2
    assert str(failed.value) == "waited 0.2 s for a name host2 never learns; last seen: NXDOMAIN"
    assert isinstance(failed.value, AssertionError)   # a failed test, not an error in it
