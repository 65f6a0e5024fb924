"""Chapter 6's claims fail on real lab worlds where they are false.

The false world is a container with a network instead of none: the scenario's own default-bridge
neighbour `none-peer`, and a bridge container that Docker lets join a second network.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/06_none.ipynb on the
session world, and a claim cell raises there if its claim is false (tests/unit/test_claim_coverage.py
checks that every claim runs on the true world somewhere). ch06:no-connect's control stays here: its
none_rejoin is the false world's evidence too.
"""
from __future__ import annotations

import pytest

from helpers.lessons import ch06, facts
from tests.claimcells import assert_claim_fails, run_claim
from tests.worlds import scenario_and_lesson


@pytest.fixture(scope="module")
def none(world):
    with scenario_and_lesson(world, "none", "t-ch06") as pair:
        yield pair


def test_lo_only_fails_for_a_bridge_container(world, none):
    scenario, _ = none
    c = scenario.containers()
    assert_claim_fails("ch06:lo-only", {"view": ch06.none_view(world, c["peer"])},
                       mentions="its only interface is lo")


def test_unreachable_fails_from_a_bridge_container(world, none):
    scenario, lesson = none
    c = scenario.containers()
    reach = ch06.none_reach(world, c["peer"], lesson.box("neighbour"))
    assert_claim_fails("ch06:unreachable", {"reach": reach},
                       mentions="the internet service: unreachable")


def test_no_connect_fails_for_a_bridge_container(world, none):
    scenario, lesson = none
    box = scenario.containers()["box"]
    connect = facts.sh(world, "host1", f"docker network connect bridge {box.name}", check=False)
    rejoin = ch06.none_rejoin(world, lesson)
    run_claim("ch06:no-connect", connect=connect, world=world, box=box, rejoin=rejoin)
    other = lesson.network("second")
    joiner = lesson.box("joiner")
    connect = facts.sh(world, "host1", f"docker network connect {other.name} {joiner.name}", check=False)
    assert_claim_fails("ch06:no-connect", {"connect": connect, "world": world, "box": joiner, "rejoin": rejoin},
                       mentions="docker network connect failed")


def test_no_connect_fails_when_the_refusal_is_another_error(world, none):
    """`docker network connect` on none-box fails, but because the network does not exist: the
    container is refused and keeps only lo, yet not for being on none. The old cell held here
    (truth audit 2)."""
    scenario, lesson = none
    box = scenario.containers()["box"]
    connect = facts.sh(world, "host1", f"docker network connect {lesson.name}-no-such-net {box.name}", check=False)
    assert connect.returncode != 0 and facts.interfaces(world, box) == ["lo"]
    assert_claim_fails("ch06:no-connect",
                       {"connect": connect, "world": world, "box": box, "rejoin": ch06.none_rejoin(world, lesson)},
                       mentions="Docker's refusal names the none mode")


def test_no_connect_fails_when_the_container_cannot_join_after_all(world, none):
    """The claim says the refusal holds only while the container is attached to none. A container
    that still cannot join (here: left on none, so the second connect is refused again) fails it."""
    scenario, lesson = none
    box = scenario.containers()["box"]
    connect = facts.sh(world, "host1", f"docker network connect bridge {box.name}", check=False)
    stuck = ch06.none_rejoin(world, lesson, disconnect=False)
    assert stuck["joined"].returncode != 0 and stuck["interfaces"] == ["lo"]
    assert_claim_fails("ch06:no-connect", {"connect": connect, "world": world, "box": box, "rejoin": stuck},
                       mentions="then docker network connect bridge succeeded")
