"""Chapter 1 (basics, NAT): an engine's pools, a bridge container's view, SNAT on the way out, the
port rewrite of two flows, DNAT of a published port, an unpublished port.

One call, one idea, evidence as a dict; the chapter's claim cells decide (helpers/lessons/common.py).
"""
from __future__ import annotations

import ipaddress

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import (
    engine_drivers,
    ip_forward,
    met_rule,
    network_drivers,
    on_this_engine,
    probe_summary,
    rows_of,
    rule_trace,
    same_rule,
    show_path,
)
from helpers.lessons.lesson import Lesson, who_sees
from helpers.scenarios.endpoint import pick_address, sdk_networks
from helpers.world.guard import check_target, container_names, probe, world_networks
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

# What the chapter's notebook calls (as ch01.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "container_view", "direct_access_in_raw", "egress_snat", "engine_tour", "fresh_engine_tour",
    "inbound_dnat", "Lesson", "met_rule", "next_default_subnet_or_none", "on_this_engine",
    "port_rewrite", "raw_drops", "rows_of", "rule_trace", "same_rule", "show_path",
    "unpublished_port"
]


@measured
def engine_tour(client, label: dict[str, str], pools: int = 15, cli=None) -> dict:
    """What an engine has (networks, drivers, and `docker network ls` through `cli` if given), then
    `pools` networks made without a subnet, each with the subnet it got and the one Docker's
    documented pools predict."""
    networks = network_drivers(client)
    drivers = engine_drivers(client)
    listing = cli("network", "ls") if cli else ""
    walk = []
    used = [c["Subnet"] for n in client.api.networks() for c in (n.get("IPAM") or {}).get("Config") or []]
    for i in range(pools):
        predicted = next_default_subnet_or_none(used)
        net = client.networks.create(f"pool-{i:02d}", driver="bridge", labels=label)
        net.reload()
        got = net.attrs["IPAM"]["Config"][0]["Subnet"]
        walk.append({"network": net.name, "subnet": got, "predicted": predicted})
        used.append(got)
    return {"networks": networks, "drivers": drivers, "network_ls": listing, "pool_walk": walk}


@measured
def next_default_subnet_or_none(used: list[str]) -> str | None:
    try:
        return facts.next_default_subnet(used)
    except RuntimeError:  # the pools are exhausted: nothing is predicted
        return None


@measured
def fresh_engine_tour(world, pools: int = 15) -> dict:
    """`engine_tour` on a brand-new dockerd (scratch namespace), removed afterwards."""
    from helpers.world import scratch_engine

    with scratch_engine(world.names.world_id) as scratch:
        return engine_tour(scratch.client, world.label, pools, cli=scratch.cli)


@measured
def container_view(world, container) -> dict:
    """What a bridge container has: its own namespace, interfaces, address, default route, and
    the gateway Docker says it gave it."""
    container.reload()
    settings = next(iter(container.attrs["NetworkSettings"]["Networks"].values()))
    route = facts.default_route(world, container) or {}
    docker0 = facts.ipv4(world, "host1", "docker0")
    return {"container": container.name,
            "own_namespace": not facts.same_netns(world, container, "host1"),
            "interfaces": facts.interfaces(world, container),
            "address": facts.ipv4(world, container, "eth0"),
            "default_route_via": route.get("via"),
            "gateway_docker_says": settings.get("Gateway") or None,
            "docker0_on_host1": docker0[0].split("/")[0] if docker0 else None}


def _first(frames: list) -> dict | None:
    """Addresses, ports and TTL of the first captured frame (a decoded `Frame`), with its summary."""
    if not frames:
        return None
    f = frames[0]
    return {"src": f.src, "sport": f.sport, "dst": f.dst, "dport": f.dport, "ttl": f.ttl, "line": f.summary()}


def _seen(text: str) -> str | None:
    """The client address the internet service reported, or None if it did not answer."""
    try:
        return who_sees(text)
    except ValueError:  # not a "you are ADDR:PORT" answer
        return None


def _syn_to_service(frame) -> bool:
    """The client's SYN to the internet service (what `tcp dst port 9000 and tcp[tcpflags] == tcp-syn` keeps)."""
    return frame.proto == "tcp" and frame.dport == SERVICE_TCP_PORT and (frame.tcp_flags or "") == "S"


def _docker0_subnet(world) -> str:

    return str(ipaddress.ip_interface(facts.ipv4(world, "host1", "docker0")[0]).network)


