"""The topology of one Docker host, read live: its interfaces and bridges, every Docker network
(the course's and any a learner made by hand), every container (exited ones too) with its
addresses, published ports and the other end of each of its interfaces, and each overlay
network's own namespace on this host (its bridge br0, its VXLAN device with the VNI, the peers
the kernel forwards to).

Docker's `inspect` lists a container's networks by the MAC and address of each endpoint; the
kernel tells where the other end of its veth is: a bridge of the host (docker0, br-<id>,
docker_gwbridge) or the bridge br0 inside an overlay's namespace (`1-<network id>` under the
engine's exec-root). An interface Docker does not list (an overlay container's eth1 on
docker_gwbridge) is named by the network of the bridge it hangs from.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.observe import collect
from helpers.observe.model import Interface, NamespaceState
from helpers.observe.parse import peer_pairs
from helpers.world.naming import LABEL_SCENARIO, LABEL_WORLD, OVERLAY_NETNS
from helpers.world.swarm import OVERLAY_VXLANID_OPTION


@dataclass
class Attachment:
    """One network interface of a container."""

    interface: str
    network: str | None
    ip: str | None
    mac: str
    host_veth: str | None      # the other end of the veth pair (on the host, or in an overlay's namespace)
    bridge: str | None         # the bridge that other end is a port of
    namespace: str | None = None  # where that other end is: the host, or an overlay's namespace (1-xxxx)


@dataclass
class ContainerNode:
    name: str
    id: str
    network_mode: str
    origin: str                # course (made by a scenario) | hand (anything else: a learner's own)
    attachments: list[Attachment] = field(default_factory=list)
    ports: dict = field(default_factory=dict)
    running: bool = True       # an exited container keeps its networks in inspect, but no interface

    def published(self) -> list[str]:
        """Published ports as `docker ps` shows them: 0.0.0.0:8081->80/tcp."""
        return [f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}->{port}"
                for port, bindings in sorted(self.ports.items()) for b in bindings or []]


@dataclass
class NetworkNode:
    name: str
    driver: str
    subnets: list[str]
    gateways: list[str]
    bridge: str | None
    origin: str                # course | engine (bridge, host, none, ingress, ...) | hand
    internal: bool = False
    parent: str | None = None  # macvlan / ipvlan: the host interface it is made on (`-o parent=`)
    vni: list[int] = field(default_factory=list)  # overlay: the VXLAN network id(s) Docker gave it


@dataclass
class OverlayNamespace:
    """An overlay network's own namespace on this host, as the kernel holds it."""

    network: str
    namespace: str             # its name under the engine's exec-root netns/ (1-<network id>)
    bridge: str | None         # br0
    addresses: list[str]       # br0's address (the overlay's gateway side)
    vxlan: str | None          # vxlan0 (a port of br0)
    vni: int | None            # read from the vxlan device, not from Docker
    peers: list[str]           # remote VTEPs in the vxlan device's FDB: the other hosts it sends to
    ports: list[str]           # the veths on br0: one per container of this host on the overlay


@dataclass
class HostMap:
    host: str
    interfaces: list[dict]     # the host namespace's interfaces: name, kind, mac, addresses, master
    networks: list[NetworkNode]
    containers: list[ContainerNode]
    overlays: list[OverlayNamespace] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"{self.host}:"]
        for iface in self.interfaces:
            if iface["kind"] in ("bridge", "") or iface["name"] == "eth0":
                addrs = ", ".join(iface["addresses"]) or "no address"
                lines.append(f"  {iface['name']} ({iface['kind'] or 'nic'}) {addrs}")
        lines += [f"  network {net.name}{_MARK[net.origin]}: {network_text(net)}" for net in self.networks]
        lines += [f"  overlay {o.network}'s namespace {o.namespace}: {overlay_text(o)}" for o in self.overlays]
        lines += [f"  container {c.name}{'' if c.origin == 'course' else ' (made by hand)'}: {self._describe(c)}"
                  for c in self.containers]
        return "\n".join(lines)

    def _describe(self, c: ContainerNode) -> str:
        if not c.running:
            nets = ", ".join(a.network or "?" for a in c.attachments) or c.network_mode
            return f"exited (networks: {nets})"
        parts = [attachment_text(a) for a in c.attachments]
        if c.network_mode == "host":
            parts.append(f"shares {self.host}'s own network stack (host network)")
        parts += [f"publishes {p}" for p in c.published()]
        return "; ".join(parts) or c.network_mode


