"""The course's whole suite inside the course image (`make test-course-image-suite`).

`docker run --rm -it --privileged dnlab/course make test` is what the README gives a Docker Desktop
user; here it runs in a throwaway engine of the course's own kind (never the machine's Docker), its
output kept in the test image's folder (`suite-<engine>.log`), and pytest's own counts and time reported.

The container's world is the test world `t`, the same id as the machine's own test world (the lead's
CI may run it at the same moment). While the suite runs, the test checks once that the two cannot
touch each other: the container's engines are processes in its own pid namespace that name the very
same paths as a world `t` here, yet `engine.processes_of` (which `down`, `clean` and every engine
restart use to kill) leaves them out; and every process of the container, the inner engines'
containers included, lives in cgroups below the throwaway engine's own cgroup parent. At the end
nothing of the engine is left on the machine.

Tier `course_image_suite` (tests/tiers.py): run only when -m names it, never by `make test`.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from helpers.hosting import sandbox
from helpers.hosting.course_image import COURSE_IMAGE, COURSE_IMAGE_CHANGES, COURSE_IMAGE_ROOTFS, course_image_dir
from helpers.world import engine
from helpers.world.naming import WORLD_ENV, WorldNames
from tests.worlds import TEST_WORLD

CONTAINER = "dnlab-course-suite"
SUITE_TIMEOUT = 3600.0      # ~10 min measured on an idle 2-core machine; a shared one is slower
SUMMARY = re.compile(r"^=+ (.+) in ([0-9.]+)s(?: \([0-9:]+\))? =+$", re.M)
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
INNER = WorldNames(TEST_WORLD)
# The suite's output is kept as course_image_dir("test") / SUITE_LOG.format(sandbox=<the throwaway engine's name>).
SUITE_LOG = "suite-{sandbox}.log"


def pytest_counts(output: str) -> tuple[dict[str, int], float] | None:
    """pytest's last summary line as ({"passed": n, "failed": n, "error": n, ...}, seconds)."""
    found = SUMMARY.findall(output)
    if not found:
        return None
    text, seconds = found[-1]
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in COUNT.findall(text)}
    return counts, float(seconds)


def _report(name: str, value: str) -> None:
    print(f"\n[course-image suite] {name}: {value}", flush=True)


def _pid_ns(pid: int | str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def _in_namespace(ns: int) -> list[int]:
    """The machine's pids of every process in pid namespace `ns` (the container's)."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and _pid_ns(e) == ns]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cgroups(pid: int) -> list[str]:
    """The cgroup paths of a process, one per hierarchy, as the machine sees them."""
    try:
        return [line.split(":", 2)[2] for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()]
    except OSError:
        return []


def containment(container_pid: int, cgroup_parent: str) -> dict | None:
    """Once the container's world `t` runs an engine: what the machine would do to it. None before that.

    `same_paths`: the container's processes naming the inner host1 engine's paths (those of a world
    `t` here); `taken`: those of them `engine.processes_of` picks (it must pick none); `outside`: the
    container's processes with a cgroup not below the throwaway engine's parent (there must be none)."""
    ns = _pid_ns(container_pid)
    if ns is None:
        return None
    paths = INNER.host("host1")
    inside = _in_namespace(ns)
    same = [pid for pid in inside if str(paths.state) in _cmdline(pid)]
    if not same:
        return None
    taken = set(engine.processes_of(paths)) & set(inside)
    outside = {pid: groups for pid in inside if (groups := _cgroups(pid))
               and not all(g.startswith(cgroup_parent + "/") for g in groups)}
    return {"same_paths": same, "taken": sorted(taken), "outside": outside, "processes": len(inside)}


def _stream_logs(container, log: Path) -> threading.Thread:
    """Write the container's output to `log` as it comes (kept even if the run is cut short)."""
    def follow() -> None:
        with open(log, "wb") as out:
            for chunk in container.logs(stream=True, follow=True):
                out.write(chunk)
                out.flush()
    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    return thread


def _watch(container, cgroup_parent: str, deadline: float) -> dict | None:
    """Poll (every 5 s, cheap: /proc only) until the inner world's engine runs; its containment."""
    while time.monotonic() < deadline:
        container.reload()
        if container.status != "running":
            return None
        seen = containment(container.attrs["State"]["Pid"], cgroup_parent)
        if seen is not None:
            return seen
        time.sleep(5)
    return None


@pytest.fixture(scope="module")
def box():
    folder = course_image_dir("test")   # `make test` inside needs the test variant (its tools, Chromium)
    rootfs, changes = folder / COURSE_IMAGE_ROOTFS, folder / COURSE_IMAGE_CHANGES
    if not (rootfs.exists() and changes.exists()):
        pytest.fail(f"no built test image in {folder}: "
                    "run `sudo make test-course-image-suite` (it builds one)")
    engine_box = sandbox.ThrowawayEngine(f"{os.environ.get(WORLD_ENV) or 'ci'}-suite")
    with engine_box:
        started = time.monotonic()
        engine_box.import_rootfs(rootfs, COURSE_IMAGE, json.loads(changes.read_text()))
        _report("docker import", f"{time.monotonic() - started:.1f} s")
        yield engine_box
    left = sandbox.leftovers(engine_box.netns)
    _report("left on the machine after the engine stopped", ", ".join(left) or "nothing")
    assert left == []


def test_make_test_passes_inside_the_image(box):
    log = course_image_dir("test") / SUITE_LOG.format(sandbox=box.name)
    started = time.monotonic()
    # As the README's `docker run --rm -it --privileged dnlab/course make test`; -rfE lists failures.
    container = box.client.containers.run(COURSE_IMAGE, ["make", "test"], name=CONTAINER, privileged=True,
                                          detach=True, environment={"PYTEST_ADDOPTS": "-rfE"})
    try:
        follower = _stream_logs(container, log)
        _report("log (as it runs)", str(log))
        seen = _watch(container, "/" + box.netns, started + SUITE_TIMEOUT)
        status = container.wait(timeout=max(1.0, SUITE_TIMEOUT - (time.monotonic() - started)))
        follower.join(timeout=30)
    finally:
        container.remove(force=True)
    took = time.monotonic() - started
    output = log.read_text(errors="replace")
    counts = pytest_counts(output)
    _report("docker run ... make test", f"exit {status['StatusCode']} after {took:.0f} s; pytest: "
            f"{counts[0] if counts else 'no summary line'}{f' in {counts[1]:.0f} s' if counts else ''}")
    _report("isolation from a world t here", json.dumps(seen) if seen else "not observed")
    assert seen is not None, f"the inner world's engine was never seen running; log: {log}"
    assert seen["taken"] == [], seen      # the machine's processes_of would have killed them
    assert seen["outside"] == {}, seen    # a container process outside the engine's cgroup parent
    assert counts is not None, output[-3000:]
    assert status["StatusCode"] == 0 and counts[0].get("failed", 0) == 0 and counts[0].get("error", 0) == 0, \
        "\n".join(line for line in output.splitlines() if line.startswith(("FAILED", "ERROR")))[-6000:]

