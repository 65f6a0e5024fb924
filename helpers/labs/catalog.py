"""Labs 1-7: build something that works (the troubleshooting labs are in `troubleshoot`)."""
from __future__ import annotations

import ipaddress

from helpers.labs import state
from helpers.labs.common import cli, need_attached, need_container, need_network, need_only_on, need_reach
from helpers.labs.model import Checks, Lab
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

WEB_CMD = "httpd -f -p 80 -h /www"


# --- 1. user-defined bridge ----------------------------------------------------------------------

def check_user_bridge(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab1-net", "bridge")
    web = need_container(world, c, "host1", "lab1-web")
    client = need_container(world, c, "host1", "lab1-client")
    for container in (web, client):
        if container and net:
            need_attached(c, container, "lab1-net", "`--network` when the container starts, or "
                                                    "`docker network connect` afterwards")
    if not c.all_ok:
        return c.pending("lab1-client reaches lab1-web by its name")
    need_reach(world, c, "lab1-client reaches lab1-web by its name", client, "lab1-web",
               hint="names resolve through Docker's embedded DNS (127.0.0.11) on user-defined networks; "
                    "look at /etc/resolv.conf inside lab1-client")


# --- 2. publish a port ------------------------------------------------------------------------------

def check_publish(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    web = need_container(world, c, "host1", "lab2-web")
    if not web:
        return c.pending("lab2-web serves HTTP on its port 80", "host1's port 9080 leads to lab2-web's port 80",
                         "the internet machine reaches lab2-web through host1:9080")
    need_reach(world, c, "lab2-web serves HTTP on its port 80", web, "127.0.0.1", "http", 80,
               problem="nothing answers HTTP on port 80 inside lab2-web",
               hint=f"the lab image's busybox has a web server: `{WEB_CMD}` as the container's command")
    bindings = (web.attrs["NetworkSettings"].get("Ports") or {}).get("80/tcp") or []
    public = [b for b in bindings if b.get("HostPort") == "9080" and b.get("HostIp") in ("", "0.0.0.0", "::", host1_ip)]
    shown = ", ".join(f"{b.get('HostIp')}:{b.get('HostPort')}" for b in bindings) or "nothing"
    c.expect("host1's port 9080 leads to lab2-web's port 80", bool(public),
             f"lab2-web's port 80/tcp is published on {shown}",
             "ports are published when a container is created (`-p`, or `ports=` in the SDK); "
             "a running container cannot gain one", evidence=shown)
    if not c.all_ok:
        return c.pending("the internet machine reaches lab2-web through host1:9080")
    need_reach(world, c, "the internet machine reaches lab2-web through host1:9080", "inet", host1_ip,
               "http", 9080, hint="look at the DOCKER chain of host1's nat table "
                                  "(`world['host1'].run(['iptables-save', '-t', 'nat'])`)")


# --- 3. isolation ------------------------------------------------------------------------------------

def check_isolation(world, c: Checks) -> None:
    alone = need_container(world, c, "host1", "lab3-alone")
    if alone:
        mode = alone.attrs["HostConfig"]["NetworkMode"]
        c.expect("lab3-alone uses the none network", mode == "none", f"its network mode is {mode}",
                 "the network mode is chosen when a container starts")
        names = sorted(facts.interfaces(world, alone))
        c.expect("lab3-alone has no interface but loopback", names == ["lo"],
                 f"it has the interfaces {', '.join(names)}", "", evidence=", ".join(names))
        need_reach(world, c, "lab3-alone cannot reach the internet service", alone, str(INET_IP), "tcp",
                   SERVICE_TCP_PORT, expect=False)
    net = need_network(world, c, "host1", "lab3-internal", "bridge")
    if net:
        c.expect("lab3-internal is internal (no way out of the host)", bool(net.attrs.get("Internal")),
                 "lab3-internal is a normal bridge: its containers reach the internet",
                 "`docker network create --help` lists the option that cuts a network off")
    a = need_container(world, c, "host1", "lab3-a")
    b = need_container(world, c, "host1", "lab3-b")
    for container in (a, b):
        if container and net:
            need_attached(c, container, "lab3-internal")
    if not (a and b and net) or not c.all_ok:
        return c.pending("lab3-a reaches lab3-b by name", "lab3-a cannot reach the internet service")
    need_reach(world, c, "lab3-a reaches lab3-b by name", a, "lab3-b")
    need_reach(world, c, "lab3-a cannot reach the internet service", a, str(INET_IP), "tcp", SERVICE_TCP_PORT,
               expect=False, hint="an internal network has no gateway out; check `docker network inspect`")


# --- 4. one container on two networks ------------------------------------------------------------

def check_two_networks(world, c: Checks) -> None:
    front = need_network(world, c, "host1", "lab4-front", "bridge")
    back = need_network(world, c, "host1", "lab4-back", "bridge")
    web = need_container(world, c, "host1", "lab4-web")
    db = need_container(world, c, "host1", "lab4-db")
    app = need_container(world, c, "host1", "lab4-app")
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

def check_macvlan(world, c: Checks) -> None:
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    gateway = (facts.default_route(world, "host1") or {}).get("via")
    used = {str(world[role].address) for role in ("host1", "host2", "lanpc")} | {gateway}
    net = need_network(world, c, "host1", "lab5-lan", "macvlan")
    if net:
        parent = (net.attrs.get("Options") or {}).get("parent")
        c.expect("lab5-lan's parent is host1's eth0", parent == "eth0", f"its parent is {parent or 'not set'}",
                 "the parent is the host interface on the LAN (`ip -j addr` in host1 shows it)")
        pools = state.subnets(net)
        c.expect("lab5-lan's subnet is the LAN host1 is on", lan in pools,
                 f"its subnet is {', '.join(map(str, pools)) or 'not set'}; host1's eth0 is on another one",
                 "a macvlan network takes the LAN's subnet and gateway (read them in host1)")
    web = need_container(world, c, "host1", "lab5-web")
    if not (net and web) or not c.all_ok:
        return c.pending("lab5-web has a LAN address no machine uses", "lanpc reaches lab5-web over HTTP")
    address = state.address_on(web, "lab5-lan")
    c.expect("lab5-web has a LAN address no machine uses", bool(address) and address not in used,
             f"lab5-web's address on lab5-lan is {address or 'none'}, which the LAN already uses"
             if address else "lab5-web is not attached to lab5-lan",
             "`--ip-range` (or `--ip`) keeps Docker away from addresses the LAN uses", evidence=address)
    if not c.all_ok:
        return c.pending("lanpc reaches lab5-web over HTTP")
    need_reach(world, c, "lanpc reaches lab5-web over HTTP", "lanpc", address, "http", 80,
               hint=f"is `{WEB_CMD}` the container's command?")


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
        c.expect("host2 has joined host1's swarm", False, f"host2's swarm state is {s2.get('LocalNodeState') or 'inactive'}",
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
               hint="VXLAN travels as UDP 4789 between the hosts' eth0: capture it in host1")


def repair_overlay(world) -> list[str]:
    return swarm.leave_if_unused(world)


# --- 7. the pod model ----------------------------------------------------------------------------------

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
        shares = mode in (f"container:{pod.id}", "container:lab7-pod")
        c.expect("lab7-app shares lab7-pod's network namespace", shares,
                 f"lab7-app's network mode is {mode}",
                 "the network mode is chosen at start; Kubernetes pods work the same way")
        if shares:
            c.expect("lab7-app and lab7-pod see one and the same namespace",
                     facts.same_netns(world, app, pod), "their /proc/PID/ns/net differ", "",
                     evidence=f"netns inode {state.netns_inode(pod)}")
    if not c.all_ok:
        return c.pending("lab7-pod reaches lab7-app's web server on 127.0.0.1:8080",
                         "lab7-peer reaches lab7-app through the name lab7-pod, port 8080")
    need_reach(world, c, "lab7-pod reaches lab7-app's web server on 127.0.0.1:8080", pod, "127.0.0.1", "http",
               8080, hint="lab7-app must run a web server on port 8080 (busybox `httpd -p 8080`)")
    need_reach(world, c, "lab7-peer reaches lab7-app through the name lab7-pod, port 8080", peer, "lab7-pod",
               "http", 8080)


LABS = [
    Lab(1, "user-bridge", "A user-defined bridge with name resolution",
        "Two containers on a network of your own find each other by name.",
        ["On host1, make a bridge network called `lab1-net`.",
         "Start two containers from `dnlab/box:latest` on it, called `lab1-web` and `lab1-client` "
         "(a command that keeps running, e.g. `sleep 1000000`).",
         "Show that `lab1-client` reaches `lab1-web` by its name."],
        check_user_bridge, containers=[("host1", "lab1-web"), ("host1", "lab1-client")],
        networks=[("host1", "lab1-net")],
        tools="`docker --context <prefix>-host1 ...` or `world.host1.docker`; `docker exec ... ping`."),
    Lab(2, "publish-port", "Publish a port and reach it from the internet",
        "A web server in a container on host1 answers requests coming from the internet machine.",
        ["On host1, start `lab2-web` from `dnlab/box:latest` with the command `httpd -f -p 80 -h /www`.",
         "Publish its port 80 as port 9080 of host1.",
         "From the internet machine (`inet`), fetch `http://<host1's eth0 address>:9080/`."],
        check_publish, containers=[("host1", "lab2-web")],
        tools="`world['inet']` is the internet machine; `helpers.world.guard.probe(world, 'inet', ..., 'http', 9080)`; "
              "`world['host1'].run(['ip', '-j', 'addr'])`."),
    Lab(3, "isolation", "Isolate containers: none and --internal",
        "One container with no network at all, and two that talk to each other but not to the outside.",
        ["On host1, start `lab3-alone` with the `none` network.",
         "Make a bridge network `lab3-internal` that has no way out of the host.",
         "Start `lab3-a` and `lab3-b` on it.",
         "Show that `lab3-a` reaches `lab3-b` by name, and that neither `lab3-a` nor `lab3-alone` reaches "
         "the internet service (203.0.113.10, TCP 9000)."],
        check_isolation, containers=[("host1", "lab3-alone"), ("host1", "lab3-a"), ("host1", "lab3-b")],
        networks=[("host1", "lab3-internal")]),
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
         "gateway, and an address range no machine of the LAN uses (the machines use low addresses).",
         "Start `lab5-web` on it with the command `httpd -f -p 80 -h /www`.",
         "From `lanpc`, fetch `http://<lab5-web's address>/`."],
        check_macvlan, containers=[("host1", "lab5-web")], networks=[("host1", "lab5-lan")],
        conflicting_scenarios=("macvlan",),
        tools="`world['host1'].run(['ip', '-j', 'addr'])` and `['ip', '-j', 'route']` show the LAN."),
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
         "Start `lab7-app` in lab7-pod's network namespace, running `httpd -f -p 8080 -h /www`.",
         "Start `lab7-peer` on `lab7-net`.",
         "Show that `lab7-pod` reaches the web server on 127.0.0.1:8080 and that `lab7-peer` reaches it "
         "as `lab7-pod:8080`."],
        check_pod, containers=[("host1", "lab7-app"), ("host1", "lab7-peer"), ("host1", "lab7-pod")],
        networks=[("host1", "lab7-net")]),
]
