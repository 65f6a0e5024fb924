"""Chapter 1's claims fail on lab worlds where they are false.

Each test breaks host1 the way a real machine can be broken (its MASQUERADE rule flushed, forwarding
off, no default route, a FORWARD policy left at ACCEPT, Docker's nat OUTPUT rule gone, nothing
published, a LAN already using 172.18/16), runs the chapter's own demonstration on it, and hands the
result to the very claim cell of notebooks/01_basics_nat.ipynb (tests/claimcells.py). Each test
restores the world in `finally`.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/01_basics_nat.ipynb
on the session world, and a claim cell raises there if its claim is false
(tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
ch01:fresh-engine's control stays here: the scratch engine the false world is made from, before its
extra network.
"""
from __future__ import annotations

import contextlib
import ipaddress
import shlex

import pytest

from helpers.lessons import ch01, common, facts
from helpers.world import scratch_engine
from helpers.world.naming import INET_IP
from helpers.world.proc import run
from tests.claimcells import assert_claim_fails, run_claim


@pytest.fixture(scope="module")
def lesson(world):
    lesson = ch01.Lesson(world, "tch01").reset()
    yield lesson
    lesson.stop()


def host1(world, command: str) -> None:
    world["host1"].run(shlex.split(command))


@contextlib.contextmanager
def rule_removed(world, table: str, rule: str):
    """Delete one iptables rule (as iptables-save prints it: `-A CHAIN ...`) and put it back after."""
    spec = rule.removeprefix("-A ")
    host1(world, f"iptables -t {table} -D {spec}")
    try:
        yield
    finally:
        host1(world, f"iptables -t {table} -A {spec}")


def docker0_masquerade(world) -> str:
    subnet = ch01._docker0_subnet(world)
    rule = facts.masquerade_rule(world, "host1", subnet)
    assert rule, "the true world has Docker's MASQUERADE rule for docker0"
    return rule


def test_fresh_engine_claim_fails_on_an_engine_with_an_extra_network(world):
    with scratch_engine(world.names.world_id) as scratch:
        run_claim("ch01:fresh-engine", fresh=ch01.engine_tour(scratch.client, world.label, pools=0))
        scratch.client.networks.create("extra", driver="bridge", labels=world.label)
        tour = ch01.engine_tour(scratch.client, world.label, pools=0)
    assert_claim_fails("ch01:fresh-engine", {"fresh": tour}, mentions="its networks are exactly")


def test_pool_claim_fails_when_the_lan_already_uses_172_18(world):
    """Docker skips a pool that overlaps a route of its host: a LAN on 172.18/16 moves every
    network one pool further than the documented order predicts from Docker's own networks."""
    with scratch_engine(world.names.world_id) as scratch:
        # a LAN interface on 172.18.0.0/16 (a veth: this kernel has no dummy links); it goes with the namespace
        namespace = world.names.namespace("scratch")
        for command in ("link add lan9 type veth peer name lan9p", "addr add 172.18.0.1/16 dev lan9",
                        "link set lan9 up", "link set lan9p up"):
            run(["ip", "-n", namespace, *command.split()])
        tour = ch01.engine_tour(scratch.client, world.label, pools=2)
    assert tour["pool_walk"][0]["subnet"] != "172.18.0.0/16"
    assert_claim_fails("ch01:pools", {"fresh": tour}, mentions="the documented pools predict")


def test_own_namespace_claim_fails_for_a_host_network_container(world, lesson):
    shared = lesson.box("hostnet", network_mode="host")
    assert_claim_fails("ch01:own-namespace", {"view": ch01.container_view(world, shared)},
                       mentions="its network namespace is not host1's")


def test_snat_conntrack_and_port_claims_fail_without_masquerade(world, lesson):
    box = lesson.box("box")
    with rule_removed(world, "nat", docker0_masquerade(world)):
        out = ch01.egress_snat(world, box)
        clash = ch01.port_rewrite(world, lesson)
        snat_trace = common.rule_trace(world, box.name, "inet", tcp=9000)
    assert_claim_fails("ch01:snat", {"out": out}, mentions="on eth0 the same SYN's source is host1's eth0 address")
    # the kernel's trace: the SYN left host1 un-masqueraded, no MASQUERADE rule met
    assert_claim_fails("ch01:snat-trace", {"out": out, "snat_trace": snat_trace},
                       mentions="its first packet met a MASQUERADE rule in host1's nat POSTROUTING")
    assert_claim_fails("ch01:conntrack", {"out": out}, mentions="the reply tuple is addressed to host1's eth0")
    assert_claim_fails("ch01:port-rewrite", {"clash": clash}, mentions="shows a port changed from 40000")


def test_routed_claim_fails_with_forwarding_off(world, lesson):
    box = lesson.box("box")
    host1(world, "sysctl -q -w net.ipv4.ip_forward=0")
    try:
        out = ch01.egress_snat(world, box)
    finally:
        host1(world, "sysctl -q -w net.ipv4.ip_forward=1")
    assert_claim_fails("ch01:routed", {"out": out}, mentions="ip_forward is 1")


