"""The topology of one Docker host, read live: its interfaces and bridges, every Docker network
(the course's and any a learner made by hand), every container with its addresses and the
host-side veth that is the other end of its eth0.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from helpers.observe import collect
from helpers.observe.model import NamespaceState
from helpers.observe.parse import peer_pairs
from helpers.world.naming import LABEL_SCENARIO, LABEL_WORLD


@dataclass
class Attachment:
    """One network interface of a container."""

    interface: str
    network: str | None
    ip: str | None
    mac: str
    host_veth: str | None      # the host-side end of the veth pair
    bridge: str | None         # the bridge that host-side end is a port of


@dataclass
class ContainerNode:
    name: str
    id: str
    network_mode: str
    origin: str                # course (made by a scenario) | hand (anything else: a learner's own)
    attachments: list[Attachment] = field(default_factory=list)
    ports: dict = field(default_factory=dict)


@dataclass
class NetworkNode:
    name: str
    driver: str
    subnets: list[str]
    gateways: list[str]
    bridge: str | None
    origin: str                # course | engine (bridge, host, none, ingress, ...) | hand
    internal: bool = False


@dataclass
class HostMap:
    host: str
    interfaces: list[dict]     # the host namespace's interfaces: name, kind, mac, addresses, master
    networks: list[NetworkNode]
    containers: list[ContainerNode]

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"{self.host}:"]
        for iface in self.interfaces:
            if iface["kind"] in ("bridge", "") or iface["name"] == "eth0":
                addrs = ", ".join(iface["addresses"]) or "no address"
                lines.append(f"  {iface['name']} ({iface['kind'] or 'nic'}) {addrs}")
        for net in self.networks:
            mark = {"course": "", "engine": " (the engine's own)", "hand": " (made by hand)"}[net.origin]
            lines.append(f"  network {net.name}{mark}: {net.driver} {', '.join(net.subnets)} bridge {net.bridge}")
        for c in self.containers:
            mark = "" if c.origin == "course" else " (made by hand)"
            parts = [f"{a.interface} {a.ip} on {a.network} via {a.host_veth}@{a.bridge}" for a in c.attachments]
            lines.append(f"  container {c.name}{mark}: " + ("; ".join(parts) or c.network_mode))
        return "\n".join(lines)


def host_map(world, host: str = "host1") -> HostMap:
    """Read one Docker host now: engine inventory and kernel state, in parallel."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        containers_job = pool.submit(collect.docker_containers, world, host)
        networks_job = pool.submit(collect.docker_networks, world, host)
        host_target = collect.machine_targets(world, [host])[0]
        host_state = collect.read_namespace(host_target.name, "machine", host_target.path, ("links",))
        containers = containers_job.result()
        networks = networks_job.result()
    targets = collect.container_targets(containers)
    states = collect.read_all(targets, parts=("links",)) if targets else collect.WorldState()
    return assemble(host, host_state, networks, containers, states.namespaces, world.prefix)


def assemble(host: str, host_state: NamespaceState, networks: list[collect.NetworkInfo],
             containers: list[collect.ContainerInfo], container_states: dict[str, NamespaceState],
             prefix: str) -> HostMap:
    """Pure: a HostMap from what was read (unit tests feed saved outputs)."""
    interfaces = [{"name": i.name, "kind": i.kind, "mac": i.mac, "master": i.master, "up": i.up,
                   "addresses": [a.cidr for a in i.ipv4]} for i in host_state.interfaces]
    nets = [NetworkNode(n.name, n.driver, n.subnets, n.gateways, n.bridge, _origin(n, prefix), n.internal)
            for n in networks]
    nodes = []
    for c in containers:
        state = container_states.get(c.name) or container_states.get(f"{c.name}@{c.host}")
        node = ContainerNode(c.name, c.id[:12], c.network_mode, _origin_of(c.labels, prefix), ports=c.ports)
        if state is not None:
            pairs = {theirs.name: mine for mine, theirs in peer_pairs(host_state.interfaces, state.interfaces)}
            for iface in state.interfaces:
                if iface.kind == "loopback":
                    continue
                endpoint = next((e for e in c.endpoints if e.mac == iface.mac), None)
                host_end = pairs.get(iface.name)
                node.attachments.append(Attachment(
                    iface.name, endpoint.network if endpoint else None,
                    iface.ipv4[0].address if iface.ipv4 else (endpoint.ip if endpoint else None),
                    iface.mac, host_end.name if host_end else None, host_end.master if host_end else None))
        nodes.append(node)
    return HostMap(host, interfaces, nets, nodes)


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
