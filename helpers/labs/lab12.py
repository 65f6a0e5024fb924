"""Lab 12: Troubleshooting: everyone but its own host.

Troubleshooting: a container answers every machine on the LAN except its own host. The check, the
broken start, the staged hints, the reference solution and why it broke, all in this module (listed
in helpers/labs/registry.py).
"""
from __future__ import annotations

import ipaddress
from functools import partial

from helpers.labs import state
from helpers.labs.common import WEB, at_once, need_reach, reach
from helpers.labs.model import Checks, Lab
from helpers.labs.trouble import (
    TOOLS,
    container_or_start,
    fix_later,
    fresh_start,
    last_line,
    make_network,
    name_the_cause,
    probe_again,
    run_box,
    shell,
    stage_of,
    staged,
    start_hint,
    start_task,
)
from helpers.language import translate
from helpers.lessons import facts

# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = "host1 reaches lab12-web over HTTP"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["shim", "parent", "aux", "bridge mode"]


SHIM = "lab12-fix"  # neutral: the name must not tell what to add


def _lan_plan(world) -> dict:
    """Subnet, gateway, a range for the containers and an address kept free for a host shim."""
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    hosts = list(lan.hosts())
    ip_range = ipaddress.ip_network(f"{hosts[95]}/28", strict=False)  # .96/28: far from the machines
    return {"subnet": str(lan), "gateway": (facts.default_route(world, "host1") or {}).get("via"),
            "ip_range": str(ip_range), "aux": {"host1-shim": str(ip_range[-2])}}


