"""Labs 8-13, troubleshooting: each `break_*` builds a working setup, then breaks it in a hidden way.

The learner diagnoses with the course's tools (`world[role].run([...])` for `ip -j` and
`iptables-save` in a machine, `docker inspect`, probes) and fixes it. Each lab's check says what is
still wrong; its reset removes the lab's containers and networks and repairs what the break did.
"""
from __future__ import annotations

import ipaddress

from helpers.labs import state
from helpers.world import swarm
from helpers.labs.common import cli, need_attached, need_container, need_network, need_reach
from helpers.labs.model import Checks, Lab
from helpers.lessons import facts
from helpers.world.naming import IMAGE, INET_IP, ROUTER_LAN_IP, SERVICE_TCP_PORT
from helpers.world.service import parse_reply

IDLE = ["sleep", "1000000"]
WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]
START_HINT = "run the lab's start cell (or `dnlab lab start {n}`) to get the broken setup"


def _run(world, host: str, name: str, command=IDLE, **kwargs):
    return world.hosts[host].docker.containers.run(IMAGE, command, name=name, hostname=name, detach=True,
                                                   labels=world.label, **kwargs)


def _network(world, host: str, name: str, **kwargs):
    return world.hosts[host].docker.networks.create(name, labels=world.label, **kwargs)


def _container_or_start(world, c: Checks, host: str, name: str, number: int):
    return need_container(world, c, host, name, hint=START_HINT.format(n=number))


# --- 8. a missing route ---------------------------------------------------------------------------

def break_route(world) -> None:
    """lab8-app on host1's default bridge reaches the internet; then host1 loses its default route."""
    _run(world, "host1", "lab8-app")
    world["host1"].run(["ip", "route", "del", "default"])


def check_route(world, c: Checks) -> None:
    app = _container_or_start(world, c, "host1", "lab8-app", 8)
    if not app:
        return c.pending("host1 has a route towards the internet service", "lab8-app reaches the internet service")
    from helpers.path.build import lookup_route  # the path room's longest-prefix match (loads scapy)

    route = lookup_route(facts.state(world, "host1", "routes").routes, str(INET_IP))
    c.expect("host1 has a route towards the internet service", route is not None,
             f"host1 has no route towards {INET_IP}: the packets of lab8-app die in host1",
             "compare host1's routing table with lanpc's (`world[...].run(['ip', '-j', 'route'])`)",
             evidence=route and f"via {route.gateway or 'direct'} dev {route.dev}")
    need_reach(world, c, "lab8-app reaches the internet service", app, str(INET_IP), "tcp", SERVICE_TCP_PORT)


def repair_route(world) -> list[str]:
    if (facts.default_route(world, "host1") or {}).get("via") is None:
        world["host1"].run(["ip", "route", "replace", "default", "via", str(ROUTER_LAN_IP)])
        return ["default route of host1"]
    return []


# --- 9. the wrong network --------------------------------------------------------------------------

def break_network(world) -> None:
    """lab9-web on lab9-net should reach lab9-api by name; lab9-api was started on the default bridge."""
    _network(world, "host1", "lab9-net")
    _run(world, "host1", "lab9-web", network="lab9-net")
    _run(world, "host1", "lab9-api")


