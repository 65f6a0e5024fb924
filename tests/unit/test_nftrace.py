"""The kernel's rule trace (issue 19), replayed from saved real runs: what xtables-monitor printed in
each namespace of lab world runs (Debian 12: docker.io 20.10, iptables 1.8.9; `*-d13`: a Debian 13 root,
docker.io 26.1, iptables 1.8.11, which prefixes each rule with `iptables -t TABLE`; kernel 6.18), saved
by `dnlab trace|path ... --rules --keep DIR` into tests/unit/data/paths/*-rules*/run.json ("nftrace").

Expected rules come from other sources of the same run (the counters iptables-save read, the
containers' docker inspect), never from constants.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers.observe.nftrace import Flow, face, leftover_rules, packets, parse_monitor
from helpers.path import rebuild
from helpers.path.rules import disagreements

DATA = Path(__file__).parent / "data" / "paths"
# `*-own-table`: the marks in a table of the trace's own (`nft -f`), not TRACE rules in iptables' raw table
RUNS = ("trace-lanpc-publish-rules", "user-bridge-isolation-rules", "user-bridge-egress-rules",
        "user-bridge-isolation-rules-d13", "user-bridge-egress-rules-d13", "user-bridge-isolation-rules-own-table",
        "user-bridge-egress-rules-own-table")


def _meta(name: str) -> dict:
    return json.loads((DATA / name / "run.json").read_text())


def _container_ip(meta: dict, name: str) -> str:
    container = next(t["container"] for t in meta["targets"] if t["name"] == name)
    return container["endpoints"][0]["ip"]


def _counted(path, target: str) -> list[dict]:
    """The rules whose counters rose during the probe, with this `-j` target."""
    return [r for r in path.rules if r["target"] == target]


def test_monitor_output_parses_into_passages_and_packets():
    text = _meta("trace-lanpc-publish-rules")["nftrace"]["texts"]["host1"]
    passages = parse_monitor(text)
    assert passages and all(p.met for p in passages)
    groups = packets(passages)
    # every packet starts at the trace's own raw-table rule, and is a request or a reply of the flow
    assert all(g[0].met[0].ours for g in groups)
    assert {face(g) for g in groups} <= {"request", "reply"}
    first = groups[0]
    assert [p.hook for p in first] == ["PREROUTING", "PREROUTING", "FORWARD", "POSTROUTING"]
    assert [p.table for p in first] == ["raw", "nat", "filter", "nat"]
    # a RETURN printed by number (0xfffffffb) is named
    verdicts = {m.verdict for p in first for m in p.met}
    assert "RETURN" in verdicts and not any(v.startswith("0x") for v in verdicts)


def test_published_port_names_the_dnat_in_nat_prerouting_and_the_forward_accept():
    meta = _meta("trace-lanpc-publish-rules")
    path = rebuild(DATA / "trace-lanpc-publish-rules")
    container = _container_ip(meta, "default-bridge-b")
    dnat = [e for e in path.netfilter["rules"] if e["target"] == "DNAT"]
    assert len(dnat) == 1
    (entry,) = dnat
    where = (entry["namespace"], entry["table"], entry["hook"], entry["leg"])
    assert where == ("host1", "nat", "PREROUTING", "request")
    assert f"--dport {meta['port']}" in entry["rule"] and entry["acted"]
    # the packet before and after: the published address, then the container's
    assert entry["before"]["dst"] == f"{meta['target']}:{meta['port']}"
    assert entry["after"]["dst"].startswith(f"{container}:")
    # the counters name the same DNAT rule
    assert [r["rule"] for r in _counted(path, "DNAT") if r["namespace"] == "host1"] == [entry["rule"]]
    accepts = [e for e in path.netfilter["rules"] if e["hook"] == "FORWARD" and e["acted"]]
    assert [e["verdict"] for e in accepts] == ["ACCEPT"] and f"-d {container}/32" in accepts[0]["rule"]
    # laid on the hop where the packet entered host1 (the kernel printed IN=eth0 there)
    hop = next(h for h in path.hops if h.namespace == "host1" and h.leg == "request" and h.direction == "in")
    assert any(e["target"] == "DNAT" for e in hop.rules_met)
    assert path.netfilter["disagreements"] == []


@pytest.mark.parametrize("name", ["user-bridge-isolation-rules", "user-bridge-isolation-rules-d13",
                                  "user-bridge-isolation-rules-own-table"])
def test_isolation_names_its_drop_rule_the_counters_name_too(name):
    path = rebuild(DATA / name)
    drops = [e for e in path.netfilter["rules"] if e["verdict"] == "DROP"]
    assert len(drops) == 1
    (drop,) = drops
    assert (drop["namespace"], drop["table"], drop["hook"], drop["chain"]) == \
        ("host1", "filter", "FORWARD", "DOCKER-ISOLATION-STAGE-2")
    assert [r["rule"] for r in _counted(path, "DROP")] == [drop["rule"]]
    # the packet was forwarded between two bridges: the kernel printed both
    assert drop["before"]["in"] != drop["before"]["out"] and drop["before"]["out"] in drop["rule"]
    assert path.netfilter["disagreements"] == []
    assert "DROP" in "\n".join(path.rules_lines())


@pytest.mark.parametrize("name", ["user-bridge-egress-rules", "user-bridge-egress-rules-d13",
                                  "user-bridge-egress-rules-own-table"])
def test_masquerade_met_in_nat_postrouting_and_the_reply_accepted_as_established(name):
    path = rebuild(DATA / name)
    masquerade = [e for e in path.netfilter["rules"] if e["target"] == "MASQUERADE"]
    assert [(e["namespace"], e["hook"], e["leg"]) for e in masquerade] == [("host1", "POSTROUTING", "request")]
    assert [r["rule"] for r in _counted(path, "MASQUERADE")] == [masquerade[0]["rule"]]
    reply = [e for e in path.netfilter["rules"] if e["leg"] == "reply" and e["acted"]]
    assert reply and "RELATED,ESTABLISHED" in reply[-1]["rule"] and reply[-1]["verdict"] == "ACCEPT"


@pytest.mark.parametrize("name", RUNS)
def test_trace_and_counters_agree_and_disagreement_is_flagged(name):
    path = rebuild(DATA / name)
    counted = _meta(name)["nftrace"]["counted"]
    assert disagreements(path, counted) == []
    acted = [e for e in path.netfilter["rules"] if e["acted"] and e["namespace"] in path.lanes
             and e["namespace"] in counted]
    assert acted
    # Take away the counter of a rule the trace says acted: the cross-check must say so.
    path.rules = [r for r in path.rules if r["rule"] != acted[0]["rule"]]
    found = disagreements(path, counted)
    assert found and acted[0]["rule"] in found[0]


@pytest.mark.parametrize("name", RUNS)
def test_no_entry_of_the_trace_itself_or_of_a_table_it_made(name):
    path = rebuild(DATA / name)
    for entry in path.netfilter["rules"]:
        assert "dnlab-trace-" not in (entry["rule"] or "") and not entry["table"].startswith("dnlab-trace-")
        # as iptables-save prints it inside its table: iptables 1.8.11's "iptables -t nat " prefix cut
        assert entry["rule"] is None or entry["rule"].startswith("-A "), entry["rule"]
    # lanpc and inet have no iptables tables of their own: the trace made raw there, and shows none of it
    assert not [e for e in path.netfilter["rules"] if e["namespace"] in ("lanpc", "inet")]


def test_json_carries_the_rules():
    data = json.loads(rebuild(DATA / "trace-lanpc-publish-rules").dumps())
    assert {"flow", "traced", "untraced", "rules", "disagreements"} <= set(data["netfilter"])
    assert any(hop["rules_met"] for hop in data["hops"])
    assert all("rules_met" in hop for hop in data["hops"])


def test_a_run_without_rule_trace_says_so():
    path = rebuild(DATA / "user-bridge-egress")
    assert path.netfilter == {} and all(h.rules_met == [] for h in path.hops)
    assert path.rules_lines() == ["rules met: not traced (add --rules)"]


def test_flow_rules_match_only_the_probes_flow():
    flow = Flow("tcp", "198.51.100.11", 8080)
    text = flow.restore_lines("dnlab-trace-1-abc")
    assert text.startswith("*raw\n") and text.endswith("COMMIT\n")
    lines = text.splitlines()[1:-1]
    assert len(lines) == 4 and all(" -j TRACE" in line and "--comment dnlab-trace-1-abc" in line for line in lines)
    assert {line.split()[1] for line in lines} == {"PREROUTING", "OUTPUT"}
    assert all(line.split()[2] == "1" for line in lines)  # inserted first: before any DROP of the raw table
    assert "-d 198.51.100.11 -m tcp --dport 8080" in text and "-s 198.51.100.11 -m tcp --sport 8080" in text
    chosen = Flow("udp", "203.0.113.10", 53, sport=40000).restore_lines("x", "-D")
    assert "--dport 53 --sport 40000" in chosen and "--sport 53 --dport 40000" in chosen and " 1 " not in chosen
    assert "-p icmp -d 172.18.0.3" in Flow("ping", "172.18.0.3").restore_lines("x")


def test_leftover_rules_are_those_of_a_dead_owner_only():
    """A real `iptables-save -t raw` of lanpc: a rule of a dead trace (made the table), one of a
    live trace, and a learner's own rule."""
    text = (Path(__file__).parent / "data" / "nftrace" / "lanpc_raw_leftovers.txt").read_text()
    dead = leftover_rules(text, alive=lambda pid: pid != 999999)
    assert [(line.split()[1], made) for line, made in dead] == [("PREROUTING", True)]
    assert len(leftover_rules(text, alive=lambda pid: False)) == 2
    assert leftover_rules(text, alive=lambda pid: True) == []


