"""The hardening reproductions of issue 23 that meet no Docker engine: refused as usage before any world
is read (a world id with a control character, 23.3; kernel folders and devices as output, 23.1; ports
outside 1-65535, 23.5), the planted-link race inside the writer (23.1), and a `down` waiting for another
command's lock on a world that does not exist (23.2). Split from test_hardening.py so CI's Docker 28 leg,
which changes only the session world's engines, need not run them again (tests/tiers.py
SAME_ON_EVERY_SESSION_ENGINE). Every `dnlab` runs as its own process, as a learner's terminal runs it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from helpers.errors import EXIT_USAGE
from helpers.world.naming import WorldNames
from tests.integration.dnlab_process import REPO, as_nobody, dnlab, dnlab_started, no_traceback, shared_folder
from tests.waits import until
from tests.worlds import own_world_id, world_id_for_tests


@pytest.fixture
def shared_dir():
    yield from shared_folder()


# --- 23.3: world ids matched whole -------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["hh\n", "hh\n\n", "h\th", "hh\r", "\nhh"])
def test_a_world_id_with_a_control_character_is_refused(bad):
    for argv in (("status",), ("down",), ("up",)):
        result = dnlab(*argv, world=bad, timeout=30)
        assert result.returncode == EXIT_USAGE, (bad, argv, result.stdout, result.stderr)
        assert "is not valid" in result.stderr and "fix:" in result.stderr
        no_traceback(result)
    env_result = subprocess.run([sys.executable, "-m", "helpers", "status"], capture_output=True, text=True,
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "DNLAB_WORLD": bad})
    assert env_result.returncode == EXIT_USAGE, env_result.stderr


# --- 23.1: no file written through a planted link; nothing into the kernel's folders -------------------

@pytest.mark.parametrize("argv", [
    ("map", "--png", "/proc/x.png"), ("map", "--png", "/sys/x.png"), ("map", "--png", "/dev/x.png"),
    ("map", "--png", "/dev/null"), ("path", "user-bridge", "egress", "--keep", "/proc/x"),
    ("path", "user-bridge", "egress", "--png", "/proc/x.png"), ("trace", "a", "b", "--keep", "/sys/x"),
    ("trace", "a", "b", "--png", "/proc/self/x.png"),
])
def test_kernel_folders_and_devices_are_refused_with_exit_2(argv):
    result = dnlab(*argv, world=world_id_for_tests(), timeout=120)
    assert result.returncode == EXIT_USAGE, (argv, result.returncode, result.stderr)
    assert "fix:" in result.stderr
    no_traceback(result)


def test_a_link_planted_after_the_check_is_replaced_not_followed(shared_dir, monkeypatch):
    """The race the check cannot close: a link appears between check and write. The write is a temp
    file renamed over the name, so the link itself is replaced and its target stays as it was."""
    from helpers.world import userfile

    target = shared_dir / "late.png"
    monkeypatch.setattr(userfile, "check_file", lambda path, option="--png": as_nobody(
        "ln", "-s", str(shared_dir / "decoy"), str(target)))
    userfile.write_file(str(target), b"\x89PNG new")
    assert (shared_dir / "decoy").read_text() == "root's own file\n"
    assert not target.is_symlink() and target.read_bytes() == b"\x89PNG new"
    with userfile.OutputDir(shared_dir / "kept") as out:
        (shared_dir / "kept" / "pcaps").symlink_to(shared_dir / "decoy-dir")
        with pytest.raises(userfile.UsageError, match="link"):
            out.sub("pcaps")
    assert list((shared_dir / "decoy-dir").iterdir()) == []


# --- 23.2: a waiter says what it waits for ------------------------------------------------------------

def test_a_command_waiting_for_the_lock_says_for_what():
    """A real `up`'s lock (worldlock.locked, as manager.up takes it) held by another process until the test
    lets it go: the `down` that waits for it names it, with its pid, is still waiting when it is let go
    (not a guessed hold of a few seconds, which a `dnlab` slow to start under load arrived after), and
    runs once it is free."""
    prefix = WorldNames(own_world_id("lk")).prefix
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom helpers.world import worldlock\n"
         f"with worldlock.locked({prefix!r}, 'up'):\n    print('held', flush=True)\n    sys.stdin.readline()"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    down = None
    try:
        assert holder.stdout.readline().strip() == "held"
        down = dnlab_started("down", world=own_world_id("lk"))
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.extend(down.stderr), daemon=True)
        reader.start()
        waiting = f"waiting for another `up` of world {prefix}, pid {holder.pid}"
        until(lambda: any(waiting in line for line in said) or down.poll() is not None, timeout=120, every=0.05,
              reason="`dnlab down` to start (a Python process: seconds under load) and meet the held lock",
              seen=lambda: "".join(said))
        assert down.poll() is None, f"down ended while the lock was held: {''.join(said)}"
        holder.communicate("go\n", timeout=30)              # the lock is let go
        assert down.wait(timeout=120) == 0, "".join(said)
        reader.join(timeout=30)
        assert any(waiting in line for line in said), "".join(said)
    finally:
        for process in (holder, down):
            if process is not None:
                process.kill()
                process.wait()


# --- 23.5: ports checked as usage ---------------------------------------------------------------------

@pytest.mark.parametrize("option,port", [("--tcp", "0"), ("--tcp", "99999"), ("--tcp", "-1"), ("--udp", "70000"),
                                         ("--udp", "0"), ("--tcp", "http")])
def test_a_port_outside_1_to_65535_is_a_usage_error(option, port):
    result = dnlab("trace", "a", "b", f"{option}={port}", world=own_world_id("fa"), timeout=30)
    assert result.returncode == EXIT_USAGE, (option, port, result.returncode, result.stderr)
    assert "port" in result.stderr
    no_traceback(result)


def test_the_guard_refuses_a_port_it_would_have_replaced():
    from helpers.errors import UsageError
    from helpers.world import guard

    for port in (0, -1, 65536, 99999, "x"):
        with pytest.raises(UsageError, match="not a port"):
            guard._command("tcp", "203.0.113.10", port, 2)
    assert guard._command("tcp", "203.0.113.10", None, 2)[-1].endswith(" 9000")   # no port: the service's
    assert guard._command("udp", "203.0.113.10", 65535, 2)[-1] == "65535"
