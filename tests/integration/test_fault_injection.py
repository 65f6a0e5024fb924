"""Fault injection (issue 12, item 11): SIGKILL `up`, `down`, a trace and an engine at random points,
over several seeded rounds, then check what must hold whatever was killed where:

- the next `up` yields a healthy world: `dnlab status` exits 0 (images, contexts, engines, service);
- no orphan process of the world: one dockerd per host (its pidfile's), one containerd below it,
  a shim only for a container its engine knows, the one internet service, no tcpdump at all;
- no capture folder once no trace runs;
- after the last `down`: no process, namespace, mount, folder or docker context of the world;
- a rule trace (`--rules`) killed while its TRACE rules and monitors exist leaves, after the next
  `dnlab` command (a trace, `up`, `clean`, `down`), no TRACE rule in any namespace of the world and
  no monitor.

It uses its own world (`fi`), never the session world, and drives `dnlab` as a learner's terminal
does (a process killed with SIGKILL, so nothing of it runs a cleanup). The seed is printed in every
failure; set DNLAB_FI_SEED to replay one. Bounded: three rounds, about 26-30 s on this machine (2 shared cores).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.observe.nftrace import LEDGER_DIR, MARK
from helpers.world import engine, netns
from helpers.world.naming import CAPTURE_DIR, HOSTS, SERVICE_TCP_PORT, WorldNames
from tests.waits import until
from tests.worlds import own_world_id

WORLD_ID = own_world_id("fi")  # apart from any other run's worlds (tests/conftest.py)
NAMES = WorldNames(WORLD_ID)
ROUNDS = 3
SEED = int(os.environ.get("DNLAB_FI_SEED", "1212"))
DNLAB = str(Path(sys.executable).with_name("dnlab"))
COMMAND_TIMEOUT = 90


def _dnlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DNLAB, "--world", WORLD_ID, *args], capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT)


def _killed(args: tuple[str, ...], after: float) -> str:
    """Run `dnlab ARGS` and SIGKILL it `after` seconds in (if it still runs); what happened."""
    process = subprocess.Popen([DNLAB, "--world", WORLD_ID, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=after)
        return f"{' '.join(args)} ended by itself before {after:.2f} s (exit {process.returncode})"
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return f"{' '.join(args)} killed at {after:.2f} s"


def _killed_capturing(after: float) -> str:
    """Run a trace and SIGKILL it `after` seconds into its capture (once its first tcpdump runs)."""
    process = subprocess.Popen([DNLAB, "--world", WORLD_ID, "path", "user-bridge", "egress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline and not _tcpdumps():
        time.sleep(0.01)
    time.sleep(after)
    ended = process.poll() is not None
    process.kill()
    process.wait()
    return "trace ended before its capture was seen" if ended else f"trace killed {after:.2f} s into its capture"


def _processes() -> dict[int, tuple[str, int, str]]:
    """pid -> (comm, parent pid, command line) of every process naming this world's folders."""
    marks = (str(NAMES.state_dir) + "/", str(NAMES.data_dir) + "/")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z" and any(mark in cmdline for mark in marks):
            found[int(entry.name)] = ((entry / "comm").read_text().strip(), int(parent), cmdline)
    return found


def _world_netns() -> dict[int, Path]:
    """Inode -> a path to enter, of the world's network namespaces: its machines', its engines' own
    (overlays) and its containers' (their processes sit in the engines' cgroup-parent, /<prefix>-<host>)."""
    files = [Path(netns.NETNS_DIR) / n for n in netns.list_names() if n.startswith(f"{NAMES.prefix}-")]
    files += [f for h in HOSTS for f in (NAMES.host(h).exec_root / "netns").glob("*")]
    cgroups = tuple(f"/{NAMES.prefix}-{h}/" for h in HOSTS)
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and any(c in (entry / "cgroup").read_text() for c in cgroups):
                files.append(entry / "ns" / "net")
        except OSError:
            continue
    inodes = {}
    for file in files:
        try:
            if file.parent.name != "netns" or file.stat().st_dev != file.parent.stat().st_dev:
                inodes.setdefault(file.stat().st_ino, file)  # not an engine's empty file of a gone namespace
        except OSError:
            continue
    return inodes


