"""From captures and snapshots to a Path: a pure function, so saved runs rebuild in unit tests.

1. Each captured frame gets a direction at its interface (in, out, loop, or "through" for a
   bridge's copy of a frame it forwards), from the interface's own MAC and its veth peer's.
2. The probe's first packet is the earliest one leaving the source namespace towards the target.
   Its fingerprint (IP ID, TCP sequence numbers, ICMP sequence, payload: what NAT leaves alone)
   finds the same packet at every other interface, however its addresses were rewritten.
3. The reply is the first packet answering it where the request ended; it is followed the same way.
4. Where the request ended in a namespace with a docker-proxy for its port, the proxy's own
   connection to the container is found and followed too (segment 1).
5. Each hop is explained from observed state: FDB entries, routes, and the iptables rules whose
   counters rose during the probe. `explain` gives each hop a `HopContext` and runs one step
   function per kind of step, in order: `send_steps`, `vxlan_steps`, `bridge_steps`,
   `route_steps` (NAT and its undoing included), `deliver_steps`.

The probe's port is its spec's (`Observed.port`, from `ProbeSpec.port`); a probe without one
matches any port.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from helpers.capture.decode import Frame
from helpers.observe.collect import Proxy, WorldState
from helpers.observe.model import Interface, NamespaceState, Route, Rule
from helpers.observe.parse import peer_pairs
from helpers.path.model import Hop, Path, Step

BROADCAST = "ff:ff:ff:ff:ff:ff"


@dataclass
class Observed:
    """Everything a trace observed; `build_path` turns it into a Path."""

    scenario: str
    probe: str
    kind: str
    port: int | None
    expect: bool
    description: str
    source: str                    # namespace name of the probe's source
    target: str                    # address the probe was sent to
    reached: bool
    output: str
    before: WorldState
    after: WorldState
    frames: dict[tuple[str, str], list[Frame]]
    proxies: dict[str, list[Proxy]] = field(default_factory=dict)


@dataclass
class _Seen:
    namespace: str
    interface: str
    direction: str
    frame: Frame


# --- 1. directions -------------------------------------------------------------------------------

def peer_macs(state: WorldState) -> dict[tuple[str, str], str]:
    """(namespace, interface) -> MAC of its veth peer, across every pair of namespaces read."""
    found = {}
    names = list(state.namespaces)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for left, right in peer_pairs(state[a].interfaces, state[b].interfaces):
                found[(a, left.name)] = right.mac
                found[(b, right.name)] = left.mac
    return found


def direction(frame: Frame, ns: NamespaceState, ifname: str, peer_mac: str | None) -> str:
    iface = ns.interface(ifname)
    if iface is None:
        return "in"
    if iface.kind == "loopback":
        return "loop"
    src, dst = frame.src_mac, frame.dst_mac
    if src == iface.mac:
        return "out"
    if iface.is_bridge:
        if dst == iface.mac or _group(dst):
            return "in"
        return "through"  # forwarded between two ports; a promiscuous bridge shows a copy
    if peer_mac is not None and src == peer_mac:
        return "in"
    if iface.master:  # a bridge port passes frames of others both ways
        learned = next((e for e in ns.fdb if e.mac == src and e.bridge == iface.master), None)
        return "in" if learned is not None and learned.port == ifname else "out"
    if dst == iface.mac or _group(dst):
        return "in"
    return "other"  # a frame for another host that this interface happened to see


def _group(mac: str | None) -> bool:
    return mac is not None and (mac == BROADCAST or int(mac.split(":")[0], 16) & 1 == 1)


def all_seen(obs: Observed) -> list[_Seen]:
    peers = peer_macs(obs.before)
    seen = []
    for (ns_name, ifname), frames in obs.frames.items():
        ns = obs.before.namespaces.get(ns_name)
        if ns is None:
            continue
        after = obs.after.namespaces.get(ns_name)
        if after is not None and after.fdb:
            # A MAC first heard during the probe (say a container's first reply) is learned only
            # in the snapshot after it: that one is asked first, the one before for aged entries.
            ns = replace(ns, fdb=[*after.fdb, *ns.fdb])
        for frame in frames:
            way = direction(frame, ns, ifname, peers.get((ns_name, ifname)))
            if way != "other":
                seen.append(_Seen(ns_name, ifname, way, frame))
    seen.sort(key=lambda s: s.frame.time_ns)
    return seen


# --- 2-4. following packets ----------------------------------------------------------------------

def _is_request(frame: Frame, kind: str, target: str | None, port: int | None) -> bool:
    f = frame.innermost
    if not f.is_ip or (target is not None and f.dst != target):
        return False
    if kind == "ping":
        return f.proto in ("icmp", "icmp6") and f.icmp_type in (8, 128)
    if kind in ("tcp", "http"):
        return f.proto == "tcp" and f.tcp_flags == "S" and (port is None or f.dport == port)
    return f.proto == "udp" and (port is None or f.dport == port)


def _answers(request: Frame, frame: Frame) -> bool:
    q, r = request.innermost, frame.innermost
    if not r.is_ip or r.src != q.dst or r.dst != q.src:
        return False
    if q.proto == "tcp":
        return (r.proto == "tcp" and r.sport == q.dport and r.dport == q.sport
                and "A" in (r.tcp_flags or "") and r.tcp_ack == ((q.tcp_seq or 0) + 1) % 2**32)
    if q.proto in ("icmp", "icmp6"):
        return r.proto == q.proto and (r.icmp_seq == q.icmp_seq or r.icmp_type in (3, 11))
    if q.proto == "udp" and r.proto == "icmp" and r.icmp_type == 3:
        return True  # "port unreachable": the datagram arrived and no socket took it
    return r.proto == q.proto and r.sport == q.dport and r.dport == q.sport


def follow(seen: list[_Seen], first: _Seen, obs: Observed | None = None) -> list[_Seen]:
    """Every sighting of the packet `first` (same fingerprint), once per interface and direction."""
    print_ = first.frame.fingerprint()
    hops, keys = [], set()
    for s in seen:
        if s.frame.time_ns < first.frame.time_ns or s.frame.fingerprint() != print_:
            continue
        key = (s.namespace, s.interface, s.direction)
        if key not in keys:
            keys.add(key)
            hops.append(s)
    if obs is not None:
        hops = _walk(hops, obs)
    return _place_bridge_copies(hops)


def _walk(hops: list[_Seen], obs: Observed) -> list[_Seen]:
    """Order sightings along the wire. Timestamps order them, but the kernel stamps a received
    skb once, so a port and its bridge (or two ends of a veth) can share one timestamp: among
    equal times, the sighting adjacent to the previous one comes next."""
    if len(hops) < 3:
        return hops
    peers = peer_macs(obs.before)
    remaining = list(hops[1:])
    ordered = [hops[0]]
    while remaining:
        t = min(h.frame.time_ns for h in remaining)
        tied = [h for h in remaining if h.frame.time_ns == t]
        choice = tied[0]
        if len(tied) > 1:
            scored = sorted(tied, key=lambda h: _adjacency(ordered[-1], h, obs, peers))
            choice = scored[0]
        ordered.append(choice)
        remaining.remove(choice)
    return ordered


def _adjacency(cur: _Seen, cand: _Seen, obs: Observed, peers) -> int:
    """0 for the sighting that directly follows `cur` on the wire, larger for less likely ones."""
    ns = obs.before.namespaces.get(cand.namespace)
    c_if = ns.interface(cand.interface) if ns else None
    cur_ns = obs.before.namespaces.get(cur.namespace)
    cur_if = cur_ns.interface(cur.interface) if cur_ns else None
    if c_if is None or cur_if is None:
        return 9
    if cur.namespace != cand.namespace:
        # out of one end of a veth, into the other
        return 0 if (cur.direction == "out" and cand.direction == "in"
                     and peers.get((cand.namespace, cand.interface)) == cur_if.mac) else 5
    if cur.direction == "in" and cur_if.master:
        if cand.direction == "in" and c_if.name == cur_if.master:
            return 0  # port -> its bridge (to the host)
        if cand.direction in ("out", "through") and c_if.master == cur_if.master:
            return 1  # port -> another port of the same bridge
    if cur.direction == "out" and cur_if.is_bridge and cand.direction == "out" and c_if.master == cur_if.name:
        return 0      # bridge -> its port
    if cur.direction == "in" and cand.direction == "out":
        return 2      # routed
    return 4


def _place_bridge_copies(hops: list[_Seen]) -> list[_Seen]:
    """A bridge's copy of a frame it forwarded is stamped after the egress port: put it right
    after the port the frame came in by, where the forwarding decision was taken."""
    copies = [h for h in hops if h.direction == "through"]
    if not copies:
        return hops
    ordered = [h for h in hops if h.direction != "through"]
    for copy in copies:
        index = next((i for i, h in enumerate(ordered) if h.namespace == copy.namespace
                      and h.direction == "in" and h.interface != copy.interface), None)
        ordered.insert(index + 1 if index is not None else len(ordered), copy)
    return ordered


def _first_from(seen: list[_Seen], namespace: str, match, after_ns: int = 0) -> _Seen | None:
    for s in seen:
        if (s.namespace == namespace and s.direction in ("out", "loop") and s.frame.time_ns >= after_ns
                and match(s.frame)):
            return s
    return None


def _first_anywhere(seen: list[_Seen], match, after_ns: int) -> _Seen | None:
    return next((s for s in seen if s.frame.time_ns >= after_ns and s.direction in ("out", "loop")
                 and match(s.frame)), None)


# --- 5. explaining hops --------------------------------------------------------------------------

def lookup_route(routes: list[Route], address: str) -> Route | None:
    """Longest-prefix match, as the kernel's main table would choose."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    best = None
    for route in routes:
        if route.type not in ("unicast", None):
            continue
        try:
            network = route.network()
        except ValueError:
            continue
        if network.version == ip.version and ip in network and (
                best is None or network.prefixlen > best.network().prefixlen):
            best = route
    return best


