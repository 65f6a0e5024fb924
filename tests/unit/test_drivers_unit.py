"""Pure parts of helpers.lessons.drivers, fed saved real outputs (no root, no world)."""
from __future__ import annotations

from pathlib import Path

from helpers.lessons.drivers import _abstract_names, short

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