_MARK = {"course": "", "engine": " (the engine's own)", "hand": " (made by hand)"}


def network_text(net: NetworkNode) -> str:
    """A network in one line: driver, subnets, and its bridge, parent or VNI."""
    text = f"{net.driver} {', '.join(net.subnets)}".strip()
    if net.bridge:
        text += f", bridge {net.bridge}"
    if net.parent:
        text += f", parent {net.parent}"
    if net.vni:
        text += f", VNI {', '.join(map(str, net.vni))}"
    return text


def overlay_text(o: OverlayNamespace) -> str:
    return (f"{o.bridge} {', '.join(o.addresses) or 'no address'}, {o.vxlan} VNI {o.vni}, "
            f"peers {', '.join(o.peers) or 'none yet'}, ports {', '.join(o.ports) or 'none'}")


def attachment_text(a: Attachment) -> str:
    where = ""
    if a.host_veth:
        where = f" via {a.host_veth}@{a.bridge}" + (f" in {a.namespace}" if a.namespace else "")
    return f"{a.interface} {a.ip or 'no IPv4'} on {a.network or '?'}{where}"


def host_map(world, host: str = "host1") -> HostMap:
    """Read one Docker host now: engine inventory and kernel state, in parallel."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        containers_job = pool.submit(collect.docker_containers, world, host, False)  # exited ones too
        networks_job = pool.submit(collect.docker_networks, world, host)
        host_target = collect.machine_targets(world, [host])[0]
        host_state = collect.read_namespace(host_target.name, "machine", host_target.path, ("links",))
        containers = containers_job.result()
        networks = networks_job.result()
    targets = collect.container_targets(containers)
    overlays = overlay_targets(world.hosts[host].paths.exec_root / "netns", networks)
    everything = targets + list(overlays)
    states = collect.read_all(everything, parts=("links",)) if everything else collect.WorldState()
    engine_states = {overlays[t]: states.namespaces[t.name] for t in overlays}
    return assemble(host, host_state, networks, containers, states.namespaces, world.prefix, engine_states)


def overlay_targets(netns_dir: Path, networks: list[collect.NetworkInfo],
                    live=collect.live_netns) -> dict[collect.Target, str]:
    """The namespace of each overlay network on this host (`1-<first 10 of its id>`), to read
    with its links and FDB: Target -> network name. Only networks this host has joined have one, and
    only a file that holds a namespace now (`live`: an engine leaves an empty file behind one that went)."""
    found = {}
    entries = sorted(netns_dir.iterdir()) if netns_dir.is_dir() else []
    for net in (n for n in networks if n.driver == "overlay"):
        for entry in entries:
            named = OVERLAY_NETNS.match(entry.name)
            if named and net.id.startswith(named["id"]) and live(entry):
                found[collect.Target(entry.name, "docker", str(entry), parts=("links", "fdb"))] = net.name
    return found


def assemble(host: str, host_state: NamespaceState, networks: list[collect.NetworkInfo],
             containers: list[collect.ContainerInfo], container_states: dict[str, NamespaceState],
             prefix: str, engine_states: dict[str, NamespaceState] | None = None) -> HostMap:
    """Pure: a HostMap from what was read (unit tests feed saved outputs). `engine_states` maps an
    overlay network's name to its namespace's state (links and FDB)."""
    engine_states = engine_states or {}
    interfaces = [{"name": i.name, "kind": i.kind, "mac": i.mac, "master": i.master, "up": i.up,
                   "addresses": [a.cidr for a in i.ipv4]} for i in host_state.interfaces]
    nets = [NetworkNode(n.name, n.driver, n.subnets, n.gateways, n.bridge, _origin(n, prefix), n.internal,
                        n.options.get("parent"), _vnis(n)) for n in networks]
    net_of_bridge = {n.bridge: n.name for n in networks if n.bridge}
    # Where a container's veth can end: the host, or an overlay's namespace (whose br0 is that network's).
    ends = [(None, host_state, net_of_bridge)]
    ends += [(ns.name, ns, {b.name: net for b in ns.bridges()}) for net, ns in engine_states.items()]
    nodes = []
    for c in containers:
        state = container_states.get(c.name) or container_states.get(f"{c.name}@{c.host}")
        node = ContainerNode(c.name, c.id[:12], c.network_mode, _origin_of(c.labels, prefix), ports=c.ports,
                             running=c.running)
        if state is not None:
            node.attachments = [_attachment(iface, c, ends) for iface in state.interfaces if iface.kind != "loopback"]
        elif not c.running:
            node.attachments = [Attachment("", e.network, e.ip or None, e.mac, None, None) for e in c.endpoints]
        nodes.append(node)
    overlays = [_overlay(net, ns) for net, ns in engine_states.items()]
    return HostMap(host, interfaces, nets, nodes, overlays)


def _attachment(iface: Interface, c: collect.ContainerInfo, ends) -> Attachment:
    """One interface of a container: its Docker network (by MAC, else by address, else by the
    bridge its other end hangs from) and where that other end is."""
    endpoint = (next((e for e in c.endpoints if e.mac and e.mac == iface.mac), None)
                or next((e for e in c.endpoints if e.ip and any(a.address == e.ip for a in iface.ipv4)), None))
    network = endpoint.network if endpoint else None
    other, where = None, None
    for namespace, state, nets in ends:
        pair = next((mine for mine, theirs in peer_pairs(state.interfaces, [iface]) if theirs is iface), None)
        if pair is not None:
            other, where = pair, namespace
            network = network or nets.get(pair.master)
            break
    ip = iface.ipv4[0].address if iface.ipv4 else (endpoint.ip if endpoint else None)
    return Attachment(iface.name, network, ip, iface.mac, other.name if other else None,
                      other.master if other else None, where)


def _overlay(network: str, ns: NamespaceState) -> OverlayNamespace:
    bridge = next(iter(ns.bridges()), None)
    vxlan = next((i for i in ns.interfaces if i.kind == "vxlan"), None)
    peers = sorted({e.dst for e in ns.fdb if e.dst and vxlan is not None and e.port == vxlan.name})
    ports = [i.name for i in ns.interfaces if bridge is not None and i.master == bridge.name and i.kind == "veth"]
    return OverlayNamespace(network, ns.name, bridge.name if bridge else None,
                            [a.cidr for a in bridge.ipv4] if bridge else [], vxlan.name if vxlan else None,
                            vxlan.vxlan_id if vxlan else None, peers, ports)


def _vnis(network: collect.NetworkInfo) -> list[int]:
    text = network.options.get(OVERLAY_VXLANID_OPTION) or ""
    return [int(v) for v in text.split(",") if v.strip().isdigit()]


ENGINE_NETWORKS = ("bridge", "host", "none", "ingress", "docker_gwbridge")


def _origin_of(labels: dict, prefix: str) -> str:
    """Made by one of the course's scenarios (both labels), or by hand (even with the world label,
    which learners are asked to add so `dnlab down` finds their things too)."""
    if labels.get(LABEL_WORLD) == prefix and labels.get(LABEL_SCENARIO):
        return "course"
    return "hand"


def _origin(network: collect.NetworkInfo, prefix: str) -> str:
    if network.name in ENGINE_NETWORKS and not network.labels:
        return "engine"
    return _origin_of(network.labels, prefix)
