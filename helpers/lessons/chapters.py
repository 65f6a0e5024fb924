"""Compound demonstrations the chapter notebooks call: one call, one idea, evidence as a dict.

Each function does the real thing on the lab world (probes through the guard, captures, state read
with `facts`) and returns what it saw; the notebook turns that into claims. Nothing here decides a
verdict: the cells do, with `helpers.lessons.claims`, so a claim that stops being true fails CI.
"""
from __future__ import annotations

from typing import Any

from helpers.lessons import facts
from helpers.lessons.lesson import Lesson, who_sees
from helpers.scenarios.endpoint import pick_address, sdk_networks
from helpers.world.guard import check_target, container_names, probe, world_networks
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

__all__ = ["Lesson", "fresh_engine_tour", "engine_tour", "container_view", "egress_snat", "port_rewrite",
           "inbound_dnat", "unpublished_port", "show_path", "guarded_exec", "rule_trace", "met_rule"]


# --- sending, always through the guard --------------------------------------------------------

def guarded_exec(world, container, target: str, argv: list[str]) -> tuple[int, str]:
    """Run `argv` in a container after the traffic guard accepted `target` (for commands `probe`
    has no kind for, e.g. a fixed local port or a timed transfer)."""
    check_target(target, world_networks(world), container_names(world))
    code, out = container.exec_run(argv)
    return code, out.decode(errors="replace")


# --- chapter 0 --------------------------------------------------------------------------------

def lan_members(state) -> list[str]:
    """Machines whose cable (veth pair) ends on a port of the router's LAN bridge `lan0`, read
    from an observed world (`helpers.draw.world_map.observe_world`): both the pair and the port."""
    from helpers.draw.world_map import cables

    router = {iface.name: iface for iface in state["router"].interfaces}
    found = set()
    for cable in cables(state):
        if "router" not in (cable.a, cable.b):
            continue
        other, port = (cable.b, cable.a_interface) if cable.a == "router" else (cable.a, cable.b_interface)
        if router.get(port) is not None and router[port].master == "lan0":
            found.add(other)
    return sorted(found)


def network_drivers(client) -> dict[str, str]:
    """name -> driver of every network an engine lists (what `docker network ls` shows)."""
    return {n["Name"]: n["Driver"] for n in client.api.networks()}


def engine_drivers(client) -> list[str]:
    """The network drivers an engine has (`docker info`'s Plugins.Network), sorted."""
    return sorted(client.info()["Plugins"]["Network"])


def typed_on_this_machine(command: str, timeout: float = 60) -> facts.Shown:
    """Run `command` in a shell on this machine (the root namespace, as root), shown as a terminal
    transcript: for the `dnlab shell ...` and `nsenter ...` lines a learner types to get ON a lab
    machine. It sends no packet; whatever it runs inside the lab stays in the lab's namespaces."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # the venv's dnlab
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=timeout, env=env)
    return facts.Shown("root@machine", command, (result.stdout + result.stderr).rstrip("\n"), result.returncode)


def dnlab_command(world, args: str) -> str:
    """`dnlab ARGS` as the learner types it for this world (`--world ID` unless it is the default one)."""
    return f"dnlab --world {world.names.world_id} {args}" if world.names.world_id else f"dnlab {args}"


def shell_facts(world, machine: str = "host1") -> dict:
    """What `dnlab shell MACHINE -- ...` reports: the engine `docker` talks to (its data root) and
    the machine's eth0 address (`ip -j`), with the commands shown as typed."""
    import json

    root_dir = "docker info --format '{{.DockerRootDir}}'"
    engine = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- {root_dir}"))
    shown = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- ip -4 -br addr show eth0"))
    raw = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- ip -j -4 addr show eth0")).output
    try:
        eth0 = json.loads(raw)[0]["addr_info"][0]["local"]
    except (ValueError, IndexError, KeyError):
        eth0 = None
    return {"machine": machine, "commands": [engine, shown],
            "docker_root": engine.output.strip() if engine.returncode == 0 else None, "eth0": eth0}


# --- what depends on the engine version ---------------------------------------------------------

# Each topic a chapter prints a version note for, and the facts of the engine table it renders
# (helpers/world/engine_facts.py: the course's one statement of each engine-dependent fact).
ENGINE_TOPICS = {
    "unpublished": ("direct-access", "forward-policy", "loopback-publish"),
    "loopback": ("userland-proxy",),
    "chains": ("chains",),
}


