"""The kernel's own account of a probe (issue 19), live on the session world: `--rules` names the DNAT
rule in nat PREROUTING and the FORWARD accept of a published port, and the DROP rule between isolated
bridges; the trace leaves no TRACE rule, raw table or monitor behind, even when SIGKILLed.

Expected rules are read from the same world's iptables-save counters and docker inspect, never
written as constants.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import cli, scenarios
from helpers.observe.nftrace import MARK, sweep
from helpers.world import engine_facts
from helpers.world.proc import run
from tests.waits import until

DNLAB = str(Path(sys.executable).with_name("dnlab"))


def dnlab(capsys, world, *argv: str) -> tuple[int, dict]:
    code = cli.main(["--world", world.names.world_id, *argv, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out)


def namespaces(world) -> dict[str, str]:
    """The world's machines (where a killed trace's rules stay: containers' go with them)."""
    return {role: f"/run/netns/{world[role].namespace}" for role in world.machines}


def saved(path: str) -> str:
    """iptables-save, and the nft ruleset (where a trace's own table shows: iptables-save leaves it out)."""
    return run(["nsenter", f"--net={path}", "sh", "-c", "iptables-save; nft list ruleset 2>/dev/null"],
               check=False).stdout


def tables(world) -> dict[str, set[str]]:
    """Each machine's tables: iptables-save's `*raw`..., and nft's `table ip raw {`... (a trace's own too)."""
    return {name: {line[1:] if line.startswith("*") else line.rstrip(" {") for line in saved(path).splitlines()
                   if line.startswith(("*", "table "))}
            for name, path in namespaces(world).items()}


def trace_rules(world) -> dict[str, list[str]]:
    found = {name: [line for line in saved(path).splitlines() if MARK in line]
             for name, path in namespaces(world).items()}
    return {name: lines for name, lines in found.items() if lines}


def monitors(world) -> list[int]:
    """xtables-monitor processes in the world's machines' namespaces."""
    inodes = {os.stat(path).st_ino for path in namespaces(world).values()}
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "xtables-monitor" \
                    and os.stat(entry / "ns" / "net").st_ino in inodes:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def bridges(world):
    for name in ("default-bridge", "user-bridge"):
        scenarios.get(world, name).start()
    return world


def test_published_port_names_the_dnat_and_the_forward_accept(bridges, capsys):
    world = bridges
    before = tables(world)
    host1 = world["host1"].read_address()
    port = scenarios.get(world, "default-bridge").published_port
    code, path = dnlab(capsys, world, "trace", "lanpc", host1, "--tcp", str(port), "--rules")
    assert code == 0 and path["reached"]
    found = path["netfilter"]["rules"]
    dnat = [e for e in found if e["target"] == "DNAT" and e["namespace"] == "host1"]
    assert len(dnat) == 1 and (dnat[0]["table"], dnat[0]["hook"]) == ("nat", "PREROUTING")
    # the same rule the counters name, and the rewrite the kernel printed at the next hook
    counted = [r["rule"] for r in path["rules"] if r["target"] == "DNAT" and r["namespace"] == "host1"]
    assert counted == [dnat[0]["rule"]]
    backend = world.host1.docker.api.inspect_container("default-bridge-b")["NetworkSettings"]["Networks"]
    address = next(iter(backend.values()))["IPAddress"]
    assert dnat[0]["before"]["dst"] == f"{host1}:{port}" and dnat[0]["after"]["dst"].startswith(f"{address}:")
    forward = [e for e in found if e["namespace"] == "host1" and e["hook"] == "FORWARD" and e["acted"]]
    assert [e["verdict"] for e in forward] == ["ACCEPT"] and f"-d {address}/32" in forward[0]["rule"]
    assert path["netfilter"]["disagreements"] == [] and path["netfilter"]["untraced"] == {}
    # nothing left: no TRACE rule, no raw table made for one, no monitor
    assert trace_rules(world) == {} and tables(world) == before and monitors(world) == []


@pytest.mark.parametrize("marks", ["own table", "raw-table rules"])
def test_isolated_bridges_name_their_drop_rule(bridges, capsys, monkeypatch, marks):
    """Marked by a table of the trace's own (nft), and the way without nft: TRACE rules in iptables'
    raw table, which the trace makes where there is none and removes after."""
    world = bridges
    if marks == "raw-table rules":
        import shutil

        which = shutil.which
        monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if cmd == "nft" else which(cmd, *a, **k))
    before = tables(world)
    code, path = dnlab(capsys, world, "path", "user-bridge", "isolation", "--rules")
    assert code == 0 and not path["reached"]
    drops = [e for e in path["netfilter"]["rules"] if e["verdict"] == "DROP"]
    # Docker 28 drops it in raw PREROUTING (its rule for the target's address), earlier ones in FORWARD.
    version = world.host1.docker.version()["Version"]
    raw_first = engine_facts.fact("direct-access").on(version).since != "20.10"
    where = ("host1", "raw", "PREROUTING") if raw_first else ("host1", "filter", "FORWARD")
    assert len(drops) == 1 and (drops[0]["namespace"], drops[0]["table"], drops[0]["hook"]) == where, drops
    assert [r["rule"] for r in path["rules"] if r["target"] == "DROP"] == [drops[0]["rule"]]
    dropped = next(h for h in path["hops"] if h["action"] == "dropped")
    assert [e["rule"] for e in dropped["rules_met"] if e["verdict"] == "DROP"] == [drops[0]["rule"]]
    assert trace_rules(world) == {} and monitors(world) == [] and tables(world) == before


