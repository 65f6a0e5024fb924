"""The course image's start, as a Docker Desktop user meets it: from `docker run --privileged -p
127.0.0.1:8888:8888 dnlab/course` to JupyterLab answering with its token (the lab world up inside),
as a ratio to `docker run --rm --privileged dnlab/course true` (the entrypoint's privilege and cgroup
steps, then `true`) in the same engine.

Run as root after `sudo make course-image`: `sudo .venv/bin/python bench/course_image_bench.py
[--repeat N]`. The image is imported into a throwaway engine of the course's own kind (never the
machine's Docker), which is removed at the end. Target (issue 21, the learner image): <= 3 s from run
to answer. $DNLAB_COURSE_IMAGE_DIR: an image built elsewhere than /var/cache/dnlab/course-image.

Beside the wall-clock time, the CPU time the container's cgroup used by the moment it was ready (the
entrypoint, JupyterLab, `dnlab up` with the inner engines and their image loads): on this shared
2-core machine the wall clock follows the other users' load, the CPU time much less.
"""
from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from helpers.hosting import sandbox  # noqa: E402 (after the path line: bench runs from a checkout)
from helpers.hosting.course_image import (  # noqa: E402
    COURSE_IMAGE,
    COURSE_IMAGE_CHANGES,
    COURSE_IMAGE_PORT,
    COURSE_IMAGE_ROOTFS,
    course_image_dir,
)
from helpers.world import engine  # noqa: E402

CONTAINER = "dnlab-course-bench"
TIMEOUT = 120.0
TARGET_S = 3.0                      # issue 21: run to JupyterLab answering, the world up
READY_LINE = "The course is ready"   # scripts/course-image/entrypoint.sh, after the world is up


def answers(box: sandbox.ThrowawayEngine, token: str) -> bool:
    url = f"http://127.0.0.1:{COURSE_IMAGE_PORT}/api/status?token={token}"
    probe = box.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", url])
    return probe.stdout == "200"


def world_ready(box: sandbox.ThrowawayEngine) -> bool:
    """The entrypoint prints its ready line once `dnlab up` is done and JupyterLab listens."""
    shown = box.docker("logs", CONTAINER, check=False)
    return READY_LINE in shown.stdout + shown.stderr


class Start(NamedTuple):
    seconds: float         # docker run to JupyterLab answering with the world up
    cpu: float | None      # CPU seconds of the container's cgroup by then (None: not found)


def cpu_seconds(box: sandbox.ThrowawayEngine, container_id: str) -> float | None:
    """The CPU time used so far by every process of the container (the inner engines included: their
    containers alone go to cgroups of their own, and none runs at the start). cgroup v1's cpuacct, or
    v2's cpu.stat; None if neither is found."""
    for parent in engine.cgroup_dirs(box.site.cgroup_parent):
        usage, stat = parent / container_id / "cpuacct.usage", parent / container_id / "cpu.stat"
        if usage.is_file():
            return int(usage.read_text()) / 1e9
        if stat.is_file():
            fields = dict(line.split() for line in stat.read_text().splitlines())
            return int(fields["usage_usec"]) / 1e6
    return None


def run_to_ready(box: sandbox.ThrowawayEngine) -> Start:
    """One start: the container run detached with a token of ours, until JupyterLab takes it and the
    entrypoint says the world is up (JupyterLab starts alongside `dnlab up` and may answer first)."""
    token = secrets.token_hex(16)
    started = time.perf_counter()
    container_id = box.docker("run", "-d", "--privileged", "-e", f"JUPYTER_TOKEN={token}", "--name", CONTAINER,
                              "-p", f"127.0.0.1:{COURSE_IMAGE_PORT}:{COURSE_IMAGE_PORT}", COURSE_IMAGE).stdout.strip()
    try:
        while not (answers(box, token) and world_ready(box)):
            if time.perf_counter() - started > TIMEOUT:
                raise SystemExit(f"JupyterLab did not answer within {TIMEOUT:g} s:\n"
                                 + box.docker("logs", CONTAINER, check=False).stderr[-2000:])
            time.sleep(0.05)
        return Start(time.perf_counter() - started, cpu_seconds(box, container_id))
    finally:
        box.docker("rm", "-f", CONTAINER, check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    folder = course_image_dir()
    rootfs, changes = folder / COURSE_IMAGE_ROOTFS, folder / COURSE_IMAGE_CHANGES
    if not (rootfs.is_file() and changes.is_file()):
        raise SystemExit(f"no built course image in {folder}\n  fix: sudo make course-image")
    with sandbox.ThrowawayEngine("bench-course") as box:
        started = time.perf_counter()
        box.import_rootfs(rootfs, COURSE_IMAGE, json.loads(changes.read_text()))
        imported = time.perf_counter() - started
        baseline = []
        for _ in range(repeat):
            started = time.perf_counter()
            box.docker("run", "--rm", "--privileged", COURSE_IMAGE, "true")
            baseline.append(time.perf_counter() - started)
        ready = [run_to_ready(box) for _ in range(repeat)]
    base = statistics.median(baseline)
    print(f"docker import of the image (once): {imported:.1f} s")
    print(f"baseline `docker run --rm --privileged dnlab/course true`: median {base:.3f} s (n={repeat})\n")
    print(f"{'measure':48} {'median':>8} {'min':>7} {'max':>7} {'ratio':>7} {'target s':>9}  verdict")
    seconds = [start.seconds for start in ready]
    median = statistics.median(seconds)
    print(f"{'docker run -> JupyterLab answers (world up)':48} {median:8.3f} {min(seconds):7.3f} {max(seconds):7.3f} "
          f"{median / base:7.2f}x {TARGET_S:9.2f}  {'ok' if median <= TARGET_S else 'SLOW'}")
    cpu = [start.cpu for start in ready if start.cpu is not None]
    if cpu:
        print(f"{'  CPU seconds of the container by then':48} {statistics.median(cpu):8.3f} {min(cpu):7.3f} "
              f"{max(cpu):7.3f}")
    else:
        print("  CPU seconds of the container: its cgroup was not found (neither cpuacct.usage nor cpu.stat)")
    print(f"load average (1, 5, 15 min) at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
