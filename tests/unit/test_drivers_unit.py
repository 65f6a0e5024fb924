"""Pure parts of the chapters' helpers (helpers/lessons/common.py, ch03.py), on saved real outputs (no world)."""
from __future__ import annotations

from pathlib import Path

from helpers.lessons.ch03 import _abstract_names
from helpers.lessons.common import probe_row, short
from helpers.lessons.probes import Verdict
from helpers.scenarios.base import ProbeSpec
from helpers.world.guard import ProbeResult

DATA = Path(__file__).resolve().parent / "data"


def test_abstract_names_reads_only_the_at_sockets():
    """host1's /proc/net/unix, saved from a lab world: file sockets and unnamed ones are not abstract."""
    table = (DATA / "host1_proc_net_unix.txt").read_text()
    assert _abstract_names(table) == {"@ed70b"}
    assert _abstract_names(table.splitlines()[0]) == set()  # the header alone


def test_short_never_cuts_a_word():
    text = ("PING 198.51.100.128 (198.51.100.128): 56 data bytes\n"
            "64 bytes from 198.51.100.128: seq=0 ttl=64 time=0.072 ms")
    out = short(text, width=60)
    assert len(out) <= 60 and out.endswith(" …")
    assert all(word in text.split() for word in out.removesuffix(" …").split())
    assert short("you are 198.51.100.11:37602") == "you are 198.51.100.11:37602"


def test_a_probe_row_says_what_happened_and_no_expectation():
    """Chapter 02's solution showed `'reached': True, 'expected': False` under a proven claim: the
    scenario's design ("isolation" should not get through) read as a second, contradicting verdict.
    A row says what was sent and whether it got through; the claim says what should happen."""
    result = ProbeResult("user-bridge-c", "172.19.0.3", "ping", True,
                         "1 packets transmitted, 1 packets received\nround-trip min/avg/max = 0.146/0.146/0.146 ms", 0)
    spec = ProbeSpec("isolation", "container:c", "container:b", "ping", expect=False)
    for row in (Verdict(spec, result).row(), probe_row("isolation", result)):
        assert "expected" not in row and row["reached"] is True
        assert "round-trip min/avg/max = 0.146/0.146/0.146 ms" in row["output"]
    assert not Verdict(spec, result).as_expected  # the tests still have the scenario's design