def break_macvlan_host(world) -> None:
    """lab12-web on a macvlan on host1's eth0: lanpc reaches it, host1 itself cannot (by design)."""
    import docker.types

    fresh_start(world, 12)
    plan = _lan_plan(world)
    pool = docker.types.IPAMPool(subnet=plan["subnet"], gateway=plan["gateway"], iprange=plan["ip_range"],
                                 aux_addresses=plan["aux"])
    make_network(world, "host1", "lab12-lan", driver="macvlan", options={"parent": "eth0"},
             ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    run_box(world, "host1", "lab12-web", WEB, network="lab12-lan")


def host_macvlans(world, parent: str = "eth0") -> list[dict]:
    """host1's macvlan links on `parent`, whatever their names: {"name", "mode", "up", "addresses"}."""
    links = facts.ip_json(world, "host1", "-d", "addr", "show", "type", "macvlan")
    return [{"name": link["ifname"], "mode": ((link.get("linkinfo") or {}).get("info_data") or {}).get("mode"),
             "up": "UP" in (link.get("flags") or []),
             "addresses": [a["local"] for a in link.get("addr_info") or [] if a.get("family") == "inet"]}
            for link in links if link.get("link") == parent]


def _shim_problem(world, address: str) -> str:
    """What is wrong with the host's own macvlan links, as observed (empty when there is none)."""
    from helpers.path.build import lookup_route

    route = lookup_route(facts.state(world, "host1", "routes").routes, address)
    notes = []
    for link in host_macvlans(world):
        name = link["name"]
        if link["mode"] != "bridge":
            notes.append(translate("labs:lab12:link-mode", "host1's macvlan link {name} is in {mode} mode: its frames "
                                   "to lab12-web go out through eth0 to the LAN switch, which does not send a frame "
                                   "back out of the port it came in on; only in bridge mode do two macvlan links of "
                                   "one parent reach each other directly", name=name, mode=link["mode"]))
        if not link["up"]:
            notes.append(translate("labs:lab12:link-down", "host1's macvlan link {name} is down", name=name))
        if route is None or route.dev != name:
            notes.append(translate("labs:lab12:route-elsewhere", "host1's route to {address} is `{route}`: it does not "
                                   "go through {name}", address=address, route=route, name=name))
    return "; ".join(notes)


def check_macvlan_host(world, c: Checks) -> None:
    stage = stage_of(world, 12)
    symptom = LAB.say("symptom")
    web = container_or_start(world, c, "host1", "lab12-web", 12)
    address = web and state.address_on(web, "lab12-lan")
    if not address:
        if web:
            c.expect(translate("labs:lab12:on-lan", "lab12-web is on lab12-lan"), False,
                     translate("labs:lab12:setup-changed", "it is not: the setup was changed"), start_hint(world, 12))
        return c.pending(translate("labs:lab12:lanpc-http", "lanpc reaches lab12-web over HTTP"), symptom, fix_later())
    # lanpc's probe, host1's (which waits its whole timeout while the fault is there) and the look at
    # host1's links are independent: made at once.
    from_lanpc, reached, observed = at_once(partial(reach, world, "lanpc", address, "http", 80),
                                            partial(probe_again, world, "host1", address, "http", 80),
                                            partial(_shim_problem, world, address))
    lanpc = need_reach(world, c, translate("labs:lab12:lanpc-http", "lanpc reaches lab12-web over HTTP"), "lanpc",
                       address, "http", 80,
                       hint=translate("labs:lab12:stay", "the container must stay where it is, on the macvlan network"),
                       result=from_lanpc)
    problem = (translate("labs:lab12:no-answer-lanpc-ok", "host1 gets no answer from lab12-web at {address} "
                         "({output}), though lanpc on the same LAN does", address=address,
                         output=last_line(reached)) if lanpc
               else translate("labs:lab12:no-answer", "host1 gets no answer from lab12-web at {address} ({output})",
                              address=address, output=last_line(reached)))
    c.expect(symptom, reached.ok, problem, observed or staged(stage, [
                 translate("labs:lab12:hint1", "what is different between lanpc and host1, as seen from lab12-web? "
                           "look at how lab12-web is attached to the LAN: {shell}",
                           shell=shell(world, "host1", "docker network inspect lab12-lan")),
                 translate("labs:lab12:hint2", "watch host1 ask for lab12-web's MAC address: {neigh} after {curl}; "
                           "Docker's macvlan page explains who may talk to a macvlan container",
                           neigh=shell(world, "host1", "ip neigh"),
                           curl=shell(world, "host1", f"curl -sS -m 2 http://{address}/")),
                 translate("labs:lab12:hint3", "host1 needs its own way onto that segment, beside eth0 rather than "
                           "through it; `docker network inspect lab12-lan` shows an address the network keeps free "
                           "for it")]),
             evidence=last_line(reached))
    if not reached.ok:
        return c.pending(fix_later())
    shim = _check_shim(world, c, web, address)
    name_the_cause(c, translate("labs:lab12:cause", "a macvlan parent and its own macvlan children cannot talk: the "
                                "kernel hands a child's frames straight to the wire (or to a sibling), never up to "
                                "the parent's own stack, and the LAN switch does not send them back. Now host1 has "
                                "its own macvlan sibling {shim}", shim=shim))


def _check_shim(world, c: Checks, web, address: str) -> str:
    """host1 reaches lab12-web through a link named as the task asks, with an address that Docker
    will not hand to the next container (outside the network's ip-range)."""
    from helpers.path.build import lookup_route

    route = lookup_route(facts.state(world, "host1", "routes").routes, address)
    dev = route.dev if route else None
    c.expect(translate("labs:lab12:called", "host1's way onto lab12-lan is called {shim}", shim=SHIM), dev == SHIM,
             translate("labs:lab12:called-other", "host1 reaches lab12-web through {dev}; the task asks to call what "
                       "you add on host1 {shim}", dev=dev, shim=SHIM),
             translate("labs:lab12:rename", "rename it (`ip link set {dev} down; ip link set {dev} name {shim}; ip "
                       "link set {shim} up`, then its route again) or make it again with that name",
                       dev=dev, shim=SHIM),
             evidence=translate("labs:lab12:route-evidence", "route `{route}`", route=route))
    link = next((link for link in host_macvlans(world) if link["name"] == dev), None)
    addresses = link["addresses"] if link else []
    network = state.network(world.host1.docker, "lab12-lan")
    pool = ((network.attrs.get("IPAM") or {}).get("Config") or [{}])[0] if network else {}
    ip_range = ipaddress.ip_network(pool.get("IPRange") or pool.get("Subnet"), strict=False)
    kept = set((pool.get("AuxiliaryAddresses") or {}).values()) | {pool.get("Gateway")}
    # Docker hands containers the addresses of the ip-range, except those it keeps (aux, gateway).
    given = [a for a in addresses if ipaddress.ip_address(a) in ip_range and a not in kept]
    c.expect(translate("labs:lab12:address-kept", "{dev}'s address is one Docker never gives a container on lab12-lan",
                       dev=dev), bool(addresses) and not given,
             translate("labs:lab12:address-given", "{dev} has {given}, inside lab12-lan's ip-range {ip_range} and not "
                       "kept by the network: Docker does not know host1 took it and gives it to the next container on "
                       "lab12-lan, which two machines then answer for", dev=dev, given=", ".join(given),
                       ip_range=ip_range) if given
             else translate("labs:lab12:no-address", "{dev} has no IPv4 address of its own", dev=dev),
             translate("labs:lab12:aux-hint", "`docker network inspect lab12-lan` shows an address the network keeps "
                       "for the host (AuxiliaryAddresses); a free address of the LAN outside its ip-range does as "
                       "well"),
             evidence=translate("labs:lab12:address-evidence", "{addresses} (ip-range {ip_range}, kept: {kept})",
                                addresses=", ".join(addresses), ip_range=ip_range,
                                kept=", ".join(sorted(filter(None, kept)))))
    # Outside the range is not enough: the address must not be another machine's (read from each).
    others = {a.split("/")[0]: machine for machine in ("router", "host2", "lanpc") for a in facts.ipv4(world, machine)}
    clash = {a: others[a] for a in addresses if a in others}
    c.expect(translate("labs:lab12:no-clash", "{dev}'s address belongs to no other machine of the LAN", dev=dev),
             not clash,
             "; ".join(translate("labs:lab12:clash", "{dev} has {address}, which {machine} already has: two machines "
                                 "now answer for it", dev=dev, address=a, machine=machine)
                       for a, machine in clash.items()),
             translate("labs:lab12:use-aux", "use the address lab12-lan keeps for the host (`docker network inspect "
                       "lab12-lan`)"),
             evidence=", ".join(addresses))
    return f"{dev} ({', '.join(addresses) or translate('labs:lab12:no-address-short', 'no address')})"


def repair_macvlan_host(world) -> list[str]:
    """Remove every macvlan link on host1's eth0, whatever the learner called it (its routes go with it)."""
    done = []
    for link in host_macvlans(world):
        if world["host1"].run(["ip", "link", "del", link["name"]], check=False).returncode == 0:
            done.append(translate("labs:lab12:reset-link", "link {name} of host1", name=link["name"]))
    return done


def solution(world):
    """sudo .venv/bin/dnlab shell lanpc -- curl -sS -m 2 http://<lab12-web>/   # answers
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://<lab12-web>/   # does not
    sudo .venv/bin/dnlab shell host1 -- docker network inspect lab12-lan      # macvlan, parent eth0; aux address
    sudo .venv/bin/dnlab shell host1 -- ip link add lab12-fix link eth0 type macvlan mode bridge
    sudo .venv/bin/dnlab shell host1 -- ip addr add <aux address>/32 dev lab12-fix
    sudo .venv/bin/dnlab shell host1 -- ip link set lab12-fix up
    sudo .venv/bin/dnlab shell host1 -- ip route add <lab12-web>/32 dev lab12-fix
    """
    # %% The symptom: lanpc reaches lab12-web, host1 (where it runs) does not.
    web = facts.sh(world, "host1", "docker inspect -f '{{(index .NetworkSettings.Networks \"lab12-lan\").IPAddress}}' "
                                   "lab12-web").output
    print(facts.sh(world, "lanpc", f"curl -sS -m 2 http://{web}/"))
    facts.sh(world, "host1", f"curl -sS -m 2 http://{web}/", check=False)
    # %% lab12-web is a macvlan child of host1's eth0, and the network keeps an address for the host ("aux address").
    shim = facts.sh(world, "host1", "docker network inspect -f "
                                    "'{{range .IPAM.Config}}{{range .AuxiliaryAddresses}}{{.}}{{end}}{{end}}' "
                                    "lab12-lan").output
    facts.sh(world, "host1", "docker network inspect -f '{{.Driver}} {{.Options}} {{json .IPAM.Config}}' lab12-lan")
    # %% A macvlan sibling of the container on host1's eth0 (bridge mode: siblings talk directly); host1 talks
    # %%+ to the container through it.
    for command in ("ip link add lab12-fix link eth0 type macvlan mode bridge",
                    f"ip addr add {shim}/32 dev lab12-fix", "ip link set lab12-fix up",
                    f"ip route add {web}/32 dev lab12-fix"):
        print(facts.sh(world, "host1", command))
    facts.sh(world, "host1", f"curl -sS -m 2 http://{web}/")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** A macvlan child (lab12-web's interface) sits on host1's eth0 with its own MAC
address. The kernel hands a child's frames straight to the wire, or to a sibling child in bridge mode,
but never up to the parent interface's own stack; the LAN switch does not send a frame back out of the
port it came in on. So every machine on the LAN reaches lab12-web, and host1 itself cannot: this is how
macvlan is built, documented on Docker's macvlan page. A macvlan sibling on the host (a "shim") gives
host1 an interface that *is* a sibling, with an address Docker will not give a container (the
network's aux address, or any address outside its ip-range) and a route to the container through it.

**Where a real one comes from.** Every macvlan deployment where the host must reach its containers
(a monitoring agent, a reverse proxy on the host). A shim in vepa mode does not help: its frames go
out to the switch, which does not hairpin them back.

**The evidence.** lanpc reaches the container, host1 does not; `ip neigh` on host1 shows the container's
address INCOMPLETE or FAILED; `docker network inspect` shows the macvlan driver and `parent=eth0`."""

LAB = Lab(12, "trouble-all-but-host1", "Troubleshooting: everyone but its own host",
    "`lab12-web` on a macvlan network answers everyone on the LAN except host1, where it runs.",
    [start_task(12),
     "Confirm that `lanpc` reaches `lab12-web` and host1 does not, and find out why.",
     f"Make host1 reach `lab12-web` without moving the container. If you add anything on host1 for it, "
     f"call it `{SHIM}` (the check looks for that name)."],
    check_macvlan_host, containers=[("host1", "lab12-web")], networks=[("host1", "lab12-lan")],
    conflicting_scenarios=("macvlan",),
    setup_fn=break_macvlan_host, repair_fn=repair_macvlan_host, kind="troubleshoot", tools=TOOLS,
    summary="troubleshooting: a container answers every machine on the LAN except its own host",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS)