def _tcpdumps() -> list[str]:
    """Every tcpdump capturing in one of the world's namespaces, wherever it writes."""
    inodes = _world_netns()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "tcpdump" \
                    and (entry / "ns" / "net").stat().st_ino in inodes:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                found.append(f"tcpdump {entry.name}: {b' '.join(argv).decode(errors='replace')}")
        except OSError:
            continue
    return found


def _orphans() -> list[str]:
    """Processes of the world that a healthy world has no place for (empty when all is well)."""
    processes = _processes()
    wrong = _tcpdumps()
    for host in HOSTS:
        paths = NAMES.host(host)
        mark = f"{paths.state}/"
        engine_pid = engine.pid(paths)
        mine = {pid: p for pid, p in processes.items() if mark in p[2]}
        dockerds = [pid for pid, p in mine.items() if p[0] == "dockerd"]
        if dockerds != [engine_pid]:
            wrong.append(f"{host}: dockerd processes {dockerds}, pidfile says {engine_pid}")
        containerds = [(pid, p[1]) for pid, p in mine.items() if p[0] == "containerd"]
        if [parent for _, parent in containerds] != [engine_pid]:
            wrong.append(f"{host}: containerd (pid, parent) {containerds}, engine {engine_pid}")
        known = {c.id for c in engine.client(paths).containers.list(all=True)}
        for pid, (comm, _, cmd) in mine.items():
            if comm.startswith("containerd-shim"):
                container = cmd.split(" -id ", 1)[1].split()[0]
                if container not in known:
                    wrong.append(f"{host}: shim {pid} of a container the engine does not know ({container[:12]})")
    services = [pid for pid, p in processes.items() if "helpers.world.service" in p[2]]
    if len(services) != 1:
        wrong.append(f"internet service processes: {services}")
    return wrong


def _in_namespaces(comm: str) -> list[str]:
    """Every process named `comm` (xtables-monitor, nft) in one of the world's namespaces."""
    inodes = _world_netns()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == comm \
                    and (entry / "ns" / "net").stat().st_ino in inodes:
                found.append(f"{comm} {entry.name}")
        except OSError:
            continue
    return found


def _monitors() -> list[str]:
    return _in_namespaces("xtables-monitor") + _in_namespaces("nft")


def _trace_rules() -> list[str]:
    """Every dnlab TRACE rule (and the native chain a trace adds) in any namespace of the world."""
    def one(path: Path) -> list[str]:
        listed = subprocess.run(["nsenter", f"--net={path}", "sh", "-c", "iptables-save; ip6tables-save; "
                                 "nft list ruleset 2>/dev/null"], capture_output=True, text=True, timeout=30)
        return [f"{path}: {line.strip()}" for line in listed.stdout.splitlines() if MARK.rstrip("-") in line]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [line for lines in pool.map(one, _world_netns().values()) for line in lines]


