"""A capture lives no longer than its owner and leaves nothing behind (issue 12, item 4), and its
stop() loses no frame the kernel already handed a tcpdump that lagged behind (a loaded machine).

Every process and folder is read back from /proc and the file tree, never taken from the Capture's
own word alone.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.capture import Capture, Point, read_pcap
from helpers.capture.tcpdump import captures_root
from helpers.world import guard, manager
from helpers.world.naming import RUN_ROOT
from helpers.world.proc import NETNS_DIR

ROOT = Path(__file__).resolve().parents[2]

# A child process that owns a capture at the given points, says what it runs, and waits to be killed.
OWNER = """
import json, sys, time
from helpers.capture import Capture, Point
points = [Point(*p) for p in json.loads(sys.argv[1])]
cap = Capture(points).start()
print(json.dumps({"pids": cap.pids, "directory": str(cap.directory)}), flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _world_tcpdumps(world) -> list[int]:
    """Every tcpdump whose command line names the world's capture folder, as /proc shows it."""
    mark = f"{captures_root(world.names)}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "tcpdump" \
                    and mark in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


def _machine(world, role: str, interface: str = "eth0") -> Point:
    return Point(role, f"{NETNS_DIR}/{world[role].namespace}", interface)


@pytest.fixture(scope="module")
def box(world):
    """One idle container (its namespace is Docker's, not a machine's), removed afterwards."""
    from helpers.lessons.lesson import Lesson

    lesson = Lesson(world, "caplife").reset()
    container = lesson.box("a")
    container.reload()
    yield container
    lesson.stop()


def _container_point(container) -> Point:
    return Point(container.name, f"/proc/{container.attrs['State']['Pid']}/ns/net", "eth0")


def test_a_killed_owner_leaves_no_tcpdump_and_its_folder_is_swept(world, box):
    points = [_machine(world, "inet"), _machine(world, "host1"), _container_point(box)]
    owner = subprocess.Popen([sys.executable, "-c", OWNER, json.dumps([list(vars(p).values()) for p in points])],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(owner.stdout.readline())
    finally:
        owner.kill()
        owner.wait()
    pids, folder = started["pids"], Path(started["directory"])
    assert len(pids) == 3
    # The folder is in the world's own run folder, not a loose /run/dnlab-capture-*.
    assert folder.parent == world.names.state_dir / "captures" and folder.is_relative_to(RUN_ROOT)
    assert _gone_within(pids, 2.0), f"tcpdumps outlived their SIGKILLed owner: {[p for p in pids if _alive(p)]}"
    assert folder.is_dir(), "nothing could remove the folder of a SIGKILLed owner in its own process"
    with Capture([_machine(world, "inet")]) as cap:  # the next capture of the world sweeps it
        assert cap.directory != folder
    cap.cleanup()
    assert not folder.exists() and not cap.directory.exists()


def test_a_capture_folder_is_removed_on_every_exit_path(world):
    cap = Capture([_machine(world, "inet")])
    with pytest.raises(RuntimeError), cap:
        raise RuntimeError("the probe failed")
    folder = cap.directory
    assert folder.is_dir() and not any(_alive(pid) for pid in _world_tcpdumps(world))
    del cap  # an owner that never called cleanup(): the garbage collector removes the folder
    assert not folder.exists()
    # ...and so does a process that ends without cleanup() (the interpreter's exit).
    script = ("from helpers.capture import Capture, Point; import sys; c = Capture([Point(*sys.argv[1:])]).start();"
              " c.stop(); print(c.directory)")
    done = subprocess.run([sys.executable, "-c", script, *vars(_machine(world, "inet")).values()],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    assert not Path(done.stdout.strip()).exists()


def test_down_ends_the_worlds_captures_in_dockers_namespaces_too(world, box):
    """What `down` and `clean` run first (manager.end_captures): a capture in a container's
    namespace, whose owner is alive, ends; it is found by the world's capture folder alone."""
    cap = Capture([_container_point(box), _machine(world, "host1")]).start()
    try:
        assert sorted(_world_tcpdumps(world)) == sorted(cap.pids)
        manager.end_captures(world.names)
        assert _gone_within(cap.pids, 2.0)
    finally:
        cap.stop()
        cap.cleanup()


def test_stop_waits_for_a_tcpdump_that_lags_behind(world):
    """Under load a tcpdump may not run for a while: here it is stopped (SIGSTOP) while the ping goes
    and gets its answer, and only resumed (SIGCONT) after stop() began. A bare SIGINT then ended it
    with one frame of the two written; stop() waits until tcpdump says it wrote all it received."""
    inet = world["inet"].read_address()
    cap = Capture([_machine(world, "inet")]).start()
    (pid,) = cap.pids
    os.kill(pid, signal.SIGSTOP)
    try:
        result = guard.probe(world, "router", inet, "ping")
        assert result.ok, result.output
    finally:
        resume = threading.Timer(0.3, os.kill, (pid, signal.SIGCONT))
        resume.start()
        files = cap.stop()
        resume.join()
    try:
        frames = [f for f in read_pcap(files[cap.points[0]]) if f.proto == "icmp"]
        kinds = sorted(f.icmp_type for f in frames)
        assert kinds == [0, 8], f"inet's eth0 should hold the echo request and its reply, holds {kinds}"
        assert 0.25 < cap.settle_seconds < cap.settle_timeout, cap.settle_seconds
        assert not cap.errors
    finally:
        cap.cleanup()
