"""What the lab checks need beyond the rooms that read the world.

The reading itself is done by those rooms: `helpers.observe` for what a namespace holds (typed
`ip -j` interfaces and routes, iptables rules with their counters), the docker SDK for the engines'
objects, `helpers.world.swarm` for the swarm. This module only adds what is the labs' own: finding
(and, for a reset, removing) the learner's things by the names the tasks give, a snapshot of "a
machine or a container" for a check, and the few questions the checks ask of a snapshot.
"""
from __future__ import annotations

import ipaddress
import os
import subprocess

import docker.errors

from helpers import observe
from helpers.observe.model import Address, NamespaceState, Rule
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


# --- namespaces, read through the observation room ----------------------------------------------

def _pid(container_obj) -> int:
    container_obj.reload()
    pid = container_obj.attrs["State"]["Pid"]
    if not pid:
        raise RuntimeError(f"container {container_obj.name} is not running")
    return pid


def snapshot(world, place, *parts: str) -> NamespaceState:
    """A typed snapshot (`helpers.observe`) of a machine role ("host1") or a running docker SDK
    Container (entered through its PID), with only the `parts` asked for (links, routes, rules, ...)."""
    if isinstance(place, str):
        target = observe.machine_targets(world, [place])[0]
    else:
        target = observe.Target(place.name, "container", f"/proc/{_pid(place)}/ns/net")
    return observe.read_namespace(target.name, target.kind, target.path, parts or None)


def change_in(container_obj, argv: list[str]) -> None:
    """Run a host tool (`ip link set ...`) in a container's namespace, for a lab's breakage: the
    container's own tools lack NET_ADMIN, and the observation room only reads."""
    full = [which("nsenter"), "-t", str(_pid(container_obj)), "-n", which(argv[0]), *argv[1:]]
    subprocess.run(full, capture_output=True, text=True, check=True, timeout=20)


def netns_inode(container_obj) -> int | None:
    """The inode of a container's network namespace: two containers share one iff these are equal."""
    try:
        return os.stat(f"/proc/{_pid(container_obj)}/ns/net").st_ino
    except (FileNotFoundError, RuntimeError):
        return None


def eth0(ns: NamespaceState) -> Address | None:
    """The IPv4 address (with prefix) of a machine's LAN interface."""
    iface = ns.interface("eth0")
    return iface.ipv4[0] if iface and iface.ipv4 else None


def default_gateway(ns: NamespaceState) -> str | None:
    return next((route.gateway for route in ns.routes if route.dst == "default" and route.gateway), None)


def masquerade(ns: NamespaceState, subnet: str) -> Rule | None:
    """The POSTROUTING rule that masquerades (or SNATs) packets from `subnet`, with its counters."""
    return next((rule for rule in ns.rules
                 if rule.table == "nat" and rule.chain == "POSTROUTING" and rule.src == subnet
                 and "src" not in rule.negated and rule.target in ("MASQUERADE", "SNAT")), None)