def on_this_engine(world, topic: str, host: str = "host1") -> str:
    """What holds for `topic` on the running engine (its version read now), then the course's one
    sentence on every engine, both from the engine table."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    ids = ENGINE_TOPICS[topic]
    here = "\n".join(f"This engine ({host}): {engine_facts.on_engine(i, version)}" for i in ids)
    return here + "\nAcross releases: " + " ".join(engine_facts.say(i) for i in ids)


# --- chapter 1 --------------------------------------------------------------------------------

def engine_major(world, host: str = "host1") -> int:
    """The major version of a host's engine (20 for Debian 12's 20.10, 26 for Debian 13's 26.1)."""
    return int(world.hosts[host].docker.version()["Version"].split(".")[0])


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


def next_default_subnet_or_none(used: list[str]) -> str | None:
    try:
        return facts.next_default_subnet(used)
    except RuntimeError:  # the pools are exhausted: nothing is predicted
        return None


def fresh_engine_tour(world, pools: int = 15) -> dict:
    """`engine_tour` on a brand-new dockerd (scratch namespace), removed afterwards."""
    from helpers.world import scratch_engine

    with scratch_engine(world.names.world_id) as scratch:
        return engine_tour(scratch.client, world.label, pools, cli=scratch.cli)


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
    import ipaddress

    return str(ipaddress.ip_interface(facts.ipv4(world, "host1", "docker0")[0]).network)


def ip_forward(world, host: str = "host1") -> int:
    """host's net.ipv4.ip_forward (1: it routes between its interfaces)."""
    return int(world[host].run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip())


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


def _probe_row(result) -> dict:
    """A probe as a table row: whole lines, never cut mid-word."""
    return {"from": result.source, "to": f"{result.target} ({result.kind})", "reached": result.ok,
            "output": result.output.strip().splitlines()[-1] if result.output.strip()
            else ("(no answer)" if not result.ok else "(no output)")}


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


def direct_access_in_raw(version: str) -> bool:
    """Whether the engine drops packets to a container's own address in the raw table (the era of
    fact "direct-access" that begins at 28.0), rather than leaving it to the filter table."""
    from helpers.world import engine_facts

    return engine_facts.fact("direct-access").on(version).since != "20.10"


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
            "unpublished": _probe_row(to_hidden), "published_direct": _probe_row(to_published),
            "protection": protection, "protection_present": present,
            "route_works": route_works[0], "route_works_seen": route_works[1], "raw_drops_counted": dropped}


# --- figures from the packet-path room --------------------------------------------------------

def show_path(world, scenario, probe_name: str, view: str = "L3", rules: bool = False):
    """Trace one probe of a running scenario and draw its packet path (helpers.path, helpers.draw): one
    line of verdict and rewrites, the hop-by-hop text folded under it (one click), then the figure
    (a `Drawing`: an image in the notebook whatever was imported before). `rules=True`: the kernel's
    trace of every netfilter rule the probe met too (`dnlab path ... --rules`), drawn under its rows."""
    from helpers.draw import draw_path
    from helpers.draw.display import show_folded
    from helpers.path import trace

    traced = trace(world, scenario, probe_name, rules=rules)
    show_path.last = traced  # the Path object, for a claim on its hops
    text = traced.summary()
    rewrites = [f"{r['field']} {r['before']} -> {r['after']} at {r['namespace']} {r['interface']}"
                for r in traced.rewrites()]
    headline = text.splitlines()[0] + (f"; rewritten: {'; '.join(rewrites[:2])}" if rewrites else "")
    if rules:
        text += "\n" + "\n".join(traced.rules_lines())
    show_folded(headline + ("; ..." if len(rewrites) > 2 else ""), text)
    return draw_path(traced, view=view)


def rule_trace(world, source: str, target: str, tcp: int | None = None, shown: tuple[str, ...] = ("host1",)) -> dict:
    """What `dnlab trace SOURCE TARGET [--tcp PORT] --rules` does (the same `own_trace` and `trace`),
    printed as the learner's terminal shows it, trimmed to the namespaces in `shown`: the command, the
    verdict line, then every rule the probe's own packets met there, as the kernel's trace reported
    it (helpers/observe/nftrace.py). Returns what the claims read: the rules met in `shown`, the
    DROP if one stopped the probe, and where trace and counters disagree; "path" is the Path."""
    from helpers.errors import dnlab_command
    from helpers.path import trace
    from helpers.scenarios.own import own_trace

    words = f"trace {source} {target}" + (f" --tcp {tcp}" if tcp else "") + " --rules"
    scenario = own_trace(world, source, target, "tcp" if tcp else "ping", tcp)
    path = trace(world, scenario, scenario.probe, start=False, rules=True)
    lines, keep, left = path.rules_lines(), True, 0
    trimmed = lines[:1]
    for line in lines[1:]:
        if not line.startswith("    "):   # a namespace's heading (or a closing note): keep it if shown
            keep = line.strip().split(",")[0] in shown
        if keep and not line.startswith("  no rule met in"):
            trimmed.append(line)
        else:
            left += 1
    print(f"$ {dnlab_command(words, world.names.world_id)}")
    print(path.summary().splitlines()[0])
    print("  ...  (the hops: as `dnlab path` prints them)")
    more = f"\n  ...  ({left} more line{'s' if left > 1 else ''}: the other namespaces)" if left else ""
    print("\n".join(trimmed) + more)
    met = [e for e in path.netfilter.get("rules", []) if e["namespace"] in shown]
    dropped = next((e for e in met if e["verdict"] == "DROP" and (e["acted"] or e["kind"] == "policy")), None)
    return {"command": words, "port": tcp, "reached": path.reached, "met": met,
            "decided": [e for e in met if e["acted"]], "dropped": dropped,
            "disagreements": path.netfilter.get("disagreements", []),
            "untraced": path.netfilter.get("untraced", {}), "path": path}


