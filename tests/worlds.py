"""The lab worlds tests use: the session world's id, the ids of worlds a test makes for itself, and a
driver scenario with a test's own Lesson (the chapters' failing-world tests). An ordinary module, so
tests import it (`from tests.worlds import ...`), never a conftest."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

# The world `make test` uses when DNLAB_WORLD is unset (tests/conftest.py): inside the image, its own.
TEST_WORLD = "t"


def world_id_for_tests() -> str:
    """$DNLAB_WORLD when set (each developer has their own world), else the test world TEST_WORLD."""
    return os.environ.get("DNLAB_WORLD") or TEST_WORLD


def own_world_id(suffix: str) -> str:
    """The id of a world a test makes for itself (lifecycle, crash, fault tests): the session world's
    id, cut to fit, plus `suffix`. Never a fixed id: two runs on one machine (CI's Debian 12 and
    Debian 13 legs at once) share the cgroup tree, where a world's engines are named by its id."""
    return world_id_for_tests()[:8 - len(suffix)] + suffix


def japanese_chapters_here() -> bool:
    """Whether this leg runs the Japanese edition: the chapters (notebooks/ja) under nbval and the
    learner tier, and the lab notebooks (labs/ja, tests/integration/test_lab_notebooks_ja.py).

    One leg does: Debian 13's (`make test` on Debian 13 and its own Docker 26.1: CI's `make
    test-debian13`, the course image's suite). Their code is the English notebooks' code (`make
    check-translations` fails on a code cell that differs in more than its comments and prose strings),
    so what differs between engines is proven by the English notebooks on every leg; the Japanese run
    proves the Japanese notebooks themselves run and show what they should. Why that leg: once, not on
    each of the three legs CI runs side by side, and on the one that runs the whole suite on another
    Debian (the edition's ~5 minutes added ~230 s to CI's longest path when they ran on this machine's
    leg). Debian 12 and the Docker 28 leg ($DNLAB_ENGINE) leave them out.
    $DNLAB_JA_NOTEBOOKS=1 or 0 decides instead."""
    chosen = os.environ.get("DNLAB_JA_NOTEBOOKS", "")
    if chosen in ("0", "1"):
        return chosen == "1"
    try:
        debian = int(open("/etc/debian_version").read().split(".")[0])   # noqa: SIM115 - one read
    except (OSError, ValueError):
        debian = 0                                                       # testing/sid: "trixie/sid"
    return not os.environ.get("DNLAB_ENGINE") and debian >= 13


@contextmanager
def scenario_and_lesson(world, driver: str, lesson_name: str, start: bool = True) -> Iterator[tuple]:
    """A driver scenario (started, or fresh and stopped) and a test's own Lesson (its ad-hoc
    containers); both removed afterwards. For the chapters' failing-world tests."""
    from helpers import scenarios
    from helpers.lessons.lesson import Lesson

    scenario = scenarios.get(world, driver)
    if start:
        scenario.start()
    else:
        scenario.stop()
    lesson = Lesson(world, lesson_name).reset()
    try:
        yield scenario, lesson
    finally:
        lesson.stop()
        scenario.stop()


# Error lines every lab engine logs at every start or swarm step on these machines, whatever failed: left
# out so the last lines shown are the ones that can explain a failure (each seen in a rehearsal's dump).
ENGINE_LOG_NOISE = (
    "error reading the kernel parameter net.ipv4.vs.",   # no ipvs sysctls in a world's namespace
    "default vlan on bridge", "reexec to set bridge default vlan",   # /sys/class/net is read-only there
    "error reading the kernel parameter net.ipv4.neigh.default.gc_thresh",   # none in a network namespace
    # the lab asking a worker or a node in no swarm about its swarm (swarm.state and the polls)
    "This node is not a swarm manager.",
)


def engine_log_errors(world_id: str, last: int = 40) -> str:
    """The last `last` error lines of each of the world's engines' logs (dockerd's, with what containerd
    and runc told it), headed by where they came from: printed when a session failed, before `down`
    removes the logs with the world."""
    from helpers.world.naming import HOSTS, WorldNames

    names = WorldNames(world_id)
    parts = []
    for host in HOSTS:
        log = names.host(host).log
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError as error:
            parts.append(f"==> {log}: not read ({error})")
            continue
        errors = [line for line in lines if ("level=error" in line or "level=fatal" in line)
                  and not any(noise in line for noise in ENGINE_LOG_NOISE)]
        parts.append(f"==> {log}: {len(errors)} error lines of {len(lines)}, the last {min(last, len(errors))}:")
        parts.extend(errors[-last:])
    return "\n".join(parts)
