"""The rules a probe met, from the kernel's trace (`helpers.observe.nftrace`), laid onto its Path.

Pure: `attach(path, run)` takes what the monitors printed in each namespace (live, or from a saved
run) and fills `path.netfilter` and each hop's `rules_met`. Only the probe's own packets count: for
TCP and UDP those whose ports are the probe's (as captured at its hops); for a ping, the first
echo request and reply of the flow in each namespace (xtables-monitor prints no ICMP id).

In each namespace the first packet of each leg is kept (the SYN and the SYN-ACK; the echo request
and reply): the packet the hops are built from. Each rule it met carries the hook it was met in
(the base chain: PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING), its table and chain, the rule as
iptables-save prints it (a learner's own nftables table: "inet mine", the rule as nft prints it,
`syntax` "nft"), the verdict, and the packet there (`before`) and at its next hook
(`after`: where a NAT rule's rewrite shows; None after the last hook of the namespace).

`disagreements(path)` is the cross-check with the counters: a rule the trace says acted (its
verdict ended the walk: ACCEPT, DROP, a NAT target) in a namespace whose counters were read, whose
counter did not rise.
"""
from __future__ import annotations

from helpers.observe.nftrace import Flow, Passage, face, packets, parse_monitor
from helpers.path.model import Hop, Path, Step

IN_HOOKS = ("PREROUTING", "INPUT")


def _endpoint(address: str | None, port: str | None) -> str | None:
    if address is None:
        return None
    return f"{address}:{port}" if port else address


def packet_tuple(passage: Passage | None) -> dict | None:
    """The packet as the kernel printed it at one hook: in/out interfaces, src, dst (with ports)."""
    if passage is None or not passage.packet:
        return None
    p = passage.packet
    return {"in": p.get("IN"), "out": p.get("OUT"), "src": _endpoint(p.get("SRC"), p.get("SPORT")),
            "dst": _endpoint(p.get("DST"), p.get("DPORT")), "id": p.get("ID"), "flags": p.get("FLAGS", [])}


def _ports_of(path: Path, leg: str, field: str) -> set[str]:
    found = set()
    for hop in path.hops:
        value = getattr(hop, field) if hop.leg == leg else None
        if value and ":" in value and not value.endswith("]"):
            found.add(value.rsplit(":", 1)[1])
    return found


def _ours(group: list[Passage], leg: str, ports: set[str]) -> bool:
    """The group is a packet of the probe's own flow: its client port is one the probe used."""
    first = group[0].packet
    if not ports or not first:
        return True
    port = first.get("SPORT") if leg == "request" else first.get("DPORT")
    return port is None or port in ports


def entries(namespace: str, group: list[Passage], leg: str) -> list[dict]:
    """Every rule, chain end and policy one packet met in one namespace, with its tuples."""
    found = []
    # A raw table the trace made for its rule (comment ending "-new") is no part of the namespace.
    made = bool(group[0].met) and bool(group[0].met[0].rule) and "-new " in f"{group[0].met[0].rule} "
    for i, passage in enumerate(group):
        before = packet_tuple(passage)
        after = packet_tuple(group[i + 1]) if i + 1 < len(group) else None
        for met in passage.met:
            if met.ours or (made and met.table == "raw"):
                continue  # the dnlab TRACE rule itself, and the raw table made for it
            rule = met.rule
            if rule is None and met.kind == "rule":  # a native table's, not listed (no nft on the machine)
                rule = f"(rule handle {met.handle} of nft table {met.table})"
            found.append({"namespace": namespace, "leg": leg, "hook": passage.hook, "table": met.table,
                          "chain": met.chain, "kind": met.kind, "rule": rule, "verdict": met.verdict,
                          "target": met.target, "acted": met.acted, "syntax": met.syntax,
                          "before": before, "after": after})
    return found


def _hop_for(hops: list[Hop], entry: dict) -> Hop | None:
    """The hop a rule belongs to: where the packet entered (PREROUTING, INPUT) or left (FORWARD,
    OUTPUT, POSTROUTING) the namespace, by the interface the kernel printed."""
    here = [h for h in hops if h.namespace == entry["namespace"] and h.leg == entry["leg"] and h.segment == 0]
    if not here:
        return None
    packet = entry["before"] or {}
    if entry["hook"] in IN_HOOKS:
        wanted, direction, fallback = packet.get("in"), "in", here[0]
    else:
        wanted, direction, fallback = packet.get("out"), "out", here[-1]
    return next((h for h in here if h.interface == wanted and h.direction in (direction, "loop")), fallback)


def attach(path: Path, run: dict) -> None:
    """Fill `path.netfilter` and the hops' `rules_met` from a trace run: {"flow": {...}, "texts":
    {namespace: monitor output}, "untraced": {namespace: why}, "swept": {namespace: n}}."""
    flow = Flow(**run["flow"]) if run.get("flow") else None
    texts: dict[str, str] = run.get("texts", {})
    native: dict[str, str] = run.get("native", {})
    rules: list[dict] = []
    ports = {"request": _ports_of(path, "request", "src"), "reply": _ports_of(path, "reply", "dst")}
    if flow is not None and flow.kind == "ping":
        ports = {"request": set(), "reply": set()}
    for namespace, text in texts.items():
        seen: set[str] = set()
        for group in packets(parse_monitor(text, native.get(namespace))):
            leg = face(group)
            if leg is None or leg in seen or not _ours(group, leg, ports[leg]):
                continue
            seen.add(leg)
            rules += entries(namespace, group, leg)
    for entry in rules:
        hop = _hop_for(path.hops, entry)
        if hop is not None:
            hop.rules_met.append(entry)
        _dropped_by(path.hops, entry)
    path.netfilter = {"flow": run.get("flow"), "traced": sorted(texts), "untraced": run.get("untraced", {}),
                      "swept": run.get("swept", {}), "rules": rules}
    path.netfilter["disagreements"] = disagreements(path, run.get("counted", sorted(texts)))


def _dropped_by(hops: list[Hop], entry: dict) -> None:
    """The kernel's trace says this rule dropped the probe where its leg was last seen: the hop says
    so, where the counters could not (a native nftables table's rule, whose counter no one read)."""
    if not entry["acted"] or entry["verdict"].split(":")[0] not in ("DROP", "REJECT"):
        return
    leg = [h for h in hops if h.leg == entry["leg"] and h.segment == 0]
    if not leg or leg[-1].namespace != entry["namespace"] or leg[-1].action == "dropped":
        return
    last = leg[-1]
    last.steps = [s for s in last.steps if s.kind not in ("delivered", "received")]
    last.steps.append(Step("dropped", f"dropped by `{entry['rule']}` ({entry['table']} {entry['chain']}, "
                                      f"{entry['hook']}): the kernel's trace", rule=entry["rule"]))


def disagreements(path: Path, counted: list[str]) -> list[str]:
    """Rules the trace says acted on the probe whose counter did not rise, in namespaces whose
    counters were read (`counted`) and the packet crossed: the two accounts disagree."""
    rose = {(r["namespace"], r["table"], r["rule"]) for r in path.rules}
    found = []
    for entry in path.netfilter.get("rules", []):
        where = entry["namespace"]
        if not entry["acted"] or where not in counted or where not in path.lanes \
                or entry.get("syntax", "iptables") != "iptables":  # a native table's: no counter read
            continue
        if (where, entry["table"], entry["rule"]) not in rose:
            found.append(f"{where}: the trace says `{entry['rule']}` ({entry['table']}) gave {entry['verdict']} "
                         "but its counter did not rise")
    return found


__all__ = ["attach", "disagreements", "entries", "packet_tuple"]
