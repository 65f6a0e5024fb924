"""Chapter 9's claim cells, run on lab worlds where each claim is false.

False worlds: a "sidecar" that is an ordinary container (its own namespace); an app that binds
0.0.0.0 instead of 127.0.0.1; two containers run with `--network host --uts host`, which do share
one UTS namespace (the machine's: the chapter's reader then refuses to rename it). The chapter's own
readers (`ch09.pod_view`, `reach_from_outside`, `pod_uts`) read them, and the very cells the
learner runs must fail, naming the broken condition.

Where a claim holds, its cell runs in the chapter itself: nbval executes
notebooks/09_summary_kubernetes.ipynb on the session world, and a claim cell raises there if its claim
is false (tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
"""
from __future__ import annotations

import pytest

from helpers.lessons import ch09, facts
from helpers.lessons.lesson import wait_listening, web_command
from helpers.world.naming import IMAGE
from tests.claimcells import assert_claim_fails

PORT = 8088


@pytest.fixture
def lesson(world):
    ch09.Lesson(world, "ch09").reset()
    lesson = ch09.Lesson(world, "ch09t").reset()
    lesson.shell_labels = " ".join(f"--label {key}={value}" for key, value in lesson.labels.items())
    yield lesson
    lesson.stop()


def _app(lesson, bind: str = "127.0.0.1"):
    app = lesson.run_container("app", command=web_command(PORT, bind=bind))
    wait_listening(app, PORT)
    return app


def test_pod_claim_fails_for_a_sidecar_with_its_own_namespace(world, lesson):
    """An ordinary container beside app: its own namespace, its own 127.0.0.1 with nothing on 8088."""
    app = _app(lesson)
    apart = lesson.box("apart")
    pod = ch09.pod_view(world, app, apart, PORT)
    assert not pod["sidecar -> 127.0.0.1"]["reached"]
    message = assert_claim_fails("ch09:pod", {"pod": pod}, mentions="one network namespace (same kernel inode)")
    assert "the sidecar reached 127.0.0.1:8088" in message


def test_outsider_claim_fails_when_app_binds_every_address(world, lesson):
    """httpd on 0.0.0.0:8088: a container on the same bridge reaches it by app's address."""
    app = _app(lesson, bind="")
    from_outside = ch09.reach_from_outside(world, lesson.box("outsider"), app, PORT)
    assert from_outside["reached"]
    assert_claim_fails("ch09:outsider", {"from_outside": from_outside}, mentions="cannot reach that server")


def test_uts_claim_fails_for_containers_sharing_a_uts_namespace(world, lesson):
    """`--network host --uts host` twice: one network and one UTS namespace for both (host1's own,
    its engine's: the reader must refuse the rename rather than rename the Docker host)."""
    for name in ("ch09t-a", "ch09t-b"):
        facts.sh(world, "host1", f"docker run -d --name {name} --network host --uts host {lesson.shell_labels} "
                                 f"{IMAGE} sleep 1000000")
    a, b = (world.host1.docker.containers.get(n) for n in ("ch09t-a", "ch09t-b"))
    uts = ch09.pod_uts(world, a, b, "must-not-happen")
    assert uts["rename"].startswith("refused"), uts["rename"]
    assert_claim_fails("ch09:uts", {"uts": uts}, mentions="two UTS namespaces")
