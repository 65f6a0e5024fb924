"""Labs 1-7: build something that works (the troubleshooting labs are in `troubleshoot`)."""
from __future__ import annotations

import ipaddress

from helpers.labs import state
from helpers.labs.common import cli, in_shell, need_attached, need_container, need_network, need_only_on, need_reach
from helpers.labs.model import Checks, Lab
from helpers.lessons import facts
from helpers.world import engine_facts, swarm
from helpers.world.naming import IMAGE, INET_IP, ROLES, SERVICE_TCP_PORT

WEB_CMD = "httpd -f -p 80 -h /www"


# --- 1. user-defined bridge ----------------------------------------------------------------------

EMBEDDED_DNS = "127.0.0.11"  # Docker's resolver inside every container on a user-defined network


def need_embedded_dns(world, c: Checks, client, name: str, target, network: str) -> bool:
    """Item: `client` finds `name` through Docker's embedded DNS, and that answer is the target's
    address on `network`. The problem names what was seen instead: an /etc/hosts entry (written by
    `--link` or `--add-host`, read before any DNS), another resolver, or a wrong answer."""
    expected = state.address_on(target, network)
    hosts = state.hosts_entries(client, name)
    servers = facts.resolv_nameservers(client)
    answers = state.dns_answers(client, name, EMBEDDED_DNS) if EMBEDDED_DNS in servers else []
    what = f"{client.name} finds {name} through Docker's embedded DNS ({EMBEDDED_DNS})"
    if hosts:
        return c.expect(
            what, False,
            f"{client.name}'s /etc/hosts maps {name} to {', '.join(hosts)}: an entry written by `--link` "
            "(or `--add-host`), which is read before any DNS server is asked",
            f"`--link` is the default bridge's old way to name containers; on {network} the embedded DNS "
            f"does it. Start {client.name} again on {network} without `--link` "
            f"(`{cli(world, 'host1')} rm -f {client.name}`, then `... run --network {network} ...`)")
    if EMBEDDED_DNS not in servers:
        return c.expect(what, False, f"{client.name}'s /etc/resolv.conf names {', '.join(servers) or 'no server'}",
                        f"only containers on a user-defined network get {EMBEDDED_DNS} as their resolver")
    return c.expect(what, expected in answers,
                    f"{EMBEDDED_DNS} answers {name} with {', '.join(answers) or 'nothing'}; "
                    f"{name}'s address on {network} is {expected}",
                    f"the embedded DNS answers with the address on the network both containers share "
                    f"(`{cli(world, 'host1')} exec {client.name} nslookup {name}`)",
                    evidence=f"{EMBEDDED_DNS} answers {name} = {expected}")


