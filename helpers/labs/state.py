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
from contextlib import suppress

import docker.errors

from helpers.observe.model import NamespaceState, Rule
from helpers.world.guard import parse_hosts

# --- docker objects by name ---------------------------------------------------------------------

def container(client, name: str):
    """The container called exactly `name` on this engine, or None."""
    found = client.containers.list(all=True, filters={"name": f"^/{name}$"})
    return found[0] if found else None


def network(client, name: str):
    """The network called exactly `name` on this engine (full attrs), or None."""
    for candidate in client.networks.list(names=[name]):
        if candidate.name == name:
            return client.networks.get(candidate.id, verbose=True)
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
        with suppress(docker.errors.APIError):
            found.disconnect(attached, force=True)
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


# --- inside a container: names, listeners, processes ---------------------------------------------

def _exec_text(container_obj, argv: list[str]) -> tuple[int, str]:
    code, out = container_obj.exec_run(argv)
    return code, out.decode(errors="replace")


def hosts_entries(container_obj, name: str) -> list[str]:
    """Addresses that the container's /etc/hosts gives `name` (what `--link` or `--add-host` wrote).

    The C library reads /etc/hosts before it asks any DNS server, so such an entry hides the
    embedded DNS completely."""
    _, text = _exec_text(container_obj, ["cat", "/etc/hosts"])
    return parse_hosts(text, name)


def dns_answers(container_obj, name: str, server: str) -> list[str]:
    """The IPv4 addresses `server` answers for `name`, asked from inside the container (busybox
    nslookup, which asks the DNS server and never reads /etc/hosts)."""
    code, text = _exec_text(container_obj, ["nslookup", name, server])
    if code != 0 or "Name:" not in text:
        return []
    answer = text.split("Name:", 1)[1]
    found = []
    for line in answer.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Address":
            try:
                address = ipaddress.ip_address(value.strip())
            except ValueError:
                continue
            if address.version == 4:
                found.append(str(address))
    return found


def listeners(world, place, port: int) -> list[tuple[int, str]]:
    """(pid, command) of every process with a TCP socket listening on `port` in `place`'s network
    namespace (`ss -ltnp`, run as root on the machine, so the pids are the machine's)."""
    import re

    from helpers.lessons import facts

    out = facts.run_in(world, place, ["ss", "-H", "-ltnp", f"sport = :{port}"]).stdout
    return [(int(pid), command) for command, pid in re.findall(r'\("([^"]+)",pid=(\d+)', out)]


def process_ids(container_obj) -> set[int]:
    """The machine's pids of every process of a container (`docker top`)."""
    top = container_obj.top()
    column = top["Titles"].index("PID")
    return {int(row[column]) for row in top["Processes"] or []}


def started_at(container_obj):
    """When the container was last started (`State.StartedAt`; nanoseconds cut to what datetime holds)."""
    from datetime import datetime

    stamp = container_obj.attrs["State"]["StartedAt"].rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}")


def command_of(container_obj) -> str:
    """The command the container was started with, as one line."""
    config = container_obj.attrs["Config"]
    return " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])
