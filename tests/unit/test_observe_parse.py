"""Parsers of helpers.observe, fed with real tool outputs saved from a lab world (tests/unit/data).

Expected values are read from the same saved text by other means (json, plain string search), never
written here as constants.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.observe import parse
from helpers.observe.collect import from_outputs, parse_proxy_cmdline

DATA = Path(__file__).parent / "data" / "paths"


def _run(name: str) -> dict:
    return json.loads((DATA / name / "run.json").read_text())


@pytest.fixture(scope="module")
def egress():
    return _run("user-bridge-egress")


def test_links_match_ip_json(egress):
    text = egress["raw_before"]["host1"]["links"]
    links = parse.parse_links(text)
    raw = json.loads(text)
    assert [i.name for i in links] == [link["ifname"] for link in raw]
    for iface, link in zip(links, raw, strict=True):
        assert iface.mac == link["address"]
        assert iface.master == link.get("master")
        assert [a.address for a in iface.addresses] == [a["local"] for a in link.get("addr_info", [])]
    assert any(i.is_bridge for i in links)


def test_veth_pairs_between_host_and_container(egress):
    host = parse.parse_links(egress["raw_before"]["host1"]["links"])
    container = parse.parse_links(egress["raw_before"]["user-bridge-a"]["links"])
    pairs = parse.peer_pairs(host, container)
    assert len(pairs) == 1
    host_end, container_end = pairs[0]
    assert container_end.name == "eth0"
    assert host_end.peer_ifindex == container_end.ifindex and container_end.peer_ifindex == host_end.ifindex
    # The container's MAC is the one docker inspect reported for its endpoint.
    info = next(t["container"] for t in egress["targets"] if t["name"] == "user-bridge-a")
    assert container_end.mac == info["endpoints"][0]["mac"]
    assert host_end.master is not None


def test_routes_and_neighbours(egress):
    text = egress["raw_before"]["host1"]["routes"]
    routes = parse.parse_routes(text)
    assert [r.dst for r in routes] == [r["dst"] for r in json.loads(text)]
    default = next(r for r in routes if r.dst == "default")
    assert default.gateway and default.dev == "eth0"
    neigh = parse.parse_neighbours(egress["raw_after"]["host1"]["neighbours"])
    assert all(n.ip and n.dev for n in neigh)


def test_fdb_keeps_bridge_entries_only(egress):
    text = egress["raw_after"]["host1"]["fdb"]
    entries = parse.parse_fdb(text)
    raw = json.loads(text)
    assert len(entries) == sum(1 for e in raw if e.get("master"))
    assert all(e.bridge for e in entries)
    # Each container MAC was learned on the port it is behind (not permanent).
    learned = [e for e in entries if e.learned]
    assert learned, "a probe crossed the bridge, so it learned at least one MAC"


def test_iptables_rules_and_counters(egress):
    text = egress["raw_after"]["host1"]["rules"]
    rules = parse.parse_iptables_save(text)
    lines = [line for line in text.splitlines() if line.startswith("[")]
    assert len([r for r in rules if not r.is_policy]) == len(lines)
    masq = [r for r in rules if r.target == "MASQUERADE" and r.out_if and "out_if" in r.negated]
    assert masq, "Docker's POSTROUTING -s SUBNET ! -o BRIDGE -j MASQUERADE"
    for rule in masq:
        assert f"-s {rule.src} ! -o {rule.out_if} -j MASQUERADE" in rule.spec
    dnat = [r for r in rules if r.target == "DNAT"]
    assert dnat and all(r.to and r.dport for r in dnat)
    policy = next(r for r in rules if r.is_policy and r.chain == "FORWARD")
    assert f":FORWARD {policy.target} [{policy.packets}:{policy.bytes}]" in text
    # Counters: the text's [packets:bytes] for one rule.
    first = rules[[r.is_policy for r in rules].index(False)]
    assert f"[{first.packets}:{first.bytes}] -A {first.chain} {first.spec}" in text


def test_conntrack_tuples(egress):
    text = egress["raw_after"]["host1"]["conntrack"]
    entries = parse.parse_conntrack(text)
    assert len(entries) == len([line for line in text.splitlines() if line.startswith("ipv")])
    tcp = [e for e in entries if e.proto == "tcp" and e.original.dport == egress["port"]]
    assert tcp, "the egress connection is tracked"
    entry = tcp[-1]
    assert entry.snat and not entry.dnat
    assert entry.original.dst == entry.reply.src == egress["target"]


def test_conntrack_line_forms():
    # The three forms the tool prints (tcp with state, icmp with id, unknown proto), in its words.
    text = (
        "ipv4     2 tcp      6 9 CLOSE src=10.1.0.2 dst=10.2.0.9 sport=45742 dport=9000 src=10.2.0.9 "
        "dst=10.3.0.11 sport=9000 dport=45742 [ASSURED] mark=0 use=1\n"
        "ipv4     2 icmp     1 29 src=10.1.0.2 dst=10.2.0.9 type=8 code=0 id=26013 src=10.2.0.9 "
        "dst=10.3.0.11 type=0 code=0 id=26013 mark=0 use=1\n"
        "ipv4     2 unknown  2 585 src=10.1.0.1 dst=224.0.0.22 [UNREPLIED] src=224.0.0.22 dst=10.1.0.1 mark=0 use=1\n"
    )
    tcp, icmp, igmp = parse.parse_conntrack(text)
    assert tcp.state == "CLOSE" and tcp.flags == ("ASSURED",) and tcp.reply.dst == "10.3.0.11"
    assert icmp.original.icmp_id == 26013 and icmp.snat
    assert igmp.flags == ("UNREPLIED",) and igmp.original.sport is None


def test_state_from_saved_outputs(egress):
    raw = egress["raw_before"]["host1"]
    state = from_outputs("host1", "machine", "/run/netns/x", raw)
    eth0 = state.interface("eth0")
    assert eth0 is not None and state.owns_ip(eth0.ipv4[0].address)
    bridges = state.bridges()
    assert bridges and all(state.ports_of(b.name) is not None for b in bridges)


def test_proxy_cmdline():
    argv = ["/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "8081",
            "-container-ip", "172.18.0.3", "-container-port", "80"]
    proxy = parse_proxy_cmdline(argv, 42, 7)
    assert (proxy.host_port, proxy.container_ip, proxy.container_port, proxy.pid) == (8081, "172.18.0.3", 80, 42)
    assert parse_proxy_cmdline(["/bin/sleep", "1"]) is None


def test_iptables_save_without_counters_parses_with_zero_counts():
    # Plain `iptables-save -t nat` (no -c), as saved from host1 with one published port.
    text = (Path(__file__).parent / "data" / "explorer_host1_nat.txt").read_text()
    rules = [r for r in parse.parse_iptables_save(text) if not r.is_policy]
    assert [str(r) for r in rules] == [line for line in text.splitlines() if line.startswith("-A ")]
    assert all(r.packets == 0 and r.bytes == 0 for r in rules)
    dnat = next(r for r in rules if r.target == "DNAT")
    assert dnat.chain == "DOCKER" and dnat.to and dnat.to.endswith(":80")
