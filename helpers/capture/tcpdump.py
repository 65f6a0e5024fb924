"""Capture at many interfaces at once: one `tcpdump -w` per interface, inside its namespace.

All of them start in parallel and the capture counts as started only once every tcpdump has said
"listening on" (its socket is bound from that moment), so nothing sleeps for a guessed time.

A capture lives no longer than its owner, and leaves nothing behind:

- each tcpdump runs under `setpriv --pdeathsig KILL`, so it dies with the process (thread, in
  fact: start and stop a capture in one thread) that started it, even on a SIGKILL;
- its pcaps go into a folder of the world's own run folder (`<state dir>/captures/<pid>-<random>`,
  root's alone, removed with the world), never a loose `/run/dnlab-capture-*`; the owner keeps the
  folder's `.owner` file locked while it lives, `cleanup()` (or the garbage collector, or the
  interpreter's exit) removes the folder, and the next capture of the world sweeps a dead owner's;
- every tcpdump names that folder on its command line: `dnlab down` and `clean` end the world's
  captures by it, in any namespace (Docker's own too, which deleting the machines never reaches).

`stop()` does not lose frames that were on the wire: under load a SIGINT can end a tcpdump before it
read what its socket already holds, so it first asks each tcpdump for its counts (SIGUSR1) until
every packet the kernel handed it is written (or counted as dropped), bounded by `settle_timeout`.
"""
from __future__ import annotations

import fcntl
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import LabError, dnlab_command, env_world
from helpers.world.naming import (
    CAPTURE_DIR,
    CAPTURE_OWNER,
    PRIVATE_DIR_MODE,
    RUN_ROOT,
    WorldNames,
    parse_namespace,
    parse_prefix,
)
from helpers.world.proc import NETNS_DIR, dying_with_owner, end_all, which

# tcpdump's answer to SIGUSR1 (its "print the counts" signal on Linux), one line on stderr.
_COUNTS = re.compile(rb"(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel")
_SETTLE_POLL = 0.005   # seconds between two looks at the counts while stop() waits


@dataclass(frozen=True)
class Point:
    """Where to capture: a namespace (display name and netns file) and one of its interfaces."""

    namespace: str
    path: str
    interface: str

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.interface}"


@dataclass
class _Running:
    point: Point
    file: Path
    process: subprocess.Popen
    stderr: bytes = b""
    ready: bool = False
    counts: tuple[int, int, int] | None = None   # (captured, received by filter, dropped), last reported

    def caught_up(self) -> bool:
        """Every packet the kernel handed this tcpdump is written or counted as dropped."""
        if self.process.poll() is not None:
            return True
        return self.counts is not None and self.counts[0] + self.counts[2] >= self.counts[1]


def last_counts(stderr: bytes) -> tuple[int, int, int] | None:
    """The last (captured, received by filter, dropped by kernel) a tcpdump reported on stderr."""
    found = _COUNTS.findall(stderr)
    return tuple(int(n) for n in found[-1]) if found else None


# --- the world a capture belongs to -----------------------------------------------------------

def prefix_in_cgroup(text: str) -> str | None:
    """A container's world, from its `/proc/<pid>/cgroup`: each lab engine puts its containers under
    `/<prefix>-<host>` (its cgroup-parent), at whatever depth the machine nests it."""
    for line in text.splitlines():
        for part in line.split(":", 2)[-1].split("/"):
            parsed = parse_namespace(part)
            if parsed:
                return parsed[0]
    return None


def _prefix_of_cgroup(pid: str) -> str | None:
    try:
        return prefix_in_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
    except OSError:
        return None


def prefix_of_path(path: str) -> str | None:
    """The world of one netns file: a machine's `/run/netns/<prefix>-<role>`, an engine's own
    namespace under `/run/dnlab/<prefix>/`, or a container's `/proc/<pid>/ns/net`."""
    target = Path(path)
    if target.parent == Path(NETNS_DIR):
        parsed = parse_namespace(target.name)
        return parsed[0] if parsed else None
    if target.is_relative_to(RUN_ROOT) and len(target.parts) > len(RUN_ROOT.parts):
        try:
            parse_prefix(candidate := target.parts[len(RUN_ROOT.parts)])
        except ValueError:
            return None
        return candidate
    if target.parts[:2] == ("/", "proc") and len(target.parts) > 2:
        return _prefix_of_cgroup(target.parts[2])
    return None


def world_of(points: list[Point]) -> WorldNames:
    """The lab world whose namespaces the points are in; a LabError if they are in none."""
    for point in points:
        prefix = prefix_of_path(point.path)
        if prefix is not None:
            return WorldNames.from_prefix(prefix)
    where = ", ".join(p.path for p in points) or "no points"
    raise LabError(f"a capture runs only in a lab world's namespaces, and none of these is one: {where}",
                   dnlab_command("status", env_world()) + "   # lists the world's machines")


def captures_root(names: WorldNames) -> Path:
    """The folder of every capture of one world (inside its run folder, so `down` removes it)."""
    return names.state_dir / CAPTURE_DIR


# --- capture folders: owned while their owner lives -------------------------------------------

def _owner_is_gone(folder: Path) -> bool:
    """True if nobody holds the folder's owner lock (its owner ended, even by SIGKILL)."""
    try:
        handle = os.open(folder / CAPTURE_OWNER, os.O_RDONLY)
    except FileNotFoundError:
        # A folder without its lock file is one being made right now, or a wreck: a wreck once old.
        try:
            return time.time() - folder.stat().st_mtime > 60
        except FileNotFoundError:
            return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(handle)
    return True