def check_user_bridge(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab1-net", "bridge")
    web = need_container(world, c, "host1", "lab1-web")
    client = need_container(world, c, "host1", "lab1-client")
    for container in (web, client):
        if container and net:
            need_attached(c, container, "lab1-net", "`--network` when the container starts, or "
                                                    "`docker network connect` afterwards")
    if not c.all_ok:
        return c.pending("lab1-client finds lab1-web through Docker's embedded DNS (127.0.0.11)",
                         "lab1-client reaches lab1-web by its name")
    if not need_embedded_dns(world, c, client, "lab1-web", web, "lab1-net"):
        return c.pending("lab1-client reaches lab1-web by its name")
    need_reach(world, c, "lab1-client reaches lab1-web by its name", client, "lab1-web",
               hint=f"the name resolves; does lab1-web answer pings? (`{cli(world, 'host1')} exec lab1-client "
                    "ping -c 1 lab1-web`)")


# --- 2. publish a port ------------------------------------------------------------------------------

PUBLISHED = 9080


def publish_problem(ports: dict, host1_ip: str) -> tuple[str, str]:
    """(problem, hint) for a lab2-web whose port 80 is not reachable as host1:9080, chosen from its
    published ports (`NetworkSettings.Ports`) as the engine reports them."""
    bindings = ports.get("80/tcp") or []
    others = {key: value for key, value in ports.items() if value and key != "80/tcp"}
    shown = ", ".join(f"{b.get('HostIp') or '*'}:{b.get('HostPort')}" for b in bindings)
    if not bindings and others:
        published = "; ".join(f"{key} as {', '.join(b.get('HostPort', '') for b in value)}"
                              for key, value in others.items())
        return (f"lab2-web publishes its port {published}, not its port 80, where the web server listens",
                "`-p HOSTPORT:CONTAINERPORT`: host1's port first, the container's second")
    if not bindings:
        return ("lab2-web publishes nothing for its port 80/tcp",
                "ports are published when a container is created (`-p`, or `ports=` in the SDK): "
                "remove lab2-web and run it again with one")
    on_9080 = [b for b in bindings if b.get("HostPort") == str(PUBLISHED)]
    if not on_9080:
        return (f"lab2-web's port 80 is published as {shown}, not as host1's port {PUBLISHED}",
                "`-p HOSTPORT:CONTAINERPORT`: host1's port first, the container's second")
    addresses = sorted({b.get("HostIp") or "" for b in on_9080})
    if all(ipaddress.ip_address(a).is_loopback for a in addresses if a):
        return (f"lab2-web's port 80 is published on {shown}: host1's loopback, meant for host1 alone; "
                "the internet service cannot reach it",
                f"an address in `-p ADDRESS:{PUBLISHED}:80` limits where the port listens; leave it out "
                f"(all of host1's addresses) or give host1's eth0 address ({host1_ip})")
    return (f"lab2-web's port 80 is published on {shown}, an address that is not host1's eth0 ({host1_ip})",
            f"leave the address out of `-p` (all of host1's addresses) or give {host1_ip}")


def check_publish(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    web = need_container(world, c, "host1", "lab2-web")
    if not web:
        return c.pending("lab2-web serves HTTP on its port 80", "host1's port 9080 leads to lab2-web's port 80",
                         "the internet machine reaches lab2-web through host1:9080")
    need_reach(world, c, "lab2-web serves HTTP on its port 80", web, "127.0.0.1", "http", 80,
               problem="nothing answers HTTP on port 80 inside lab2-web",
               hint=f"the lab image's busybox has a web server: `{WEB_CMD}` as the container's command")
    ports = web.attrs["NetworkSettings"].get("Ports") or {}
    bindings = ports.get("80/tcp") or []
    public = [b for b in bindings if b.get("HostPort") == str(PUBLISHED)
              and b.get("HostIp") in ("", "0.0.0.0", "::", host1_ip)]
    problem, hint = ("", "") if public else publish_problem(ports, host1_ip)
    c.expect("host1's port 9080 leads to lab2-web's port 80", bool(public), problem, hint,
             evidence=", ".join(f"{b.get('HostIp')}:{b.get('HostPort')}" for b in bindings))
    if not c.all_ok:
        return c.pending("the internet machine reaches lab2-web through host1:9080")
    need_reach(world, c, "the internet machine reaches lab2-web through host1:9080", "inet", host1_ip,
               "http", PUBLISHED,
               hint="host1 must forward its port 9080 to lab2-web: "
                    + in_shell(world, "host1", f"iptables-save -t nat | grep {PUBLISHED}") + " shows the DNAT rule")


# --- 3. isolation ------------------------------------------------------------------------------------

MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"


def not_internal_problem(net) -> str:
    """Why a plain bridge is not cut off, from the network's own settings (gateway, masquerade)."""
    pools = (net.attrs.get("IPAM") or {}).get("Config") or []
    gateways = [pool.get("Gateway") for pool in pools if pool.get("Gateway")]
    gateway = f" ({', '.join(gateways)})" if gateways else ""
    text = (f"{net.name} is not internal: Docker gave it a gateway{gateway} on host1, and host1 routes its "
            "containers' packets out")
    if (net.attrs.get("Options") or {}).get(MASQUERADE_OPTION) == "false":
        text += (f"; `{MASQUERADE_OPTION}=false` only stops the source rewrite: the packets still leave host1, "
                 "with their private source address, and no answer finds its way back")
    return text


def outside_hint(world, container_obj, network: str) -> str:
    """What lets `container_obj` out, as seen: another network it is on, or its default route."""
    extra = sorted(set(state.networks_of(container_obj)) - {network})
    if extra:
        return (f"{container_obj.name} is also on {', '.join(extra)}, which has a way out "
                f"(`{cli(world, 'host1')} network disconnect {extra[0]} {container_obj.name}`)")
    route = facts.default_route(world, container_obj)
    if route:
        # An internal network's containers keep a default route on some engines: what stops their
        # packets is host1's filter rules for the bridge, so that is where to look.
        return (f"{container_obj.name}'s packets leave through its default route via {route['via']}, and "
                "nothing on host1 drops them: " + in_shell(world, "host1", "iptables-save -t filter")
                + f" shows the rules Docker made for {network}")
    return f"`{cli(world, 'host1')} network inspect {network}` shows how it is set up"


def check_isolation(world, c: Checks) -> None:
    alone = need_container(world, c, "host1", "lab3-alone")
    if alone:
        attached = sorted(state.networks_of(alone))
        c.expect("lab3-alone is on the none network and nothing else", attached == ["none"],
                 f"lab3-alone is on {', '.join(attached) or 'no network'}",
                 "`--network none` when it starts; or `docker network disconnect` it from each network, then "
                 "`docker network connect none lab3-alone` (Docker refuses `none` beside another network)",
                 evidence=f"network mode {alone.attrs['HostConfig']['NetworkMode']}")
        names = sorted(facts.interfaces(world, alone))
        c.expect("lab3-alone has no interface but loopback", names == ["lo"],
                 f"it has the interfaces {', '.join(names)}",
                 "a container's interfaces come from its networks: `docker inspect lab3-alone` lists them",
                 evidence=", ".join(names))
        need_reach(world, c, "lab3-alone cannot reach the internet service", alone, str(INET_IP), "tcp",
                   SERVICE_TCP_PORT, expect=False, hint=outside_hint(world, alone, "none"))
    net = need_network(world, c, "host1", "lab3-internal", "bridge")
    if net:
        c.expect("lab3-internal is internal (no way out of the host)", bool(net.attrs.get("Internal")),
                 not_internal_problem(net),
                 "`docker network create --help` lists the option that keeps a network's traffic inside the host",
                 evidence="Internal: true")
    a = need_container(world, c, "host1", "lab3-a")
    b = need_container(world, c, "host1", "lab3-b")
    for container in (a, b):
        if container and net:
            need_attached(c, container, "lab3-internal")
    if not (a and b and net) or not c.all_ok:
        return c.pending("lab3-a reaches lab3-b by name", "lab3-a cannot reach the internet service")
    need_reach(world, c, "lab3-a reaches lab3-b by name", a, "lab3-b")
    need_reach(world, c, "lab3-a cannot reach the internet service", a, str(INET_IP), "tcp", SERVICE_TCP_PORT,
               expect=False, hint=outside_hint(world, a, "lab3-internal"))


# --- 4. one container on two networks ------------------------------------------------------------

def two_networks_hint(world) -> str:
    """How lab4-app gets onto both networks on host1's engine: whether two `--network` flags in one
    `docker run` work there is the engine table's to say (fact multiple-networks), read for the version
    host1 runs."""
    version = world.host1.docker.version()["Version"]
    era = engine_facts.fact("multiple-networks").on(version)
    return (f"start lab4-app from {IMAGE} on both networks (`{cli(world, 'host1')} run --name lab4-app ...`). "
            f"On host1's engine (Docker {version}) two `--network` flags in one `docker run` are {era.value}")


def check_two_networks(world, c: Checks) -> None:
    front = need_network(world, c, "host1", "lab4-front", "bridge")
    back = need_network(world, c, "host1", "lab4-back", "bridge")
    web = need_container(world, c, "host1", "lab4-web")
    db = need_container(world, c, "host1", "lab4-db")
    app = need_container(world, c, "host1", "lab4-app", hint=two_networks_hint(world))
    if front and back:
        if web:
            need_only_on(c, web, {"lab4-front"})
        if db:
            need_only_on(c, db, {"lab4-back"})
        if app:
            need_only_on(c, app, {"lab4-front", "lab4-back"})
    if not c.all_ok:
        return c.pending("lab4-app reaches lab4-web by name", "lab4-app reaches lab4-db by name",
                         "lab4-web cannot reach lab4-db, even by address")
    need_reach(world, c, "lab4-app reaches lab4-web by name", app, "lab4-web")
    need_reach(world, c, "lab4-app reaches lab4-db by name", app, "lab4-db")
    need_reach(world, c, "lab4-web cannot reach lab4-db, even by address", web,
               state.address_on(db, "lab4-back"), expect=False)


# --- 5. macvlan on the LAN ---------------------------------------------------------------------------

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
        return "lab5-web is not attached to lab5-lan"
    if not ranges:
        return (f"lab5-lan has no `--ip-range`: Docker may hand out any address of the LAN subnet, "
                f"including the machines' ({', '.join(f'{role} {ip}' for ip, role in machines.items())}); "
                f"lab5-web got {address}")
    covered = [f"{role} ({ip})" for ip, role in machines.items()
               if any(ipaddress.ip_address(ip) in r for r in ranges)]
    if covered:
        return (f"lab5-lan's --ip-range {', '.join(map(str, ranges))} covers {', '.join(covered)}: "
                "the next container may get that machine's address")
    if address in machines:
        return f"lab5-web's address {address} is {machines[address]}'s"
    if not any(ipaddress.ip_address(address) in r for r in ranges):
        return f"lab5-web's address {address} lies outside lab5-lan's --ip-range {', '.join(map(str, ranges))}"
    return ""


def check_macvlan(world, c: Checks) -> None:
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    # The LAN's router is the task's to find (host1's own default route names it): hints point there.
    find_router = in_shell(world, "host1", "ip route show default")
    net = need_network(world, c, "host1", "lab5-lan", "macvlan")
    if net:
        parent = (net.attrs.get("Options") or {}).get("parent")
        c.expect("lab5-lan's parent is host1's eth0", parent == "eth0", f"its parent is {parent or 'not set'}",
                 "the parent is the host interface on the LAN (" + in_shell(world, "host1", "ip addr") + " shows it)")
        pools = state.subnets(net)
        c.expect("lab5-lan's subnet is the LAN host1 is on", lan in pools,
                 f"its subnet is {', '.join(map(str, pools)) or 'not set'}; host1's eth0 is on {lan}",
                 "a macvlan network takes the LAN's subnet and gateway (" + in_shell(world, "host1", "ip route")
                 + " shows them)")
    web = need_container(world, c, "host1", "lab5-web")
    later = ("lab5-web's gateway answers", "lanpc reaches lab5-web over HTTP",
             "lab5-web reaches the internet service through the router")
    if not (net and web) or not c.all_ok:
        return c.pending("lab5-web's address is in a reserved range that no LAN machine is in", *later)
    machines = lan_machines(world, lan)
    address = state.address_on(web, "lab5-lan")
    ranges = ip_ranges(net)
    problem = range_problem(ranges, machines, address)
    c.expect("lab5-web's address is in a reserved range that no LAN machine is in", not problem, problem,
             "`--ip-range` reserves a part of the subnet for containers: pick one that no machine's address "
             "falls in (" + in_shell(world, "lanpc", "ip addr show eth0") + ", and the same on host1, host2 and "
             "the router, shows each one's)",
             evidence=f"{address} in {', '.join(map(str, ranges))}; the machines are "
                      + ", ".join(f"{role} {ip}" for ip, role in machines.items()))
    if not c.all_ok:
        return c.pending(*later)
    route = facts.default_route(world, web) or {}
    gateway = route.get("via")
    if gateway:
        need_reach(world, c, "lab5-web's gateway answers", web, gateway,
                   problem=f"lab5-web's default route points to {gateway}, which does not answer",
                   hint="a macvlan network's `--gateway` must be the LAN's router, the one host1's own default "
                        f"route goes through: {find_router} names it")
    else:
        c.expect("lab5-web's gateway answers", False, "lab5-web has no default route",
                 f"give lab5-lan the LAN's router as `--gateway` (host1's default route goes through it: "
                 f"{find_router})")
    need_reach(world, c, "lanpc reaches lab5-web over HTTP", "lanpc", address, "http", 80,
               hint=f"is `{WEB_CMD}` the container's command? (`{cli(world, 'host1')} logs lab5-web`)")
    need_reach(world, c, "lab5-web reaches the internet service through the router", web, str(INET_IP), "tcp",
               SERVICE_TCP_PORT, hint=f"lab5-web's packets leave through its gateway {gateway}: is it the LAN's "
                                      f"router, the one host1's own default route goes through? ({find_router})")


# --- 6. overlay across two hosts ---------------------------------------------------------------------

def check_overlay(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    # The engines' own view of the swarm: besides the state, who manages it and what it advertises.
    s1, s2 = (swarm.info(world.hosts[host].docker) for host in ("host1", "host2"))
    ok1 = c.expect("host1 is a swarm manager", s1.get("LocalNodeState") == "active" and s1.get("ControlAvailable"),
                   f"host1's swarm state is {s1.get('LocalNodeState') or 'inactive'}",
                   f"`{cli(world, 'host1')} swarm init --help`")
    if ok1:
        c.expect("the swarm advertises host1's eth0 address", s1.get("NodeAddr") == host1_ip,
                 f"host1 advertises {s1.get('NodeAddr')}, which host2 cannot use",
                 "the other host must reach the manager at the address it has on the LAN (`ip -j addr` in host1)",
                 evidence=s1.get("NodeAddr"))
    if s2.get("LocalNodeState") == "active" and ok1:
        members = {node.id for node in world.host1.docker.nodes.list()}
        c.expect("host2 has joined host1's swarm", s2.get("NodeID") in members,
                 "host2 is in a swarm, but not in host1's", "leave it, then join host1's")
    else:
        c.expect("host2 has joined host1's swarm", False,
                 f"host2's swarm state is {s2.get('LocalNodeState') or 'inactive'}",
                 "host1 prints the join command (`swarm join-token worker`); run it against host2's engine")
    if not c.all_ok:
        return c.pending("network lab6-overlay (overlay, attachable) exists", "lab6-a and lab6-b run on it",
                         "lab6-b (host2) reaches lab6-a (host1) by name")
    net = need_network(world, c, "host1", "lab6-overlay", "overlay")
    if net:
        c.expect("lab6-overlay is attachable", bool(net.attrs.get("Attachable")),
                 "plain containers (not services) cannot join it", "an overlay must be made attachable for that")
    a = need_container(world, c, "host1", "lab6-a")
    b = need_container(world, c, "host2", "lab6-b")
    for container in (a, b):
        if container and net:
            need_attached(c, container, "lab6-overlay")
    if not c.all_ok:
        return c.pending("lab6-b (host2) reaches lab6-a (host1) by name")
    need_reach(world, c, "lab6-b (host2) reaches lab6-a (host1) by name", b, "lab6-a",
               hint="VXLAN travels as UDP 4789 between the hosts' eth0: "
                    + in_shell(world, "host1", "tcpdump -ni eth0 udp port 4789") + " shows whether it flows")


def repair_overlay(world) -> list[str]:
    return swarm.leave_if_unused(world)


# --- 7. the pod model ----------------------------------------------------------------------------------

POD_PORT = 8080


def shares_namespace_hint(pod, app) -> str:
    """Why two containers that were set up to share a namespace no longer do, from their start times."""
    if state.started_at(pod) > state.started_at(app):
        return (f"lab7-pod was started again ({pod.attrs['State']['StartedAt'][:19]}) after lab7-app "
                f"({app.attrs['State']['StartedAt'][:19]}): it got a new network namespace and lab7-app still "
                "holds the old one. Restart lab7-app too (`docker restart lab7-app`): it then joins the new one")
    return "restart lab7-app (`docker restart lab7-app`): it joins lab7-pod's namespace as it is now"


def need_server_of(world, c: Checks, pod, app, port: int) -> bool:
    """Item: the process listening on `port` in the pod's namespace is one of `app`'s processes
    (`ss -ltnp` there, against `docker top lab7-app`), not one started inside the pod container."""
    what = f"the server on port {port} is lab7-app's own process"
    found = state.listeners(world, pod, port)
    app_pids, pod_pids = state.process_ids(app), state.process_ids(pod)
    mine = [(pid, command) for pid, command in found if pid in app_pids]
    if mine:
        return c.expect(what, True, evidence=f"{mine[0][1]} pid {mine[0][0]}, in `docker top lab7-app`")
    if not found:
        problem = f"nothing listens on port {port} in lab7-pod's network namespace"
    else:
        owners = ", ".join(f"{command} (pid {pid}, a process of "
                           f"{'lab7-pod' if pid in pod_pids else 'neither container'})" for pid, command in found)
        problem = f"port {port} is served by {owners}, not by lab7-app"
    return c.expect(what, False, f"{problem}; lab7-app runs `{state.command_of(app)}`",
                    f"in a pod each container runs its own program: lab7-app's own command must be the web "
                    f"server (`httpd -f -p {port} -h /www`), so remove lab7-app and run it again with it")


def check_pod(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab7-net", "bridge")
    pod = need_container(world, c, "host1", "lab7-pod")
    app = need_container(world, c, "host1", "lab7-app")
    peer = need_container(world, c, "host1", "lab7-peer")
    if net and pod:
        need_attached(c, pod, "lab7-net")
    if net and peer:
        need_attached(c, peer, "lab7-net")
    if pod and app:
        mode = app.attrs["HostConfig"]["NetworkMode"]
        # The engine stores the full id whatever the learner typed (name, short id).
        shares = mode in (f"container:{pod.id}", "container:lab7-pod")
        c.expect("lab7-app shares lab7-pod's network namespace", shares,
                 f"lab7-app's network mode is {mode}",
                 "the network mode is chosen at start (`--network container:lab7-pod`); "
                 "Kubernetes pods work the same way", evidence=mode[:22])
        if shares:
            c.expect("lab7-app and lab7-pod see one and the same namespace",
                     facts.same_netns(world, app, pod),
                     f"their /proc/PID/ns/net differ (lab7-pod {state.netns_inode(pod)}, "
                     f"lab7-app {state.netns_inode(app)})",
                     shares_namespace_hint(pod, app), evidence=f"netns inode {state.netns_inode(pod)}")
    later = (f"lab7-pod reaches lab7-app's web server on 127.0.0.1:{POD_PORT}",
             f"lab7-peer reaches lab7-app through the name lab7-pod, port {POD_PORT}")
    if not c.all_ok:
        return c.pending(f"the server on port {POD_PORT} is lab7-app's own process", *later)
    if not need_server_of(world, c, pod, app, POD_PORT):
        return c.pending(*later)
    need_reach(world, c, later[0], pod, "127.0.0.1", "http", POD_PORT,
               hint=f"lab7-app's web server listens; `{cli(world, 'host1')} logs lab7-app` shows its errors")
    need_reach(world, c, later[1], peer, "lab7-pod", "http", POD_PORT,
               hint="lab7-peer must share a network with lab7-pod (`docker network inspect lab7-net`)")


LABS = [
    Lab(1, "user-bridge", "A user-defined bridge with name resolution",
        "Two containers on a network of your own find each other by name.",
        ["On host1, make a bridge network called `lab1-net`.",
         "Start two containers from `dnlab/box:latest` on it, called `lab1-web` and `lab1-client` "
         "(a command that keeps running, e.g. `sleep 1000000`).",
         "Show that `lab1-client` reaches `lab1-web` by its name, which Docker's DNS on `lab1-net` resolves."],
        check_user_bridge, containers=[("host1", "lab1-web"), ("host1", "lab1-client")],
        networks=[("host1", "lab1-net")],
        tools="`docker --context <prefix>-host1 ...` in a terminal, or `world.host1.docker` here; "
              "`docker exec lab1-client ping -c 1 lab1-web`."),
    Lab(2, "publish-port", "Publish a port and reach it from the internet",
        "A web server in a container on host1 answers requests coming from the internet machine.",
        ["On host1, start `lab2-web` from `dnlab/box:latest` with the command `httpd -f -p 80 -h /www`.",
         "Publish its port 80 as port 9080 of host1.",
         "From the internet machine (`inet`), fetch `http://<host1's eth0 address>:9080/`: in a terminal "
         "`{dnlab} shell inet`, then `wget -qO- http://<address>:9080/`; here "
         "`probe(world, 'inet', <address>, 'http', 9080)`."],
        check_publish, containers=[("host1", "lab2-web")],
        tools="`{dnlab} shell host1`, then `ip addr show eth0` gives host1's address; "
              "`docker port lab2-web` shows what is published."),
    Lab(3, "isolation", "Isolate containers: none and --internal",
        "One container with no network at all, and two that talk to each other but not to the outside.",
        ["On host1, start `lab3-alone` with the `none` network (`--network none`; Docker does not connect "
         "`none` beside another network).",
         "Make a bridge network `lab3-internal` that has no way out of the host.",
         "Start `lab3-a` and `lab3-b` on it.",
         "Show that `lab3-a` reaches `lab3-b` by name, and that neither `lab3-a` nor `lab3-alone` reaches "
         "the internet service (203.0.113.10, TCP 9000)."],
        check_isolation, containers=[("host1", "lab3-alone"), ("host1", "lab3-a"), ("host1", "lab3-b")],
        networks=[("host1", "lab3-internal")],
        tools="`docker network inspect lab3-internal`; `docker exec lab3-a ip route`."),
    Lab(4, "two-networks", "One container on two networks",
        "An app in the middle talks to a front and a back network; the two sides stay apart.",
        ["On host1, make bridge networks `lab4-front` and `lab4-back`.",
         "Start `lab4-web` on `lab4-front` only and `lab4-db` on `lab4-back` only.",
         "Start `lab4-app` on both networks.",
         "Show that `lab4-app` reaches both by name and that `lab4-web` cannot reach `lab4-db`."],
        check_two_networks, containers=[("host1", "lab4-web"), ("host1", "lab4-db"), ("host1", "lab4-app")],
        networks=[("host1", "lab4-front"), ("host1", "lab4-back")]),
    Lab(5, "macvlan", "Macvlan: a container as a machine on the LAN",
        "The plain LAN machine `lanpc` reaches a container on host1 directly at its own LAN address.",
        ["On host1, make a macvlan network `lab5-lan` on host1's LAN interface, with the LAN's subnet and "
         "gateway (the router), and an address range (`--ip-range`) that no machine of the LAN is in.",
         "Start `lab5-web` on it with the command `httpd -f -p 80 -h /www`.",
         "From `lanpc`, fetch `http://<lab5-web's address>/`; from `lab5-web`, reach the internet service "
         "(203.0.113.10, TCP 9000) through the router."],
        check_macvlan, containers=[("host1", "lab5-web")], networks=[("host1", "lab5-lan")],
        conflicting_scenarios=("macvlan",),
        tools="`{dnlab} shell host1`, then `ip addr` and `ip route`, show the LAN and its router."),
    Lab(6, "overlay", "An overlay across host1 and host2",
        "A container on host2 reaches a container on host1 by name, over VXLAN between the hosts.",
        ["Make host1 a swarm manager that advertises its eth0 address.",
         "Join host2 to that swarm.",
         "On host1, make an attachable overlay network `lab6-overlay`.",
         "Start `lab6-a` on host1 and `lab6-b` on host2, both on `lab6-overlay`.",
         "Show that `lab6-b` reaches `lab6-a` by name."],
        check_overlay, containers=[("host1", "lab6-a"), ("host2", "lab6-b")],
        networks=[("host1", "lab6-overlay")], repair_fn=repair_overlay,
        tools="`docker --context <prefix>-host2 ...` for host2; the reset leaves the swarm again."),
    Lab(7, "pod", "The pod model: containers sharing one network namespace",
        "Two containers share one network stack, like the containers of a Kubernetes pod.",
        ["On host1, make a bridge network `lab7-net` and start `lab7-pod` on it (`sleep 1000000`).",
         "Start `lab7-app` in lab7-pod's network namespace, with `httpd -f -p 8080 -h /www` as its own command.",
         "Start `lab7-peer` on `lab7-net`.",
         "Show that `lab7-pod` reaches the web server on 127.0.0.1:8080 and that `lab7-peer` reaches it "
         "as `lab7-pod:8080`."],
        check_pod, containers=[("host1", "lab7-app"), ("host1", "lab7-peer"), ("host1", "lab7-pod")],
        networks=[("host1", "lab7-net")]),
]
