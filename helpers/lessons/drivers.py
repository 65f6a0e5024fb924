"""Demonstrations of chapters 3-6 (host, overlay, macvlan, none): one call, one idea, evidence as a dict.

Like `helpers.lessons.chapters`, each function does the real thing on a lab world (probes through
the guard, captures, state read live) and returns what it saw; the notebook's claim cell decides.
Every function takes the container, host or option that makes its claim true, so a test can call
the *same* function on a world where the claim is false (a bridge container instead of a host
one, a swarm worker instead of the manager, an overlay with another MTU, a macvlan parent on
another link, a container with a network instead of none) and see the chapter's claim cell fail.

Where the learner would type a command, the function runs it with `facts.sh` and returns the
transcript (`Shown`) beside the parsed values, so the chapter shows the command and its output.
"""
from __future__ import annotations

import ipaddress
import textwrap
import time
from typing import Any

from helpers.lessons import facts
from helpers.lessons.lesson import Lesson, who_sees
from helpers.scenarios.endpoint import pick_address, sdk_networks
from helpers.scenarios.host import ADMIN_SOCKET
from helpers.world.guard import ProbeResult, probe
from helpers.world.naming import (
    IMAGE,
    INET_IP,
    LABEL_WORLD,
    OVERLAY_MTU_OPTION,
    OVERLAY_VXLANID_OPTION,
    SERVICE_TCP_PORT,
    VXLAN_OVERHEAD,
)

# The host tcpdump, lent read-only to a lab container: the lab image is busybox only, and an
# attacker who gets a shell in a container brings their own sniffer just as easily.
SNIFFER_MOUNTS = "-v /usr:/usr:ro -v /lib:/lib:ro -v /lib64:/lib64:ro"
SNIFFER = "/usr/bin/tcpdump -Z root -U -l -c 2 -ni eth0 icmp"   # -Z root: the image has no tcpdump user
MTU_OPTION = OVERLAY_MTU_OPTION  # chapter 4's name for it


# --- shared --------------------------------------------------------------------------------------

def short(text: str, width: int = 110) -> str:
    """Probe output on one line, cut at a word boundary (never mid-word)."""
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


def probe_row(name: str, result: ProbeResult) -> dict:
    """One row of a reachability table: who sent what to whom, whether it got through, and what came
    back (no "expected" column: the chapter's claim says what should happen)."""
    return {"probe": name, "from": result.source, "to": result.target, "kind": result.kind,
            "reached": result.ok, "output": short(result.output)}


def masquerade_packets(world, host: str = "host1") -> dict[str, int]:
    """Every MASQUERADE rule of the host's nat table with its packet counter (`iptables-save -c`)."""
    return {str(r): r.packets for r in facts.iptables(world, host) if r.target == "MASQUERADE"}


def lesson_labels(lesson: Lesson) -> str:
    """`--label k=v ...` of a lesson, for a docker CLI command (so `lesson.stop()` removes it)."""
    return " ".join(f"--label {k}={v}" for k, v in lesson.labels.items())


def docker_addresses(container) -> dict[str, str]:
    """network -> the IPv4 address Docker gave the container there ('' where it gave none)."""
    container.reload()
    return sdk_networks(container)


# --- chapter 3: host ---------------------------------------------------------------------------

def host_stack_view(world, container) -> dict:
    """Is the container host1's network stack? Its namespace, addresses, and Docker's view of it."""
    container.reload()
    return {"container": container.name, "network mode": container.attrs["HostConfig"]["NetworkMode"],
            "same namespace as host1": facts.same_netns(world, container, "host1"),
            "container addresses": sorted(facts.ipv4(world, container)),
            "host1 addresses": sorted(facts.ipv4(world, "host1")),
            "address Docker gave it": docker_addresses(container)}


def publish_ignored(world, lesson: Lesson, network: str = "host", host_port: int = 18099,
                    role: str = "p") -> dict:
    """`docker run --network <network> -p <host_port>:80` typed on host1, then what the engine made
    of the `-p`: DNAT rules, docker-proxy processes, `docker port`."""
    name = f"{lesson.name}-{role}"
    run = facts.sh(world, "host1", f"docker run -d --name {name} {lesson_labels(lesson)} --network {network} "
                                   f"-p {host_port}:80 {IMAGE} sleep 600")
    port = facts.sh(world, "host1", f"docker port {name}", check=False)
    return {"run": run, "docker port": port, "container": name, "host port": host_port,
            "DNAT rules for the port": [r for r in facts.dnat_rules(world, "host1") if f"--dport {host_port} " in r],
            "docker-proxy for the port": [p for p in facts.docker_proxies(world, "host1")
                                          if p["host_port"] == host_port],
            "port bindings Docker reports": world.host1.docker.containers.get(name).ports}


