"""Chapter 8 (managing networks): what `docker network create`, `run --network`, `connect` and
`disconnect` do, and `network inspect` against the kernel.

One call, one idea, evidence as a dict; the chapter's claim cells decide (helpers/lessons/common.py).
"""
from __future__ import annotations

import ipaddress

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import rows_of
from helpers.lessons.lesson import Lesson

# What the chapter's notebook calls (as ch08.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "attachment", "connect_disconnect", "created_network", "inspect_fields", "inspect_note",
    "inspect_vs_kernel", "Lesson", "rows_of"
]


def _in_default_pools(subnet: str) -> bool:

    net = ipaddress.ip_network(subnet)
    return any(net.subnet_of(ipaddress.ip_network(base)) for base, _ in facts.DEFAULT_POOLS)


@measured
def created_network(world, name: str, host: str = "host1") -> dict:
    """What `docker network create` made: the engine's record (driver, subnet, gateway) and the
    kernel's (the Linux bridge br-<first 12 characters of the id> on the host, its addresses)."""
    network = world.hosts[host].docker.networks.get(name)
    ipam = network.attrs["IPAM"]["Config"][0]
    bridge = "br-" + network.id[:12]
    device = facts.state(world, host, "links").interface(bridge)
    return {"network": name, "id": network.id[:12], "driver": network.attrs["Driver"],
            "subnet": ipam["Subnet"], "gateway": ipam.get("Gateway"),
            "subnet in Docker's default pools": _in_default_pools(ipam["Subnet"]),
            "bridge option": network.attrs["Options"].get("com.docker.network.bridge.name"),
            "expected bridge": bridge, "bridge on host": bool(device and device.is_bridge),
            "bridge addresses": [a.address for a in device.ipv4] if device else []}


def _running_interfaces(world, container) -> dict[str, list[str]]:
    """ifname -> IPv4 CIDRs inside a container; empty when it is not running (no namespace yet)."""
    container.reload()
    if not container.attrs["State"]["Running"]:
        return {}
    return {i.name: [a.cidr for a in i.ipv4] for i in facts.state(world, container, "links").interfaces
            if i.name != "lo"}


@measured
def attachment(world, container, network_name: str, host: str = "host1") -> dict:
    """Where `docker run --network NAME` put a container: its addresses as the kernel holds them
    (inside the container), the network's subnet, and the container list of `network inspect`."""

    network = world.hosts[host].docker.networks.get(network_name)
    subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
    inside = _running_interfaces(world, container)
    listed = {v["Name"]: v["IPv4Address"] for v in (network.attrs.get("Containers") or {}).values()}
    return {"container": container.name, "network": network_name, "subnet": str(subnet),
            "addresses inside": inside,
            "addresses in the subnet": [c for cidrs in inside.values() for c in cidrs
                                        if ipaddress.ip_interface(c).ip in subnet],
            "network inspect lists": listed}


@measured
def connect_disconnect(world, container, network_name: str, host: str = "host1") -> dict:
    """`docker network connect` then `disconnect` on a container, reading its interfaces (inside
    it) and its start time after each step: a live change, or a restart in disguise?"""

    client = world.hosts[host].docker
    network = client.networks.get(network_name)
    subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
    container.reload()
    started = container.attrs["State"]["StartedAt"]
    before = _running_interfaces(world, container)
    network.connect(container)
    connected = _running_interfaces(world, container)
    network.disconnect(container)
    after = _running_interfaces(world, container)
    container.reload()
    new = {name: cidrs for name, cidrs in connected.items() if name not in before}
    return {"container": container.name, "network": network_name, "subnet": str(subnet),
            "running": container.attrs["State"]["Running"],
            "before": before, "after connect": connected, "after disconnect": after,
            "new interfaces": new,
            "new interface in the subnet": any(ipaddress.ip_interface(c).ip in subnet
                                               for cidrs in new.values() for c in cidrs),
            "same start time": container.attrs["State"]["StartedAt"] == started}


@measured
def inspect_vs_kernel(world, network_name: str, host: str = "host1") -> list[dict]:
    """For each container `docker network inspect` lists: the address and MAC it records, and
    the ones the kernel holds on the container's interface in that network (`ip -j` inside)."""
    network = world.hosts[host].docker.networks.get(network_name)
    network.reload()
    rows = []
    for cid, entry in (network.attrs.get("Containers") or {}).items():
        container = world.hosts[host].docker.containers.get(cid)
        links = facts.state(world, container, "links").interfaces
        by_mac = next((i for i in links if i.mac == entry["MacAddress"]), None)
        rows.append({"container": entry["Name"], "inspect": f"{entry['IPv4Address']} {entry['MacAddress']}",
                     "kernel": (f"{by_mac.name}: {', '.join(a.cidr for a in by_mac.ipv4) or '(no IPv4)'} {by_mac.mac}"
                                if by_mac else "(no interface with that MAC)"),
                     "agree": bool(by_mac) and entry["IPv4Address"] in [a.cidr for a in by_mac.ipv4]})
    return rows


@measured
def inspect_note(world, host: str = "host1") -> str:
    """Which engine's `inspect` the learner reads, and what newer engines add."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    return (f"{host}'s engine is Docker {version}. " + engine_facts.say("enable-ipv4") + " "
            + engine_facts.say("internal-route")
            + " Docker docs: 'docker network inspect' and 'docker network create' (CLI reference).")


@measured
def inspect_fields(network) -> list[dict]:
    """`docker network inspect`, read field by field, with what each field means."""
    network.reload()
    a = network.attrs
    meaning = {
        "Name": "the network's name", "Id": "its id (the CLI shows 12 characters)",
        "Driver": "which driver made it", "Scope": "local (one engine) or swarm (many)",
        "IPAM.Config": "subnet and gateway (given, or taken from the default pools)",
        "Internal": "true: no way out (no MASQUERADE; the default route depends on the engine: see the note above)",
        "Attachable": "swarm networks only",
        "Containers": "who is attached, with MAC and address", "Options": "driver options (e.g. parent=)",
        "Labels": "your key=value tags (filters use them)",
    }
    values = {"Name": a["Name"], "Id": a["Id"][:12], "Driver": a["Driver"], "Scope": a["Scope"],
              "IPAM.Config": a["IPAM"]["Config"], "Internal": a["Internal"], "Attachable": a["Attachable"],
              "Containers": {v["Name"]: v["IPv4Address"] for v in (a.get("Containers") or {}).values()},
              "Options": a["Options"], "Labels": a["Labels"]}
    return [{"field": k, "value": values[k], "meaning": meaning[k]} for k in values]