def test_a_reused_trace_id_does_not_join_another_packet():
    """A real host1 trace (ch01-box -> inet, tcp): the kernel gave the third packet's FORWARD passage
    the trace id the SYN's had; the SYN's walk must not take it (it showed FORWARD twice)."""
    from helpers.path.rules import entries

    text = (Path(__file__).parent / "data" / "nftrace" / "host1_reused_trace_id.txt").read_text()
    groups = [g for g in packets(parse_monitor(text)) if face(g) == "request"]
    syn = entries("host1", groups[0], "request")
    accepts = [e for e in syn if e["hook"] == "FORWARD" and e["acted"]]
    assert len(accepts) == 1, [e["rule"] for e in accepts]
    assert {e["before"]["id"] for e in syn if e["before"]} == {groups[0][0].packet["ID"]}
    assert [e["target"] for e in syn if e["acted"]] == ["ACCEPT", "MASQUERADE"]


def test_a_ledger_is_swept_once_its_owner_is_gone_and_kills_only_its_own_monitor(tmp_path):
    """A trace's ledger (what a SIGKILL leaves): left alone while its owner holds the lock; once the
    lock is free, its monitor is killed (the pid with the recorded start time, not one that took the
    pid later) and the ledger goes."""
    import subprocess

    from helpers.observe.nftrace import _Ledger, _start_time, sweep_ledgers

    monitor = subprocess.Popen(["sleep", "60"])
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        record = {"pid": 999999, "family": 4, "namespaces": {},
                  "monitors": [[monitor.pid, _start_time(monitor.pid)], [bystander.pid, "1"]]}
        ledger = _Ledger.write(tmp_path, "abc123", record)
        assert ledger.path.name.endswith("-abc123.json") and sweep_ledgers(tmp_path) == {}
        assert ledger.path.exists() and monitor.poll() is None  # its owner lives: untouched
        os.close(ledger.handle)  # the owner dies: the kernel lets go of its lock
        assert sweep_ledgers(tmp_path) == {}
        assert monitor.wait(timeout=5) == -9 and bystander.poll() is None
        assert list(tmp_path.iterdir()) == []
    finally:
        for process in (monitor, bystander):
            process.kill()
            process.wait()


