"""Pure parsers: text a tool printed -> typed observations. No I/O, so unit tests feed saved outputs.

Sources: `ip -j -d addr`, `ip -j route`, `ip -j neigh`, `bridge -j fdb`, `iptables-save -c`,
`conntrack -L -o extended`.
"""
from __future__ import annotations

import json
import re
import shlex

from helpers.observe.model import (
    Address,
    ConntrackEntry,
    FdbEntry,
    Interface,
    Neighbour,
    Route,
    Rule,
    Tuple,
)


def _json(text: str) -> list:
    text = text.strip()
    return json.loads(text) if text else []


def parse_links(text: str) -> list[Interface]:
    """`ip -j -d addr show`: interfaces with kind, MAC, master, veth peer index and addresses."""
    found = []
    for link in _json(text):
        info = link.get("linkinfo") or {}
        data = info.get("info_data") or {}
        found.append(Interface(
            ifindex=link["ifindex"],
            name=link["ifname"],
            mac=link.get("address", ""),
            kind=info.get("info_kind") or ("loopback" if link.get("link_type") == "loopback" else ""),
            mtu=link.get("mtu", 0),
            up="UP" in link.get("flags", []),
            master=link.get("master"),
            peer_ifindex=link.get("link_index"),
            peer_netnsid=link.get("link_netnsid"),
            addresses=[Address(a["local"], a["prefixlen"], a.get("family", "inet"), a.get("scope", "global"))
                       for a in link.get("addr_info", []) if "local" in a],
            vxlan_id=data.get("id") if info.get("info_kind") == "vxlan" else None,
        ))
    return found


def parse_routes(text: str, table: str | None = None) -> list[Route]:
    """`ip -j route show [table all]`."""
    return [Route(dst=r["dst"], dev=r.get("dev"), gateway=r.get("gateway"), prefsrc=r.get("prefsrc"),
                  protocol=r.get("protocol"), scope=r.get("scope"), table=r.get("table", table),
                  type=r.get("type", "unicast"))
            for r in _json(text)]


def parse_neighbours(text: str) -> list[Neighbour]:
    """`ip -j neigh`."""
    return [Neighbour(ip=n["dst"], dev=n.get("dev", ""), mac=n.get("lladdr"),
                      state=",".join(n.get("state", [])))
            for n in _json(text)]


def parse_fdb(text: str) -> list[FdbEntry]:
    """`bridge -j fdb`: entries of each bridge (`master`), skipping devices' own multicast lists."""
    entries = []
    for e in _json(text):
        flags = e.get("flags", [])
        bridge = e.get("master")
        if bridge is None and "self" in flags and not e.get("dst"):
            continue  # a device's own address list (multicast), not a forwarding decision
        state = e.get("state", "")
        entries.append(FdbEntry(mac=e["mac"], port=e.get("ifname", ""), bridge=bridge, state=state,
                                local=state == "permanent" and bridge is not None,
                                vlan=e.get("vlan"), dst=e.get("dst")))
    return entries


_POLICY = re.compile(r"^:(\S+)\s+(ACCEPT|DROP|REJECT)\s+\[(\d+):(\d+)\]")
# `iptables-save -c` prefixes each rule with [packets:bytes]; plain `iptables-save` does not.
_COUNTER = re.compile(r"^(?:\[(\d+):(\d+)\]\s+)?-A\s+(\S+)\s+(.*)$")
_OPTIONS = {"-s": "src", "-d": "dst", "-i": "in_if", "-o": "out_if", "-p": "proto",
            "--dport": "dport", "--to-destination": "to", "--to-source": "to"}


def parse_iptables_save(text: str) -> list[Rule]:
    """`iptables-save -c [-t TABLE]`: every rule with its packet/byte counters (0 when the text
    has none: plain `iptables-save`)."""
    rules: list[Rule] = []
    table = ""
    per_chain: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        policy = _POLICY.match(line)
        if policy:  # a built-in chain's policy counts what fell off its end (e.g. FORWARD DROP)
            chain, target, packets, nbytes = policy.groups()
            rules.append(Rule(table=table, chain=chain, spec=f"policy {target}", target=target,
                              packets=int(packets), bytes=int(nbytes), index=0))
            continue
        match = _COUNTER.match(line)
        if not match:
            continue
        packets, nbytes, chain, spec = match.groups()
        rule = Rule(table=table, chain=chain, spec=spec, packets=int(packets or 0), bytes=int(nbytes or 0))
        words = shlex.split(spec)
        negated: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            negate = word == "!"
            if negate:
                i += 1
                word = words[i] if i < len(words) else ""
            if word == "-j" and i + 1 < len(words):
                rule.target = words[i + 1]
                i += 2
                continue
            field = _OPTIONS.get(word)
            if field and i + 1 < len(words):
                setattr(rule, field, words[i + 1])
                if negate:
                    negated.append(field)
                i += 2
                continue
            i += 1
        rule.negated = tuple(negated)
        per_chain[(table, chain)] = per_chain.get((table, chain), 0) + 1
        rule.index = per_chain[(table, chain)]
        rules.append(rule)
    return rules


_KV = re.compile(r"(\w+)=(\S+)")


def _tuple(pairs: list[tuple[str, str]]) -> Tuple:
    values = dict(pairs)
    def num(key):
        return int(values[key]) if key in values else None
    return Tuple(src=values.get("src", ""), dst=values.get("dst", ""), sport=num("sport"),
                 dport=num("dport"), icmp_id=num("id"))


def parse_conntrack(text: str) -> list[ConntrackEntry]:
    """`conntrack -L -o extended`: original and reply tuples of every tracked flow."""
    entries = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 5 or words[0] not in ("ipv4", "ipv6"):
            continue
        proto = words[2]
        state = words[5] if len(words) > 5 and words[5].isupper() and "=" not in words[5] else None
        flags = tuple(w.strip("[]") for w in words if w.startswith("[") and w.endswith("]"))
        pairs = _KV.findall(line)
        # The second `src=` starts the reply tuple.
        starts = [i for i, (k, _) in enumerate(pairs) if k == "src"]
        if len(starts) < 2:
            continue
        original, reply = pairs[starts[0]:starts[1]], pairs[starts[1]:]
        reply = [p for p in reply if p[0] in ("src", "dst", "sport", "dport", "id")]
        zone = next((int(v) for k, v in pairs if k == "zone"), None)
        entries.append(ConntrackEntry(proto=proto, original=_tuple(original), reply=_tuple(reply),
                                      state=state, flags=flags, zone=zone))
    return entries


def peer_pairs(host_ifaces: list[Interface], other_ifaces: list[Interface]) -> list[tuple[Interface, Interface]]:
    """veth pairs between two namespaces: each side's link_index is the other side's ifindex."""
    pairs = []
    for mine in host_ifaces:
        if mine.kind != "veth" or mine.peer_ifindex is None:
            continue
        for theirs in other_ifaces:
            if theirs.kind == "veth" and theirs.ifindex == mine.peer_ifindex and theirs.peer_ifindex == mine.ifindex:
                pairs.append((mine, theirs))
    return pairs
