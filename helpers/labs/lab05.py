"""Lab 5: Macvlan: a container as a machine on the LAN.

A container on the LAN, reached by the plain LAN machine `lanpc`. The check, its hints and the
reference solution, all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

import ipaddress

import docker

from helpers.labs import state
from helpers.labs.common import WEB, WEB_CMD, cli, in_shell, need_container, need_network, need_reaches
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IMAGE, INET_IP, ROLES, SERVICE_TCP_PORT


def lan_machines(world, lan: ipaddress.IPv4Network) -> dict[str, str]:
    """Every lab machine's address on the LAN (router included), read from each machine's interfaces."""
    found = {}
    for role in ROLES:
        for cidr in facts.ipv4(world, role):
            address = ipaddress.ip_interface(cidr).ip
            if address in lan:
                found[str(address)] = role
    return found


def ip_ranges(net) -> list[ipaddress.IPv4Network]:
    """The `--ip-range`s of a network's address pools (Docker hands out addresses only from these)."""
    return [ipaddress.ip_network(pool["IPRange"], strict=False)
            for pool in (net.attrs.get("IPAM") or {}).get("Config") or [] if pool.get("IPRange")]


def range_problem(ranges: list[ipaddress.IPv4Network], machines: dict[str, str], address: str | None) -> str:
    """What is wrong with where lab5-web's address comes from ("" if nothing): no reserved range, a
    range that covers a machine of the LAN, or an address outside the range or taken by a machine."""
    if not address:
        return translate("labs:lab05:not-attached", "lab5-web is not attached to lab5-lan")
    if not ranges:
        return translate("labs:lab05:no-range", "lab5-lan has no `--ip-range`: Docker may hand out any address of "
                         "the LAN subnet, including the machines' ({machines}); lab5-web got {address}",
                         machines=", ".join(f"{role} {ip}" for ip, role in machines.items()), address=address)
    covered = [f"{role} ({ip})" for ip, role in machines.items()
               if any(ipaddress.ip_address(ip) in r for r in ranges)]
    if covered:
        return translate("labs:lab05:range-covers", "lab5-lan's --ip-range {ranges} covers {covered}: the next "
                         "container may get that machine's address", ranges=", ".join(map(str, ranges)),
                         covered=", ".join(covered))
    if address in machines:
        return translate("labs:lab05:address-taken", "lab5-web's address {address} is {machine}'s", address=address,
                         machine=machines[address])
    if not any(ipaddress.ip_address(address) in r for r in ranges):
        return translate("labs:lab05:outside-range", "lab5-web's address {address} lies outside lab5-lan's "
                         "--ip-range {ranges}", address=address, ranges=", ".join(map(str, ranges)))
    return ""


def check_macvlan(world, c: Checks) -> None:
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    # The LAN's router is the task's to find (host1's own default route names it): hints point there.
    find_router = in_shell(world, "host1", "ip route show default")
    net = need_network(world, c, "host1", "lab5-lan", "macvlan")
    if net:
        parent = (net.attrs.get("Options") or {}).get("parent")
        unset = translate("labs:lab05:not-set", "not set")
        c.expect(translate("labs:lab05:parent", "lab5-lan's parent is host1's eth0"), parent == "eth0",
                 translate("labs:lab05:parent-is", "its parent is {parent}", parent=parent or unset),
                 translate("labs:lab05:parent-hint", "the parent is the host interface on the LAN ({shell} shows it)",
                           shell=in_shell(world, "host1", "ip addr")))
        pools = state.subnets(net)
        c.expect(translate("labs:lab05:subnet", "lab5-lan's subnet is the LAN host1 is on"), lan in pools,
                 translate("labs:lab05:subnet-is", "its subnet is {subnet}; host1's eth0 is on {lan}",
                           subnet=", ".join(map(str, pools)) or unset, lan=lan),
                 translate("labs:lab05:subnet-hint", "a macvlan network takes the LAN's subnet and gateway ({shell} "
                           "shows them)", shell=in_shell(world, "host1", "ip route")))
    web = need_container(world, c, "host1", "lab5-web")
    answers = translate("labs:lab05:gateway-answers", "lab5-web's gateway answers")
    http = translate("labs:lab05:lanpc-http", "lanpc reaches lab5-web over HTTP")
    out = translate("labs:lab05:reaches-internet", "lab5-web reaches the internet service through the router")
    reserved = translate("labs:lab05:reserved", "lab5-web's address is in a reserved range that no LAN machine is in")
    later = (answers, http, out)
    if not (net and web) or not c.all_ok:
        return c.pending(reserved, *later)
    machines = lan_machines(world, lan)
    address = state.address_on(web, "lab5-lan")
    ranges = ip_ranges(net)
    problem = range_problem(ranges, machines, address)
    c.expect(reserved, not problem, problem,
             translate("labs:lab05:range-hint", "`--ip-range` reserves a part of the subnet for containers: pick one "
                       "that no machine's address falls in ({shell}, and the same on host1, host2 and the router, "
                       "shows each one's)", shell=in_shell(world, "lanpc", "ip addr show eth0")),
             evidence=translate("labs:lab05:range-evidence", "{address} in {ranges}; the machines are {machines}",
                                address=address, ranges=", ".join(map(str, ranges)),
                                machines=", ".join(f"{role} {ip}" for ip, role in machines.items())))
    if not c.all_ok:
        return c.pending(*later)
    route = facts.default_route(world, web) or {}
    gateway = route.get("via")
    probes = []   # independent: made at once (a gateway that does not exist waits its whole timeout)
    if gateway:
        probes.append(dict(
            what=answers, source=web, target=gateway,
            problem=translate("labs:lab05:gateway-silent", "lab5-web's default route points to {gateway}, "
                              "which does not answer", gateway=gateway),
            hint=translate("labs:lab05:gateway-hint", "a macvlan network's `--gateway` must be the LAN's "
                           "router, the one host1's own default route goes through: {shell} names it",
                           shell=find_router)))
    else:
        c.expect(answers, False, translate("labs:lab05:no-default", "lab5-web has no default route"),
                 translate("labs:lab05:give-gateway", "give lab5-lan the LAN's router as `--gateway` (host1's default "
                           "route goes through it: {shell})", shell=find_router))
    need_reaches(world, c, *probes,
                 dict(what=http, source="lanpc", target=address, kind="http", port=80,
                      hint=translate("labs:lab05:http-hint", "is `{command}` the container's command? (`{docker} logs "
                                     "lab5-web`)", command=WEB_CMD, docker=cli(world, "host1"))),
                 dict(what=out, source=web, target=str(INET_IP), kind="tcp", port=SERVICE_TCP_PORT,
                      hint=translate("labs:lab05:out-hint", "lab5-web's packets leave through its gateway {gateway}: "
                                     "is it the LAN's router, the one host1's own default route goes through? "
                                     "({shell})", gateway=gateway, shell=find_router)))