def _route_text(ns: NamespaceState, address: str | None) -> str | None:
    if not address:
        return None
    if ns.owns_ip(address) or address.startswith("127.") or address == "::1":
        return f"local {address} (table local: the packet never leaves {ns.name})"
    route = lookup_route(ns.routes, address)
    return str(route) if route else None


def rule_deltas(before: NamespaceState | None, after: NamespaceState | None) -> list[tuple[Rule, int]]:
    """Rules whose packet counter rose between the two snapshots."""
    if before is None or after is None:
        return []
    old = {r.key: r.packets for r in before.rules}
    return [(r, r.packets - old.get(r.key, 0)) for r in after.rules if r.packets > old.get(r.key, 0)]


def _in_net(address: str | None, cidr: str | None) -> bool:
    if cidr is None:
        return True
    if address is None:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _matches(rule: Rule, field_: str, ok: bool) -> bool:
    return (not ok) if field_ in rule.negated else ok


def _snat_rule(deltas, out_if: str, old_src: str) -> tuple[Rule, int] | None:
    for rule, delta in deltas:
        if rule.target not in ("MASQUERADE", "SNAT"):
            continue
        if rule.src and not _matches(rule, "src", _in_net(old_src, rule.src)):
            continue
        if rule.out_if and not _matches(rule, "out_if", rule.out_if == out_if):
            continue
        return rule, delta
    return None