def met_rule(traced: dict, namespace: str, table: str, hook: str, target: str) -> dict | None:
    """The first rule of `traced` (a `rule_trace`) that acted in `namespace`'s `table` at `hook`
    with `-j target` (DNAT, MASQUERADE, ACCEPT, DROP): what the trace says decided there."""
    return next((e for e in traced["met"] if e["acted"] and e["namespace"] == namespace and e["table"] == table
                 and e["hook"] == hook and e["target"] == target), None)


def same_rule(a: str | None, b: str | None) -> bool:
    """Two rules as iptables-save prints them (spacing aside)."""
    return a is not None and b is not None and a.split() == b.split()


# --- display helpers -----------------------------------------------------------------------

def rows_of(mapping: dict[str, Any]) -> list[dict]:
    return [{"what": k, "value": v} for k, v in mapping.items()]


# --- chapter 2 --------------------------------------------------------------------------------

def bridge_device(world, host: str, name: str) -> dict:
    """Kind, state and MTU of a Linux bridge device (`ip -d -j link show`)."""
    link = facts.ip_json(world, host, "-d", "link", "show", "dev", name)[0]
    return {"name": link["ifname"], "kind": link.get("linkinfo", {}).get("info_kind"),
            "state": link.get("operstate"), "mtu": link["mtu"], "mac": link["address"]}


def learned_port(world, host: str, bridge: str, container) -> dict:
    """Which bridge port the FDB maps the container's MAC to, and which port its veth really is."""
    mac = facts.mac_of(world, container)
    peer = facts.veth_peer(world, host, container)
    learned = [e["port"] for e in facts.bridge_fdb(world, host, bridge) if e["mac"] == mac]
    return {"container": container.name, "mac": mac, "fdb_port": learned, "veth_host_end": peer["host_ifname"]}


def filter_rules(world, host: str, fragment: str) -> list[str]:
    """Lines of the filter table (`iptables-save -t filter`) that mention `fragment`."""
    return [str(r) for r in facts.matching(facts.iptables(world, host, "filter"), fragment)]


def network_subnet(network) -> str:
    network.reload()
    return network.attrs["IPAM"]["Config"][0]["Subnet"]


def daemon_dns(world, host: str = "host1") -> list[str]:
    """The `dns` setting of a host's dockerd (its daemon.json): what default-bridge containers get."""
    import json

    return json.loads(world.names.host(host).config.read_text()).get("dns", [])


def name_resolution(world, container, other: str) -> dict:
    """How `container` resolves the name of container `other`: its resolv.conf, the daemon's dns
    setting, whether its namespace DNATs 127.0.0.11 to the engine's embedded DNS, its /etc/hosts,
    and the lookup itself (nslookup, inside the lab), beside the address docker inspect gives `other`."""
    container.reload()
    network = next(iter(container.attrs["NetworkSettings"]["Networks"]))
    target = container.client.containers.get(other)
    other_ip = target.attrs["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress") or None
    nat = facts.run_in(world, container, ["iptables-save", "-t", "nat"], check=False).stdout
    _, hosts = container.exec_run(["cat", "/etc/hosts"])
    ok, text = facts.lookup(container, other)
    answer = text.split("Name:")[-1] if ok else ""
    resolved = next((line.split()[-1] for line in answer.splitlines() if line.startswith("Address")), None)
    return {"container": container.name, "network": network, "nameservers": facts.resolv_nameservers(container),
            "daemon_dns": daemon_dns(world),
            "embedded_dns_rules": [rule for rule in nat.splitlines() if "127.0.0.11" in rule and "DNAT" in rule],
            "hosts_entry": [entry for entry in hosts.decode().splitlines() if other in entry.split()[1:]],
            "lookup": f"Name: {other}  Address: {resolved}" if resolved
            else "\n".join(line for line in text.splitlines() if line.strip()),
            "resolved": resolved, "other_address": other_ip,
            **{f"lookup {k}": v or "(none)" for k, v in facts.lookup_outcome(text, other).items()}}


