"""CI's figures, as issue 24 sets them: fresh-clone runs of `.ci/run`, one after another, each leg's time
against its target, and whether every run was green; one of them while a second lab world keeps the
machine busy (a learner on a busy laptop: that world traces a path, again and again, all run long).

Run as root, from a checkout: `sudo .venv/bin/python bench/suite_bench.py [--runs 3] [--loaded 3]
[--commit REV]`. Each run clones this repository at REV (default HEAD) into a folder of its own under
/tmp, runs `CI=true bash .ci/run` there with its output in `<folder>.log`, and reads from that log what
`.ci/run` and `scripts/test.sh` print: each leg's "test suite took N s", the whole run's "all done after
N s", and the closing "all-legs: N passed, N failed". The loading world is `sbload` (`dnlab --world
sbload up`, taken down after its run). Targets: a leg's suite <= 540 s, the whole run <= 1200 s.
Standard library only (the loader calls this checkout's `dnlab`).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEG_TARGET, RUN_TARGET = 540, 1200
LOAD_WORLD = "sbload"


@dataclass
class Run:
    number: int
    loaded: bool
    exit_code: int = -1
    seconds: float = 0.0
    legs: list[int] = field(default_factory=list)  # each leg's "test suite took N s", in the log's order
    totals: str = "no all-legs line"
    loader_probes: int = 0

    @property
    def green(self) -> bool:
        return self.exit_code == 0 and re.search(r"\b0 failed\b", self.totals) is not None

    def line(self) -> str:
        legs = ", ".join(f"{s} s" for s in self.legs) or "none"
        over = [s for s in self.legs if s > LEG_TARGET]
        verdict = "green" if self.green else "RED"
        load = f" (loaded: {self.loader_probes} traces beside it)" if self.loaded else ""
        return (f"run {self.number}{load}: "
                f"{verdict}, exit {self.exit_code}, {self.seconds:.0f} s (target {RUN_TARGET}: "
                f"{'met' if self.seconds <= RUN_TARGET else 'over'}); legs' suites {legs} (target {LEG_TARGET}: "
                f"{'met' if self.legs and not over else f'{len(over)} over'}); {self.totals}")


def read_log(text: str, run: Run) -> None:
    """What `.ci/run` printed: the legs' suite times, the closing counts."""
    run.legs = [int(n) for n in re.findall(r"^test suite took (\d+) s$", text, re.M)]
    found = re.findall(r"^all-legs: (.*)$", text, re.M)
    if found:
        run.totals = found[-1]


class Loader(threading.Thread):
    """A second lab world tracing a path, again and again, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.probes = 0

    def dnlab(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "helpers", "--world", LOAD_WORLD, *args], cwd=ROOT,
                              capture_output=True, text=True)

    def run(self) -> None:
        while not self.stop.is_set():
            if self.dnlab("path", "user-bridge", "egress").returncode == 0:
                self.probes += 1
            self.stop.wait(1.0)


def one_run(number: int, loaded: bool, commit: str) -> Run:
    run = Run(number, loaded)
    clone = Path(f"/tmp/dnlab-suite-bench-{number}")
    subprocess.run(["rm", "-rf", str(clone)], check=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
    loader = None
    if loaded:
        up = subprocess.run([sys.executable, "-m", "helpers", "--world", LOAD_WORLD, "up"], cwd=ROOT)
        if up.returncode != 0:
            sys.exit(f"the loading world did not come up: sudo .venv/bin/dnlab --world {LOAD_WORLD} up")
        loader = Loader()
        loader.start()
    log = clone.with_suffix(".log")
    started = time.monotonic()
    try:
        with log.open("w") as out:
            # The caller's environment as it is (a machine's CA bundle and proxy settings are what npm,
            # pip and apt reach their mirrors with): CI=true added, DNLAB_* left out (each leg sets its own).
            env = {k: v for k, v in os.environ.items() if not k.startswith("DNLAB_")} | {"CI": "true"}
            run.exit_code = subprocess.run(["bash", ".ci/run"], cwd=clone, stdout=out, stderr=subprocess.STDOUT,
                                           env=env).returncode
    finally:
        run.seconds = time.monotonic() - started
        if loader is not None:
            loader.stop.set()
            loader.join()
            run.loader_probes = loader.probes
            subprocess.run([sys.executable, "-m", "helpers", "--world", LOAD_WORLD, "down"], cwd=ROOT)
    read_log(log.read_text(errors="replace"), run)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loaded", type=int, default=3, help="which run (1-based) has the loading world; 0: none")
    parser.add_argument("--commit", default="HEAD")
    args = parser.parse_args()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", args.commit], check=True, capture_output=True,
                            text=True).stdout.strip()
    print(f"{args.runs} fresh-clone runs of .ci/run at {commit[:12]}, one after another", flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(one_run(number, number == args.loaded, commit))
        print(runs[-1].line(), flush=True)
    green = sum(r.green for r in runs)
    print(f"{green} of {len(runs)} green in a row" if green == len(runs) else f"{green} of {len(runs)} green")
    sys.exit(0 if green == len(runs) else 1)


if __name__ == "__main__":
    main()