def _dnat_rule(deltas, new_dst: str) -> tuple[Rule, int] | None:
    for rule, delta in deltas:
        if rule.target == "DNAT" and rule.to and (rule.to == new_dst or rule.to.split(":")[0] == new_dst.split(":")[0]):
            return rule, delta
    return None


def _drop_rule(deltas) -> tuple[Rule, int] | None:
    for rule, delta in deltas:
        # raw too: Docker 28 drops a packet for a container's address that comes in off its bridge in
        # raw PREROUTING, before the filter table's isolation chains ever see it.
        if rule.table in ("raw", "filter") and rule.target in ("DROP", "REJECT"):
            return rule, delta
    return None


def _fdb_text(ns: NamespaceState, bridge: str, mac: str | None) -> str:
    own = ns.interface(bridge)
    if own is not None and own.mac == mac:
        return f"{bridge} FDB: {mac} is the bridge's own MAC: up to {ns.name}'s IP stack"
    if _group(mac):
        return f"{bridge}: {mac} is a broadcast/multicast address: flooded to every port"
    entry = next((e for e in ns.fdb if e.bridge == bridge and e.mac == mac), None)
    if entry is None:
        return f"{bridge} FDB has no entry for {mac}: flooded to every port"
    how = "the bridge's own MAC: up to the host" if entry.local and entry.port == bridge else \
        ("permanent" if entry.local else "learned")
    return f"{bridge} FDB: {mac} -> port {entry.port} ({how})"


