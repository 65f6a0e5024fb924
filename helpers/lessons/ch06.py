"""Chapter 6 (none): a container with loopback only, what it cannot reach, and a network connected
later.

Every function takes what makes its claim true (e.g. a container with a network instead of none),
so a test can call the *same* function where the claim is false.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import docker_addresses, probe_row, rows_of, show_path
from helpers.lessons.lesson import Lesson
from helpers.scenarios.endpoint import pick_address
from helpers.world.guard import probe
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

# What the chapter's notebook calls (as ch06.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "Lesson", "none_reach", "none_rejoin", "none_view", "rows_of", "show_path", "unreachable"
]


@measured
def none_view(world, container) -> dict:
    """What a container's namespace holds: interfaces, routes, whether it is its own, and the
    network mode and addresses Docker reports."""
    container.reload()
    return {"container": container.name, "network mode": container.attrs["HostConfig"]["NetworkMode"],
            "interfaces": facts.interfaces(world, container),
            "routes": facts.ip_json(world, container, "route", "show"),
            "own namespace": not facts.same_netns(world, container, "host1"),
            "address Docker gave it": docker_addresses(container)}


@measured
def none_reach(world, container, neighbour) -> dict:
    """From `container`: its own loopback, the internet service, host1, and a bridge `neighbour`."""
    host1 = facts.address(world, "host1")
    peer = pick_address(docker_addresses(neighbour))  # the course's one address rule
    if peer is None:
        raise LookupError(f"{neighbour.name} has no address to aim at")
    tries = {"loopback": probe(world, container, "127.0.0.1"),
             "internet": probe(world, container, str(INET_IP), "tcp", SERVICE_TCP_PORT),
             "host1": probe(world, container, host1),
             "bridge neighbour": probe(world, container, peer)}
    return {name: probe_row(name, r) for name, r in tries.items()}


@measured
def none_rejoin(world, lesson: Lesson, network: str = "bridge", disconnect: bool = True) -> dict:
    """A fresh `--network none` container of `lesson`: `docker network connect NETWORK` while it is
    attached to none, then `docker network disconnect none` (skipped if not `disconnect`: the
    container stays on none) and the same connect again, with the interfaces and addresses read
    inside it afterwards and NETWORK's subnet from `docker network inspect`."""
    client = world.hosts["host1"].docker
    for old in client.containers.list(all=True, filters={"name": f"^/{lesson.container_name('rejoin')}$"}):
        old.remove(force=True)  # a fresh one: an earlier run's is already connected
    box = lesson.box("rejoin", network_mode="none")
    connect = f"docker network connect {network} {box.name}"
    refused = facts.sh(world, "host1", connect, check=False)
    left = facts.sh(world, "host1", f"docker network disconnect none {box.name}", check=False) if disconnect else None
    joined = facts.sh(world, "host1", connect, check=False)
    subnet = ipaddress.ip_network(client.networks.get(network).attrs["IPAM"]["Config"][0]["Subnet"])
    addresses = facts.ipv4(world, box)
    return {"container": box.name, "network": network, "subnet": str(subnet),
            "commands": [shown for shown in (refused, left, joined) if shown is not None],
            "refused": refused, "disconnected": left is not None and left.returncode == 0, "joined": joined,
            "interfaces": facts.interfaces(world, box), "addresses": addresses,
            "address in the subnet": any(ipaddress.ip_interface(a).ip in subnet for a in addresses)}


@measured
def unreachable(row: dict[str, Any]) -> bool:
    """The kernel refused at once: no route ('Network is unreachable'), nothing was sent."""
    return "unreachable" in row["output"].lower()