def test_a_learners_own_nft_table_is_named_as_nft_prints_it():
    """A real run (Debian 12, nft 1.0.6): lanpc to host1's published port, dropped in host1 by a
    learner's `table inet mine` (forward hook). xtables-monitor printed the table, chain, handle and
    verdict (`mine:block:rule:0x2:DROP`); the rule's text comes from the `nft -a list table` the trace
    read, by handle. The counters never saw it: no disagreement, and the hop says dropped."""
    from helpers.observe.nftrace import parse_nft_listing

    name = "trace-lanpc-native-drop-rules"
    meta = _meta(name)
    listing = meta["nftrace"]["native"]["host1"]
    (chain,) = parse_nft_listing(listing).values()
    assert chain["hook"] == "FORWARD"
    (listed,) = chain["rules"].values()
    assert f"# handle {int(next(iter(chain['rules'])), 16)}" in next(line for line in listing.splitlines()
                                                                   if line.strip().startswith(listed))
    path = rebuild(DATA / name)
    drops = [e for e in path.netfilter["rules"] if e["verdict"] == "DROP"]
    assert [(e["namespace"], e["table"], e["chain"], e["hook"], e["rule"], e["syntax"], e["leg"]) for e in drops] \
        == [("host1", "inet mine", "block", "FORWARD", listed, "nft", "request")]
    # the packet there is the DNATed one (the kernel printed it after nat PREROUTING)
    dnat = next(e for e in path.netfilter["rules"] if e["target"] == "DNAT")
    assert drops[0]["before"]["dst"] == dnat["after"]["dst"] != dnat["before"]["dst"]
    assert path.netfilter["disagreements"] == [] and not path.reached
    last = [h for h in path.hops if h.leg == "request"][-1]
    assert last.namespace == "host1" and last.action == "dropped" and listed in last.detail
    assert any(e["rule"] == listed for e in last.rules_met)
    assert f"inet mine {listed}  => DROP" in "\n".join(path.rules_lines())
    # without the listing (no nft on the machine) the rule is still placed, by handle
    bare = parse_monitor(meta["nftrace"]["texts"]["host1"])
    native = [m for p in bare for m in p.met if m.table == "mine"]
    assert native and {(m.chain, m.handle, m.verdict, m.rule) for m in native} == {("block", "0x2", "DROP", None)}


