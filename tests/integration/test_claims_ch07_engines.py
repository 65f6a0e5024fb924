"""Chapter 7's two-engine claims (section 7.4), run on a side world where each claim is false.

The side world is the chapter's own (`ch07.side_world`: host1 on the machine's engine, host2 on
Docker 28), under an id of the tests' own (suffix `vt`, never the notebook's `v2`). Each test changes
one host the way a claim rules out: deletes the raw-table rule Docker 28 wrote, or gives the machine's
engine such a rule; deletes a chain; adds or removes a container's default route. It then runs the
chapter's own demonstration (`ch07.*`) and hands the result to the very cell the learner runs.
Each host's rules are saved first and restored afterwards (`iptables-restore`).

The claims also run where they hold (`test_true_world_claims_hold`) on this same side world: its
Docker 28 host is another engine than the session world's, and that run is the control of the false
worlds made from it (nbval runs the section too, on the notebook's own side world `v2`).
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from helpers.lessons import ch07
from tests.claimcells import assert_claim_fails, run_claim

SUFFIX = "vt"
HOSTS = ("host1", "host2")


@pytest.fixture(scope="module")
def side(world):
    """The side world with the section's containers on both hosts; taken down afterwards."""
    side = ch07.side_world(world, SUFFIX)
    try:
        for host in HOSTS:
            ch07.publish(side, host)
            ch07.publish(side, host, ch07.LOCAL, f"127.0.0.1:{ch07.LOCAL_PORT}:80")
            ch07.internal_routes(side, host)
        yield side
    finally:
        ch07.take_down(world, SUFFIX)


@contextmanager
def rules_restored(side, host: str):
    """Save host's iptables rules; restore them exactly afterwards."""
    from helpers.world.proc import run

    saved = side[host].run(["iptables-save"]).stdout
    try:
        yield
    finally:
        run(["iptables-restore"], side[host].namespace, input=saved)


def _ipt(side, host: str, *args: str) -> None:
    side[host].run(["iptables", *args])


def _versions_differ(side) -> None:
    v1, v2 = (ch07.version(side, h) for h in HOSTS)
    assert v2.startswith("28.") and not v1.startswith("28."), (v1, v2)


def test_true_world_claims_hold(side):
    _versions_differ(side)
    run_claim("ch07:v28-chains", rules=ch07.rules_side_by_side(side))
    run_claim("ch07:v28-direct", direct=[ch07.direct_access(side, h) for h in HOSTS])
    run_claim("ch07:v28-loopback", loopback=[ch07.loopback_from_lan(side, h) for h in HOSTS])
    run_claim("ch07:v28-internal", internal=[ch07.read_internal(side, h) for h in HOSTS])


def test_chains_claim_fails_without_docker_ct(side):
    """host2 without DOCKER-CT (its jump removed, the chain deleted): not the chains its release writes."""
    with rules_restored(side, "host2"):
        _ipt(side, "host2", "-D", "DOCKER-FORWARD", "-j", "DOCKER-CT")
        _ipt(side, "host2", "-F", "DOCKER-CT")
        _ipt(side, "host2", "-X", "DOCKER-CT")
        rules = ch07.rules_side_by_side(side)
    assert "DOCKER-CT" not in rules.filter_chains["host2"]
    assert_claim_fails("ch07:v28-chains", {"rules": rules}, mentions="host2 (Docker 28")


def test_chains_claim_fails_with_a_new_chain_on_the_older_engine(side):
    """host1 given a DOCKER-FORWARD chain its release never writes."""
    with rules_restored(side, "host1"):
        _ipt(side, "host1", "-N", "DOCKER-FORWARD")
        rules = ch07.rules_side_by_side(side)
    assert_claim_fails("ch07:v28-chains", {"rules": rules}, mentions="host1 (Docker")


def _raw_rule(side, host: str, *fragments: str) -> list[str]:
    (rule,) = ch07.raw_drops(side, host, *fragments)
    return ["-t", "raw", "-D", rule.chain, *rule.spec.split()]