def isolation_rules(world, host: str = "host1") -> dict:
    """The filter chains that keep Docker bridges apart, named for the running engine's version
    (the engine table's `filter_chains`), which of them exist, and their rules (those naming docker0
    apart)."""
    from helpers.world.engine_facts import filter_chains

    expected = filter_chains(world.hosts[host].docker.version()["Version"])
    rules = facts.state(world, host, "rules").rules
    chains = {r.chain for r in rules if r.table == "filter"}
    mine = [str(r) for r in rules if r.table == "filter" and r.chain in expected and not r.is_policy]
    return {"engine": world.hosts[host].docker.version()["Version"], "expected_chains": list(expected),
            "chains_present": [c for c in expected if c in chains], "rules": mine,
            "docker0_rules": [r for r in mine if "docker0" in r.split()],
            "drop_rules": [r for r in mine if r.endswith("-j DROP")]}


def _docker_own_chain(chain: str) -> bool:
    """A chain Docker writes itself (DOCKER-USER is the administrator's, left for their rules)."""
    return chain.startswith("DOCKER") and chain != "DOCKER-USER"


def _direct_access_drop(rule, bridge: str, address: str | None) -> bool:
    """Docker 28's raw-table filter of one container: `-A PREROUTING -d ADDR/32 ! -i BRIDGE -j DROP`
    (what reaches its address from outside its bridge dies before routing; engine fact
    "direct-access")."""
    return (rule.table == "raw" and rule.chain == "PREROUTING" and rule.target == "DROP"
            and rule.in_if == bridge and "in_if" in rule.negated
            and address is not None and rule.dst in (address, f"{address}/32"))


def drops_between(before: list, after: list, bridges: tuple[str, str], target_address: str | None = None) -> dict:
    """Which rules (typed, any table) counted packets between two readings (`iptables-save -c`), and
    which of them are Docker's own DROP rules for the request's way across, from bridge
    `bridges[0]` into `bridges[1]`: in Docker's filter chains, `-o` the target bridge or `-i` the
    source one (the isolation chains, 20.10 to 28), or the raw-table filter of the target container
    (`-d target_address ! -i` its bridge, Docker 28+). A DROP of the reply (`-o` the source bridge)
    does not count: the request got through; nor does a rule of the administrator's (DOCKER-USER,
    FORWARD). Pure."""
    source, target = bridges
    old = {r.key: r.packets for r in before}
    rose = [(r, r.packets - old.get(r.key, 0)) for r in after if r.packets > old.get(r.key, 0)]

    def on_the_way_across(rule) -> bool:
        if rule.target != "DROP":
            return False
        if _direct_access_drop(rule, target, target_address):
            return True
        return rule.table == "filter" and _docker_own_chain(rule.chain) and (
            (rule.out_if == target and "out_if" not in rule.negated)
            or (rule.in_if == source and "in_if" not in rule.negated))

    return {"bridges": list(bridges),
            "counted": [f"{r} (+{n} packets)" + ("" if r.table == "filter" else f" [{r.table}]") for r, n in rose],
            "dropped_by": [str(r) + ("" if r.table == "filter" else f" [{r.table}]")
                           for r, _ in rose if on_the_way_across(r)]}


def crossing(world, source, target, host: str = "host1") -> dict:
    """`source` pings container `target` on another bridge of `host`; host1's rule counters (every
    table) are read before and after, so the DROP rule that stopped it is named by its counter, and
    ip_forward is read (with forwarding off nothing crosses, whatever the rules say)."""
    bridges = (facts.veth_peer(world, host, source)["master"], facts.veth_peer(world, host, target)["master"])
    target.reload()
    address = pick_address(sdk_networks(target))
    before = _all_rules(world, host)
    result = probe(world, source, address, "ping")
    after = _all_rules(world, host)
    return {"from": f"{source.name} ({bridges[0]})", "to": f"{target.name} {address} ({bridges[1]})",
            "reached": result.ok, "output": _probe_row(result)["output"], "ip_forward": ip_forward(world, host),
            **drops_between(before, after, bridges, address)}


def _all_rules(world, host: str) -> list:
    """Every rule of every table of `host` (`iptables-save -c`), chain policies left out."""
    return [r for r in facts.state(world, host, "rules").rules if not r.is_policy]