def host_egress(world, container) -> dict:
    """The container connects to the internet service; who the internet saw, and whether any
    MASQUERADE rule of host1 counted a packet meanwhile."""
    before = masquerade_packets(world)
    out = probe(world, container, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    after = masquerade_packets(world)
    return {"source": container.name, "reached": out.ok, "output": short(out.output),
            "internet saw": who_sees(out.output) if out.ok else None,
            "host1 address": facts.address(world, "host1"),
            "MASQUERADE packets counted": {rule: after.get(rule, 0) - n for rule, n in before.items()}}


def host_inbound(world, port: int) -> dict:
    """lanpc connects to host1's LAN address on `port`; who the server saw, and host1's DNAT rules
    for that port (a published bridge port has one; a host-network server needs none)."""
    out = probe(world, "lanpc", facts.address(world, "host1"), "http", port)
    return {"port": port, "reached": out.ok, "output": short(out.output),
            "server saw": who_sees(out.output) if out.ok else None, "lanpc address": facts.address(world, "lanpc"),
            "DNAT rules for the port": [r for r in facts.dnat_rules(world, "host1") if f"--dport {port} " in r]}


def loopback_reach(world, host_container, bridge_container, port: int) -> dict:
    """host1's 127.0.0.1-only service, tried from `host_container` and from a bridge container
    (on its own 127.0.0.1 and on host1's LAN address)."""
    host1 = facts.address(world, "host1")
    rows = {"from the host-network container": probe(world, host_container, "127.0.0.1", "http", port),
            "from a bridge container, its 127.0.0.1": probe(world, bridge_container, "127.0.0.1", "http", port),
            "from a bridge container, host1's address": probe(world, bridge_container, host1, "http", port)}
    return {name: probe_row(name, r) for name, r in rows.items()}


def _abstract_names(unix_table: str) -> set[str]:
    """Names of abstract UNIX sockets (`@name`, the last column) in a /proc/net/unix listing."""
    return {line.split()[-1] for line in unix_table.splitlines()[1:]
            if len(line.split()) >= 8 and line.split()[-1].startswith("@")}


def abstract_sockets(world, container, bridge_container) -> dict:
    """Abstract UNIX sockets live in the network namespace (no file, no permission bits): host1's
    list (/proc/net/unix in host1's namespace, with the host scenario's admin socket in it), and
    what two containers can list of it."""
    host1 = _abstract_names(facts.run_in(world, "host1", ["cat", "/proc/net/unix"]).stdout)

    def seen(c) -> list[str]:
        _, out = c.exec_run(["cat", "/proc/net/unix"])
        return sorted(_abstract_names(out.decode(errors="replace")) & host1)

    return {"host1's admin socket": f"@{ADMIN_SOCKET}", "host1's abstract sockets": sorted(host1),
            "container": container.name,
            "host1's sockets it lists": seen(container), "bridge container": bridge_container.name,
            "host1's sockets the bridge container lists": seen(bridge_container)}


def sniff_host_traffic(world, lesson: Lesson, network: str = "host", role: str = "sniff",
                       cap_drop: str = "") -> dict:
    """A container started with Docker's default capabilities (CAP_NET_RAW among them) runs
    tcpdump on *its* eth0 while lanpc pings host1. With `--network host` its eth0 is host1's."""
    name = f"{lesson.name}-{role}"
    _remove(world, name)  # a re-run starts a fresh capture
    drop = f"--cap-drop {cap_drop} " if cap_drop else ""
    run = facts.sh(world, "host1", f"docker run -d --name {name} {lesson_labels(lesson)} --network {network} "
                                   f"{drop}{SNIFFER_MOUNTS} {IMAGE} {SNIFFER}")
    container = world.host1.docker.containers.get(name)
    _wait_log(container, ("listening on", "permission", "Operation not permitted"))
    pinged = probe(world, "lanpc", facts.address(world, "host1"), "ping")
    _wait_exit(container, timeout=3)
    logs = facts.sh(world, "host1", f"docker logs {name}", check=False)
    return {"run": run, "logs": logs, "network": network, "lanpc pinged host1": pinged.ok,
            "lanpc": facts.address(world, "lanpc"), "host1": facts.address(world, "host1"),
            "captured": [line for line in logs.lines if "ICMP" in line]}


def _remove(world, name: str) -> None:
    for c in world.host1.docker.containers.list(all=True, filters={"name": f"^/{name}$"}):
        c.remove(force=True)


def _wait_log(container, words: tuple[str, ...], timeout: float = 10) -> None:
    """Wait until the container's log shows one of `words` (tcpdump prints "listening on" when ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = container.logs().decode(errors="replace")
        if any(w in text for w in words):
            return
        container.reload()
        if container.status == "exited":
            return
        time.sleep(0.05)


def _wait_exit(container, timeout: float) -> None:
    """Let tcpdump stop by itself (-c 2); stop it if it saw nothing, so its summary is printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            return
        time.sleep(0.05)
    container.stop(timeout=1)


# --- chapter 4: overlay ------------------------------------------------------------------------

def _masked(shown: facts.Shown, secret: str) -> facts.Shown:
    """The transcript with a secret (a swarm join token) replaced, for display."""
    hide = secret[:12] + "…(token hidden)…"
    return facts.Shown(shown.machine, shown.command.replace(secret, hide), shown.output.replace(secret, hide),
                       shown.returncode, shown.head)


def _networks_by_engine(world, host: str) -> dict[str, str]:
    """name -> driver of the networks the engine made itself (none of the course's labelled ones)."""
    return {n["name"]: n["driver"] for n in facts.engine_networks(world, host) if LABEL_WORLD not in n["labels"]}


def form_swarm(world, labels: dict[str, str], join: bool = True) -> dict:
    """`docker swarm init --advertise-addr <host1 eth0>` on host1 and, if `join`, `docker swarm
    join --token ... <host1>:2377` on host2, typed as a learner would (token hidden in the
    transcript). Returns both transcripts and host2's networks before and after. The swarm gets
    `labels`, so the overlay scenario knows it made it and leaves it on `stop()`."""
    before = _networks_by_engine(world, "host2")
    h1, h2 = facts.address(world, "host1"), facts.address(world, "host2")
    init = facts.sh(world, "host1", f"docker swarm init --advertise-addr {h1}")
    token = facts.sh(world, "host1", "docker swarm join-token -q worker").output.strip()
    label_swarm(world.host1.docker, labels)
    shown = {"init": _masked(init, token)}
    if join:
        joined = facts.sh(world, "host2", f"docker swarm join --token {token} --advertise-addr {h2} {h1}:2377")
        shown["join"] = _masked(joined, token)
    return {**shown, "host2 before": before, "host2 after": _settled_networks(world, "host2")}


def _settled_networks(world, host: str, timeout: float = 8) -> dict[str, str]:
    """The engine's own networks once a join has settled: a worker makes `ingress` and
    `docker_gwbridge` about 0.7 s after `swarm join` returns (a host that never joined, never)."""
    deadline = time.monotonic() + timeout
    while True:
        found = _networks_by_engine(world, host)
        if {"ingress", "docker_gwbridge"} <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def label_swarm(client, labels: dict[str, str]) -> None:
    """Add labels to the swarm's spec (`docker swarm init` has no --label)."""
    current = client.api.inspect_swarm()
    spec = current["Spec"]
    spec["Labels"] = {**(spec.get("Labels") or {}), **labels}
    client.api.update_swarm(version=current["Version"]["Index"], swarm_spec=spec)


def swarm_store(world, host: str = "host1") -> dict:
    """Where the swarm keeps its state: is `host` a manager, what `docker node ls` says, and the
    Raft log and snapshots under the engine's data root (swarm/raft)."""
    client = world.hosts[host].docker
    info = client.info()
    raft = world.hosts[host].paths.data_root / "swarm" / "raft"
    nodes = facts.sh(world, host, "docker node ls", check=False)
    return {"host": host, "engine": info["ServerVersion"],
            "manager (docker info Swarm.ControlAvailable)": bool(info["Swarm"].get("ControlAvailable")),
            "managers / nodes": f"{info['Swarm'].get('Managers')} / {info['Swarm'].get('Nodes')}",
            "docker node ls": nodes,
            "raft dir": str(raft), "raft files": sorted(p.name for p in raft.iterdir()) if raft.is_dir() else [],
            # The external KV store (--cluster-store) was deprecated in 20.10 and removed in 23.0;
            # this 20.10 build omits the field when it is not configured.
            "ClusterStore (docker info)": info.get("ClusterStore") or "(absent: no external KV store configured)",
            "daemon config": str(world.hosts[host].paths.config)}


# Firewall openings a swarm with overlay networks needs (Docker docs, "Overlay network driver").
SWARM_PORTS = [
    {"port": "2377/tcp", "what": "cluster management (managers only)", "checked live": "yes"},
    {"port": "7946/tcp, 7946/udp", "what": "node gossip: who runs which container", "checked live": "yes"},
    {"port": "4789/udp", "what": "VXLAN data (the overlay's packets)", "checked live": "yes"},
    {"port": "IP protocol 50 (ESP)", "what": "encrypted overlays (--opt encrypted): IPsec ESP, not a port",
     "checked live": "no: a protocol, not a socket; and this lab's kernel has no IPsec (xfrm)"},
]


def overlay_c2c(world, scenario, size: int | None = None) -> dict:
    """overlay-b (host2) pings overlay-a (host1) by name, through the guard."""
    b = scenario.containers("host2")["b"]
    out = probe(world, b, f"{scenario.name}-a", "ping", size=size)
    return probe_row("c2c", out)


def overlay_vxlan(world, scenario) -> dict:
    """The decoded VXLAN frames of a b -> a ping on the LAN, with what they must match: host1's and
    host2's LAN addresses, the two overlay addresses and the network's VNI (docker network inspect)."""
    from helpers.lessons.chapters import vxlan_capture
    from helpers.lessons.probes import resolve_target

    net = scenario.networks("host1")[0]
    net.reload()
    return {"frames": vxlan_capture(world, scenario),
            "host1": facts.address(world, "host1"), "host2": facts.address(world, "host2"),
            "a": resolve_target(scenario, "container:a@host1"), "b": resolve_target(scenario, "container:b@host2"),
            "vni (docker network inspect)": int(net.attrs["Options"][OVERLAY_VXLANID_OPTION].split(",")[0])}


def set_mtu(world, links: dict[str, list[str]], mtu: int | None = None,
             restore: dict[tuple[str, str], int] | None = None) -> dict[tuple[str, str], int]:
    """Set (or restore) the MTU of lab links {machine: [ifname, ...]}; returns the old values."""
    old = {}
    for machine, names in links.items():
        for name in names:
            old[(machine, name)] = facts.mtu(world, machine, name)
            value = restore[(machine, name)] if restore else mtu
            world[machine].run(["ip", "link", "set", "dev", name, "mtu", str(value)])
    return old


UNDERLAY = {"host1": ["eth0"], "host2": ["eth0"], "router": ["p-host1", "p-host2"]}
PATH_ONLY = {"router": ["p-host1", "p-host2"]}


def overlay_mtu_on_small_underlay(world, lesson: Lesson, underlay: int = 1400,
                                  options: dict[str, str] | None = None) -> dict:
    """Shrink the whole underlay (host1/host2 eth0 and the LAN ports) to `underlay`, then make a
    new attachable overlay (with driver `options`, as `-o k=v`) and a container on it: the MTU its
    eth0 gets. Everything is restored afterwards."""
    from helpers.world import swarm

    name = f"{lesson.name}-mtu"
    opts = " ".join(f"-o {k}={v}" for k, v in (options or {}).items())
    old = set_mtu(world, UNDERLAY, underlay)
    try:
        eth0 = facts.mtu(world, "host1")
        made = facts.sh(world, "host1", f"docker network create -d overlay --attachable {lesson_labels(lesson)} "
                                        f"{opts} {name}".replace("  ", " "))
        box = lesson.box("mtu", network=name)
        inside = facts.sh(world, "host1", f"docker exec {box.name} ip link show eth0")
        result = {"create": made, "inside": inside, "underlay eth0 (host1)": eth0, "options": options or {},
                  "container eth0 MTU": facts.mtu(world, box)}
    finally:
        set_mtu(world, UNDERLAY, restore=old)
        _remove(world, f"{lesson.name}-mtu")
        for net in world.host1.docker.networks.list(names=[name]):
            if net.name == name:
                swarm.remove_overlay(world, net)
    return result


def overlay_path_mtu(world, scenario, path_mtu: int = 1400) -> dict:
    """The cloud/VPN fault: the path between the hosts (the LAN ports) carries only `path_mtu`
    bytes while the hosts' eth0 and the overlay keep their MTU. A small ping and a full-size one
    (filling the overlay MTU) from overlay-b to overlay-a; the path is restored afterwards."""
    b = scenario.containers("host2")["b"]
    overlay = facts.mtu(world, b)
    full = overlay - 28  # ICMP payload that fills the overlay MTU (IP 20 + ICMP 8)
    old = set_mtu(world, PATH_ONLY, path_mtu)
    try:
        small = overlay_c2c(world, scenario)
        big = overlay_c2c(world, scenario, size=full)
        shown = facts.sh(world, "host2", f"docker exec {b.name} ping -c 2 -W 1 -s {full} {scenario.name}-a",
                         check=False)
    finally:
        set_mtu(world, PATH_ONLY, restore=old)
    return {"path MTU (router ports)": path_mtu, "hosts' eth0 MTU": facts.mtu(world, "host2"),
            "overlay MTU (overlay-b eth0)": overlay, "outer packet of a full-size one": overlay + VXLAN_OVERHEAD,
            "small ping": small, "full-size ping": big, "shown": shown}


def gwbridge_subnet(world, host: str = "host1") -> str:
    net = world.hosts[host].docker.networks.get("docker_gwbridge")
    return net.attrs["IPAM"]["Config"][0]["Subnet"]


def overlay_egress_nat(world, scenario) -> dict:
    """overlay-a connects to the internet: its packets leave through docker_gwbridge (its second
    interface), so Docker's `-s <gwbridge subnet> ! -o docker_gwbridge -j MASQUERADE` must count them."""
    subnet = gwbridge_subnet(world)
    rule = facts.masquerade_rule(world, "host1", subnet)
    count = (lambda: facts.rule_packets(world, "host1", f"-s {subnet}", "MASQUERADE")) if rule else (lambda: None)
    before = count()
    a = scenario.containers("host1")["a"]
    out = probe(world, a, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    return {"docker_gwbridge subnet": subnet, "rule": rule, "packets before": before, "packets after": count(),
            "reached": out.ok, "output": short(out.output),
            "internet saw": who_sees(out.output) if out.ok else None,
            "host1 address": facts.address(world, "host1"),
            "container addresses": facts.ipv4(world, a)}


# --- chapter 5: macvlan ------------------------------------------------------------------------

def macvlan_create_cli(world, scenario, name: str = "macvlan-net", parent: str = "eth0") -> facts.Shown:
    """`docker network create -d macvlan --subnet --gateway --ip-range -o parent=` typed on host1,
    with the LAN's values read live (host1's eth0 prefix and default gateway) and the scenario's
    labels, so the scenario adopts the network."""
    from helpers.scenarios.macvlan import IP_RANGE

    lan = str(ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network)
    gateway = facts.default_route(world, "host1")["via"]
    labels = " ".join(f"--label {k}={v}" for k, v in scenario.labels.items())
    return facts.sh(world, "host1", f"docker network create -d macvlan --subnet {lan} --gateway {gateway} "
                                    f"--ip-range {IP_RANGE} -o parent={parent} {labels} {name}")


def macvlan_fit(world, network) -> dict:
    """Does a macvlan network's IPAM fit the LAN it sits on? Its subnet, gateway and ip-range next
    to the LAN read live: host1's eth0 prefix, its default gateway, every LAN machine's address."""
    network.reload()
    ipam = network.attrs["IPAM"]["Config"][0]
    taken = {m: facts.address(world, m) for m in ("host1", "host2", "lanpc")}
    taken["router (gateway)"] = facts.default_route(world, "host1")["via"]
    ip_range = ipam.get("IPRange") or ipam["Subnet"]
    return {"network": network.name, "parent": network.attrs["Options"].get("parent"),
            "subnet": ipam["Subnet"], "gateway": ipam.get("Gateway"), "ip-range": ip_range,
            "ip-range inside the subnet":
                ipaddress.ip_network(ip_range).subnet_of(ipaddress.ip_network(ipam["Subnet"])),
            "LAN (host1 eth0)": str(ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network),
            "LAN machines": taken,
            "LAN machines inside the ip-range": sorted(m for m, a in taken.items()
                                                       if ipaddress.ip_address(a) in ipaddress.ip_network(ip_range))}


def macvlan_identity(world, scenario) -> dict:
    """The container's MAC next to host1's, and where the LAN switch (lan0 on the router) learned it,
    after a ping from lanpc (so the switch has seen the container's frames)."""
    from helpers.lessons.probes import run_spec

    app = scenario.containers()["app"]
    mac = facts.mac_of(world, app)
    # The switch forgets first, so what it knows afterwards was learned from this ping (Docker derives
    # a macvlan MAC from the address, so an entry from an earlier run would carry the same MAC).
    world["router"].run(["ip", "link", "set", "dev", "lan0", "type", "bridge", "fdb_flush"])
    run_spec(scenario, "lan")
    fdb = facts.sh(world, "router", f"bridge fdb show br lan0 | grep -i {mac} || true")
    return {"container MAC": mac, "host1 eth0 MAC": facts.mac_of(world, "host1"),
            "lan0 ports that learned it": [e["port"] for e in facts.bridge_fdb(world, "router", "lan0")
                                           if e["mac"] == mac],
            "bridge fdb": fdb}


def macvlan_reach(world, scenario) -> dict:
    """lanpc -> the container (ping and http), host1 -> the container, the container -> internet."""
    from helpers.lessons.probes import run_spec

    v = {name: run_spec(scenario, name) for name in ("lan", "lan-http", "host", "egress")}
    app = scenario.containers()["app"]
    return {"rows": [{**x.row(), "output": short(x.result.output if x.result else x.error)} for x in v.values()],
            "reached": {k: x.ok for k, x in v.items()},
            "server saw": who_sees(v["lan-http"].result.output) if v["lan-http"].ok else None,
            "internet saw": who_sees(v["egress"].result.output) if v["egress"].ok else None,
            "lanpc": facts.address(world, "lanpc"), "container": docker_addresses(app)}


def lan_chatter_heard(world, listener, host: str = "host2") -> dict:
    """What a container's eth0 hears while lanpc talks to `host` (not to the container): lanpc first
    forgets its neighbours, so it broadcasts an ARP question, then pings `host` (unicast).

    The macvlan container sits on the LAN itself, so broadcasts reach it; unicast between two other
    machines does not (the switch sends a frame only where its MAC was learned)."""
    target = facts.address(world, host)
    lanpc = facts.address(world, "lanpc")
    facts.forget_neighbours(world, "lanpc")
    ok, (frames,) = facts.capture(world, [(listener, "eth0")],
                                  lambda: probe(world, "lanpc", target, "ping").ok)
    arp = [f"who-has {f.arp['pdst']} tell {f.arp['psrc']}" for f in frames
           if f.arp and f.arp["op"] == 1 and f.arp["psrc"] == lanpc and f.arp["pdst"] == target]
    unicast = [f.summary() for f in frames if f.proto == "icmp" and {f.src, f.dst} == {lanpc, target}]
    return {"listener": listener.name, "lanpc pinged": f"{host} ({target})", "ping ok": ok,
            "ARP broadcasts heard": arp, "lanpc<->host unicast heard": unicast, "frames heard": len(frames)}


# --- chapter 6: none ---------------------------------------------------------------------------

def none_view(world, container) -> dict:
    """What a container's namespace holds: interfaces, routes, whether it is its own, and the
    network mode and addresses Docker reports."""
    container.reload()
    return {"container": container.name, "network mode": container.attrs["HostConfig"]["NetworkMode"],
            "interfaces": facts.interfaces(world, container),
            "routes": facts.ip_json(world, container, "route", "show"),
            "own namespace": not facts.same_netns(world, container, "host1"),
            "address Docker gave it": docker_addresses(container)}


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


def unreachable(row: dict[str, Any]) -> bool:
    """The kernel refused at once: no route ('Network is unreachable'), nothing was sent."""
    return "unreachable" in row["output"].lower()