def test_nft_listing_skips_sets_and_keeps_each_chains_hook():
    from helpers.observe.nftrace import parse_nft_listing

    listing = """table inet mine { # handle 2
	set blocked { # handle 3
		type ipv4_addr
		elements = { 192.0.2.1 }
	}
	chain out { # handle 1
		type filter hook output priority filter; policy accept;
		ip daddr @blocked drop # handle 4
		tcp dport { 80, 443 } counter packets 3 bytes 180 accept # handle 5
	}
	chain helper { # handle 6
		drop # handle 7
	}
}
"""
    assert parse_nft_listing(listing) == {
        ("inet", "mine", "out"): {"hook": "OUTPUT", "rules": {"0x4": "ip daddr @blocked drop",
                                                              "0x5": "tcp dport { 80, 443 } counter accept"}},
        ("inet", "mine", "helper"): {"hook": None, "rules": {"0x7": "drop"}}}


def test_the_traces_own_table_marks_only_the_flow_just_before_the_raw_table():
    text = Flow("tcp", "198.51.100.11", 8080, sport=40000).nft_table("dnlab-trace-1-abc")
    assert text.startswith("table ip dnlab-trace-1-abc {")
    assert text.count("type filter hook prerouting priority raw - 1;") == 1
    assert text.count("type filter hook output priority raw - 1;") == 1
    rules = [line.strip() for line in text.splitlines() if "nftrace" in line]
    assert rules == 2 * ["ip daddr 198.51.100.11 tcp dport 8080 tcp sport 40000 meta nftrace set 1 "
                         'comment "dnlab-trace-1-abc"',
                         "ip saddr 198.51.100.11 tcp sport 8080 tcp dport 40000 meta nftrace set 1 "
                         'comment "dnlab-trace-1-abc"']
    assert "ip6 daddr fd00::2 meta l4proto ipv6-icmp" in Flow("ping", "fd00::2").nft_table("x")


def test_the_own_tables_marks_are_read_back_as_the_flows_and_its_policies_left_out():
    """A real run: xtables-monitor printed the trace's own table's rules as iptables would
    (`-t dnlab-trace-... -A PREROUTING -d ... -j TRACE`); each packet starts there, its face comes
    from them, and nothing of that table (its rules, its chains' policies) is an entry."""
    text = _meta("user-bridge-isolation-rules-own-table")["nftrace"]["texts"]["host1"]
    groups = packets(parse_monitor(text))
    assert groups and all(g[0].met[0].ours and g[0].met[0].table.startswith("dnlab-trace-") for g in groups)
    assert {face(g) for g in groups} == {"request"}
    from helpers.path.rules import entries

    found = entries("host1", groups[0], "request")
    assert found and not [e for e in found if e["table"].startswith("dnlab-trace-")]
    assert [e["hook"] for e in found][:1] == ["PREROUTING"]
