"""The key facts the driver explorer shows for one scenario and probe, read live, and their diff.

Facts come from the running engines and kernel, never from what a scenario *meant* to make:
addresses and routes from ``ip -j`` inside the container's own network namespace, the network
summary from ``docker network inspect``, NAT rules from ``iptables-save -t nat`` in the Docker
host's namespace. A `Facts` is plain data, so the explorer can cache it and diff two drivers.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from helpers.errors import LabError
from helpers.world.proc import which

# Fact categories, in the order the explorer shows them (and diffs them).
CATEGORIES = ("addresses", "routes", "networks", "nat", "reachability")
TITLES = {
    "addresses": "Container addresses",
    "routes": "Container routes",
    "networks": "Network (docker network inspect)",
    "nat": "NAT rules involved (iptables-save -t nat)",
    "reachability": "Reachability",
}


@dataclass
class Facts:
    """What is true, right now, about one scenario's container and the probe's result."""

    scenario: str
    driver: str
    host: str = "host1"
    container: str | None = None
    addresses: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    nat: list[str] = field(default_factory=list)
    reachability: list[str] = field(default_factory=list)
    reached: bool | None = None
    expected: bool | None = None

    def items(self) -> dict[str, list[str]]:
        return {category: list(getattr(self, category)) for category in CATEGORIES}


# --- resolving the container a probe is about ---------------------------------------------------

def _container_ref(ref: str, default_host: str) -> tuple[str, str] | None:
    """("role", "host") for "container:<role>[@host]", else None (a machine or an address)."""
    if not ref.startswith("container:"):
        return None
    role, _, host = ref[len("container:"):].partition("@")
    return role, host or default_host


def focus_container(scenario, spec=None):
    """(host, Container) the facts are about: the probe's source container, else its target
    container, else the one publishing the probe's port, else the scenario's first container (by
    role) on any host; None if the scenario has no container."""
    refs = []
    if spec is not None:
        refs = [_container_ref(spec.source, spec.source_host), _container_ref(spec.target, spec.source_host)]
    for ref in refs:
        if ref is None:
            continue
        role, host = ref
        found = scenario.containers(host).get(role)
        if found is not None:
            return host, found
    if spec is not None and spec.port:
        # A probe to a published port is about the container that publishes it.
        for host in scenario.world.hosts:
            for role, container in sorted(scenario.containers(host).items()):
                bindings = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
                if any(str(b.get("HostPort")) == str(spec.port) for bs in bindings.values() for b in bs or []):
                    return host, container
    for host in scenario.world.hosts:
        containers = scenario.containers(host)
        if containers:
            return host, containers[sorted(containers)[0]]
    return None


# --- reading ------------------------------------------------------------------------------------

def _ip_json(pid: int, args: list[str]) -> list[dict]:
    """`ip -j <args>` inside the network namespace of process `pid` (the lab image has no ip -j)."""
    argv = [which("nsenter"), f"--net=/proc/{pid}/ns/net", which("ip"), "-j", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if result.returncode != 0:
        raise LabError(f"`ip -j {' '.join(args)}` in the container failed: {result.stderr.strip()}")
    return json.loads(result.stdout or "[]")


def format_addresses(links: list[dict]) -> list[str]:
    """One line per IPv4 address, e.g. 'eth0 172.17.0.2/16 (mac 02:42:..)'; lo included."""
    lines = []
    for link in links:
        name = link.get("ifname", "?")
        mac = link.get("address")
        kind = ((link.get("linkinfo") or {}).get("info_kind"))
        v4 = [a for a in link.get("addr_info", []) if a.get("family") == "inet"]
        extra = []
        if mac and link.get("link_type") != "loopback":
            extra.append(f"mac {mac}")
        if kind:
            extra.append(kind)
        suffix = f" ({', '.join(extra)})" if extra else ""
        if not v4:
            lines.append(f"{name} no IPv4 address{suffix}")
        for addr in v4:
            lines.append(f"{name} {addr['local']}/{addr['prefixlen']}{suffix}")
    return lines


def format_routes(routes: list[dict]) -> list[str]:
    """`ip route`-like lines: 'default via 172.17.0.1 dev eth0', '172.17.0.0/16 dev eth0 src ..'."""
    lines = []
    for route in routes:
        parts = [route.get("dst", "?")]
        if route.get("gateway"):
            parts.append(f"via {route['gateway']}")
        if route.get("dev"):
            parts.append(f"dev {route['dev']}")
        if route.get("prefsrc"):
            parts.append(f"src {route['prefsrc']}")
        lines.append(" ".join(parts))
    return lines


def network_summary(attrs: dict) -> str:
    """One line of `docker network inspect`: name, driver, scope, subnet, gateway, key options."""
    parts = [f"{attrs.get('Name')}: driver {attrs.get('Driver')}, scope {attrs.get('Scope')}"]
    for pool in (attrs.get("IPAM") or {}).get("Config") or []:
        if pool.get("Subnet"):
            parts.append(f"subnet {pool['Subnet']}")
        if pool.get("Gateway"):
            parts.append(f"gateway {pool['Gateway']}")
    options = attrs.get("Options") or {}
    for key, label in (("parent", "parent"), ("com.docker.network.bridge.name", "bridge")):
        if options.get(key):
            parts.append(f"{label} {options[key]}")
    for flag in ("Internal", "Attachable"):
        if attrs.get(flag):
            parts.append(flag.lower())
    return ", ".join(parts)


def _bridge_device(attrs: dict) -> str | None:
    """The Linux bridge of a bridge network: docker0 for the default one, br-<id12> otherwise."""
    if attrs.get("Driver") != "bridge":
        return None
    return (attrs.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{attrs['Id'][:12]}"


def nat_rules(nat_table: str, needles: list[str]) -> list[str]:
    """The `-A` rules of an iptables-save nat table that mention one of `needles`."""
    needles = [n for n in needles if n]
    if not needles:
        return []
    out = []
    for line in nat_table.splitlines():
        if not line.startswith("-A "):
            continue
        words = line.replace("/32", " ").split()
        if any(needle in words or any(w.startswith(needle + ":") for w in words) for needle in needles):
            out.append(line)
    # A rule in a custom chain (Docker's DNAT rules live in chain DOCKER) is only reached through
    # the jumps to that chain: they are involved too, so show them first.
    chains = {line.split()[1] for line in out} - {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}
    jumps = [line for line in nat_table.splitlines()
             if line.startswith("-A ") and line not in out and any(line.endswith(f"-j {c}") for c in chains)]
    return jumps + out


def read_facts(world, scenario, spec=None) -> Facts:
    """The live facts of `scenario` (started) for probe `spec` (a ProbeSpec, or None)."""
    facts = Facts(scenario=scenario.name, driver=scenario.driver)
    focus = focus_container(scenario, spec)
    if focus is None:
        facts.addresses = ["(the scenario has no container)"]
        return facts
    host, container = focus
    client = world.hosts[host].docker
    info = client.api.inspect_container(container.id)
    facts.host, facts.container = host, info["Name"].lstrip("/")
    pid = info["State"]["Pid"]
    if not pid:
        raise LabError(f"container {facts.container} on {host} is not running",
                       "press “Re-run probe” (it restarts the scenario)")
    facts.addresses = format_addresses(_ip_json(pid, ["addr", "show"]))
    facts.routes = format_routes(_ip_json(pid, ["-4", "route", "show"])) or ["(no IPv4 routes)"]

    needles: list[str] = []
    attached = [(endpoint.get("NetworkID") or name, endpoint.get("IPAddress"))
                for name, endpoint in (info["NetworkSettings"]["Networks"] or {}).items()]
    drivers = set()
    for network_id, address in attached:
        attrs = client.api.inspect_network(network_id)
        drivers.add(attrs.get("Driver"))
        facts.networks.append(network_summary(attrs))
        needles.append(address)
        needles.extend(pool.get("Subnet") for pool in (attrs.get("IPAM") or {}).get("Config") or [])
        needles.append(_bridge_device(attrs))
    if "overlay" in drivers:
        # An overlay container's second leg (eth1) is on docker_gwbridge, which inspect does not
        # list among its networks: its egress is NATed there, so it belongs to the facts.
        for network in client.api.networks(names=["docker_gwbridge"]):
            attrs = client.api.inspect_network(network["Id"])
            facts.networks.append(network_summary(attrs) + " (the overlay's way out: eth1)")
            needles.extend(pool.get("Subnet") for pool in (attrs.get("IPAM") or {}).get("Config") or [])
            needles.append(_bridge_device(attrs))
    if not facts.networks:
        facts.networks = ["(attached to no network)"]
    table = world.hosts[host].run(["iptables-save", "-t", "nat"]).stdout
    facts.nat = nat_rules(table, needles) or [f"(none: Docker installed no NAT rule for this {scenario.driver} container)"]
    return facts


def diff_facts(previous: Facts | None, current: Facts) -> list[str]:
    """What changed from `previous` to `current`: per category, '- old' and '+ new' lines."""
    if previous is None:
        return []
    lines = []
    old, new = previous.items(), current.items()
    for category in CATEGORIES:
        gone = [item for item in old[category] if item not in new[category]]
        came = [item for item in new[category] if item not in old[category]]
        if not gone and not came:
            lines.append(f"{TITLES[category]}: unchanged")
            continue
        lines.append(f"{TITLES[category]}:")
        lines.extend(f"  - {item}" for item in gone)
        lines.extend(f"  + {item}" for item in came)
    return lines