def _hop(s: _Seen, leg: str, segment: int, t0: int, obs: Observed) -> Hop:
    f = s.frame
    inner = f.innermost
    ns = obs.before.namespaces.get(s.namespace)
    outer = None
    if f.inner is not None:
        outer = {"src": f.endpoint("src"), "dst": f.endpoint("dst"), "src_mac": f.src_mac,
                 "dst_mac": f.dst_mac, "vni": f.vni, "ttl": f.ttl}
    if inner.proto == "tcp":
        info = f"[{inner.tcp_flags}] seq {inner.tcp_seq}"
    elif inner.icmp_type is not None:
        info = {8: "echo-request", 0: "echo-reply", 128: "echo-request", 129: "echo-reply"}.get(
            inner.icmp_type, f"icmp type {inner.icmp_type}") + f" seq {inner.icmp_seq}"
    else:
        info = ""
    return Hop(leg=leg, segment=segment, namespace=s.namespace, interface=s.interface, direction=s.direction,
               time_us=round((f.time_ns - t0) / 1000, 1), src=inner.endpoint("src"), dst=inner.endpoint("dst"),
               src_mac=inner.src_mac, dst_mac=inner.dst_mac, proto=inner.proto, ttl=inner.ttl, info=info,
               icmp_id=inner.icmp_id if inner.icmp_type in (0, 8, 128, 129) else None,
               outer=outer, host=ns.host if ns else None, kind=ns.kind if ns else "machine")


def _changes(prev: Hop | None, hop: Hop) -> dict:
    if prev is None:
        return {}
    changed = {}
    for name in ("src", "dst", "src_mac", "dst_mac", "ttl"):
        a, b = getattr(prev, name), getattr(hop, name)
        if a != b:
            changed[name] = [a, b]
    if (prev.outer is None) != (hop.outer is None):
        changed["outer"] = [prev.outer, hop.outer]
    return changed


@dataclass
class HopContext:
    """One hop with what its explanation reads: its neighbours on the same leg and the state of
    its namespace (the snapshot after the probe, where learned MACs and risen counters are)."""

    hop: Hop
    prev: Hop | None              # the hop before it on the same leg
    nxt: Hop | None               # the hop after it on the same leg
    ns: NamespaceState
    iface: Interface | None
    deltas: list[tuple[Rule, int]]
    proxies_used: dict[int, Proxy]

    @property
    def same_prev(self) -> bool:
        """The previous hop is in the same namespace and segment: this hop is its way out."""
        prev = self.prev
        return prev is not None and prev.namespace == self.hop.namespace and prev.segment == self.hop.segment

    @property
    def same_next(self) -> bool:
        nxt = self.nxt
        return nxt is not None and nxt.namespace == self.hop.namespace and nxt.segment == self.hop.segment

    @property
    def end_of_segment(self) -> bool:
        return self.nxt is None or self.nxt.segment != self.hop.segment

    @property
    def wire_dst(self) -> str | None:
        """A bridge forwards on the MACs on the wire: the outer ones of a VXLAN packet."""
        return self.hop.outer["dst_mac"] if self.hop.outer else self.hop.dst_mac

    @property
    def bridge(self) -> str | None:
        """The bridge this hop's interface is, or is a port of."""
        if self.iface is None:
            return None
        return self.iface.name if self.iface.is_bridge else self.iface.master


def leg_neighbours(hops: list[Hop], i: int) -> tuple[Hop | None, Hop | None]:
    """The hops just before and after hops[i] on the same leg (None at either end of the leg)."""
    hop = hops[i]
    prev = hops[i - 1] if i > 0 and hops[i - 1].leg == hop.leg else None
    nxt = hops[i + 1] if i + 1 < len(hops) and hops[i + 1].leg == hop.leg else None
    return prev, nxt


def hop_context(hops: list[Hop], i: int, obs: Observed, proxies_used: dict[int, Proxy]) -> HopContext | None:
    """The context of hops[i]; None where its namespace was not read (nothing can explain it)."""
    hop = hops[i]
    before = obs.before.namespaces.get(hop.namespace)
    after = obs.after.namespaces.get(hop.namespace) or before
    if after is None:
        return None
    prev, nxt = leg_neighbours(hops, i)
    # An interface made or removed during the probe is in one snapshot only.
    iface = after.interface(hop.interface) or (before.interface(hop.interface) if before else None)
    return HopContext(hop, prev, nxt, after, iface, rule_deltas(before, after), proxies_used)


