"""Parts of helpers/world/classroom.py that need no engine: the listen address, the relay, the owner's
liveness as `dnlab classroom down` judges it."""
from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from helpers.errors import LabError
from helpers.world import classroom
from tests.aio import run_async


def test_listen_address():
    assert classroom.parse_listen("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert classroom.parse_listen(":8010") == ("127.0.0.1", 8010)
    with pytest.raises(LabError, match="HOST:PORT"):
        classroom.parse_listen("127.0.0.1")


def test_relay_joins_each_connection_to_the_port_behind_it():
    """The relay as the owner runs it, here within one namespace: a client's bytes reach the server
    on the target port and its answer comes back."""

    async def scenario() -> bytes:
        async def upper(reader, writer):
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()

        target = await asyncio.start_server(upper, "127.0.0.1", 0)
        port = target.sockets[0].getsockname()[1]
        sock = classroom.listener("127.0.0.1:0")
        stop = asyncio.Event()
        relaying = asyncio.create_task(classroom.relay(sock, port, stop))
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        writer.write(b"hello hub\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        stop.set()
        await relaying
        target.close()
        sock.close()
        return answer

    assert run_async(scenario()) == b"HELLO HUB\n"


def test_a_busy_listen_address_names_the_fix():
    taken = classroom.listener("127.0.0.1:0")
    try:
        with pytest.raises(LabError, match="LISTEN="):
            classroom.listener("{}:{}".format(*taken.getsockname()))
    finally:
        taken.close()


def test_an_owner_that_finished_is_gone_even_before_its_parent_reaps_it():
    """`up` starts the owner as a child: after `down`'s SIGTERM it is a zombie until reaped, and
    down once waited its full timeout (180 s) for it."""
    done = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while Path(f"/proc/{done.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not classroom._alive(done.pid)
    done.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        assert classroom._alive(running.pid)
    finally:
        running.kill()
        running.wait()
    assert not classroom._alive(running.pid)