def internal_egress(world, lesson: Lesson, internal: bool = True) -> dict:
    """A container on a new bridge network (`--internal` by default) tries the internet service."""
    name = "internal" if internal else "not-internal"
    network = lesson.network(name, driver="bridge", internal=internal)
    inside = lesson.box(f"in-{name}", network=network.name)
    out = probe(world, inside, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    subnet = network_subnet(network)
    return {"network": network.name, "internal": network.attrs["Internal"], "subnet": subnet,
            "container": inside.name, "default_route": facts.default_route(world, inside),
            "probe": _probe_row(out), "masquerade_rule": facts.masquerade_rule(world, "host1", subnet),
            "drop_rules": [str(r) for r in facts.state(world, "host1", "rules").rules
                           if r.table == "filter" and r.target == "DROP" and subnet in str(r)]}


# --- chapter 4 --------------------------------------------------------------------------------

def swarm_ports(world, host: str = "host1") -> dict:
    """The swarm's listening sockets on a host: 2377/tcp (managers), 7946 tcp+udp (gossip),
    4789/udp (VXLAN data, a kernel socket with no process)."""
    socks = facts.listening(world, host)
    return {f"{s['port']}/{s['proto']}": s["process"] or "(kernel)" for s in socks
            if s["port"] in (2377, 7946, 4789)}


def vxlan_capture(world, scenario) -> list[dict]:
    """Capture on the router's port towards host2 while overlay-b pings overlay-a by name, and
    decode outer and inner headers with scapy."""
    b = scenario.containers("host2")["b"]
    _, (frames,) = facts.capture(world, [("router", "p-host2")],
                                 lambda: guarded_exec(world, b, f"{scenario.name}-a",
                                                      ["ping", "-c", "2", "-W", "1", f"{scenario.name}-a"]),
                                 keep=lambda f: f.vni is not None)  # UDP 4789 that decoded as VXLAN
    rows = []
    for f in frames:
        inner = f.inner
        rows.append({"outer": f"{f.src} -> {f.dst}", "udp dport": f.dport, "vni": f.vni,
                     "inner": f"{inner.src} -> {inner.dst}" if inner.is_ip else "",
                     "inner proto": "ICMP " + ("echo-request" if inner.icmp_type == 8 else "echo-reply")
                     if inner.proto == "icmp" else inner.summary(), "frame bytes": f.length})
    return rows


# --- chapter 7 --------------------------------------------------------------------------------

SIDE_BY_SIDE = ("default-bridge", "user-bridge", "host", "none", "macvlan", "overlay")


def way_out(world, container) -> dict:
    """The interface a container's default route leaves by, and that interface's subnet, read inside
    the container (`ip -j route`, `ip -j addr`). For an overlay container this is eth1 on
    docker_gwbridge: `docker inspect` lists only the overlay network, not the gateway bridge
    endpoint, so NAT must be looked up by what the kernel routes through, not by Docker's list."""
    import ipaddress

    route = facts.default_route(world, container)
    if not route:
        return {"dev": None, "subnet": None}
    cidrs = facts.ipv4(world, container, route["dev"])
    subnet = str(ipaddress.ip_interface(cidrs[0]).network) if cidrs else None
    return {"dev": route["dev"], "subnet": subnet}


def source_nat_for(rules: list, subnet: str, exit_dev: str | None, destination: str = str(INET_IP)) -> list:
    """The nat rules (typed) that would rewrite the source of traffic from `subnet` to
    `destination` leaving by `exit_dev`: any MASQUERADE or SNAT whose `-s` takes some of the subnet
    (none, a covering or overlapping one, or a negated one that leaves part of it), whose `-d` takes
    the destination and whose `-o` lets the exit through (none, `-o exit_dev`, or `! -o` another).
    So `-o eth0 -j MASQUERADE` counts, not only Docker's `-s SUBNET ! -o BRIDGE` rule. Pure."""
    import ipaddress

    net, to = ipaddress.ip_network(subnet, strict=False), ipaddress.ip_address(destination)

    def takes_source(rule) -> bool:
        if not rule.src:
            return True
        src = ipaddress.ip_network(rule.src, strict=False)
        return not net.subnet_of(src) if "src" in rule.negated else net.overlaps(src)

    def takes_destination(rule) -> bool:
        return not rule.dst or ((to in ipaddress.ip_network(rule.dst, strict=False)) != ("dst" in rule.negated))

    def takes_exit(rule) -> bool:
        if not rule.out_if:
            return True
        return (rule.out_if != exit_dev) if "out_if" in rule.negated else rule.out_if == exit_dev

    return [r for r in rules if r.target in ("MASQUERADE", "SNAT")
            and takes_source(r) and takes_destination(r) and takes_exit(r)]


def masquerade_for(world, subnet: str | None, host: str = "host1") -> list:
    """host1's MASQUERADE/SNAT rules that would apply to traffic from `subnet` on its way to the
    internet service (`source_nat_for`; typed, with packet counters)."""
    if not subnet:
        return []
    exit_dev = (facts.route_to(world, host, str(INET_IP)) or {}).get("dev")
    return source_nat_for(facts.iptables(world, host), subnet, exit_dev)


def scenario_row(world, scenario) -> dict:
    """One line of the drivers table, read live from the scenario's first container on host1,
    with the scenario's probes run in between the two counter readings."""
    from helpers.lessons.probes import run_all

    role, container = next(iter(sorted(scenario.containers("host1").items())))
    return container_row(world, scenario.name, scenario.driver, container, lambda: run_all(scenario))


def container_row(world, name: str, driver: str, container, run_probes=None) -> dict:
    """The drivers-table line of one container (`run_probes()` returns probe verdicts, or None).

    NAT is read by the container's *way out* (the subnet of its default route's interface) and by
    counters: host1's MASQUERADE rules for that subnet, and how many packets they counted while the
    probes ran (a nat rule sees only the first packet of each connection)."""
    container.reload()
    addrs = facts.ipv4(world, container)
    out = way_out(world, container)
    before = sum(r.packets for r in masquerade_for(world, out["subnet"]))
    verdicts = run_probes() if run_probes else []
    rules = masquerade_for(world, out["subnet"])
    return {"scenario": name, "driver": driver, "container": container.name,
            "docker networks": sorted(container.attrs["NetworkSettings"]["Networks"]),
            "addresses": ", ".join(addrs) or "(none)",
            "default route": (facts.default_route(world, container) or {}).get("via") or "(none)",
            "way out": f"{out['dev']} ({out['subnet']})" if out["dev"] else "(none)",
            "same netns as host1": facts.same_netns(world, container, "host1"),
            "MASQUERADE rules": [str(r) for r in rules],
            "masqueraded packets": sum(r.packets for r in rules) - before,
            "DNS": ", ".join(facts.resolv_nameservers(container)),
            "probes": " ".join(f"{v.spec.name}:{'ok' if v.ok else 'no'}{'' if v.as_expected else '(!)'}"
                               for v in verdicts) or "(none run)",
            "all as expected": all(v.as_expected for v in verdicts)}


def engine_firewall_note(world, host: str = "host1") -> str:
    """Which engine the learner is looking at, and what newer engines do with the same NAT."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    return (f"{host}'s engine is Docker {version}: its NAT is iptables rules (`iptables-save -t nat`). "
            + engine_facts.say("nftables") + " " + engine_facts.say("chains")
            + " Docker docs: 'Packet filtering and firewalls', 'Docker with nftables'.")


def measurement_cases(world, lesson: Lesson) -> list:
    """The same web server (with /small and /big) reached through each driver."""
    from helpers.lessons.measure import BIG_MB, Case
    from helpers.scenarios import get

    lesson.web("web-host", port=18081, big_mb=BIG_MB, network_mode="host")
    lesson.web("web-bridge", big_mb=BIG_MB, ports={"80/tcp": 18080})
    mv = lesson.web("web-macvlan", big_mb=BIG_MB, network="macvlan-net")
    ov = lesson.web("web-overlay", big_mb=BIG_MB, network="overlay-net")
    h1 = facts.address(world, "host1")
    mv.reload(), ov.reload()
    mv_ip = mv.attrs["NetworkSettings"]["Networks"]["macvlan-net"]["IPAddress"]
    ov_ip = ov.attrs["NetworkSettings"]["Networks"]["overlay-net"]["IPAddress"]
    overlay_b = get(world, "overlay").containers("host2")["b"]
    return [
        Case("host (lanpc -> host1:18081)", "lanpc", h1, 18081),
        Case("bridge, published, DNAT (lanpc -> host1:18080)", "lanpc", h1, 18080, "host (lanpc -> host1:18081)"),
        Case("macvlan (lanpc -> container)", "lanpc", mv_ip, 80, "host (lanpc -> host1:18081)"),
        Case("host (host1 -> 127.0.0.1:18081)", "host1", "127.0.0.1", 18081),
        Case("bridge, published, docker-proxy (host1 -> 127.0.0.1:18080)", "host1", "127.0.0.1", 18080,
             "host (host1 -> 127.0.0.1:18081)"),
        Case("host (host2 -> host1:18081)", "host2", h1, 18081),
        Case("overlay (container on host2 -> container on host1)", overlay_b, ov_ip, 80,
             "host (host2 -> host1:18081)"),
    ]


# --- chapter 8 --------------------------------------------------------------------------------

def _in_default_pools(subnet: str) -> bool:
    import ipaddress

    net = ipaddress.ip_network(subnet)
    return any(net.subnet_of(ipaddress.ip_network(base)) for base, _ in facts.DEFAULT_POOLS)


def created_network(world, name: str, host: str = "host1") -> dict:
    """What `docker network create` made: the engine's record (driver, subnet, gateway) and the
    kernel's (the Linux bridge br-<first 12 characters of the id> on the host, its addresses)."""
    network = world.hosts[host].docker.networks.get(name)
    ipam = network.attrs["IPAM"]["Config"][0]
    bridge = "br-" + network.id[:12]
    device = facts.state(world, host, "links").interface(bridge)
    return {"network": name, "id": network.id[:12], "driver": network.attrs["Driver"],
            "subnet": ipam["Subnet"], "gateway": ipam.get("Gateway"),
            "subnet in Docker's default pools": _in_default_pools(ipam["Subnet"]),
            "bridge option": network.attrs["Options"].get("com.docker.network.bridge.name"),
            "expected bridge": bridge, "bridge on host": bool(device and device.is_bridge),
            "bridge addresses": [a.address for a in device.ipv4] if device else []}


def _running_interfaces(world, container) -> dict[str, list[str]]:
    """ifname -> IPv4 CIDRs inside a container; empty when it is not running (no namespace yet)."""
    container.reload()
    if not container.attrs["State"]["Running"]:
        return {}
    return {i.name: [a.cidr for a in i.ipv4] for i in facts.state(world, container, "links").interfaces
            if i.name != "lo"}


def attachment(world, container, network_name: str, host: str = "host1") -> dict:
    """Where `docker run --network NAME` put a container: its addresses as the kernel holds them
    (inside the container), the network's subnet, and the container list of `network inspect`."""
    import ipaddress

    network = world.hosts[host].docker.networks.get(network_name)
    subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
    inside = _running_interfaces(world, container)
    listed = {v["Name"]: v["IPv4Address"] for v in (network.attrs.get("Containers") or {}).values()}
    return {"container": container.name, "network": network_name, "subnet": str(subnet),
            "addresses inside": inside,
            "addresses in the subnet": [c for cidrs in inside.values() for c in cidrs
                                        if ipaddress.ip_interface(c).ip in subnet],
            "network inspect lists": listed}


def connect_disconnect(world, container, network_name: str, host: str = "host1") -> dict:
    """`docker network connect` then `disconnect` on a container, reading its interfaces (inside
    it) and its start time after each step: a live change, or a restart in disguise?"""
    import ipaddress

    client = world.hosts[host].docker
    network = client.networks.get(network_name)
    subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
    container.reload()
    started = container.attrs["State"]["StartedAt"]
    before = _running_interfaces(world, container)
    network.connect(container)
    connected = _running_interfaces(world, container)
    network.disconnect(container)
    after = _running_interfaces(world, container)
    container.reload()
    new = {name: cidrs for name, cidrs in connected.items() if name not in before}
    return {"container": container.name, "network": network_name, "subnet": str(subnet),
            "running": container.attrs["State"]["Running"],
            "before": before, "after connect": connected, "after disconnect": after,
            "new interfaces": new,
            "new interface in the subnet": any(ipaddress.ip_interface(c).ip in subnet
                                               for cidrs in new.values() for c in cidrs),
            "same start time": container.attrs["State"]["StartedAt"] == started}


def inspect_vs_kernel(world, network_name: str, host: str = "host1") -> list[dict]:
    """For each container `docker network inspect` lists: the address and MAC it records, and
    the ones the kernel holds on the container's interface in that network (`ip -j` inside)."""
    network = world.hosts[host].docker.networks.get(network_name)
    network.reload()
    rows = []
    for cid, entry in (network.attrs.get("Containers") or {}).items():
        container = world.hosts[host].docker.containers.get(cid)
        links = facts.state(world, container, "links").interfaces
        by_mac = next((i for i in links if i.mac == entry["MacAddress"]), None)
        rows.append({"container": entry["Name"], "inspect": f"{entry['IPv4Address']} {entry['MacAddress']}",
                     "kernel": (f"{by_mac.name}: {', '.join(a.cidr for a in by_mac.ipv4) or '(no IPv4)'} {by_mac.mac}"
                                if by_mac else "(no interface with that MAC)"),
                     "agree": bool(by_mac) and entry["IPv4Address"] in [a.cidr for a in by_mac.ipv4]})
    return rows


def inspect_note(world, host: str = "host1") -> str:
    """Which engine's `inspect` the learner reads, and what newer engines add."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    return (f"{host}'s engine is Docker {version}. " + engine_facts.say("enable-ipv4") + " "
            + engine_facts.say("internal-route")
            + " Docker docs: 'docker network inspect' and 'docker network create' (CLI reference).")


def inspect_fields(network) -> list[dict]:
    """`docker network inspect`, read field by field, with what each field means."""
    network.reload()
    a = network.attrs
    meaning = {
        "Name": "the network's name", "Id": "its id (the CLI shows 12 characters)",
        "Driver": "which driver made it", "Scope": "local (one engine) or swarm (many)",
        "IPAM.Config": "subnet and gateway (given, or taken from the default pools)",
        "Internal": "true: no way out (no MASQUERADE; the default route depends on the engine: see the note above)",
        "Attachable": "swarm networks only",
        "Containers": "who is attached, with MAC and address", "Options": "driver options (e.g. parent=)",
        "Labels": "your key=value tags (filters use them)",
    }
    values = {"Name": a["Name"], "Id": a["Id"][:12], "Driver": a["Driver"], "Scope": a["Scope"],
              "IPAM.Config": a["IPAM"]["Config"], "Internal": a["Internal"], "Attachable": a["Attachable"],
              "Containers": {v["Name"]: v["IPv4Address"] for v in (a.get("Containers") or {}).values()},
              "Options": a["Options"], "Labels": a["Labels"]}
    return [{"field": k, "value": values[k], "meaning": meaning[k]} for k in values]


# --- chapter 9 --------------------------------------------------------------------------------

def _ns_inode(container, kind: str) -> int:
    """The kernel's inode of one of a container's namespaces (`readlink /proc/<pid>/ns/<kind>`)."""
    import os

    return os.stat(f"/proc/{facts._pid(container)}/ns/{kind}").st_ino


def _hostname(container) -> str:
    return container.exec_run(["hostname"]).output.decode().strip()


def pod_view(world, app, sidecar, port: int) -> dict:
    """The 'pod': do two containers share one network namespace (inode, addresses), and does the
    second reach a server the first binds to 127.0.0.1 only (probe through the guard)?"""
    from helpers.world.guard import probe

    result = probe(world, sidecar, "127.0.0.1", "http", port)
    return {"same network namespace": facts.same_netns(world, app, sidecar),
            "app addresses": facts.ipv4(world, app), "sidecar addresses": facts.ipv4(world, sidecar),
            "sidecar -> 127.0.0.1": {"reached": result.ok, "output": result.output.strip()}}


def reach_from_outside(world, outsider, app, port: int) -> dict:
    """A container outside the 'pod' tries the app's own address on `port` (through the guard)."""
    from helpers.world.guard import probe

    target = facts.address(world, app)
    result = probe(world, outsider, target, "http", port)
    return {"from": outsider.name, "to": f"{target}:{port}", "reached": result.ok, "output": result.output.strip()}


def pod_uts(world, app, sidecar, new_name: str) -> dict:
    """Network namespace shared, UTS namespace not: the two containers' namespace inodes, their
    hostnames at start (Docker copies the app's into the sidecar's config), then app's hostname
    changed inside app's own UTS namespace (`nsenter -u`) and both read again.

    The rename is refused when app's UTS namespace is the machine's own or a Docker host's (a
    container run with `--uts host` shares its engine's): renaming it would rename that machine."""
    import os
    import subprocess

    from helpers.world import engine
    from helpers.world.proc import which

    uts = (_ns_inode(app, "uts"), _ns_inode(sidecar, "uts"))
    view = {"net namespace inodes": (_ns_inode(app, "net"), _ns_inode(sidecar, "net")),
            "uts namespace inodes": uts, "hostnames at start": (_hostname(app), _hostname(sidecar))}
    # `--uts host` is the engine's UTS namespace: its Docker host's own (the lab gives each dockerd one,
    # named after its host) or, for an engine started without one, the machine's.
    hosts = {"the machine's own": os.stat("/proc/self/ns/uts").st_ino}
    for role, host in world.hosts.items():
        dockerd = engine.pid(host.paths)
        if dockerd:
            hosts[f"{role}'s own (its engine's)"] = os.stat(f"/proc/{dockerd}/ns/uts").st_ino
    owner = next((name for name, inode in hosts.items() if inode == uts[0]), None)
    if owner:
        view["rename"] = f"refused: app's UTS namespace is {owner}"
        view["hostnames after"] = view["hostnames at start"]
        return view
    command = [which("nsenter"), "-t", str(facts._pid(app)), "-u", "hostname", new_name]
    subprocess.run(command, check=True, capture_output=True, timeout=10)
    view["rename"] = f"nsenter -t <pid of {app.name}> -u hostname {new_name}"
    view["hostnames after"] = (_hostname(app), _hostname(sidecar))
    return view
