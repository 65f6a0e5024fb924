"""Chapter 2's claims fail on lab worlds where they are false.

Each test breaks host1 the way a real machine can be broken (a veth pulled off the bridge, a bridge
that stops learning, a firewall script that deletes Docker's isolation rules, a network that is not
--internal, a user-defined network where names DO resolve), runs the chapter's own demonstration on
it, and hands the result to the very claim cell of notebooks/02_bridge.ipynb. Each test restores the
world in `finally`.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/02_bridge.ipynb on
the session world, and a claim cell raises there if its claim is false
(tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
ch02:veth's control stays here: the veth and docker0 it reads are the ones the false world unplugs.
"""
from __future__ import annotations

import contextlib
import json
import shlex

import pytest

from helpers import scenarios
from helpers.lessons import ch01, ch02, common, facts, probes
from tests.claimcells import assert_claim_fails, run_claim


@pytest.fixture(scope="module")
def bridges(world):
    default = scenarios.get(world, "default-bridge").start()
    user = scenarios.get(world, "user-bridge").start()
    lesson = ch02.Lesson(world, "tch02").reset()
    yield default, user, lesson
    lesson.stop()
    user.stop()
    default.stop()


def host1(world, command: str) -> None:
    world["host1"].run(shlex.split(command))


@contextlib.contextmanager
def rules_removed(world, *fragments_each: tuple[str, ...]):
    """Delete filter rules (each found by its fragments) and put each back at its old position."""
    removed = []
    for fragments in fragments_each:
        (rule,) = facts.matching(facts.iptables(world, "host1", "filter"), *fragments)
        removed.append(rule)
    for rule in removed:
        host1(world, f"iptables -t filter -D {rule.chain} {rule.spec}")
    try:
        yield removed
    finally:
        for rule in sorted(removed, key=lambda r: (r.chain, r.index)):  # top down: each old index is right again
            host1(world, f"iptables -t filter -I {rule.chain} {rule.index} {rule.spec}")


def test_veth_claim_fails_when_the_veth_is_pulled_off_docker0(world, bridges):
    default, _, _ = bridges
    a = default.containers()["a"]
    device = ch02.bridge_device(world, "host1", "docker0")
    pair = facts.veth_peer(world, "host1", a)
    run_claim("ch02:veth", pair=pair, device=device)
    host1(world, f"ip link set {pair['host_ifname']} nomaster")
    try:
        broken = facts.veth_peer(world, "host1", a)
    finally:
        host1(world, f"ip link set {pair['host_ifname']} master docker0")
    assert_claim_fails("ch02:veth", {"pair": broken, "device": device}, mentions="that host end is a port of docker0")


def test_fdb_claim_fails_when_the_bridge_does_not_learn(world, bridges):
    """ageing_time 0: the bridge forgets every MAC at once and floods like a hub."""
    default, _, _ = bridges
    a = default.containers()["a"]
    link = json.loads(world["host1"].run(["ip", "-d", "-j", "link", "show", "docker0"]).stdout)[0]
    ageing = link["linkinfo"]["info_data"]["ageing_time"]
    host1(world, "ip link set docker0 type bridge ageing_time 0")
    try:
        c2c = probes.run_spec(default, "c2c")
        learned = ch02.learned_port(world, "host1", "docker0", a)
    finally:
        host1(world, f"ip link set docker0 type bridge ageing_time {ageing}")
    assert c2c.ok  # still delivered, by flooding
    assert_claim_fails("ch02:fdb", {"learned": learned}, mentions="docker0 learned a's MAC")


def test_dns_claim_fails_where_the_name_does_resolve(world, bridges):
    """The 'default bridge' side measured on a user-defined network: there the name resolves."""
    _, user, _ = bridges
    on_user = ch02.name_resolution(world, user.containers()["a"], "user-bridge-b")
    assert_claim_fails("ch02:dns", {"on_default": on_user, "on_user": on_user},
                       mentions="a's resolver is the daemon's dns setting")


