"""The swarm the overlay labs need: made once, left only when nothing of the world still uses it."""
from __future__ import annotations

import docker.errors

from helpers.labs import state


def ensure(world) -> None:
    """host1 a manager advertising its eth0 address, host2 a worker of it (idempotent)."""
    h1, h2 = world.host1.docker, world.host2.docker
    addr = str(state.machine_address(world, "host1").ip)
    if state.swarm_info(h1).get("LocalNodeState") != "active":
        h1.swarm.init(advertise_addr=addr, listen_addr=f"{addr}:2377")
    h1.swarm.reload()
    members = {node.id for node in h1.nodes.list()}
    info2 = state.swarm_info(h2)
    if info2.get("LocalNodeState") == "active" and info2.get("NodeID") not in members:
        h2.swarm.leave(force=True)
        info2 = {}
    if info2.get("LocalNodeState") != "active":
        addr2 = str(state.machine_address(world, "host2").ip)
        h2.swarm.join(remote_addrs=[f"{addr}:2377"], join_token=h1.swarm.attrs["JoinTokens"]["Worker"],
                      advertise_addr=addr2, listen_addr=f"{addr2}:2377")


def _overlays_in_use(client) -> list[str]:
    return [n.name for n in client.networks.list(filters={"driver": "overlay"}) if n.name != "ingress"]


def leave_if_unused(world) -> list[str]:
    """Leave the swarm on both hosts unless an overlay network (other than ingress) still exists.

    A chapter or another lab may still use the swarm; then it stays. After leaving, the
    `docker_gwbridge` network the swarm made is removed too, so the engines look fresh again.
    """
    left = []
    clients = {"host1": world.host1.docker, "host2": world.host2.docker}
    if any(_overlays_in_use(c) for c in clients.values()
           if state.swarm_info(c).get("ControlAvailable")):
        return left
    for host in ("host2", "host1"):  # the worker first, so the manager does not wait for it
        client = clients[host]
        if state.swarm_info(client).get("LocalNodeState") in ("active", "pending", "error"):
            client.swarm.leave(force=True)
            left.append(f"swarm on {host}")
        gw = state.network(client, "docker_gwbridge")
        if gw is not None and not gw.attrs.get("Containers"):
            try:
                gw.remove()
                left.append(f"network docker_gwbridge on {host}")
            except docker.errors.APIError:
                pass
    return left