def send_steps(ctx: HopContext) -> list[Step]:
    """Where a leg starts (sent, with the route chosen) or docker-proxy opens its own connection."""
    hop, prev = ctx.hop, ctx.prev
    if prev is None:
        route = _route_text(ctx.ns, hop.dst_ip)
        return [Step("sent", f"sent by {hop.namespace}" + (f", route {route}" if route else ""), route=route)]
    proxy = ctx.proxies_used.get(hop.segment)
    if prev.segment != hop.segment and hop.leg == "request" and proxy is not None:
        return [Step("proxied", f"docker-proxy (pid {proxy.pid}) accepted on :{proxy.host_port} and "
                     f"opened its own connection to {proxy.container_ip}:{proxy.container_port}")]
    return []


def vxlan_steps(ctx: HopContext) -> list[Step]:
    """An outer header appears (encapsulated) or disappears (decapsulated) since the previous hop."""
    hop, prev = ctx.hop, ctx.prev
    if prev is None:
        return []
    if hop.outer is not None and prev.outer is None:
        return [Step("vxlan-encap", f"VXLAN encapsulated: VNI {hop.outer['vni']}, outer "
                     f"{hop.outer['src']} > {hop.outer['dst']}")]
    if hop.outer is None and prev.outer is not None:
        return [Step("vxlan-decap", f"VXLAN decapsulated (VNI {prev.outer['vni']})")]
    return []


def bridge_steps(ctx: HopContext) -> list[Step]:
    """A bridge at work: taking a frame up to the host, choosing a port by its FDB, or sending it
    out of a port; explained by the FDB entry (or its absence) for the MAC on the wire."""
    hop, iface, bridge = ctx.hop, ctx.iface, ctx.bridge
    if iface is None or not bridge:
        return []
    steps = []
    if iface.is_bridge and hop.direction == "in":
        steps.append(Step("received", f"{hop.interface} takes the frame up to {hop.namespace}'s IP stack "
                          f"(its own MAC {ctx.wire_dst})"))
    elif hop.direction == "through" or (hop.direction == "in" and ctx.same_next):
        fdb = _fdb_text(ctx.ns, bridge, ctx.wire_dst)
        steps.append(Step("bridged", fdb, fdb=fdb))
    if iface.master and hop.direction == "out" and ctx.same_prev:
        fdb = _fdb_text(ctx.ns, iface.master, ctx.wire_dst)
        steps.append(Step("bridged", f"out of {iface.master} port {hop.interface}, " + fdb.split(": ", 1)[-1],
                          fdb=fdb))
    return steps


def _routed_here(ctx: HopContext) -> bool:
    """In by one interface, out by another of the same namespace, and not across one bridge
    (in by a bridge or one of its ports, out by another of its ports: that is bridging)."""
    hop, prev, iface = ctx.hop, ctx.prev, ctx.iface
    if hop.direction != "out" or not ctx.same_prev or prev.direction != "in":
        return False
    if iface is None or not iface.master:
        return True
    came_in = ctx.ns.interface(prev.interface)
    return prev.interface != iface.master and not (came_in is not None and came_in.master == iface.master)


def route_steps(ctx: HopContext) -> list[Step]:
    """Routing, and the NAT done on the way: DNAT and SNAT/MASQUERADE with the rule whose counter
    rose; on a reply, conntrack undoing the connection's NAT (no rule is consulted)."""
    if not _routed_here(ctx):
        return []
    hop = ctx.hop
    steps = _unnat_steps(ctx) if hop.leg == "reply" else _nat_steps(ctx)
    route = lookup_route(ctx.ns.routes, hop.dst_ip or "")
    steps.append(Step("routed", f"routed out of {hop.interface}" + (f" by route {route}" if route else ""),
                      route=str(route) if route else None))
    return steps


def _unnat_steps(ctx: HopContext) -> list[Step]:
    hop, prev = ctx.hop, ctx.prev
    return [Step("un-nat", f"conntrack reverses the connection's NAT on the reply: "
                 f"{name} {getattr(prev, name)} -> {getattr(hop, name)} (no rule consulted)")
            for name in ("src", "dst") if getattr(prev, name) != getattr(hop, name)]