def _killed_tracing(args: tuple[str, ...]) -> list[str]:
    """Run a rule trace and SIGKILL it while its TRACE rules and monitors exist; the rules seen then.
    It is stopped (SIGSTOP, with its children) while looked at, so the kill lands in the state seen."""
    process = subprocess.Popen([DNLAB, "--world", WORLD_ID, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)

    def frozen_with_rules() -> list[str]:
        if process.poll() is not None or not _monitors():
            return []
        os.killpg(process.pid, signal.SIGSTOP)
        rules = _trace_rules()
        if rules:
            process.kill()
        os.killpg(process.pid, signal.SIGCONT)
        return rules

    try:
        seen = until(lambda: process.poll() is not None or frozen_with_rules(), timeout=60, every=0.02,
                     reason=f"`{' '.join(args)}` to have its TRACE rules and monitors in place",
                     seen=lambda: (process.poll(), _monitors()))
    finally:
        process.kill()
        process.wait()
    assert seen is not True, f"`{' '.join(args)}` ended (exit {process.returncode}) before its rules were seen"
    return seen


def _captures_left() -> list[str]:
    root = NAMES.state_dir / CAPTURE_DIR
    return sorted(str(p) for p in root.iterdir()) if root.is_dir() else []


def _leftovers() -> list[str]:
    """Anything of the world still on the machine (empty after a complete `down`)."""
    left = [f"process {pid} {p[0]}" for pid, p in _processes().items()]
    left += [f"namespace {n}" for n in netns.list_names() if n.startswith(f"{NAMES.prefix}-")]
    marks = (str(NAMES.state_dir), str(NAMES.data_dir))
    left += [f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
             if line.split()[4].startswith(marks)]
    left += [f"folder {d}" for d in (NAMES.state_dir, NAMES.data_dir) if d.exists()]
    left += [f"context {c}" for c in engine.contexts() if c.startswith(f"{NAMES.prefix}-")]
    return left


def _healthy_up(log: list[str]) -> None:
    """`up` then `status`: both succeed, and no process of the world is an orphan."""
    made = _dnlab("up")
    assert made.returncode == 0, f"up failed after: {log}\n{made.stdout}{made.stderr}"
    status = _dnlab("status")
    assert status.returncode == 0, f"status not healthy after: {log}\n{status.stdout}{status.stderr}"
    orphans = _orphans()
    assert not orphans, f"orphans after: {log}: {orphans}"


@pytest.fixture
def fi_world():
    """World `fi`, taken down before (a leftover of an earlier run) and after the test: by the manager in
    this process (a cleanup, not a command under test: the tests drive `dnlab` as processes of their own,
    and a `dnlab down` process costs an interpreter's start more, twice per test)."""
    from helpers.world import manager

    manager.down(WORLD_ID)
    yield
    manager.down(WORLD_ID)


def test_killed_up_down_trace_and_engine_leave_a_world_that_heals(fi_world):
    rng = random.Random(SEED)
    log = [f"seed {SEED}"]
    for round_no in range(ROUNDS):
        log.append(f"round {round_no}")
        log.append(_killed(("up",), rng.uniform(0.05, 1.8)))
        _healthy_up(log)

        log.append(_killed_capturing(rng.uniform(0.0, 0.1)))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and _tcpdumps():
            time.sleep(0.05)
        assert not _tcpdumps(), f"tcpdumps outlived the killed trace: {_tcpdumps()}; {log}"

        host = rng.choice(HOSTS)
        engine_pid = engine.pid(NAMES.host(host))
        assert engine_pid is not None, f"no dockerd on {host}; {log}"
        os.kill(engine_pid, signal.SIGKILL)
        log.append(f"dockerd of {host} killed")
        _healthy_up(log)
        # The next trace sweeps the folder the killed one left (its owner is gone).
        traced = _dnlab("path", "user-bridge", "egress")
        assert traced.returncode == 0, f"trace failed after: {log}\n{traced.stdout[-2000:]}{traced.stderr[-2000:]}"
        assert not _captures_left(), f"capture folders left: {_captures_left()}; {log}"

        log.append(_killed(("down",), rng.uniform(0.05, 1.0)))
    _healthy_up(log)
    gone = _dnlab("down")
    assert gone.returncode == 0, f"down failed after: {log}\n{gone.stdout}{gone.stderr}"
    assert not _leftovers(), f"left after down: {_leftovers()}; {log}"


# --- a killed rule trace (issue 19): its TRACE rules and monitors go at the next command ------------

KILLED_TRACES = [("path", "user-bridge", "egress", "--rules"),
                 ("trace", "lanpc", "inet", "--tcp", str(SERVICE_TCP_PORT), "--rules")]
NEXT_COMMANDS = [("path", "user-bridge", "egress"), ("up",), ("clean",), ("down",)]


def test_a_killed_rule_trace_leaves_no_trace_rule_nor_monitor_after_the_next_command(fi_world):
    made = _dnlab("up")
    assert made.returncode == 0, made.stderr
    log = []
    for n, command in enumerate(NEXT_COMMANDS):
        killed = KILLED_TRACES[n % len(KILLED_TRACES)]
        left = _killed_tracing(killed)
        log.append(f"{' '.join(killed)} killed with {len(left)} TRACE rules in place")
        # Its monitors die with it (pdeathsig): no command needed for that.
        until(lambda: not _monitors(), timeout=10, every=0.05, reason="the killed trace's monitors to end",
              seen=_monitors)
        if command == ("clean",):
            # `clean` finds them without the trace's ledger too (a trace that kept none, or lost it).
            ledgers = sorted((NAMES.state_dir / LEDGER_DIR).glob("*.json"))
            assert ledgers, f"the killed trace left no ledger; {log}"
            for ledger in ledgers:
                ledger.unlink()
        done = _dnlab(*command)
        log.append(f"then {' '.join(command)} (exit {done.returncode})")
        assert done.returncode == 0, f"{log}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        now = _trace_rules()
        assert not now, f"{len(now)} TRACE rules left after {log}, e.g. {now[:3]} ({len(left)} before it)"
        assert not _monitors(), f"monitors left after {log}: {_monitors()}"
    assert not _leftovers(), f"left after down: {_leftovers()}; {log}"


# --- the world's lock (issue 23.2): the report's down / up / down, strictly one after another -----

class LockWatch(threading.Thread):
    """Every 5 ms: which processes hold (not wait for) an flock on any file the world's lock name led
    to so far (/proc/locks, by device and inode, so a lock file removed meanwhile still counts)."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path, self.files, self.order, self.overlaps = path, set(), [], []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                info = os.stat(self.path)
                self.files.add(f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}")
            except FileNotFoundError:
                pass
            holders = set()
            for line in Path("/proc/locks").read_text().splitlines():
                fields = line.split()
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] in self.files:
                    holders.add(int(fields[4]))
            if len(holders) > 1:
                self.overlaps.append(sorted(holders))
            for pid in sorted(holders):
                if not self.order or self.order[-1] != pid:
                    self.order.append(pid)
            time.sleep(0.005)


def _lock_sequence(second: str) -> tuple[LockWatch, list[subprocess.Popen]]:
    """`down &`; 0.3 s later `up &`; `second` 0.4 s after the first `down` ends (the report's timing)."""
    def start(verb: str) -> subprocess.Popen:  # this checkout's `dnlab` (python -m helpers), whatever is installed
        repo = str(Path(__file__).resolve().parents[2])
        return subprocess.Popen([sys.executable, "-m", "helpers", "--world", WORLD_ID, verb], cwd=repo, text=True,
                                env={**os.environ, "PYTHONPATH": repo}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    watch = LockWatch(Path("/run/dnlab") / f"{NAMES.prefix}.lock")
    watch.start()
    first = start("down")
    # `up` starts once `down` holds the lock (the report's "0.3 s later" is what that took there): on a
    # loaded machine `down`'s interpreter took longer than 0.3 s to start, and `up` came first.
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while first.pid not in watch.order and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    middle = start("up")
    first.wait(timeout=COMMAND_TIMEOUT)
    time.sleep(0.4)
    last = start(second)
    for process in (middle, last):
        process.wait(timeout=COMMAND_TIMEOUT)
    time.sleep(0.05)
    watch.done.set()
    watch.join()
    return watch, [first, middle, last]


@pytest.mark.parametrize("second", ["down", "up"])
def test_the_reports_down_up_sequence_runs_one_after_another(fi_world, second):
    made = _dnlab("up")
    assert made.returncode == 0, made.stderr
    watch, processes = _lock_sequence(second)
    outputs = [f"{' '.join(p.args[5:])} (pid {p.pid}) exit {p.returncode}: {p.stdout.read()}{p.stderr.read()}"
               for p in processes]
    assert not watch.overlaps, f"two commands held the world's lock at once: {watch.overlaps}; {outputs}"
    assert all(p.returncode == 0 for p in processes), outputs
    assert watch.order == [p.pid for p in processes], f"lock held in this order: {watch.order}; {outputs}"
    if second == "down":
        assert not _leftovers(), f"the last down left: {_leftovers()}; {outputs}"
    else:
        _healthy_up([f"down, up, up: {outputs}"])