def test_dns_claim_fails_when_the_lab_dns_refuses(world, bridges):
    """The lab's DNS server is not reached (inet rejects port 53: 'connection refused'): the lookup
    finds no address here too, but for another reason than "no server knows the name". Before the
    claim required the resolver's NXDOMAIN, this world passed it (truth audit 2)."""
    default, user, _ = bridges
    on_user = ch02.name_resolution(world, user.containers()["a"], "user-bridge-b")
    reject = ["-p", "udp", "--dport", "53", "-j", "REJECT"]
    world["inet"].run(["iptables", "-I", "INPUT", *reject])
    try:
        refused = ch02.name_resolution(world, default.containers()["a"], "default-bridge-b")
    finally:
        world["inet"].run(["iptables", "-D", "INPUT", *reject])
    assert refused["resolved"] is None and refused["lookup outcome"] == "refused"
    assert_claim_fails("ch02:dns", {"on_default": refused, "on_user": on_user},
                       mentions="which answered NXDOMAIN")


def _bridge_devices(world) -> tuple[str, str]:
    """b's bridge and c's bridge (user-bridge-net, user-bridge-net2) as host1 names them."""
    return tuple("br-" + world.host1.docker.networks.get(name).id[:12]
                 for name in ("user-bridge-net", "user-bridge-net2"))