def _nat_steps(ctx: HopContext) -> list[Step]:
    hop, prev = ctx.hop, ctx.prev
    steps = []
    if prev.dst != hop.dst:
        rule, delta = _dnat_rule(ctx.deltas, hop.dst or "") or (None, None)
        steps.append(Step("dnat", f"DNAT {prev.dst} -> {hop.dst}" + (f" by {rule} (+{delta})" if rule else ""),
                          rule=str(rule) if rule else None, counter=delta))
    if prev.src != hop.src:
        rule, delta = _snat_rule(ctx.deltas, hop.interface, prev.src_ip or "") or (None, None)
        masquerade = rule is not None and rule.target == "MASQUERADE"
        text = (f"{'MASQUERADE' if masquerade else 'source NAT'} {prev.src} -> {hop.src}"
                + (f" by {rule} (+{delta})" if rule else ""))
        steps.append(Step("masquerade" if masquerade else "snat", text, rule=str(rule) if rule else None,
                          counter=delta))
    return steps


def deliver_steps(ctx: HopContext) -> list[Step]:
    """The end of a segment: delivered to a local socket (docker-proxy's, where it relays), or
    dropped, by the filter rule whose counter rose, or with no rule to blame."""
    hop = ctx.hop
    if not ctx.end_of_segment or hop.direction not in ("in", "loop", "through"):
        return []
    if ctx.ns.owns_ip(hop.dst_ip or "") or (hop.dst_ip or "").startswith("127."):
        proxy = ctx.proxies_used.get(hop.segment + 1)
        text = f"delivered to a local socket of {hop.namespace}"
        if proxy is not None and proxy.host_port == _port(hop.dst):
            text = f"delivered to docker-proxy (pid {proxy.pid}) listening on :{proxy.host_port}"
        return [Step("delivered", text)]
    found = _drop_rule(ctx.deltas)
    if found:
        rule, delta = found
        return [Step("dropped", f"dropped by {rule} (+{delta})", rule=str(rule), counter=delta)]
    if hop.dst_ip and ctx.ns.routes and lookup_route(ctx.ns.routes, hop.dst_ip) is None:
        # No route: the kernel drops it when routing it, before any filter rule could count it.
        return [Step("dropped", f"{hop.namespace} has no route to {hop.dst_ip} (its routing table has neither "
                                "a route to that network nor a default route): dropped, no rule involved")]
    return [Step("dropped", f"not seen after {hop.namespace} {hop.interface}: no rule's counter rose here")]


# In the order their steps are listed at a hop.
STEP_KINDS = (send_steps, vxlan_steps, bridge_steps, route_steps, deliver_steps)


def explain_hop(ctx: HopContext) -> list[Step]:
    """What the kernel did at one hop; "received" where nothing else explains it."""
    steps = [step for kind in STEP_KINDS for step in kind(ctx)]
    if not steps:
        verb = "left by" if ctx.hop.direction == "out" else "arrived at"
        steps.append(Step("received", f"{verb} {ctx.hop.interface}"))
    return steps


def explain(hops: list[Hop], obs: Observed, proxies_used: dict[int, Proxy]) -> None:
    """Fill each hop's steps (what the kernel did) and changes (since the previous hop)."""
    for i, hop in enumerate(hops):
        hop.changes = _changes(leg_neighbours(hops, i)[0], hop)
        ctx = hop_context(hops, i, obs, proxies_used)
        if ctx is not None:
            hop.steps.extend(explain_hop(ctx))


def _port(endpoint: str | None) -> int | None:
    if endpoint and ":" in endpoint and not endpoint.endswith("]"):
        try:
            return int(endpoint.rsplit(":", 1)[1])
        except ValueError:
            return None
    return None


# --- the whole thing -----------------------------------------------------------------------------

