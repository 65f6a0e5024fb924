"""Chapter 3's claims fail on real lab worlds where they are false.

The false worlds are built on the lab engines: a bridge container stands where the host-network one
stood, a bridge container publishes the port, host1 masquerades its own address, a capture runs
without the host network or without CAP_NET_RAW. Each runs the chapter's own demonstration
(helpers/lessons/ch03.py) and hands its result to the chapter's own claim cell.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/03_host.ipynb on the
session world, and a claim cell raises there if its claim is false (tests/unit/test_claim_coverage.py
checks that every claim runs on the true world somewhere). One true run stays here:
ch03:abstract-sockets once host1's admin socket is back (the restored world, which no chapter makes).
"""
from __future__ import annotations

import shlex

import pytest

from helpers.lessons import ch03
from helpers.scenarios.host import LOOPBACK_PORT
from helpers.world.naming import SERVICE_TCP_PORT
from tests.claimcells import assert_claim_fails, run_claim
from tests.worlds import scenario_and_lesson


@pytest.fixture(scope="module")
def host(world):
    with scenario_and_lesson(world, "host", "t-ch03") as pair:
        yield pair


def test_same_stack(world, host):
    scenario, _ = host
    c = scenario.containers()
    assert_claim_fails("ch03:same-stack", {"view": ch03.host_stack_view(world, c["bridged"])},
                       mentions="it is in host1's network namespace")


def test_p_ignored_fails_when_a_bridge_container_publishes(world, host):
    _, lesson = host
    published = ch03.publish_ignored(world, lesson, network="bridge", host_port=18098, role="pb")
    assert_claim_fails("ch03:p-ignored", {"published": published}, mentions="no DNAT rule for the port")


def test_no_nat_fails_for_a_bridge_container(world, host):
    scenario, _ = host
    c = scenario.containers()
    assert_claim_fails("ch03:no-nat", {"nat": ch03.host_egress(world, c["bridged"])},
                       mentions="no MASQUERADE rule counted a packet")


def test_no_nat_trace_fails_for_a_bridge_container(world, host):
    """The kernel's trace of the bridge container's SYN: it enters host1's nat table at PREROUTING
    and meets Docker's MASQUERADE rule in POSTROUTING."""
    scenario, _ = host
    c = scenario.containers()
    nat = ch03.host_egress(world, c["app"])
    bridged = ch03.rule_trace(world, c["bridged"].name, "inet", tcp=SERVICE_TCP_PORT)
    assert_claim_fails("ch03:no-nat-trace", {"nat": nat, "nat_trace": bridged},
                       mentions="no MASQUERADE, SNAT or DNAT rule acted on it")
    assert_claim_fails("ch03:no-nat-trace", {"nat": nat, "nat_trace": bridged},
                       mentions="it crossed host1's nat OUTPUT, then POSTROUTING")


def test_no_nat_trace_fails_when_host1_masquerades_its_own_address(world, host):
    """The same host-network container, but host1 has a MASQUERADE rule for its own address: the
    trace names it acting on host-app's SYN (nothing visible changes: the address stays host1's)."""
    scenario, _ = host
    c = scenario.containers()
    nat = ch03.host_egress(world, c["app"])
    own = f"POSTROUTING -s {nat['host1 address']}/32 -o eth0 -j MASQUERADE"
    world["host1"].run(["iptables", "-t", "nat", "-I", *shlex.split(own)])
    try:
        traced = ch03.rule_trace(world, c["app"].name, "inet", tcp=SERVICE_TCP_PORT)
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", *shlex.split(own)])
    assert traced["reached"]
    message = assert_claim_fails("ch03:no-nat-trace", {"nat": nat, "nat_trace": traced},
                                 mentions="no MASQUERADE, SNAT or DNAT rule acted on it")
    assert f"-A {own}" in message  # the evidence names the rule


def test_inbound_fails_for_a_published_bridge_port(world, host):
    _, lesson = host
    lesson.web("pub", ports={"80/tcp": 18091})
    assert_claim_fails("ch03:inbound", {"inbound": ch03.host_inbound(world, 18091)},
                       mentions="no DNAT rule mentions the port")


def test_loopback_risk_fails_from_a_bridge_container(world, host):
    scenario, _ = host
    c = scenario.containers()
    risk = ch03.loopback_reach(world, c["bridged"], c["bridged"], LOOPBACK_PORT)
    assert_claim_fails("ch03:loopback-risk", {"risk": risk},
                       mentions="the host-network container reaches host1's 127.0.0.1:7070")


def test_abstract_sockets_fail_from_a_bridge_container(world, host):
    scenario, _ = host
    c = scenario.containers()
    sockets = ch03.abstract_sockets(world, c["bridged"], c["bridged"])
    assert_claim_fails("ch03:abstract-sockets", {"sockets": sockets},
                       mentions="the host-network container lists every one of them")


def test_abstract_sockets_fail_without_host1s_admin_socket(world, host):
    """The claim rests on the scenario's own socket, not on whatever the engine holds (Docker 20.10's
    dockerd has an abstract socket in host1's namespace, 26.1's none): without it, it fails."""
    scenario, _ = host
    c = scenario.containers()
    scenario.stop_admin_socket()
    try:
        sockets = ch03.abstract_sockets(world, c["app"], c["bridged"])
    finally:
        scenario.start_admin_socket()
    assert_claim_fails("ch03:abstract-sockets", {"sockets": sockets},
                       mentions="host1's admin socket is among host1's abstract sockets")
    run_claim("ch03:abstract-sockets", sockets=ch03.abstract_sockets(world, c["app"], c["bridged"]))


@pytest.mark.parametrize("network,cap_drop", [("bridge", ""), ("host", "NET_RAW")])
def test_sniff_fails_without_host_network_or_net_raw(world, host, network, cap_drop):
    _, lesson = host
    sniff = ch03.sniff_host_traffic(world, lesson, network=network, role=f"sniff-{network}", cap_drop=cap_drop)
    assert_claim_fails("ch03:sniff", {"sniff": sniff}, mentions="the container's tcpdump shows")
