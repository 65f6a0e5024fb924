"""Capture at many interfaces at once: one `tcpdump -w` per interface, inside its namespace.

All of them start in parallel and the capture counts as started only once every tcpdump has said
"listening on" (its socket is bound from that moment), so nothing sleeps for a guessed time.
"""
from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import LabError
from helpers.world.proc import which


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


@dataclass
class Capture:
    """`with Capture(points) as cap: ...probe...`, then `cap.files` maps each Point to its pcap."""

    points: list[Point]
    snaplen: int = 256
    directory: Path | None = None
    ready_timeout: float = 5.0
    files: dict[Point, Path] = field(default_factory=dict)
    errors: dict[Point, str] = field(default_factory=dict)
    _running: list[_Running] = field(default_factory=list)
    _own_dir: bool = False

    def start(self) -> Capture:
        if self.directory is None:
            parent = "/run" if os.path.isdir("/run") else None
            self.directory = Path(tempfile.mkdtemp(prefix="dnlab-capture-", dir=parent))
            self._own_dir = True
        tcpdump, nsenter = which("tcpdump"), which("nsenter")
        for n, point in enumerate(self.points):
            file = self.directory / f"{n:03d}-{point.namespace}-{point.interface}.pcap".replace("/", "_")
            argv = [nsenter, f"--net={point.path}", tcpdump, "-i", point.interface, "-w", str(file),
                    "-U", "--immediate-mode", "-n", "-s", str(self.snaplen), "--time-stamp-precision=nano",
                    "-Z", "root"]
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
            self.stop()
            late = [r.point.label for r in self._running if not r.ready and r.point not in self.errors]
            raise LabError(f"tcpdump did not start in {self.ready_timeout} s on {', '.join(late)}")

    def stop(self) -> dict[Point, Path]:
        """Stop every tcpdump (SIGINT flushes its file) and return the pcaps that were written."""
        for run in self._running:
            if run.process.poll() is None:
                run.process.send_signal(signal.SIGINT)
        for run in self._running:
            try:
                run.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()
            if run.process.stderr:
                run.process.stderr.close()
            if run.ready and run.file.exists():
                self.files[run.point] = run.file
        self._running = []
        return self.files

    def cleanup(self) -> None:
        if self._own_dir and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