@measured
def egress_snat(world, container) -> dict:
    """One TCP connection from a bridge container to the internet service, captured on docker0
    (before NAT) and on eth0 (after), with the MASQUERADE rule counter, the conntrack entry,
    host1's ip_forward and default route. Flat keys: a value is None where nothing was seen."""
    container.reload()
    ip = pick_address(sdk_networks(container))
    cidr = _docker0_subnet(world)
    rule = facts.masquerade_rule(world, "host1", cidr)
    counted = facts.matching(facts.iptables(world, "host1"), f"-s {cidr}", "MASQUERADE")
    before = counted[0].packets if counted else None
    result, (on_docker0, on_eth0) = facts.capture(
        world, [("host1", "docker0"), ("host1", "eth0")],
        lambda: probe(world, container, str(INET_IP), "tcp", SERVICE_TCP_PORT), keep=_syn_to_service)
    counted = facts.matching(facts.iptables(world, "host1"), f"-s {cidr}", "MASQUERADE")
    inside, outside = _first(on_docker0) or {}, _first(on_eth0) or {}
    entry = next((e for e in facts.conntrack(world, "host1", dport=SERVICE_TCP_PORT)
                  if e["original"]["src"] == ip and e["original"]["sport"] == inside.get("sport")), None)
    return {"container_ip": ip, "host1_eth0": facts.address(world, "host1"),
            "host1_default_route": facts.default_route(world, "host1"),
            "host1_route_to_inet": facts.route_to(world, "host1", str(INET_IP)),
            "ip_forward": ip_forward(world),
            "syn_on_docker0": inside.get("line"), "src_on_docker0": inside.get("src"),
            "ttl_on_docker0": inside.get("ttl"),
            "syn_on_eth0": outside.get("line"), "src_on_eth0": outside.get("src"), "ttl_on_eth0": outside.get("ttl"),
            "inet_saw": result.output.strip(), "inet_saw_address": _seen(result.output),
            "masquerade_rule": rule, "rule_packets_before": before,
            "rule_packets_after": counted[0].packets if counted else None,
            "conntrack_original": entry["original"] if entry else None,
            "conntrack_reply": entry["reply"] if entry else None}


def _connect_from_port(world, container, port: int, timeout: int = 3):
    """On host1, connect from INSIDE the container's network namespace, bound to local `port`,
    to the internet service: the command a learner types (busybox `nc -p` would ignore the port
    when it connects out, so the lab uses the host's python3 in the container's namespace)."""
    check_target(str(INET_IP), world_networks(world), container_names(world))
    client = (f"import socket; s=socket.create_connection(('{INET_IP}',{SERVICE_TCP_PORT}),{timeout},('',{port})); "
              "print(s.recv(99).decode().strip())")
    command = (f"nsenter -t $(docker inspect -f '{{{{.State.Pid}}}}' {container.name}) -n "
               f"python3 -c \"{client}\"")
    return facts.sh(world, "host1", command, check=False, head=3, timeout=timeout + 10)


@measured
def port_rewrite(world, lesson: Lesson, port: int = 40000) -> dict:
    """Two containers connect to the internet service from the *same* local port. After SNAT both
    would be host1:port -> inet:9000, one tuple; netfilter must rewrite the port (L4) of one.
    Proven by captures on docker0 and eth0 and by the conntrack entries (reply tuple port)."""
    boxes = [lesson.box(role) for role in ("same-port-a", "same-port-b")]
    for box in boxes:
        box.reload()
    ips = {box.name: pick_address(sdk_networks(box)) for box in boxes}
    # Start from an empty table for this service, so an entry of an earlier run (TIME_WAIT lasts
    # 120 s) does not take the port first.
    world["host1"].run(["conntrack", "-D", "-p", "tcp", "--dport", str(SERVICE_TCP_PORT)], check=False)
    shown, (on_docker0, on_eth0) = facts.capture(
        world, [("host1", "docker0"), ("host1", "eth0")],
        lambda: [_connect_from_port(world, box, port) for box in boxes], keep=_syn_to_service)
    entries = [e for e in facts.conntrack(world, "host1", dport=SERVICE_TCP_PORT) if e["original"]["sport"] == port]
    rows = []
    for box, run in zip(boxes, shown, strict=True):
        ip = ips[box.name]
        inside = next((f for f in on_docker0 if f.src == ip), None)
        # after NAT the source is host1 (or, without NAT, still the container): match eth0's SYN
        # to this flow through its conntrack entry's reply tuple.
        entry = next((e for e in entries if e["original"]["src"] == ip), None)
        reply_port = entry["reply"]["dport"] if entry else None
        outside = next((f for f in on_eth0 if entry and f.src == entry["reply"]["dst"] and f.sport == reply_port), None)
        rows.append({"container": box.name, "container ip": ip,
                     "source port on docker0": inside.sport if inside else None,
                     "source on eth0": f"{outside.src}:{outside.sport}" if outside else None,
                     "source port on eth0": outside.sport if outside else None,
                     "conntrack reply dport": reply_port,
                     "inet saw": run.output.strip() or None})
    return {"port": port, "connections": rows, "commands": shown}


