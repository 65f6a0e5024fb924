"""Chapter 4's claims fail on real lab worlds where they are false.

False worlds, built on the lab engines and restored afterwards: a swarm host2 never joined; the
questions put to the worker instead of the manager; overlay-a stopped; an overlay made with
`-o com.docker.network.driver.mtu=1350`, or without the option; a path that carries full-size
packets; Docker's docker_gwbridge MASQUERADE rule removed; a swarm whose VXLAN data port is 4790.
Swarm state is slow to change, so the tests share one overlay scenario and change only what they must.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/04_overlay.ipynb on
the session world, and a claim cell raises there if its claim is false
(tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
ch04:mtu-fixed's control stays here: the overlay it reads is the false world of ch04:mtu-option.
"""
from __future__ import annotations

import pytest

from helpers.lessons import ch04, facts
from helpers.lessons.lesson import Lesson
from helpers.world import swarm as swarm_room
from tests.claimcells import assert_claim_fails, run_claim
from tests.worlds import scenario_and_lesson


@pytest.fixture(scope="module")
def overlay(world):
    with scenario_and_lesson(world, "overlay", "t-ch04", start=False) as (scenario, _):
        yield scenario


@pytest.fixture
def lesson(world):
    lesson = Lesson(world, "t-ch04").reset()
    yield lesson
    lesson.stop()


def test_swarm_networks_fail_when_host2_never_joins(world, overlay):
    overlay.stop()
    try:
        alone = ch04.form_swarm(world, overlay.labels, join=False)
        assert_claim_fails("ch04:swarm-networks", {"swarm": alone}, mentions="after: host2 lists ingress")
    finally:
        swarm_room.leave(world)


def test_raft_fails_on_a_worker(world, overlay):
    overlay.start()
    assert_claim_fails("ch04:raft", {"store": ch04.swarm_store(world, "host2")},
                       mentions="it is a swarm manager")


def test_swarm_ports_fail_on_a_worker(world, overlay):
    overlay.start()
    assert_claim_fails("ch04:swarm-ports", {"ports": ch04.swarm_ports(world, "host2")}, mentions="2377/tcp")


def test_c2c_fails_when_overlay_a_leaves_the_overlay(world, overlay):
    overlay.start()
    a = overlay.containers("host1")["a"]
    network = overlay.networks("host1")[0]
    network.disconnect(a)  # still running (the guard knows its name), but not on overlay-net
    try:
        assert_claim_fails("ch04:c2c", {"c2c": ch04.overlay_c2c(world, overlay)}, mentions="pings overlay-a")
    finally:
        network.connect(a)
        overlay.wait_c2c()


def test_mtu_fixed_fails_with_an_mtu_option(world, overlay, lesson):
    overlay.start()
    small = ch04.overlay_mtu_on_small_underlay(world, lesson, underlay=1400,
                                                  options={ch04.MTU_OPTION: "1350"})
    assert small["container eth0 MTU"] == 1300  # the audit's measurement: the option minus 50
    assert_claim_fails("ch04:mtu-fixed", {"small": small}, mentions="got 1450")
    assert facts.mtu(world, "host1") == facts.mtu(world, "lanpc")  # the underlay was put back


def test_mtu_option_fails_without_the_option(world, overlay, lesson):
    overlay.start()
    plain = ch04.overlay_mtu_on_small_underlay(world, lesson, underlay=1400)
    run_claim("ch04:mtu-fixed", small=plain)
    assert_claim_fails("ch04:mtu-option", {"fixed": plain}, mentions="an MTU option was given")


def test_mtu_path_fails_on_a_full_size_path(world, overlay):
    overlay.start()
    fault = ch04.overlay_path_mtu(world, overlay, path_mtu=1500)
    assert_claim_fails("ch04:mtu-path", {"fault": fault}, mentions="a full-size ping is lost")


def _postrouting_position(world, rule: str) -> int:
    """1-based position of `rule` (an `-A POSTROUTING ...` line) in host1's nat POSTROUTING chain."""
    lines = [line for line in world.host1.run(["iptables", "-t", "nat", "-S", "POSTROUTING"]).stdout.splitlines()
             if line.startswith("-A ")]
    return lines.index(rule) + 1


def test_gwbridge_nat_fails_without_the_masquerade_rule(world, overlay):
    overlay.start()
    rule = facts.masquerade_rule(world, "host1", ch04.gwbridge_subnet(world))
    spec = rule.removeprefix("-A POSTROUTING ").split()
    position = _postrouting_position(world, rule)
    world.host1.run(["iptables", "-t", "nat", "-D", "POSTROUTING", *spec])
    try:
        egress = ch04.overlay_egress_nat(world, overlay)
        assert_claim_fails("ch04:gwbridge-nat", {"egress": egress}, mentions="MASQUERADE exists")
    finally:
        world.host1.run(["iptables", "-t", "nat", "-I", "POSTROUTING", str(position), *spec])
    assert facts.masquerade_rule(world, "host1", ch04.gwbridge_subnet(world)) == rule


def test_vxlan_fails_on_another_data_port(world, overlay):
    """A swarm made with `--data-path-port 4790`: the overlay's packets no longer go to 4789."""
    overlay.stop()  # whatever swarm an earlier test left: this one is made with another data port
    try:
        h1, h2 = facts.address(world, "host1"), facts.address(world, "host2")
        facts.sh(world, "host1", f"docker swarm init --advertise-addr {h1} --data-path-port 4790")
        token = facts.sh(world, "host1", "docker swarm join-token -q worker").output.strip()
        ch04.label_swarm(world.host1.docker, overlay.labels)  # so overlay.stop() leaves it
        facts.sh(world, "host2", f"docker swarm join --token {token} --advertise-addr {h2} {h1}:2377")
        overlay.start()
        vx = ch04.overlay_vxlan(world, overlay)
        assert {f["udp dport"] for f in vx["frames"]} == {4790}
        assert_claim_fails("ch04:vxlan", {"vx": vx}, mentions="outer UDP destination port 4789")
    finally:
        overlay.stop()