def test_default_route_claim_fails_without_a_default_route(world, lesson):
    box = lesson.box("box")
    route = facts.default_route(world, "host1")
    host1(world, "ip route del default")
    try:
        out = ch01.egress_snat(world, box)
    finally:
        host1(world, f"ip route add default via {route['via']} dev {route['dev']}")
    assert_claim_fails("ch01:default-route", {"out": out}, mentions="host1 has a default route")


def test_default_route_claim_fails_when_a_specific_route_carries_the_traffic(world, lesson):
    """host1 keeps its default route, but a more specific route to the internet's /24 (same
    gateway, out of eth0) is the one the kernel picks: every old condition held here (truth audit 2)."""
    box = lesson.box("box")
    route = facts.default_route(world, "host1")
    specific = f"{ipaddress.ip_network(f'{INET_IP}/24', strict=False)} via {route['via']} dev {route['dev']}"
    host1(world, f"ip route add {specific}")
    try:
        out = ch01.egress_snat(world, box)
    finally:
        host1(world, f"ip route del {specific}")
    assert out["host1_default_route"] is not None and out["syn_on_eth0"] is not None
    assert out["host1_route_to_inet"]["dst"] != "default"
    assert_claim_fails("ch01:default-route", {"out": out}, mentions="is that default route, no more specific one")


def test_dnat_and_proxy_claims_fail_when_nothing_is_published(world, lesson):
    bare = lesson.web("web-bare")                      # the same server, -p nothing
    inbound = ch01.inbound_dnat(world, bare, 18099)
    assert_claim_fails("ch01:dnat", {"inbound": inbound}, mentions="one DNAT rule for port 18080")
    # the kernel's trace: lanpc's SYN to an unpublished port meets no DNAT in nat PREROUTING
    dnat_trace = common.rule_trace(world, "lanpc", inbound["host1_address"], tcp=18099)
    assert_claim_fails("ch01:dnat-trace", {"inbound": inbound, "dnat_trace": dnat_trace},
                       mentions="its SYN met a DNAT rule for port 18099 in host1's nat PREROUTING")
    assert_claim_fails("ch01:loopback-proxy", {"inbound": inbound}, mentions="a docker-proxy process serves")


def test_host_output_claim_fails_without_dockers_nat_output_rule(world, lesson):
    published = lesson.web("web", ports={"80/tcp": 18098})
    (rule,) = [str(r) for r in facts.matching(facts.iptables(world, "host1"), "-A OUTPUT", "DOCKER")]
    with rule_removed(world, "nat", rule):
        inbound = ch01.inbound_dnat(world, published, 18098)
    assert inbound["container_saw_from_host1_lan_address"] == inbound["docker0_address"]  # docker-proxy took it
    assert_claim_fails("ch01:host-output-dnat", {"inbound": inbound}, mentions="nat OUTPUT sends")


def test_unpublished_claim_fails_when_forward_policy_is_accept(world, lesson):
    """What happens before 28.0 when ip_forward was already on as dockerd started: the policy stays
    ACCEPT. From 28.0 that alone opens nothing (fact "direct-access"): the false world also lacks the
    raw-table rule of the container's address and the DOCKER chain's DROP into docker0."""
    published = lesson.web("web", ports={"80/tcp": 18098})
    hidden = lesson.web("hidden")
    hidden.reload()
    hidden_ip = hidden.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    with contextlib.ExitStack() as opened:
        if ch01.direct_access_in_raw(world.host1.docker.version()["Version"]):
            for raw in ch01.raw_drops(world, hidden_ip):
                opened.enter_context(rule_removed(world, "raw", str(raw)))
            opened.enter_context(rule_removed(world, "filter", "-A DOCKER ! -i docker0 -o docker0 -j DROP"))
        host1(world, "iptables -P FORWARD ACCEPT")
        opened.callback(host1, world, "iptables -P FORWARD DROP")
        closed = ch01.unpublished_port(world, lesson, published)
    assert closed["unpublished"]["reached"]
    assert_claim_fails("ch01:unpublished", {"closed": closed}, mentions="did not reach the unpublished")


def test_unpublished_claim_fails_when_the_route_never_reached_host1(world, lesson):
    """The claim's control: with host1 dropping lanpc's packets before any Docker rule (a raw DROP of
    everything from lanpc), nothing is reached, but not because of Docker; the claim must not pass."""
    published = lesson.web("web", ports={"80/tcp": 18098})
    lanpc = facts.address(world, "lanpc")
    host1(world, f"iptables -t raw -I PREROUTING -s {lanpc} -j DROP")
    try:
        closed = ch01.unpublished_port(world, lesson, published)
    finally:
        host1(world, f"iptables -t raw -D PREROUTING -s {lanpc} -j DROP")
    assert not closed["unpublished"]["reached"]
    assert_claim_fails("ch01:unpublished", {"closed": closed}, mentions="the route works")
