"""A capture's tcpdumps and a trace's monitors die with their owner (helpers/world/proc.py
`dying_with_owner`), even when the owner dies the instant it started them: setpriv's parent-death signal
alone is set too late in that case (found by test_fault_injection under load: "tcpdumps outlived the
killed trace", the trace killed 0.03 s into its capture). Real processes, no root, no world.
With a bare `setpriv --pdeathsig KILL` (the code before), the first test's owners left 4 to 18 of 40 sleeps
running here."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import uuid

OWNERS = 40


# An owner: a process of its own (not a fork of the test's, which has threads) that starts the command
# through `dying_with_owner` (the pid it writes in is the owner's own) and exits at once.
OWNER = ("import os, subprocess, sys\n"
         "from helpers.world.proc import dying_with_owner\n"
         "subprocess.Popen(dying_with_owner(sys.argv[1:]), stdin=subprocess.DEVNULL)\n"
         "os._exit(0)\n")


def _started_by_owners_that_die_at_once(owner: str = OWNER) -> str:
    """Start OWNERS owners side by side; each starts `sleep` and exits at once. Returns the mark each
    sleep carries in its command line."""
    mark = f"dnlab-owner-test-{uuid.uuid4().hex[:8]}"
    sleeper = [shutil.which("bash"), "-c", f"exec -a {mark} sleep 60"]
    owners = [subprocess.Popen([sys.executable, "-c", owner, *sleeper], stdin=subprocess.DEVNULL)
              for _ in range(OWNERS)]
    for process in owners:
        process.wait()
    return mark


def _running(mark: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", mark], capture_output=True, text=True).stdout.split()


def _gone(mark: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _running(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _running(mark)


def test_no_command_outlives_an_owner_that_died_the_instant_it_started_it():
    mark = _started_by_owners_that_die_at_once()
    try:
        assert _gone(mark), f"{len(_running(mark))} of {OWNERS} commands outlived their owner"
    finally:
        subprocess.run(["pkill", "-f", mark])


def test_the_command_runs_and_dies_with_a_living_owner():
    """The check passes for a living owner: the command runs, with the argv given, and ends with it."""
    mark = f"dnlab-owner-test-{uuid.uuid4().hex[:8]}"
    owner = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from helpers.world.proc import dying_with_owner\n"
        f"subprocess.Popen(dying_with_owner(['{shutil.which('bash')}', '-c', 'exec -a {mark} sleep 60']))\n"
        "time.sleep(60)\n")])
    try:
        deadline = time.monotonic() + 10
        while not _running(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _running(mark), "the command did not start under a living owner"
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert _gone(mark), "the command outlived its SIGKILLed owner"
    finally:
        owner.kill()
        subprocess.run(["pkill", "-f", mark])
