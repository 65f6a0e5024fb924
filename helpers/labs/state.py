"""Reading (and, for reset and setup, changing) the real state the labs talk about.

Everything is looked up by name on the world's own engines and inside the world's own namespaces;
container namespaces are entered through the container's pid (`nsenter -t PID -n`).
"""
from __future__ import annotations

import ipaddress
import json
import subprocess

import docker.errors

from helpers.world.proc import which


# --- docker objects by name ---------------------------------------------------------------------

def container(client, name: str):
    """The container called exactly `name` on this engine, or None."""
    found = client.containers.list(all=True, filters={"name": f"^/{name}$"})
    return found[0] if found else None


def network(client, name: str):
    """The network called exactly `name` on this engine (full attrs), or None."""
    for candidate in client.networks.list(names=[name]):
        if candidate.name == name:
            try:
                return client.networks.get(candidate.id, verbose=True)
            except TypeError:  # older SDK without `verbose`
                return client.networks.get(candidate.id)
    return None


def networks_of(container_obj) -> dict[str, dict]:
    """network name -> endpoint settings (IPAddress, Aliases, ...) of a container."""
    return dict(container_obj.attrs["NetworkSettings"]["Networks"] or {})


def address_on(container_obj, network_name: str) -> str | None:
    settings = networks_of(container_obj).get(network_name) or {}
    return settings.get("IPAddress") or None


def subnets(network_obj) -> list[ipaddress.IPv4Network]:
    return [ipaddress.ip_network(pool["Subnet"], strict=False)
            for pool in (network_obj.attrs.get("IPAM") or {}).get("Config") or [] if pool.get("Subnet")]


def remove_container(client, name: str) -> bool:
    found = container(client, name)
    if found is None:
        return False
    try:
        found.remove(force=True)
    except docker.errors.NotFound:
        return False
    return True


def remove_network(client, name: str) -> bool:
    """Remove a network by name; containers still attached are disconnected first (not removed)."""
    found = network(client, name)
    if found is None:
        return False
    for attached in (found.attrs.get("Containers") or {}):
        try:
            found.disconnect(attached, force=True)
        except docker.errors.APIError:
            pass
    found.remove()
    return True


# --- namespaces --------------------------------------------------------------------------------

def in_container(container_obj, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    """Run a host tool (ip, iptables) inside a running container's network namespace."""
    container_obj.reload()
    pid = container_obj.attrs["State"]["Pid"]
    if not pid:
        raise RuntimeError(f"container {container_obj.name} is not running")
    full = [which("nsenter"), "-t", str(pid), "-n", which(argv[0]), *argv[1:]]
    return subprocess.run(full, capture_output=True, text=True, check=check, timeout=20)


def links_in(container_obj) -> list[dict]:
    """`ip -j link` inside a container's namespace."""
    return json.loads(in_container(container_obj, ["ip", "-j", "link"]).stdout or "[]")


def addresses_in(container_obj) -> list[dict]:
    """`ip -j addr` inside a container's namespace."""
    return json.loads(in_container(container_obj, ["ip", "-j", "addr"]).stdout or "[]")


def interface_with_address(container_obj, address: str) -> dict | None:
    """The `ip -j addr` entry of the container's interface that carries `address`."""
    for link in addresses_in(container_obj):
        if any(info.get("local") == address for info in link.get("addr_info", [])):
            return link
    return None


def netns_inode(container_obj) -> int | None:
    import os

    container_obj.reload()
    pid = container_obj.attrs["State"]["Pid"]
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino if pid else None
    except FileNotFoundError:
        return None


def machine_json(world, role: str, argv: list[str]):
    """JSON output of an `ip -j ...` command run in a machine's namespace."""
    return json.loads(world[role].run(argv).stdout or "[]")


def machine_address(world, role: str, interface: str = "eth0") -> ipaddress.IPv4Interface | None:
    """The IPv4 address (with prefix) of a machine's interface, read with `ip -j addr`."""
    for link in machine_json(world, role, ["ip", "-j", "addr", "show", "dev", interface]):
        for info in link.get("addr_info", []):
            if info.get("family") == "inet":
                return ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")
    return None


def machine_mtu(world, role: str, interface: str = "eth0") -> int:
    return machine_json(world, role, ["ip", "-j", "link", "show", "dev", interface])[0]["mtu"]


def default_gateway(world, role: str) -> str | None:
    for route in machine_json(world, role, ["ip", "-j", "route", "show", "default"]):
        if route.get("gateway"):
            return route["gateway"]
    return None


def route_to(world, role: str, address: str) -> dict | None:
    """`ip route get` in a machine: the route it would use, or None if it has none."""
    result = world[role].run(["ip", "-j", "route", "get", address], check=False)
    if result.returncode != 0:
        return None
    routes = json.loads(result.stdout or "[]")
    return routes[0] if routes else None


def nat_rules(world, role: str) -> list[str]:
    """The nat table of a machine as `iptables-save` rule lines (`-A CHAIN ...`)."""
    text = world[role].run(["iptables-save", "-t", "nat"]).stdout
    return [line for line in text.splitlines() if line.startswith("-A ")]


def masquerades(rules: list[str], subnet: str) -> bool:
    """True if a POSTROUTING rule masquerades (or SNATs) packets from `subnet`."""
    for rule in rules:
        words = rule.split()
        if words[:2] == ["-A", "POSTROUTING"] and "-s" in words and words[words.index("-s") + 1] == subnet:
            if "MASQUERADE" in words or "SNAT" in words:
                return True
    return False


def swarm_info(client) -> dict:
    return client.info().get("Swarm") or {}