def check_network(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab9-net", "bridge", hint=START_HINT.format(n=9))
    web = _container_or_start(world, c, "host1", "lab9-web", 9)
    api = _container_or_start(world, c, "host1", "lab9-api", 9)
    if not (net and web and api):
        return c.pending("lab9-api is on the network lab9-web uses", "lab9-web reaches lab9-api by name")
    need_attached(c, api, "lab9-net", "compare the networks of lab9-web and lab9-api (`docker inspect`)")
    if not c.all_ok:
        return c.pending("lab9-web reaches lab9-api by name")
    need_reach(world, c, "lab9-web reaches lab9-api by name", web, "lab9-api")


# --- 10. a port not published -----------------------------------------------------------------------

def break_publish(world) -> None:
    """lab10-shop serves HTTP on port 80 and should be reachable at host1:9081; nothing is published."""
    _run(world, "host1", "lab10-shop", WEB)


def check_publish_fix(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    shop = _container_or_start(world, c, "host1", "lab10-shop", 10)
    if not shop:
        return c.pending("host1's port 9081 leads to lab10-shop", "the internet machine reaches the shop at host1:9081")
    ports = shop.attrs["NetworkSettings"].get("Ports") or {}
    published = {port: [f"{b.get('HostIp')}:{b.get('HostPort')}" for b in bindings]
                 for port, bindings in ports.items() if bindings}
    leads = any(b.get("HostPort") == "9081" for bindings in ports.values() if bindings for b in bindings)
    c.expect("host1's port 9081 leads to lab10-shop", leads,
             f"lab10-shop publishes {published or 'no port at all'}",
             f"`{cli(world, 'host1')} port lab10-shop`; published ports are fixed when a container is created",
             evidence=published)
    if not c.all_ok:
        return c.pending("the internet machine reaches the shop at host1:9081")
    need_reach(world, c, "the internet machine reaches the shop at host1:9081", "inet", host1_ip, "http", 9081,
               hint="which port of the container does the web server listen on?")


# --- 11. the MASQUERADE rule removed ------------------------------------------------------------------

def _bridge_subnet(world) -> str:
    return str(state.subnets(state.network(world.host1.docker, "bridge"))[0])


def break_masquerade(world) -> None:
    """lab11-app on the default bridge reaches the internet; then host1's MASQUERADE rule goes."""
    _run(world, "host1", "lab11-app")
    subnet = _bridge_subnet(world)
    world["host1"].run(["iptables", "-t", "nat", "-D", "POSTROUTING", "-s", subnet, "!", "-o", "docker0",
                        "-j", "MASQUERADE"])


def check_masquerade(world, c: Checks) -> None:
    app = _container_or_start(world, c, "host1", "lab11-app", 11)
    if not app:
        return c.pending("host1 rewrites the source of packets leaving the default bridge",
                         "lab11-app reaches the internet service, seen as host1")
    subnet = _bridge_subnet(world)
    rule = state.masquerade(facts.state(world, "host1", "rules"), subnet)
    c.expect("host1 rewrites the source of packets leaving the default bridge", rule is not None,
             f"nothing in host1's nat table rewrites packets from {subnet}: they leave with a container "
             "address the internet cannot answer",
             "compare `iptables-save -t nat` in host1 with the same in host2", evidence=rule)
    reached = need_reach(world, c, "lab11-app reaches the internet service", app, str(INET_IP), "tcp",
                         SERVICE_TCP_PORT, hint="capture in `inet`: which source address arrives?")
    # The rule's packet counter, read again after the probe, says whether the probe went through it.
    counted = _counted_since(world, rule, subnet) if rule is not None else None
    if rule is not None and not reached and not counted:
        c.items[-1].problem += (f"; host1's rule `{rule}` counted none of its packets: "
                                "it does not match them on their way out")
    if reached:
        # The service answers with the address it saw the client come from: independent evidence.
        host1_ip = swarm.eth0_address(world, "host1")
        try:
            seen = parse_reply(reached.output)[0]
        except ValueError:
            seen = reached.output.strip()
        through = f" (host1's MASQUERADE rule counted {counted} packet(s) of the probe)" if counted else ""
        c.expect("the internet sees lab11-app as host1", seen == host1_ip,
                 f"the internet service sees the client as {seen}",
                 "a masquerade uses the outgoing interface's address", evidence=seen + through)


def _counted_since(world, rule, subnet: str) -> int:
    """How many packets host1's masquerade rule for `subnet` counted since the snapshot of `rule`
    (NAT rules see the first packet of each connection, so one per new connection)."""
    now = state.masquerade(facts.state(world, "host1", "rules"), subnet)
    return now.packets - rule.packets if now is not None and now.key == rule.key else 0


def repair_masquerade(world) -> list[str]:
    """Put back Docker's own rule. A learner's differently written rule does not count as it (one
    that matches nothing would leave the default bridge cut off); theirs is left where it is."""
    subnet = _bridge_subnet(world)
    docker_rule = ["POSTROUTING", "-s", subnet, "!", "-o", "docker0", "-j", "MASQUERADE"]
    if world["host1"].run(["iptables", "-t", "nat", "-C", *docker_rule], check=False).returncode == 0:
        return []
    world["host1"].run(["iptables", "-t", "nat", "-A", *docker_rule])
    return ["MASQUERADE rule of host1"]


# --- 12. macvlan reached from its own host ------------------------------------------------------------

SHIM = "lab12-shim"


def _lan_plan(world) -> dict:
    """Subnet, gateway, a range for the containers and an address kept free for a host shim."""
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    hosts = list(lan.hosts())
    ip_range = ipaddress.ip_network(f"{hosts[95]}/28", strict=False)  # .96/28: far from the machines
    return {"subnet": str(lan), "gateway": (facts.default_route(world, "host1") or {}).get("via"), "ip_range": str(ip_range),
            "aux": {"host1-shim": str(ip_range[-2])}}


def break_macvlan_host(world) -> None:
    """lab12-web on a macvlan on host1's eth0: lanpc reaches it, host1 itself cannot (by design)."""
    import docker.types

    plan = _lan_plan(world)
    pool = docker.types.IPAMPool(subnet=plan["subnet"], gateway=plan["gateway"], iprange=plan["ip_range"],
                                 aux_addresses=plan["aux"])
    _network(world, "host1", "lab12-lan", driver="macvlan", options={"parent": "eth0"},
             ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    _run(world, "host1", "lab12-web", WEB, network="lab12-lan")


def check_macvlan_host(world, c: Checks) -> None:
    web = _container_or_start(world, c, "host1", "lab12-web", 12)
    address = web and state.address_on(web, "lab12-lan")
    if not address:
        if web:
            c.expect("lab12-web is on lab12-lan", False, "it is not: the setup was changed", START_HINT.format(n=12))
        return c.pending("lanpc reaches lab12-web over HTTP", "host1 reaches lab12-web over HTTP")
    need_reach(world, c, "lanpc reaches lab12-web over HTTP", "lanpc", address, "http", 80,
               hint="the container must stay where it is, on the macvlan network")
    need_reach(world, c, "host1 reaches lab12-web over HTTP", "host1", address, "http", 80,
               problem=f"host1 cannot reach {address}, though the LAN can",
               hint=f"the kernel does not pass frames between a macvlan parent and its own macvlan children; "
                    f"host1 needs another way onto that segment (name what you add {SHIM}; "
                    "`docker network inspect lab12-lan` shows an address kept for it)")


def repair_macvlan_host(world) -> list[str]:
    result = world["host1"].run(["ip", "link", "del", SHIM], check=False)
    return [f"link {SHIM} of host1"] if result.returncode == 0 else []


# --- 13. an MTU mismatch on the overlay ---------------------------------------------------------------

def break_mtu(world) -> None:
    """lab13-a (host1) and lab13-b (host2) on an overlay; lab13-a's interface gets a smaller MTU."""
    swarm.ensure(world)
    _network(world, "host1", "lab13-overlay", driver="overlay", attachable=True)
    a = _run(world, "host1", "lab13-a", network="lab13-overlay")
    _run(world, "host2", "lab13-b", network="lab13-overlay")
    a.reload()
    ifname = _overlay_interface(world, a, "lab13-overlay").name
    facts.run_in(world, a, ["ip", "link", "set", "dev", ifname, "mtu", "1280"])


def _overlay_interface(world, container, network: str):
    """The container's interface that carries its address on `network` (an observe Interface), or None."""
    address = state.address_on(container, network)
    return next((iface for iface in facts.state(world, container, "links").interfaces
                 if address and any(a.address == address for a in iface.addresses)), None)


def check_mtu(world, c: Checks) -> None:
    a = _container_or_start(world, c, "host1", "lab13-a", 13)
    b = _container_or_start(world, c, "host2", "lab13-b", 13)
    if not (a and b):
        return c.pending("lab13-a and lab13-b reach each other", "both use the overlay's MTU")
    for container in (a, b):
        need_attached(c, container, "lab13-overlay", START_HINT.format(n=13))
    if not c.all_ok:
        return c.pending("lab13-b reaches lab13-a (small packets)", "both use the overlay's MTU")
    need_reach(world, c, "lab13-b reaches lab13-a (small packets)", b, "lab13-a")
    # The overlay's MTU: the underlay's (host1's eth0) minus the 50 bytes VXLAN adds.
    expected = facts.mtu(world, "host1") - 50
    for container, other in ((a, b), (b, a)):
        found = _overlay_interface(world, container, "lab13-overlay")
        if found is None:
            c.expect(f"{container.name} uses the overlay's MTU", False, "its overlay interface is gone",
                     START_HINT.format(n=13))
            continue
        ifname, mtu = found.name, found.mtu
        c.expect(f"{container.name} uses the overlay's MTU ({expected})", mtu == expected,
                 f"{container.name}'s {ifname} has MTU {mtu}: packets from {other.name} larger than that are "
                 f"dropped silently (try a large ping)" if mtu < expected else
                 f"{container.name}'s {ifname} has MTU {mtu}, more than VXLAN over a "
                 f"{expected + 50}-byte underlay can carry",
                 "compare `ip link` in both containers; a container's interfaces are set up when it starts",
                 evidence=f"{ifname} mtu {mtu}")
    # The proof a learner would give: a packet of the overlay's full MTU gets there and back
    # (a veth drops what is larger than its own MTU, so one small MTU on either side fails it).
    need_reach(world, c, f"lab13-b reaches lab13-a with full-size packets ({expected} bytes)", b, "lab13-a",
               size=expected - 28,
               problem=f"a {expected}-byte ping (payload {expected - 28}) gets no answer, though small ones do",
               hint=f"from lab13-b: `ping -c 1 -s {expected - 28} lab13-a`; then look at both ends' MTU")


def repair_mtu(world) -> list[str]:
    return swarm.leave_if_unused(world)


LABS = [
    Lab(8, "trouble-route", "Troubleshooting: no way out",
        "`lab8-app` (host1, default bridge) reached the internet service yesterday; today it does not.",
        ["Start the lab (the start cell or `dnlab lab start 8`).",
         "Find out where the packets of `lab8-app` towards 203.0.113.10:9000 get lost.",
         "Fix it without touching `lab8-app`."],
        check_route, containers=[("host1", "lab8-app")], setup_fn=break_route, repair_fn=repair_route,
        kind="troubleshoot",
        tools="`world['host1'].run(['ip', '-j', 'route'])`, the same in `lanpc`; probes from the container."),
    Lab(9, "trouble-network", "Troubleshooting: a name that does not resolve",
        "`lab9-web` should reach `lab9-api` by name; it gets `bad address`.",
        ["Start the lab (the start cell or `dnlab lab start 9`).",
         "Find out why `lab9-web` cannot resolve `lab9-api`.",
         "Fix it so that `lab9-web` reaches `lab9-api` by name."],
        check_network, containers=[("host1", "lab9-web"), ("host1", "lab9-api")],
        networks=[("host1", "lab9-net")], setup_fn=break_network, kind="troubleshoot",
        tools="`docker inspect`, `docker network inspect`."),
    Lab(10, "trouble-publish", "Troubleshooting: the shop is closed",
        "The web server in `lab10-shop` runs, but customers on the internet cannot reach it at "
        "host1's address, port 9081.",
        ["Start the lab (the start cell or `dnlab lab start 10`).",
         "Find out why `inet` gets no answer from host1:9081.",
         "Fix it: the shop (a container called `lab10-shop`) must answer at host1:9081."],
        check_publish_fix, containers=[("host1", "lab10-shop")], setup_fn=break_publish, kind="troubleshoot",
        tools="`docker port`, `iptables-save -t nat` in host1, probes from `inet`."),
    Lab(11, "trouble-masquerade", "Troubleshooting: lost on the way back",
        "`lab11-app` on host1's default bridge gets no answer from the internet service, though host1 itself does.",
        ["Start the lab (the start cell or `dnlab lab start 11`).",
         "Find out what host1 no longer does for its containers' outgoing packets.",
         "Fix it in host1, so that the internet service sees `lab11-app` as host1."],
        check_masquerade, containers=[("host1", "lab11-app")], setup_fn=break_masquerade,
        repair_fn=repair_masquerade, kind="troubleshoot",
        tools="`world['host1'].run(['iptables-save', '-t', 'nat'])`; a capture in `inet`."),
    Lab(12, "trouble-macvlan-host", "Troubleshooting: macvlan and its own host",
        "`lab12-web` on a macvlan network answers everyone on the LAN except host1, where it runs.",
        ["Start the lab (the start cell or `dnlab lab start 12`).",
         "Confirm that `lanpc` reaches `lab12-web` and host1 does not, and find out why.",
         f"Make host1 reach `lab12-web` without moving the container; name what you add on host1 `{SHIM}`."],
        check_macvlan_host, containers=[("host1", "lab12-web")], networks=[("host1", "lab12-lan")],
        conflicting_scenarios=("macvlan",),
        setup_fn=break_macvlan_host, repair_fn=repair_macvlan_host, kind="troubleshoot",
        tools="`world['host1'].run(['ip', ...])`; `docker network inspect lab12-lan`."),
    Lab(13, "trouble-mtu", "Troubleshooting: small packets pass, large ones vanish",
        "`lab13-a` (host1) and `lab13-b` (host2) share an overlay; pings pass, large packets towards "
        "`lab13-a` never arrive.",
        ["Start the lab (the start cell or `dnlab lab start 13`; it makes the swarm if needed).",
         "Show the problem with a large ping (`ping -s 1400`) from `lab13-b` to `lab13-a`.",
         "Find out why, and fix it (keep the names `lab13-a`, `lab13-b` and the network `lab13-overlay`)."],
        check_mtu, containers=[("host1", "lab13-a"), ("host2", "lab13-b")],
        networks=[("host1", "lab13-overlay")], setup_fn=break_mtu, repair_fn=repair_mtu, kind="troubleshoot",
        tools="`docker exec ... ip link`; a capture of UDP 4789 on host1's eth0."),
]
