"""A world's engine is stopped by the processes that name its paths in OUR pid namespace only: a course
container on the same machine (the course image, a classroom learner) runs worlds with the very same
paths, and `down` or `clean` of a world here must not kill the engines inside it. (Seen: the machine's
test world `t` restarting its engines killed world `t`'s dockerd inside a course container.)"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers.world import engine
from helpers.world.naming import WorldNames
from tests.waits import until
from tests.worlds import world_id_for_tests


def _started(argv: list[str], env: dict[str, str], shows: str) -> subprocess.Popen:
    """`argv` in a session of its own, returned once a process of that session runs with `shows` on
    its command line (the exec'd `sh -c "sleep 30" MARK` the test reads), not after a guessed delay."""
    process = subprocess.Popen(argv, env={**os.environ, **env}, start_new_session=True)
    until(lambda: any(shows in line for line in _session_lines(process.pid)), timeout=10, every=0.02,
          reason=f"a process naming {shows} (a shell's exec of `sleep 30` under its mark)",
          seen=lambda: _session_lines(process.pid))
    return process


def _session_lines(session: int) -> list[str]:
    """Command lines of the processes of one session (its leader's pid), as /proc shows them here."""
    lines = []
    for entry in Path("/proc").iterdir():
        try:
            # /proc/PID/stat: "pid (comm) state ppid pgrp session ...": comm may hold spaces, so split after ")".
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == session:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return lines


def _holders(paths) -> set[str]:
    """The command lines of the processes `processes_of` picks."""
    found = set()
    for pid in engine.processes_of(paths):
        try:
            found.add(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except FileNotFoundError:
            continue
    return found


def test_an_engine_of_the_same_name_in_another_pid_namespace_is_not_ours():
    paths = WorldNames(f"{world_id_for_tests()[:5]}pn").host("host1")
    mark = str(paths.exec_root)
    # The mark reaches the inner sh through the environment: only the inner process names it.
    inner = _started(["unshare", "--pid", "--fork", "sh", "-c", 'exec sh -c "sleep 30" "$MARK-inner"'],
                     {"MARK": mark}, shows=f"{mark}-inner")
    here = _started(["sh", "-c", 'exec sh -c "sleep 30" "$MARK-here"'], {"MARK": mark}, shows=f"{mark}-here")
    try:
        holders = _holders(paths)
        assert any(f"{mark}-here" in line for line in holders), holders     # ours: found
        assert not any(f"{mark}-inner" in line for line in holders), holders  # a container's: left alone
        # The same test `down` uses for a world's captures (tcpdump found by its folder on its command line).
        assert engine.in_own_pid_namespace(here.pid)
        inner_child = int(Path(f"/proc/{inner.pid}/task/{inner.pid}/children").read_text().split()[0])
        assert not engine.in_own_pid_namespace(inner_child)
    finally:
        for process in (inner, here):
            os.killpg(process.pid, 9)
            process.wait()


def test_a_client_naming_the_engines_socket_is_not_the_engine():
    """`up` makes the docker contexts while the engines start, and each engine's start first stops
    what `processes_of` finds: a `docker context create ... host=unix://<state>/docker.sock` was
    killed (exit -9) when the engine's state folder was the mark."""
    paths = WorldNames(f"{world_id_for_tests()[:5]}pn").host("host1")
    client = _started(["sh", "-c", 'exec sh -c "sleep 30" "host=unix://$SOCKET"'], {"SOCKET": str(paths.socket)},
                      shows=f"host=unix://{paths.socket}")
    engine_like = _started(["sh", "-c", 'exec sh -c "sleep 30" "--exec-root=$EXEC"'], {"EXEC": str(paths.exec_root)},
                           shows=f"--exec-root={paths.exec_root}")
    try:
        holders = _holders(paths)
        assert any(f"--exec-root={paths.exec_root}" in line for line in holders), holders
        assert not any(str(paths.socket) in line for line in holders), holders
    finally:
        for process in (client, engine_like):
            os.killpg(process.pid, 9)
            process.wait()