def _address(container) -> str:
    container.reload()
    return next(iter(container.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]


@contextlib.contextmanager
def drops_removed(world, bridges: tuple[str, ...], containers=()):
    """Delete every DROP Docker wrote for traffic into `bridges`: in its filter chains `-o BRIDGE`
    (ISOLATION-STAGE-2; on Docker 28 also DOCKER's `! -i B -o B`), and on Docker 28+ the raw-table
    filter of each container's address (`-d ADDR/32 ! -i B`). Put back afterwards, in place. On
    20.10 and 26 the last two do not exist; what is deleted is listed in the yielded rules."""
    addresses = {f"{_address(c)}/32" for c in containers}
    found = [r for r in facts.state(world, "host1", "rules").rules if not r.is_policy and r.target == "DROP" and (
        (r.table == "filter" and r.chain.startswith("DOCKER") and r.out_if in bridges and "out_if" not in r.negated)
        or (r.table == "raw" and r.chain == "PREROUTING" and r.dst in addresses))]
    for rule in found:
        world["host1"].run(["iptables", "-t", rule.table, "-D", rule.chain, *shlex.split(rule.spec)])
    try:
        yield found
    finally:
        for rule in sorted(found, key=lambda r: (r.table, r.chain, r.index)):
            world["host1"].run(["iptables", "-t", rule.table, "-I", rule.chain, str(rule.index),
                                *shlex.split(rule.spec)])


def _isolation(world, user) -> dict:
    c = user.containers()
    return {"iso": ch02.crossing(world, c["c"], c["b"]), "isolation": ch02.isolation_rules(world),
            "iso_trace": common.rule_trace(world, c["c"].name, c["b"].name)}


def test_isolation_claim_fails_without_the_drop_rule(world, bridges):
    _, user, _ = bridges
    c = user.containers()
    # both directions: the request enters b's bridge, the reply enters c's
    with drops_removed(world, _bridge_devices(world), (c["b"], c["c"])):
        names = _isolation(world, user)
    assert names["iso"]["reached"]  # c reached b across bridges
    assert_claim_fails("ch02:isolation", names, mentions="c could not reach b")
    assert_claim_fails("ch02:isolation-trace", names, mentions="the trace says host1 dropped it")


def test_isolation_claim_fails_when_host1_does_not_forward(world, bridges):
    """ip_forward=0: c cannot reach b because host1 routes nothing, whatever Docker's rules say
    (on 20.10 and 26 no DROP even counts the ping; Docker 28's raw-table filter counts it before the
    routing decision). Today's cell passed this world (truth audit 2)."""
    _, user, _ = bridges
    host1(world, "sysctl -q -w net.ipv4.ip_forward=0")
    try:
        names = _isolation(world, user)
    finally:
        host1(world, "sysctl -q -w net.ipv4.ip_forward=1")
    assert not names["iso"]["reached"] and names["iso"]["ip_forward"] == 0
    assert_claim_fails("ch02:isolation", names, mentions="host1 forwards IPv4 (ip_forward=1)")
    if not ch01.direct_access_in_raw(world.host1.docker.version()["Version"]):
        # no route out: the ping dies at the routing decision, no DROP rule met (28's raw rule would be)
        assert_claim_fails("ch02:isolation-trace", names, mentions="the trace says host1 dropped it")


def test_isolation_claim_fails_when_another_rule_drops_between_the_bridges(world, bridges):
    """Docker's DROPs for b's and c's bridges deleted, and an administrator's own FORWARD rule
    drops c -> b: c still cannot reach b, Docker's chains still hold DROP rules (docker0's), but
    none of them acted. Today's cell passed this world (truth audit 2)."""
    _, user, _ = bridges
    c = user.containers()
    b_side, c_side = _bridge_devices(world)
    own = f"FORWARD -i {c_side} -o {b_side} -j DROP"
    with drops_removed(world, (b_side, c_side), (c["b"], c["c"])):
        host1(world, f"iptables -I {own}")
        try:
            names = _isolation(world, user)
        finally:
            host1(world, f"iptables -D {own}")
    assert not names["iso"]["reached"] and names["isolation"]["drop_rules"]
    assert any(f"-A {own}" in rule for rule in names["iso"]["counted"])
    assert_claim_fails("ch02:isolation", names,
                       mentions="a DROP rule Docker wrote between the bridges counted the ping")
    # the trace names the administrator's rule, which no Docker DROP's counter matches
    assert names["iso_trace"]["dropped"]["rule"] == f"-A {own}"
    assert_claim_fails("ch02:isolation-trace", names,
                       mentions="by a DROP rule Docker wrote between the bridges, one whose counter rose above")


def _docker0_names(world, default, user) -> dict:
    a, c, b = default.containers()["a"], user.containers()["c"], user.containers()["b"]
    return {"c2c": probes.run_spec(default, "c2c"), "isolation": ch02.isolation_rules(world),
            "into_docker0": ch02.crossing(world, c, a), "out_of_docker0": ch02.crossing(world, a, b)}


def test_docker0_claim_fails_when_docker0_is_left_out_of_isolation(world, bridges):
    """docker0's STAGE-1 jump and every DROP into docker0 deleted: traffic into docker0 is no
    longer dropped by anything Docker wrote for it."""
    default, user, _ = bridges
    with rules_removed(world, ("-A DOCKER-ISOLATION-STAGE-1", "-i docker0 ! -o docker0")), \
            drops_removed(world, ("docker0",), (default.containers()["a"],)):
        names = _docker0_names(world, default, user)
    assert_claim_fails("ch02:docker0-isolated", names, mentions="a DROP rule for traffic into docker0 counted")


def test_docker0_claim_fails_when_only_docker0s_drop_is_deleted(world, bridges):
    """The STAGE-1 jump for docker0 kept, the DROP into docker0 deleted (on Docker 28 also DOCKER's
    and the raw-table filter of a's address): a rule still mentions docker0, but nothing Docker
    wrote drops traffic into docker0. Today's cell passed this world (truth audit 2)."""
    default, user, _ = bridges
    with drops_removed(world, ("docker0",), (default.containers()["a"],)) as removed:
        names = _docker0_names(world, default, user)
    assert any(str(r) == "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP" for r in removed)
    assert names["isolation"]["docker0_rules"] and not names["into_docker0"]["dropped_by"]
    assert_claim_fails("ch02:docker0-isolated", names, mentions="a DROP rule for traffic into docker0 counted")


def test_internal_claim_fails_on_an_ordinary_bridge(world, bridges):
    _, _, lesson = bridges
    open_net = ch02.internal_egress(world, lesson, internal=False)
    assert open_net["probe"]["reached"]
    assert_claim_fails("ch02:internal", {"internal": open_net}, mentions="the network is internal")
