"""Reading namespaces: one `sh` per namespace runs every tool at once, namespaces in parallel.

A container's namespace is entered through its PID (`/proc/<pid>/ns/net`), so the tools are the
machine's own (iproute2, iptables, conntrack), never the container's busybox.
"""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from helpers.observe import parse
from helpers.observe.model import NamespaceState
from helpers.world.proc import NETNS_DIR, which

SEPARATOR = "@@dnlab-observe@@"
# part -> shell command (stderr dropped: conntrack prints its summary there)
COMMANDS = {
    "links": "ip -j -d addr show",
    "routes": "ip -j route show",
    "neighbours": "ip -j neigh show",
    "fdb": "bridge -j fdb show",
    # raw: Docker 28's direct-access filter drops there (`-A PREROUTING -d <ctr> ! -i <bridge> -j DROP`).
    "rules": "iptables-save -c -t nat; iptables-save -c -t filter; iptables-save -c -t raw",
    "conntrack": "conntrack -L -o extended 2>/dev/null",
    "nft": "nft list ruleset 2>/dev/null",
}
MACHINE_PARTS = ("links", "routes", "neighbours", "fdb", "rules", "conntrack")
CONTAINER_PARTS = ("links", "routes", "neighbours")


def live_netns(path: Path) -> bool:
    """Whether a netns file (an engine's `exec-root/netns/<id>`) holds a namespace now: a live one is a
    bind mount of nsfs (another device than its folder's); the empty file an engine leaves when its
    namespace went is on the folder's own device, and `nsenter` into it fails ("Invalid argument")."""
    try:
        return path.stat().st_dev != path.parent.stat().st_dev
    except OSError:
        return False


def raw_outputs(netns_path: str, parts: tuple[str, ...]) -> dict[str, str]:
    """Run the tools of `parts` inside the namespace at `netns_path`, in one process."""
    script = f"; echo {SEPARATOR}; ".join(COMMANDS[p] for p in parts)
    argv = [which("nsenter"), f"--net={netns_path}", "/bin/sh", "-c", script]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=env)
    chunks = result.stdout.split(SEPARATOR + "\n")
    return {part: chunks[i] if i < len(chunks) else "" for i, part in enumerate(parts)}


# part -> (NamespaceState field, parser of that tool's text)
PARSERS = {
    "links": ("interfaces", parse.parse_links),
    "routes": ("routes", parse.parse_routes),
    "neighbours": ("neighbours", parse.parse_neighbours),
    "fdb": ("fdb", parse.parse_fdb),
    "rules": ("rules", parse.parse_iptables_save),
    "conntrack": ("conntrack", parse.parse_conntrack),
    "nft": ("nft", str),  # kept as text: no engine here uses native nftables
}


def from_outputs(name: str, kind: str, path: str, outputs: dict[str, str], **extra) -> NamespaceState:
    """A NamespaceState from saved tool outputs (pure: unit tests call it with saved files)."""
    state = NamespaceState(name=name, kind=kind, path=path, **extra)
    for part, text in outputs.items():
        attribute, parser = PARSERS[part]
        setattr(state, attribute, parser(text))
    return state


def read_namespace(name: str, kind: str, path: str, parts: tuple[str, ...] | None = None, **extra) -> NamespaceState:
    parts = parts or (MACHINE_PARTS if kind == "machine" else CONTAINER_PARTS)
    return from_outputs(name, kind, path, raw_outputs(path, parts), **extra)


# --- what Docker says ---------------------------------------------------------------------------

@dataclass
class Endpoint:
    network: str
    ip: str
    prefixlen: int
    mac: str
    gateway: str


@dataclass
class ContainerInfo:
    name: str
    id: str
    host: str
    pid: int
    running: bool
    labels: dict = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)
    ports: dict = field(default_factory=dict)   # "80/tcp" -> [{"HostIp", "HostPort"}]
    network_mode: str = ""

    @property
    def netns_path(self) -> str:
        return f"/proc/{self.pid}/ns/net"


@dataclass
class NetworkInfo:
    name: str
    id: str
    driver: str
    subnets: list[str]
    gateways: list[str]
    bridge: str | None       # the Linux bridge of a bridge network
    internal: bool = False
    labels: dict = field(default_factory=dict)
    scope: str = ""          # local | swarm
    attachable: bool = False
    options: dict = field(default_factory=dict)  # driver options (parent=, bridge name, ...)


def docker_containers(world, host: str, running_only: bool = True) -> list[ContainerInfo]:
    """Every container of one engine (the course's and a learner's own), from `docker inspect`."""
    api = world.hosts[host].docker.api
    found = []
    for summary in api.containers(all=not running_only):
        detail = api.inspect_container(summary["Id"])
        settings = detail["NetworkSettings"]
        endpoints = [Endpoint(net, ep.get("IPAddress", ""), ep.get("IPPrefixLen", 0), ep.get("MacAddress", ""),
                              ep.get("Gateway", ""))
                     for net, ep in (settings.get("Networks") or {}).items()]
        found.append(ContainerInfo(
            name=detail["Name"].lstrip("/"), id=detail["Id"], host=host, pid=detail["State"].get("Pid", 0),
            running=detail["State"].get("Running", False), labels=detail["Config"].get("Labels") or {},
            endpoints=endpoints, ports=settings.get("Ports") or {},
            network_mode=detail["HostConfig"].get("NetworkMode", "")))
    return found