def sweep(names: WorldNames) -> list[Path]:
    """Remove the capture folders of `names` whose owner is gone; the folders removed."""
    root = captures_root(names)
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and _owner_is_gone(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _own_folder(names: WorldNames) -> tuple[Path, int]:
    """A new capture folder of the world and the descriptor of its held owner lock."""
    root = captures_root(names)
    if not names.state_dir.is_dir():
        raise LabError(f"world {names.prefix} is not up (no {names.state_dir})",
                       dnlab_command("up", names.world_id))
    root.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    handle = os.open(folder / CAPTURE_OWNER, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return folder, handle


def _release(folder: Path, handle: int) -> None:
    """Remove a capture folder and let go of its lock (a finalizer: it must not need the Capture)."""
    shutil.rmtree(folder, ignore_errors=True)
    os.close(handle)


# --- the capture ------------------------------------------------------------------------------

@dataclass
class Capture:
    """`with Capture(points) as cap: ...probe...`, then `cap.files` maps each Point to its pcap.

    The pcaps go into `directory`, a folder of the world's run folder that `cleanup()` removes (or,
    failing that, the garbage collector, the interpreter's exit, the next capture of the world, or
    `dnlab down`). It is never the caller's choice: a tcpdump writing elsewhere would be one `down`
    cannot find. Copy the pcaps to keep them (`dnlab path --keep` does).
    """

    points: list[Point]
    snaplen: int = 256
    directory: Path | None = field(default=None, init=False)
    ready_timeout: float = 5.0
    settle_timeout: float = 2.0
    files: dict[Point, Path] = field(default_factory=dict)
    errors: dict[Point, str] = field(default_factory=dict)
    settle_seconds: float = 0.0      # how long stop() waited for the tcpdumps to catch up (measured)
    _running: list[_Running] = field(default_factory=list)
    _finalizer: weakref.finalize | None = None

    @property
    def pids(self) -> list[int]:
        """The tcpdump processes of a started capture."""
        return [run.process.pid for run in self._running]

    def start(self) -> Capture:
        if self._finalizer is not None:
            raise RuntimeError("a Capture starts once; make a new one")
        names = world_of(self.points)
        sweep(names)
        self.directory, handle = _own_folder(names)
        self._finalizer = weakref.finalize(self, _release, self.directory, handle)
        tcpdump, nsenter = which("tcpdump"), which("nsenter")
        for n, point in enumerate(self.points):
            file = self.directory / f"{n:03d}-{point.namespace}-{point.interface}.pcap".replace("/", "_")
            # The kernel kills tcpdump when its owner dies; nsenter execs it (same pid).
            argv = dying_with_owner([nsenter, f"--net={point.path}", tcpdump,
                                     "-i", point.interface, "-w", str(file), "-U", "--immediate-mode", "-n",
                                     "-s", str(self.snaplen), "--time-stamp-precision=nano", "-Z", "root"])
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
            self._running.append(_Running(point, file, process))
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        selector = selectors.DefaultSelector()
        for run in self._running:
            os.set_blocking(run.process.stderr.fileno(), False)
            selector.register(run.process.stderr, selectors.EVENT_READ, run)
        pending = len(self._running)
        deadline = time.monotonic() + self.ready_timeout
        while pending and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                run: _Running = key.data
                chunk = run.process.stderr.read() or b""
                run.stderr += chunk
                if b"listening on" in run.stderr and not run.ready:
                    run.ready = True
                    pending -= 1
                    selector.unregister(key.fileobj)
                elif not chunk and run.process.poll() is not None:  # tcpdump died: say why, go on
                    self.errors[run.point] = run.stderr.decode(errors="replace").strip()
                    pending -= 1
                    selector.unregister(key.fileobj)
        selector.close()
        if pending:
            late = [r.point.label for r in self._running if not r.ready and r.point not in self.errors]
            self.stop()
            self.cleanup()
            raise LabError(f"tcpdump did not start in {self.ready_timeout} s on {', '.join(late)}")

    @staticmethod
    def _read_counts(run: _Running) -> None:
        """Take in what tcpdump wrote to stderr; keep its last reported counts."""
        while chunk := run.process.stderr.read():
            run.stderr += chunk
        run.counts = last_counts(run.stderr) or run.counts

    def _settle(self) -> None:
        """Wait until every tcpdump has written what the kernel already handed it (bounded)."""
        began = time.monotonic()
        waiting = [run for run in self._running if run.ready and run.process.poll() is None]
        for run in waiting:  # only answers to the questions below count: they come after the probe
            self._read_counts(run)
            run.stderr, run.counts = b"", None
        while waiting and time.monotonic() - began < self.settle_timeout:
            for run in waiting:
                run.process.send_signal(signal.SIGUSR1)
            time.sleep(_SETTLE_POLL)
            for run in waiting:
                self._read_counts(run)
            waiting = [run for run in waiting if not run.caught_up()]
        for run in waiting:
            self.errors[run.point] = (f"tcpdump had not caught up after {self.settle_timeout} s (counts "
                                      f"captured/received/dropped: {run.counts}): frames may be missing")
        self.settle_seconds = round(time.monotonic() - began, 4)

    def stop(self) -> dict[Point, Path]:
        """Wait until each tcpdump has caught up, stop it (SIGINT flushes its file) and return the
        pcaps that were written."""
        self._settle()
        end_all([run.process for run in self._running], signal.SIGINT)
        for run in self._running:
            if run.process.stderr:
                run.process.stderr.close()
            if run.ready and run.file.exists():
                self.files[run.point] = run.file
        self._running = []
        return self.files

    def cleanup(self) -> None:
        """Remove the capture's own folder (its pcaps): call once they are read."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