def build_path(obs: Observed) -> Path:
    seen = all_seen(obs)
    path = Path(scenario=obs.scenario, probe=obs.probe, kind=obs.kind, source=obs.source, target=obs.target,
                port=obs.port, expect=obs.expect, reached=obs.reached, output=obs.output,
                description=obs.description, captured_at=[f"{ns}/{i}" for ns, i in obs.frames])
    # The port is the probe spec's own (Observed.port); a ping has none. Without one, any port matches.
    port = obs.port if obs.kind != "ping" else None
    first = _first_from(seen, obs.source, lambda f: _is_request(f, obs.kind, obs.target, port))
    if first is None:
        path.evidence["capture"] = f"no packet of the probe left {obs.source}"
        return path
    t0 = first.frame.time_ns
    segments: list[tuple[list[_Seen], list[_Seen]]] = []
    proxies_used: dict[int, Proxy] = {}
    request = follow(seen, first, obs)
    reply_seed = _first_anywhere(seen, lambda f: _answers(request[-1].frame, f), t0)
    reply = follow(seen, reply_seed, obs) if reply_seed else []
    segments.append((request, reply))
    # docker-proxy: the request ended at a proxy's port; its own connection is segment 1.
    last = request[-1]
    proxy = next((p for p in obs.proxies.get(last.namespace, []) if p.host_port == last.frame.innermost.dport
                  and p.proto == (last.frame.innermost.proto or "")), None)
    if proxy is not None:
        relay = _first_from(seen, last.namespace, lambda f: f.innermost.dst == proxy.container_ip
                            and f.innermost.dport == proxy.container_port and f.innermost.tcp_flags == "S",
                            last.frame.time_ns)
        if relay is not None:
            proxies_used[1] = proxy
            relay_request = follow(seen, relay, obs)
            relay_seed = _first_anywhere(seen, lambda f: _answers(relay_request[-1].frame, f), relay.frame.time_ns)
            segments.append((relay_request, follow(seen, relay_seed, obs) if relay_seed else []))
            path.proxies.append({"namespace": last.namespace, "pid": proxy.pid,
                                 "listen": f"{proxy.host_ip}:{proxy.host_port}",
                                 "to": f"{proxy.container_ip}:{proxy.container_port}"})
    hops: list[Hop] = []
    for segment, (req, _) in enumerate(segments):
        hops += [_hop(s, "request", segment, t0, obs) for s in req]
    for segment in reversed(range(len(segments))):
        hops += [_hop(s, "reply", segment, t0, obs) for s in segments[segment][1]]
    explain(hops, obs, proxies_used)
    path.hops = hops
    lanes: list[str] = []
    for hop in hops:
        if hop.namespace not in lanes:
            lanes.append(hop.namespace)
    path.lanes = lanes
    # Conntrack entries of its flows, and rules whose counters rose anywhere the packet went.
    path.conntrack = _conntrack(obs, hops)
    # Another flow may raise a counter while the probe runs (a swarm's gossip opens TCP connections to
    # 7946 every 30 s): "flow" says whether the probe's own flow was tracked in that namespace, without
    # which no nat rule there can have seen it (nat sees a flow's first packet, in a stack it entered).
    tracked = {entry["namespace"] for entry in path.conntrack}
    for name in lanes:
        for rule, delta in rule_deltas(obs.before.namespaces.get(name), obs.after.namespaces.get(name)):
            path.rules.append({"namespace": name, "table": rule.table, "chain": rule.chain, "rule": str(rule),
                               "target": rule.target, "delta": delta, "packets": rule.packets,
                               "flow": name in tracked})
    path.arp = [{"namespace": s.namespace, "interface": s.interface, "direction": s.direction,
                 "op": "request" if s.frame.arp["op"] == 1 else "reply", "ip": s.frame.arp["psrc"],
                 "mac": s.frame.arp["hwsrc"], "asked": s.frame.arp["pdst"], "summary": s.frame.summary()}
                for s in seen if s.frame.arp and s.frame.time_ns >= t0 - 5_000_000_000 and s.direction != "through"]
    return path


def _conntrack(obs: Observed, hops: list[Hop]) -> list[dict]:
    """Conntrack entries whose original tuple is the request as it entered a namespace: the probe's own
    flow only (a ping's by its echo identifier too: an earlier ping between the same two addresses
    keeps its entry for 30 s, and was listed as if part of this trace)."""
    found = []
    wanted = {(h.namespace, h.src_ip, h.dst_ip, _port(h.src), _port(h.dst), h.icmp_id) for h in hops
              if h.leg == "request" and h.direction in ("in", "loop")}
    for name, ns in obs.after.namespaces.items():
        for entry in ns.conntrack:
            o = entry.original
            if (name, o.src, o.dst, o.sport, o.dport, o.icmp_id if entry.proto == "icmp" else None) in wanted:
                r = entry.reply
                found.append({"namespace": name, "proto": entry.proto, "state": entry.state,
                              "original": _tuple_text(o), "reply": _tuple_text(r),
                              "snat": entry.snat, "dnat": entry.dnat})
    return found


def _tuple_text(t) -> str:
    if t.sport is not None:
        return f"{t.src}:{t.sport} > {t.dst}:{t.dport}"
    return f"{t.src} > {t.dst}" + (f" id {t.icmp_id}" if t.icmp_id is not None else "")