def test_direct_claim_fails_without_the_raw_rule_on_28(side):
    """Docker 28's raw DROP of the web container's address deleted: the container answers lanpc."""
    address = ch07.container_ip(side, "host2", ch07.WEB)
    with rules_restored(side, "host2"):
        _ipt(side, "host2", *_raw_rule(side, "host2", f"-d {address}/32"))
        direct = [ch07.direct_access(side, h) for h in HOSTS]
    assert direct[1]["reached"] and direct[1]["raw rule"] is None
    assert_claim_fails("ch07:v28-direct", {"direct": direct}, mentions="host2 (Docker 28")


def test_direct_claim_fails_when_the_older_engine_drops_in_raw(side):
    """host1 given the raw DROP its release does not write: its container no longer answers."""
    address = ch07.container_ip(side, "host1", ch07.WEB)
    with rules_restored(side, "host1"):
        _ipt(side, "host1", "-t", "raw", "-I", "PREROUTING", "-d", f"{address}/32", "!", "-i", "docker0", "-j", "DROP")
        direct = [ch07.direct_access(side, h) for h in HOSTS]
    assert not direct[0]["reached"]
    assert_claim_fails("ch07:v28-direct", {"direct": direct}, mentions="the container answered on its own address")


def test_loopback_claim_fails_without_the_raw_rule_on_28(side):
    """Docker 28's `-d 127.0.0.1/32 ! -i lo ... -j DROP` deleted: lanpc's SYN reaches host2's container."""
    with rules_restored(side, "host2"):
        _ipt(side, "host2", *_raw_rule(side, "host2", "-d 127.0.0.1/32"))
        loopback = [ch07.loopback_from_lan(side, h) for h in HOSTS]
    assert loopback[1]["SYN reached the container (docker0)"] and loopback[1]["raw drops counted"] == 0
    assert_claim_fails("ch07:v28-loopback", {"loopback": loopback}, mentions="host2 (Docker 28")


def test_loopback_claim_fails_when_the_older_engine_drops_it(side):
    """host1 given 28's rule for 127.0.0.1: nothing reaches its container, nothing answers."""
    rule = ["PREROUTING", "-d", "127.0.0.1/32", "!", "-i", "lo", "-p", "tcp", "-m", "tcp", "--dport",
            str(ch07.LOCAL_PORT), "-j", "DROP"]
    with rules_restored(side, "host1"):
        _ipt(side, "host1", "-t", "raw", "-I", *rule)
        loopback = [ch07.loopback_from_lan(side, h) for h in HOSTS]
    assert not loopback[0]["SYN reached the container (docker0)"] and loopback[0]["lanpc got"] is None
    assert_claim_fails("ch07:v28-loopback", {"loopback": loopback}, mentions="it was DNATed into the container")


def _inner_netns(side, host: str) -> list[str]:
    container = side.hosts[host].docker.containers.get(ch07.INNER)
    return ["nsenter", "-t", str(container.attrs["State"]["Pid"]), "-n", "ip", "route"]


def test_internal_claim_fails_with_a_default_route_on_28(side):
    """host2's internal container given a default route via its gateway, as the older release gives."""
    gateway = ch07.read_internal(side, "host2")["gateway"]
    side["host2"].run([*_inner_netns(side, "host2"), "add", "default", "via", gateway])
    try:
        internal = [ch07.read_internal(side, h) for h in HOSTS]
    finally:
        side["host2"].run([*_inner_netns(side, "host2"), "del", "default"], check=False)
    assert internal[1]["default route"] is not None
    assert_claim_fails("ch07:v28-internal", {"internal": internal}, mentions="host2 (Docker 28")


def test_internal_claim_fails_when_host1s_container_has_the_other_route(side):
    """host1's internal container given the other era's route: without the default route its release
    gives it (20.10), or with one where its release gives none (26.1, the Debian 13 leg)."""
    before = ch07.read_internal(side, "host1")
    gateway = before["gateway"]
    had_route = before["default route era"]
    flip, back = (("del", "default"), ("add", "default", "via", gateway)) if had_route else \
        (("add", "default", "via", gateway), ("del", "default"))
    side["host1"].run([*_inner_netns(side, "host1"), *flip])
    try:
        internal = [ch07.read_internal(side, h) for h in HOSTS]
    finally:
        side["host1"].run([*_inner_netns(side, "host1"), *back], check=False)
    assert (internal[0]["default route"] is None) == had_route
    assert_claim_fails("ch07:v28-internal", {"internal": internal},
                       mentions="a default route via the network's gateway" if had_route else "no default route")
