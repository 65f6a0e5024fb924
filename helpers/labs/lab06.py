"""Lab 6: An overlay across host1 and host2.

A swarm over host1 and host2, an attachable overlay across them. The check, its hints and the
reference solution, all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs.common import cli, in_shell, need_attached, need_container, need_network, need_reach, wait_for_name
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE


def check_overlay(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    # The engines' own view of the swarm: besides the state, who manages it and what it advertises.
    s1, s2 = (swarm.info(world.hosts[host].docker) for host in ("host1", "host2"))
    ok1 = c.expect(translate("labs:lab06:manager", "host1 is a swarm manager"),
                   s1.get("LocalNodeState") == "active" and s1.get("ControlAvailable"),
                   translate("labs:lab06:host1-state", "host1's swarm state is {state}",
                             state=s1.get("LocalNodeState") or "inactive"),
                   f"`{cli(world, 'host1')} swarm init --help`")
    if ok1:
        c.expect(translate("labs:lab06:advertises", "the swarm advertises host1's eth0 address"),
                 s1.get("NodeAddr") == host1_ip,
                 translate("labs:lab06:advertises-other", "host1 advertises {address}, which host2 cannot use",
                           address=s1.get("NodeAddr")),
                 translate("labs:lab06:advertise-hint", "the other host must reach the manager at the address it has "
                           "on the LAN (`ip -j addr` in host1)"),
                 evidence=s1.get("NodeAddr"))
    joined = translate("labs:lab06:joined", "host2 has joined host1's swarm")
    if s2.get("LocalNodeState") == "active" and ok1:
        members = {node.id for node in world.host1.docker.nodes.list()}
        c.expect(joined, s2.get("NodeID") in members,
                 translate("labs:lab06:other-swarm", "host2 is in a swarm, but not in host1's"),
                 translate("labs:lab06:other-swarm-hint", "leave it, then join host1's"))
    else:
        c.expect(joined, False,
                 translate("labs:lab06:host2-state", "host2's swarm state is {state}",
                           state=s2.get("LocalNodeState") or "inactive"),
                 translate("labs:lab06:join-hint", "host1 prints the join command (`swarm join-token worker`); run it "
                           "against host2's engine"))
    by_name = translate("labs:lab06:by-name", "lab6-b (host2) reaches lab6-a (host1) by name")
    if not c.all_ok:
        return c.pending(translate("labs:lab06:network-pending", "network lab6-overlay (overlay, attachable) exists"),
                         translate("labs:lab06:containers-pending", "lab6-a and lab6-b run on it"), by_name)
    net = need_network(world, c, "host1", "lab6-overlay", "overlay")
    if net:
        c.expect(translate("labs:lab06:attachable", "lab6-overlay is attachable"), bool(net.attrs.get("Attachable")),
                 translate("labs:lab06:not-attachable", "plain containers (not services) cannot join it"),
                 translate("labs:lab06:attachable-hint", "an overlay must be made attachable for that"))
    a = need_container(world, c, "host1", "lab6-a")
    b = need_container(world, c, "host2", "lab6-b")
    for container in (a, b):
        if container and net:
            need_attached(c, container, "lab6-overlay")
    if not c.all_ok:
        return c.pending(by_name)
    need_reach(world, c, by_name, b, "lab6-a",
               hint=translate("labs:lab06:vxlan-hint", "VXLAN travels as UDP 4789 between the hosts' eth0: {shell} "
                              "shows whether it flows",
                              shell=in_shell(world, "host1", "tcpdump -ni eth0 udp port 4789")))


def repair_overlay(world) -> list[str]:
    return swarm.leave_if_unused(world)


def solution(world):
    """docker --context $P-host1 swarm init --advertise-addr <host1 eth0>
    docker --context $P-host2 swarm join --token <worker token> <host1 eth0>:2377
    docker --context $P-host1 network create -d overlay --attachable lab6-overlay
    docker --context $P-host1 run -d --name lab6-a --network lab6-overlay dnlab/box:latest sleep 1000000
    docker --context $P-host2 run -d --name lab6-b --network lab6-overlay dnlab/box:latest sleep 1000000
    """
    # %% host1 becomes a swarm manager, advertising its LAN address. **Why a swarm:** the overlay driver
    # %%+ needs one to share the network's state between engines (which container is on which host).
    # %%+ [[engine:kv-store]] host2 must reach the manager at an address it can
    # %%+ use, hence host1's eth0 address.
    h1, h2 = world.host1.docker, world.host2.docker
    host1, host2 = facts.address(world, "host1"), facts.address(world, "host2")
    node = h1.swarm.init(advertise_addr=host1, listen_addr=f"{host1}:2377")
    print("host1 manages the swarm as node", node)
    # %% host2 joins with the worker token.
    token = h1.swarm.attrs["JoinTokens"]["Worker"]
    h2.swarm.join(remote_addrs=[f"{host1}:2377"], join_token=token, advertise_addr=host2,
                  listen_addr=f"{host2}:2377")
    facts.sh(world, "host1", "docker node ls")
    # %% An attachable overlay, and one container on each host. **Why attachable:** an overlay is made for
    # %%+ swarm services; `--attachable` lets plain `docker run` containers join it too.
    h1.networks.create("lab6-overlay", driver="overlay", attachable=True, labels=world.label)
    h1.containers.run(IMAGE, IDLE, name="lab6-a", network="lab6-overlay", detach=True, labels=world.label)
    b = h2.containers.run(IMAGE, IDLE, name="lab6-b", network="lab6-overlay", detach=True, labels=world.label)
    # %% host2's embedded DNS learns lab6-a's name from the swarm's gossip (TCP/UDP 7946), a moment after
    # %%+ `docker run` returns: wait until the name resolves there before the first ping.
    print("lab6-a known on host2:", wait_for_name(world, b, "lab6-a"))
    # %% Across the hosts, by name: the frames travel inside VXLAN (UDP 4789) between the hosts' eth0.
    print(probe(world, b, "lab6-a"))


LAB = Lab(6, "overlay", "An overlay across host1 and host2",
    "A container on host2 reaches a container on host1 by name, over VXLAN between the hosts.",
    ["Make host1 a swarm manager that advertises its eth0 address.",
     "Join host2 to that swarm.",
     "On host1, make an attachable overlay network `lab6-overlay`.",
     "Start `lab6-a` on host1 and `lab6-b` on host2, both on `lab6-overlay`.",
     "Show that `lab6-b` reaches `lab6-a` by name."],
    check_overlay, containers=[("host1", "lab6-a"), ("host2", "lab6-b")],
    networks=[("host1", "lab6-overlay")], repair_fn=repair_overlay,
    tools="`docker --context <prefix>-host2 ...` for host2; the reset leaves the swarm again.",
    summary="a swarm over host1 and host2, an attachable overlay across them",
    solution=solution)
