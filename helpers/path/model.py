"""The packet-path model: a Path is an ordered list of Hops, built from captured packets.

A hop is one capture point the packet crossed (namespace, interface, in or out), what the kernel
did there, the headers seen there and what changed since the previous hop.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# Actions, from the most to the least telling; `Hop.action` is the first that applies.
ACTIONS = ("dropped", "masquerade", "snat", "dnat", "un-nat", "proxied", "vxlan-encap", "vxlan-decap",
           "routed", "bridged", "sent", "delivered", "received")
NAT_FIELDS = ("src", "dst")


@dataclass
class Step:
    """One thing the kernel did at a hop, with the state that shows it."""

    kind: str                     # one of ACTIONS
    detail: str                   # human text: "MASQUERADE by -A POSTROUTING ... (+1 packet)"
    rule: str | None = None       # iptables rule (as iptables-save prints it)
    counter: int | None = None    # how much that rule's packet counter rose during the probe
    route: str | None = None
    fdb: str | None = None


@dataclass
class Hop:
    leg: str                      # request | reply
    segment: int                  # 0; 1 for the connection docker-proxy opens
    namespace: str
    interface: str
    direction: str                # in | out | loop | through (a bridge's copy of a forwarded frame)
    time_us: float                # since the first request hop
    src: str | None               # address, with :port where there is one
    dst: str | None
    src_mac: str | None
    dst_mac: str | None
    proto: str | None
    ttl: int | None = None
    info: str = ""                # "[S] seq 123", "echo-request seq 0"
    icmp_id: int | None = None    # an ICMP echo's identifier (what conntrack keys a ping by)
    outer: dict | None = None     # VXLAN: outer src/dst/macs/vni
    host: str | None = None       # the Docker host of a container namespace
    kind: str = "machine"         # machine | container | docker (an engine's own namespace)
    steps: list[Step] = field(default_factory=list)
    changes: dict = field(default_factory=dict)   # field -> [before, after] since the previous hop
    # The rules the kernel's trace says this packet met here (helpers/path/rules.py): hook, table,
    # chain, rule (as iptables-save prints it), verdict, the packet before and after; [] untraced.
    rules_met: list[dict] = field(default_factory=list)

    @property
    def action(self) -> str:
        kinds = [s.kind for s in self.steps]
        return next((a for a in ACTIONS if a in kinds), "received")

    @property
    def detail(self) -> str:
        return "; ".join(s.detail for s in self.steps)

    @property
    def src_ip(self) -> str | None:
        return _address(self.src)

    @property
    def dst_ip(self) -> str | None:
        return _address(self.dst)

    def to_json(self) -> dict:
        data = asdict(self)
        data["action"] = self.action
        data["detail"] = self.detail
        return data


def _address(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    if endpoint.startswith("["):
        return endpoint[1:].split("]")[0]
    return endpoint.rsplit(":", 1)[0] if endpoint.count(":") == 1 else endpoint


@dataclass
class Path:
    scenario: str
    probe: str
    kind: str
    source: str                   # namespace the probe left from
    target: str                   # the address it was sent to
    port: int | None
    expect: bool
    reached: bool                 # the probe's own verdict (its exit status)
    output: str = ""
    description: str = ""
    hops: list[Hop] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)   # namespaces in the order the packet met them
    rules: list[dict] = field(default_factory=list)  # rules whose counters rose: ns, table, chain, rule, delta
    conntrack: list[dict] = field(default_factory=list)
    proxies: list[dict] = field(default_factory=list)
    arp: list[dict] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    captured_at: list[str] = field(default_factory=list)
    # The kernel's trace of the probe's own flow (`trace(..., rules=True)`, `--rules`): the flow
    # traced, namespaces traced and not (with why), every rule met, and where trace and counters
    # disagree (helpers/path/rules.py). Empty when the probe was not rule-traced.
    netfilter: dict = field(default_factory=dict)

    @property
    def request(self) -> list[Hop]:
        return [h for h in self.hops if h.leg == "request"]

    @property
    def reply(self) -> list[Hop]:
        return [h for h in self.hops if h.leg == "reply"]

    @property
    def as_expected(self) -> bool:
        return self.reached == self.expect

    def rewrites(self) -> list[dict]:
        """Every address or port change (NAT, proxy), where it happened and what changed."""
        found = []
        for hop in self.hops:
            for name in NAT_FIELDS:
                if name in hop.changes:
                    before, after = hop.changes[name]
                    found.append({"leg": hop.leg, "namespace": hop.namespace, "interface": hop.interface,
                                  "field": name, "before": before, "after": after, "action": hop.action})
        return found

    def arp_exchanges(self) -> list[dict]:
        """Each ARP question captured around the probe: who asked, where it was heard, who answered.

        A question is broadcast, so every port of the LAN hears it; the answer is unicast back,
        from the MAC that owns the address (a macvlan container answers with its own MAC).
        """
        exchanges: dict[tuple[str, str], dict] = {}
        for seen in self.arp:
            if seen["op"] != "request":
                continue
            key = (seen["ip"], seen["asked"])
            entry = exchanges.setdefault(key, {"asker": None, "question": f"who-has {seen['asked']} tell {seen['ip']}",
                                               "heard_at": [], "answer": None, "answered_by": None})
            where = f"{seen['namespace']}/{seen['interface']}"
            if seen["direction"] == "out" and entry["asker"] is None:
                entry["asker"] = seen["namespace"]
            elif where not in entry["heard_at"]:
                entry["heard_at"].append(where)
        for seen in self.arp:
            entry = exchanges.get((seen["asked"], seen["ip"]))
            if seen["op"] == "reply" and entry is not None and entry["answer"] is None and seen["direction"] == "out":
                entry["answer"], entry["answered_by"] = f"{seen['ip']} is-at {seen['mac']}", seen["namespace"]
        return list(exchanges.values())

    def arp_lines(self) -> list[str]:
        """The ARP exchanges as short sentences (the L2 figure, its alt text and `summary`)."""
        lines = []
        for x in self.arp_exchanges():
            heard = f"heard at {len(x['heard_at'])} interface(s)"
            answer = f"{x['answered_by']} answered {x['answer']}" if x["answer"] else "no answer captured"
            lines.append(f"ARP: {x['asker'] or '?'} asked {x['question']} ({heard}); {answer}")
        return lines

    def rules_lines(self) -> list[str]:
        """The rules the probe met, namespace by namespace, as the kernel's trace reported them."""
        if not self.netfilter:
            return ["rules met: not traced (add --rules)"]
        lines = ["rules met (the kernel's trace, xtables-monitor):"]
        shown = None
        for e in self.netfilter.get("rules", []):
            if (e["namespace"], e["leg"]) != shown:
                shown = (e["namespace"], e["leg"])
                packet = e["before"] or {}
                lines.append(f"  {e['namespace']}, {e['leg']} {packet.get('src')} > {packet.get('dst')}:")
            what = e["rule"] if e["kind"] == "rule" else f"{e['chain']} {e['kind']}"
            line = f"    {e['hook'] or '?':11} {e['table']:6} {what}  => {e['verdict']}"
            after, before = e.get("after") or {}, e.get("before") or {}
            if e["acted"] and after and (after.get("src"), after.get("dst")) != (before.get("src"), before.get("dst")):
                line += f"  (then {after.get('src')} > {after.get('dst')})"
            lines.append(line)
        for name, why in self.netfilter.get("untraced", {}).items():
            if name in self.netfilter.get("traced", []):  # the trace was cut short there
                lines.append(f"  {name}: trace cut short ({why}); its rules' counters stand for the rest")
            else:
                lines.append(f"  {name}: not traced ({why}); its rules' counters stand instead")
        quiet = [n for n in self.netfilter.get("traced", []) if not any(
            e["namespace"] == n for e in self.netfilter.get("rules", []))]
        if quiet:
            lines.append(f"  no rule met in: {', '.join(quiet)}")
        for text in self.netfilter.get("disagreements", []):
            lines.append(f"  DISAGREE: {text}")
        return lines

    def where_dropped(self) -> Hop | None:
        return next((h for h in self.hops if h.action == "dropped"), None)

    def to_json(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "hops"}
        data["hops"] = [h.to_json() for h in self.hops]
        data["rewrites"] = self.rewrites()
        data["as_expected"] = self.as_expected
        return data

    def dumps(self, **kwargs) -> str:
        return json.dumps(self.to_json(), **{"indent": 2, **kwargs})

    def summary(self) -> str:
        """The same path as text: for screen readers, terminals and notebook tests."""
        verdict = "reached" if self.reached else "did not reach"
        expected = "as expected" if self.as_expected else "NOT as expected"
        port = f":{self.port}" if self.port else ""
        lines = [f"{self.scenario} {self.probe}: {self.source} {verdict} {self.target}{port} "
                 f"({self.kind}), {expected}"]
        if self.description:
            lines.append(f"  {self.description}")
        for leg in ("request", "reply"):
            hops = [h for h in self.hops if h.leg == leg]
            if not hops:
                if leg == "reply" and self.reached is False:
                    lines.append("reply: none (no packet came back)")
                continue
            lines.append(f"{leg}:")
            for n, hop in enumerate(hops, 1):
                where = f"{hop.namespace} {hop.interface} ({hop.direction})"
                lines.append(f"  {n:2}. {where:34} {hop.action:11} {hop.src} > {hop.dst}"
                             f"  [{hop.src_mac} > {hop.dst_mac}]")
                for name in ("src", "dst"):
                    if name in hop.changes:
                        before, after = hop.changes[name]
                        lines.append(f"      rewritten {name}: {before} -> {after}")
                if hop.detail:
                    lines.append(f"      {hop.detail}")
        lines += self.arp_lines()
        for entry in self.conntrack:
            lines.append(f"conntrack in {entry['namespace']}: original {entry['original']}, reply {entry['reply']}")
        for key, value in self.evidence.items():
            lines.append(f"evidence {key}: {value}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