@measured
def inbound_dnat(world, web, host_port: int) -> dict:
    """lanpc, inet and host1 itself connect to a published port: through PREROUTING's DNAT (from
    outside), nat OUTPUT's DNAT (host1 to its own LAN address), and docker-proxy (host1's 127.0.0.1)."""
    web.reload()
    dnat = [r for r in facts.dnat_rules(world, "host1") if f"--dport {host_port} " in r]
    host1 = facts.address(world, "host1")

    def packets(*fragments: str) -> int | None:
        found = facts.matching(facts.iptables(world, "host1"), *fragments)
        return found[0].packets if found else None

    before = packets(f"--dport {host_port} ", "DNAT")
    from_lan = probe(world, "lanpc", host1, "http", host_port)
    from_inet = probe(world, "inet", host1, "http", host_port)
    after = packets(f"--dport {host_port} ", "DNAT")
    output_before = packets("-A OUTPUT", "DOCKER")
    from_host1_lan = probe(world, "host1", host1, "http", host_port)
    output_after = packets("-A OUTPUT", "DOCKER")
    from_host1 = probe(world, "host1", "127.0.0.1", "http", host_port)
    output_rule = facts.matching(facts.iptables(world, "host1"), "-A OUTPUT", "DOCKER")
    return {"dnat_rule": dnat, "dnat_packets_before": before, "dnat_packets_after": after,
            "lanpc_address": facts.address(world, "lanpc"), "host1_address": host1,
            "container_saw_from_lanpc": _seen(from_lan.output),
            "container_saw_from_inet": _seen(from_inet.output),
            "output_rule": str(output_rule[0]) if output_rule else None,
            "output_packets_before": output_before, "output_packets_after": output_after,
            "container_saw_from_host1_lan_address": _seen(from_host1_lan.output),
            "container_saw_from_host1_loopback": _seen(from_host1.output),
            "docker0_address": facts.address(world, "host1", "docker0"),
            "container_address": pick_address(sdk_networks(web)),
            "docker_proxies": [p for p in facts.docker_proxies(world, "host1") if p["host_port"] == host_port]}


@measured
def direct_access_in_raw(version: str) -> bool:
    """Whether the engine drops packets to a container's own address in the raw table (the era of
    fact "direct-access" that begins at 28.0), rather than leaving it to the filter table."""
    from helpers.world import engine_facts

    return engine_facts.fact("direct-access").on(version).since != "20.10"


@measured
def raw_drops(world, address: str) -> list:
    """host1's raw-table DROP rules for traffic to `address` (`-d ADDRESS/32 ! -i BRIDGE -j DROP`)."""
    rules = facts.state(world, "host1", "rules").rules
    return [r for r in rules if r.table == "raw" and r.target == "DROP" and f"-d {address}/32" in str(r)]


def _forward_protection(world, raw_filter: bool, hidden_ip: str) -> tuple[str, bool]:
    """What drops forwarded traffic to an unpublished container port on host1, and whether it is there:
    before 28.0 the filter FORWARD policy DROP (set when dockerd turned ip_forward on itself); from
    28.0 the raw-table rule for that container's address (fact "direct-access")."""
    if raw_filter:
        return f"raw-table DROP rule for {hidden_ip} (direct access)", bool(raw_drops(world, hidden_ip))
    rules = facts.state(world, "host1", "rules").rules
    policy = next((r for r in rules if r.table == "filter" and r.is_policy and r.chain == "FORWARD"), None)
    return "filter FORWARD policy DROP", bool(policy and policy.target == "DROP")


@measured
def unpublished_port(world, lesson: Lesson, published) -> dict:
    """Route from lanpc to docker0's subnet through host1 (a LAN neighbour can add that route),
    then probe an unpublished container's port 80 and the published container's port 80 directly.
    The route is removed afterwards."""
    hidden = lesson.web("hidden")        # a web server on port 80, published nowhere
    hidden.reload(), published.reload()
    subnet, host1 = _docker0_subnet(world), facts.address(world, "host1")
    hidden_ip = hidden.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    published_ip = published.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    version = world.host1.docker.version()["Version"]
    raw_filter = direct_access_in_raw(version)
    dropped_before = sum(r.packets for r in raw_drops(world, hidden_ip))
    world["lanpc"].run(["ip", "route", "replace", subnet, "via", host1])
    try:
        route = facts.sh(world, "lanpc", f"ip route get {hidden_ip}", head=2)
        to_hidden = probe(world, "lanpc", hidden_ip, "http", 80)
        to_published = probe(world, "lanpc", published_ip, "http", 80)
    finally:
        world["lanpc"].run(["ip", "route", "del", subnet, "via", host1], check=False)
    protection, present = _forward_protection(world, raw_filter, hidden_ip)
    dropped = sum(r.packets for r in raw_drops(world, hidden_ip)) - dropped_before
    # Proof that the route delivered lanpc's packets to host1 (so the port is closed by a rule, not
    # out of reach): before 28.0 the published container answers on its own address; from 28.0 that
    # is dropped too, and the raw rule of the unpublished container's address counts lanpc's packets.
    if raw_filter:
        route_works = (f"the raw-table DROP rule for {hidden_ip} counted lanpc's packets ({dropped}): "
                       "they reached host1 (the route works)", dropped > 0)
    else:
        route_works = ("the published container's port 80 answered when addressed directly (the route works)",
                       to_published.ok)
    return {"engine": version, "route_on_lanpc": route.output.splitlines()[0],
            "lanpc_routes_via_host1": f"via {host1}" in route.output,
            "unpublished": probe_summary(to_hidden), "published_direct": probe_summary(to_published),
            "protection": protection, "protection_present": present,
            "route_works": route_works[0], "route_works_seen": route_works[1], "raw_drops_counted": dropped}