def solution(world):
    """sudo .venv/bin/dnlab shell host1     # then: ip addr show eth0; ip route   (the LAN and its router)
    docker --context $P-host1 network create -d macvlan -o parent=eth0 \\
        --subnet <LAN> --gateway <router> --ip-range <a /28 above the machines> lab5-lan
    docker --context $P-host1 run -d --name lab5-web --network lab5-lan dnlab/box:latest httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell lanpc     # then: wget -qO- http://<lab5-web's address>/
    """
    # %% Read the LAN from host1: its eth0 address and its default gateway (the router). Every machine's
    # %%+ LAN address is read too, so the range we reserve provably misses them all.
    eth0 = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0])
    gateway = facts.default_route(world, "host1")["via"]
    machines = [ipaddress.ip_address(facts.address(world, m)) for m in ("host1", "host2", "lanpc")]
    ip_range = ipaddress.ip_network(f"{eth0.network[64]}/28")
    print(eth0, gateway, ip_range, "misses", [str(m) for m in machines if m not in ip_range])
    # %% A macvlan network on host1's eth0, with the LAN's subnet and gateway. **Why each part:** a
    # %%+ macvlan container is a machine of its own on the LAN (its own MAC), so its packets go straight to
    # %%+ the LAN, not through host1: its gateway must be the LAN's real router. Docker's address manager
    # %%+ knows nothing of the LAN's other machines (there is no DHCP here; on a real LAN, ask its
    # %%+ administrator) and hands out addresses from the bottom of the subnet: `--ip-range` reserves a
    # %%+ part that no machine uses.
    client = world.host1.docker
    pool = docker.types.IPAMPool(subnet=str(eth0.network), gateway=gateway, iprange=str(ip_range))
    client.networks.create("lab5-lan", driver="macvlan", options={"parent": "eth0"},
                           ipam=docker.types.IPAMConfig(pool_configs=[pool]), labels=world.label)
    web = client.containers.run(IMAGE, WEB, name="lab5-web", network="lab5-lan", detach=True, labels=world.label)
    # %% The plain LAN machine reaches the container at its own LAN address; the container reaches the
    # %%+ internet through the router, and no NAT is involved: the internet service sees the container's
    # %%+ own LAN address as the client.
    web.reload()
    address = web.attrs["NetworkSettings"]["Networks"]["lab5-lan"]["IPAddress"]
    print(probe(world, "lanpc", address, "http", 80))
    print(probe(world, web, str(INET_IP), "tcp", 9000))


LAB = Lab(5, "macvlan", "Macvlan: a container as a machine on the LAN",
    "The plain LAN machine `lanpc` reaches a container on host1 directly at its own LAN address.",
    ["On host1, make a macvlan network `lab5-lan` on host1's LAN interface, with the LAN's subnet and "
     "gateway (the router), and an address range (`--ip-range`) that no machine of the LAN is in.",
     "Start `lab5-web` on it with the command `httpd -f -p 80 -h /www`.",
     "From `lanpc`, fetch `http://<lab5-web's address>/`; from `lab5-web`, reach the internet service "
     "(203.0.113.10, TCP 9000) through the router."],
    check_macvlan, containers=[("host1", "lab5-web")], networks=[("host1", "lab5-lan")],
    conflicting_scenarios=("macvlan",),
    tools="`{dnlab} shell host1`, then `ip addr` and `ip route`, show the LAN and its router.",
    summary="a container on the LAN, reached by the plain LAN machine `lanpc`",
    solution=solution)