@pytest.fixture
def learners_table(bridges):
    """A learner's own nftables table in host1 (issue 19.5): a forward chain that drops lanpc's packets."""
    where = namespaces(bridges)["host1"]
    lanpc = bridges["lanpc"].read_address()

    def nft(*args: str) -> str:
        return run(["nsenter", f"--net={where}", "nft", *args]).stdout

    nft("add", "table", "inet", "mine")
    try:
        nft("add", "chain", "inet", "mine", "block", "{ type filter hook forward priority 0; }")
        nft("add", "rule", "inet", "mine", "block", "ip", "saddr", lanpc, "drop")
        yield nft
    finally:
        nft("delete", "table", "inet", "mine")


def test_a_learners_own_nft_table_that_drops_the_probe_is_named(bridges, learners_table, capsys):
    world = bridges
    host1 = world["host1"].read_address()
    port = scenarios.get(world, "default-bridge").published_port
    code, path = dnlab(capsys, world, "trace", "lanpc", host1, "--tcp", str(port), "--rules")
    assert code == 1 and not path["reached"]  # 1: the probe did not get through
    # the rule as nft prints it, read here on its own
    (listed,) = [line.strip() for line in learners_table("list", "chain", "inet", "mine", "block").splitlines()
                 if line.strip().endswith("drop")]
    drops = [e for e in path["netfilter"]["rules"] if e["verdict"] == "DROP"]
    assert [(e["namespace"], e["table"], e["chain"], e["hook"], e["rule"], e["syntax"]) for e in drops] == \
        [("host1", "inet mine", "block", "FORWARD", listed, "nft")], drops
    dropped = next(h for h in path["hops"] if h["action"] == "dropped")
    assert [e["rule"] for e in dropped["rules_met"] if e["verdict"] == "DROP"] == [listed]
    assert path["netfilter"]["disagreements"] == []
    # the trace left its own things nowhere, and the learner's table as it was
    assert trace_rules(world) == {} and monitors(world) == []
    assert listed in learners_table("list", "table", "inet", "mine")


def test_a_rule_xtables_monitor_cannot_print_cuts_the_trace_short_and_says_so(bridges, capsys):
    """A learner's `ip` table whose rule xtables-monitor cannot print (`ct original ...`: it exits,
    "Parsing nftables rule failed"): the path says host1's trace was cut short, still names the
    DROP (by handle, from nft's listing), and nothing of the trace is left."""
    world = bridges
    where = namespaces(world)["host1"]
    lanpc = world["lanpc"].read_address()

    def nft(*args: str) -> str:
        return run(["nsenter", f"--net={where}", "nft", *args]).stdout

    nft("add", "table", "ip", "mine")
    try:
        nft("add", "chain", "ip", "mine", "block", "{ type filter hook forward priority 0; }")
        nft("add", "rule", "ip", "mine", "block", "ct", "original", "ip", "saddr", lanpc, "drop")
        host1 = world["host1"].read_address()
        port = scenarios.get(world, "default-bridge").published_port
        code, path = dnlab(capsys, world, "trace", "lanpc", host1, "--tcp", str(port), "--rules")
        (listed,) = [line.strip() for line in nft("list", "chain", "ip", "mine", "block").splitlines()
                     if line.strip().endswith("drop")]
    finally:
        nft("delete", "table", "ip", "mine")
    assert code == 1 and not path["reached"]
    assert path["netfilter"]["untraced"]["host1"].startswith("xtables-monitor ended during the trace")
    assert [(e["table"], e["rule"]) for e in path["netfilter"]["rules"] if e["verdict"] == "DROP"] == \
        [("ip mine", listed)]
    assert trace_rules(world) == {} and monitors(world) == []


def test_a_killed_trace_leaves_no_monitor_and_its_rules_are_swept(bridges):
    """SIGKILL `dnlab trace --rules` once its TRACE rules are in: its monitors die with it
    (pdeathsig), and the rules it could not remove go at the next trace's sweep."""
    world = bridges
    before = tables(world)
    host1 = world["host1"].read_address()
    port = scenarios.get(world, "default-bridge").published_port
    process = subprocess.Popen([DNLAB, "--world", world.names.world_id, "trace", "lanpc", host1, "--tcp",
                                str(port), "--rules"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(lambda: trace_rules(world) or process.poll() is not None, timeout=30, every=0.01,
              reason="the trace's TRACE rules to be in place", seen=lambda: process.poll())
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    until(lambda: not monitors(world), timeout=10, every=0.05, reason="the killed trace's monitors to end (pdeathsig)",
          seen=lambda: monitors(world))
    # What it left (if the kill came before its own removal) names a dead owner: swept.
    sweep(namespaces(world))
    assert trace_rules(world) == {} and tables(world) == before
    # and the next trace works and leaves nothing either
    assert subprocess.run([DNLAB, "--world", world.names.world_id, "trace", "lanpc", host1, "--tcp", str(port),
                           "--rules"], capture_output=True, timeout=120).returncode == 0
    assert trace_rules(world) == {} and tables(world) == before and monitors(world) == []
