"""helpers.lessons.facts on saved real outputs: the notebook-friendly facts read through the observe parsers.

tests/unit/data/facts_default_bridge.json holds what `helpers.observe.collect.raw_outputs` read from a
world running the default-bridge (a pinged b, a reached the internet service, 8080 published) and
macvlan scenarios: host1's and the router's links/fdb/rules/conntrack, container a's links/routes,
and the argv of the docker-proxy processes. `facts.state` is swapped for one that parses those saved
outputs, so every fact below goes through the same parsers as on a live world. Expected values are
read from the saved text by other means (json, plain string search), never written here as constants.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.lessons import facts
from helpers.observe.collect import from_outputs, parse_proxy_cmdline

SAVED = json.loads((Path(__file__).parent / "data" / "facts_default_bridge.json").read_text())
CONTAINER = "default-bridge-a"


@pytest.fixture(autouse=True)
def saved_world(monkeypatch):
    def state(world, place, *parts):
        outputs = {part: text for part, text in SAVED[place].items() if part in parts}
        assert set(outputs) == set(parts), f"no saved {parts} for {place}"
        return from_outputs(place, "machine" if place in ("host1", "router") else "container", "", outputs)

    monkeypatch.setattr(facts, "state", state)


def _nat_lines() -> list[tuple[int, str]]:
    """(packets, "-A ...") of host1's nat table, by string search on the saved iptables-save -c."""
    text = SAVED["host1"]["rules"]
    nat = text[text.index("*nat"):text.index("COMMIT")]
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^\[(\d+):\d+\] (-A .*)$", nat, re.M)]


def test_nat_rules_are_the_saved_lines():
    assert facts.nat_rules(None, "host1") == [line for _, line in _nat_lines()]


def test_rule_packets_is_the_first_matching_counter():
    packets, line = next((p, entry) for p, entry in _nat_lines()
                         if "MASQUERADE" in entry and "-s 172.17.0.0/16" in entry)
    assert packets > 0  # a reached the internet: the rule counted it
    assert facts.rule_packets(None, "host1", "-s 172.17.0.0/16", "MASQUERADE") == packets
    with pytest.raises(LookupError):
        facts.rule_packets(None, "host1", "-j NO-SUCH-TARGET")


def test_masquerade_and_dnat_rules():
    lines = [line for _, line in _nat_lines()]
    masquerade = [line for line in lines if "-s 172.17.0.0/16" in line and "MASQUERADE" in line and "! -o" in line]
    assert len(masquerade) == 1
    assert facts.masquerade_rule(None, "host1", "172.17.0.0/16") == masquerade[0]
    assert facts.masquerade_rule(None, "host1", "10.99.0.0/16") is None
    assert facts.dnat_rules(None, "host1") == [line for line in lines if "-j DNAT" in line] != []


def test_filter_table_lines_match_fragment():
    text = SAVED["host1"]["rules"]
    expected = [line.split("] ", 1)[1] for line in text[text.index("*filter"):].splitlines()
                if "DOCKER-ISOLATION-STAGE-2 -o" in line and "-A " in line]
    rules = facts.iptables(None, "host1", "filter")
    assert [str(r) for r in facts.matching(rules, "DOCKER-ISOLATION-STAGE-2 -o")] == expected != []
    assert not any(r.is_policy for r in rules)


def test_conntrack_rows_keep_protocol_and_port():
    rows = facts.conntrack(None, "host1", dport=9000)
    lines = [line for line in SAVED["host1"]["conntrack"].splitlines()
             if line.split()[2] == "tcp" and re.search(r"src=\S+ dst=\S+ sport=\d+ dport=9000 ", line)]
    assert len(rows) == len(lines) > 0
    for row, line in zip(rows, lines, strict=True):
        o, r = row["original"], row["reply"]
        assert f"src={o['src']} dst={o['dst']} sport={o['sport']} dport={o['dport']} " \
               f"src={r['src']} dst={r['dst']} sport={r['sport']} dport={r['dport']}" in line
        assert row["state"] == line.split()[5]
    assert len(facts.conntrack(None, "host1", proto="icmp")) == sum(
        1 for line in SAVED["host1"]["conntrack"].splitlines() if line.split()[2] == "icmp")


def test_bridge_fdb_is_the_learned_entries_of_that_bridge():
    raw = json.loads(SAVED["router"]["fdb"])
    expected = [{"mac": e["mac"], "port": e["ifname"]} for e in raw
                if e.get("master") == "lan0" and "permanent" not in e.get("state", "") and "vlan" not in e]
    assert facts.bridge_fdb(None, "router", "lan0") == expected != []
    assert facts.bridge_fdb(None, "router", "no-such-bridge") == []


def test_veth_peer_matches_indices_both_ways():
    inside = next(link for link in json.loads(SAVED[CONTAINER]["links"]) if link["ifname"] == "eth0")
    host_end = next(link for link in json.loads(SAVED["host1"]["links"]) if link["ifindex"] == inside["link_index"])
    assert host_end["link_index"] == inside["ifindex"]
    pair = facts.veth_peer(None, "host1", CONTAINER)
    assert pair == {"container_if": f"eth0@if{inside['link_index']} (index {inside['ifindex']})",
                    "host_if": f"{host_end['ifname']} (index {host_end['ifindex']})",
                    "host_ifname": host_end["ifname"], "master": host_end["master"]}
    with pytest.raises(LookupError):
        facts.veth_peer(None, "host1", CONTAINER, "no-such-if")


def test_interface_facts_of_a_container():
    links = json.loads(SAVED[CONTAINER]["links"])
    eth0 = next(link for link in links if link["ifname"] == "eth0")
    assert facts.interfaces(None, CONTAINER) == [link["ifname"] for link in links]
    assert facts.ipv4(None, CONTAINER) == [f"{a['local']}/{a['prefixlen']}" for a in eth0["addr_info"]
                                           if a["family"] == "inet"]
    assert facts.address(None, CONTAINER) == facts.ipv4(None, CONTAINER, "eth0")[0].split("/")[0]
    assert facts.mtu(None, CONTAINER) == eth0["mtu"] and facts.mac_of(None, CONTAINER) == eth0["address"]
    default = next(r for r in json.loads(SAVED[CONTAINER]["routes"]) if r["dst"] == "default")
    assert facts.default_route(None, CONTAINER) == {"via": default["gateway"], "dev": default["dev"]}


def test_ipv4_leaves_out_loopback():
    assert facts.ipv4(None, "host1", "lo") == []
    assert facts.ipv4(None, "host1") and all(not a.startswith("127.") for a in facts.ipv4(None, "host1"))


def test_proxy_rows_from_docker_proxy_argv():
    for argv in SAVED["docker_proxy_argv"]:
        opts = dict(zip(argv[1::2], argv[2::2], strict=True))  # flag, value pairs after the program
        row = facts.proxy_row(parse_proxy_cmdline(argv, pid=42))
        assert row == {"pid": 42, "host_ip": opts["-host-ip"], "host_port": int(opts["-host-port"]),
                       "container_ip": opts["-container-ip"], "container_port": int(opts["-container-port"])}