def network_info(net: dict) -> NetworkInfo:
    """A NetworkInfo from what the engine says of one network (`docker network ls/inspect` JSON;
    pure, so unit tests feed it saved output)."""
    pools = (net.get("IPAM") or {}).get("Config") or []
    options = net.get("Options") or {}
    bridge = None
    if net.get("Driver") == "bridge":  # docker0 for the default network, br-<id12> for the others
        bridge = options.get("com.docker.network.bridge.name") or f"br-{net['Id'][:12]}"
    return NetworkInfo(net["Name"], net["Id"], net.get("Driver", ""),
                       [p["Subnet"] for p in pools if p.get("Subnet")],
                       [p["Gateway"] for p in pools if p.get("Gateway")], bridge,
                       bool(net.get("Internal")), net.get("Labels") or {},
                       net.get("Scope", ""), bool(net.get("Attachable")), options)


def docker_networks(world, host: str) -> list[NetworkInfo]:
    """Every network one engine lists."""
    return [network_info(net) for net in world.hosts[host].docker.api.networks()]


# --- many namespaces at once --------------------------------------------------------------------

@dataclass
class WorldState:
    """Snapshots of several namespaces of a world, keyed by display name."""

    namespaces: dict[str, NamespaceState] = field(default_factory=dict)
    containers: dict[str, ContainerInfo] = field(default_factory=dict)

    def __getitem__(self, name: str) -> NamespaceState:
        return self.namespaces[name]


@dataclass(frozen=True)
class Target:
    """A namespace to read: display name, kind, netns file and any container details."""

    name: str
    kind: str
    path: str
    container: ContainerInfo | None = None
    parts: tuple[str, ...] | None = None


def machine_targets(world, roles=None) -> list[Target]:
    roles = roles or list(world.machines)
    return [Target(role, "machine", f"{NETNS_DIR}/{world[role].namespace}") for role in roles]


def container_targets(containers: list[ContainerInfo]) -> list[Target]:
    targets = []
    names = [c.name for c in containers]
    for c in containers:
        if not c.running or not c.pid or c.network_mode == "host":
            continue
        name = c.name if names.count(c.name) == 1 else f"{c.name}@{c.host}"
        targets.append(Target(name, "container", c.netns_path, c))
    return targets


def read_all(targets: list[Target], parts: tuple[str, ...] | None = None, workers: int = 8) -> WorldState:
    """Snapshot every target, in parallel (each one is a single short-lived process)."""
    def one(target: Target) -> NamespaceState:
        extra = {}
        if target.container is not None:
            c = target.container
            extra = dict(host=c.host, container=c.name, container_id=c.id, pid=c.pid)
        return read_namespace(target.name, target.kind, target.path, target.parts or parts, **extra)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        states = list(pool.map(one, targets))
    world_state = WorldState({s.name: s for s in states})
    world_state.containers = {t.name: t.container for t in targets if t.container is not None}
    return world_state


# --- docker-proxy (the userland proxy of published ports) ---------------------------------------

@dataclass(frozen=True)
class Proxy:
    """One docker-proxy process: it listens on host_ip:host_port and relays to the container."""

    pid: int
    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    netns_inode: int


def parse_proxy_cmdline(argv: list[str], pid: int = 0, inode: int = 0) -> Proxy | None:
    """docker-proxy's argv (-proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip ... )."""
    if not argv or not argv[0].endswith("docker-proxy"):
        return None
    opts = {argv[i].lstrip("-"): argv[i + 1] for i in range(1, len(argv) - 1) if argv[i].startswith("-")}
    try:
        return Proxy(pid, opts.get("proto", "tcp"), opts["host-ip"], int(opts["host-port"]),
                     opts["container-ip"], int(opts["container-port"]), inode)
    except (KeyError, ValueError):
        return None


def docker_proxies(netns_paths: dict[str, str]) -> dict[str, list[Proxy]]:
    """{namespace name: [Proxy]} for the namespaces given (matched by the netns inode)."""
    import os

    inodes = {}
    for name, path in netns_paths.items():
        try:
            inodes[os.stat(path).st_ino] = name
        except FileNotFoundError:
            continue
    found: dict[str, list[Proxy]] = {name: [] for name in netns_paths}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                raw = handle.read()
            if b"docker-proxy" not in raw:
                continue
            inode = os.stat(f"/proc/{entry}/ns/net").st_ino
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if inode in inodes:
            proxy = parse_proxy_cmdline(raw.decode(errors="replace").split("\0")[:-1], int(entry), inode)
            if proxy:
                found[inodes[inode]].append(proxy)
    return found
