"""What the lab checks need beyond the rooms that read the world.

The reading itself is done by those rooms: `helpers.observe` for what a namespace holds (typed
`ip -j` interfaces and routes, iptables rules with their counters), reached through
`helpers.lessons.facts` as the chapters do; the docker SDK for the engines' objects;
`helpers.world.swarm` for the swarm. This module only adds what is the labs' own: finding (and, for
a reset, removing) the learner's things by the names the tasks give, and the questions a check asks
of a snapshot.
"""
from __future__ import annotations

import ipaddress
import os

import docker.errors

from helpers.observe.model import NamespaceState, Rule


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


def remove_network(world, host: str, name: str) -> bool:
    """Remove a network by name; containers still attached are disconnected first (not removed).
    A swarm-scoped network is waited for until every engine has forgotten it."""
    from helpers.world import swarm

    client = world.hosts[host].docker
    found = network(client, name)
    if found is None:
        return False
    for attached in (found.attrs.get("Containers") or {}):
        try:
            found.disconnect(attached, force=True)
        except docker.errors.APIError:
            pass
    if found.attrs.get("Scope") == "swarm":
        swarm.remove_overlay(world, found)
    else:
        found.remove()
    return True


# --- namespaces -----------------------------------------------------------------------------------
# Reading a machine's or a container's namespace is `helpers.lessons.facts` (a thin layer over
# `helpers.observe`, shared with the chapters); what is left here are the labs' own questions.

def netns_inode(container_obj) -> int | None:
    """The inode of a container's network namespace (shown as evidence that two share one)."""
    container_obj.reload()
    pid = container_obj.attrs["State"]["Pid"]
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino if pid else None
    except FileNotFoundError:
        return None


def masquerade(ns: NamespaceState, subnet: str) -> Rule | None:
    """The POSTROUTING rule that masquerades (or SNATs) packets from `subnet`, with its counters."""
    return next((rule for rule in ns.rules
                 if rule.table == "nat" and rule.chain == "POSTROUTING" and rule.src == subnet
                 and "src" not in rule.negated and rule.target in ("MASQUERADE", "SNAT")), None)
