"""Chapter 4 (overlay): forming the swarm, its ports and store, VXLAN on the wire, the overlay's MTU
on a small underlay or path, the way out through docker_gwbridge.

Every function takes what makes its claim true (a swarm worker instead of the manager, an overlay
with another MTU ...), so a test can call the *same* function where the claim is false.
"""
from __future__ import annotations

import time

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import guarded_exec, lesson_labels, probe_row, remove_container, short, show_path
from helpers.lessons.lesson import Lesson, who_sees
from helpers.world import mtu
from helpers.world.guard import probe
from helpers.world.mtu import VXLAN_OVERHEAD
from helpers.world.naming import INET_IP, LABEL_WORLD, SERVICE_TCP_PORT
from helpers.world.swarm import OVERLAY_MTU_OPTION, OVERLAY_VXLANID_OPTION

# What the chapter's notebook calls (as ch04.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "form_swarm", "gwbridge_subnet", "label_swarm", "Lesson", "MTU_OPTION", "overlay_c2c",
    "overlay_egress_nat", "overlay_mtu_on_small_underlay", "overlay_path_mtu", "overlay_vxlan",
    "show_path", "swarm_ports", "SWARM_PORTS", "swarm_store", "vxlan_capture"
]


@measured
def swarm_ports(world, host: str = "host1") -> dict:
    """The swarm's listening sockets on a host: 2377/tcp (managers), 7946 tcp+udp (gossip),
    4789/udp (VXLAN data, a kernel socket with no process)."""
    socks = facts.listening(world, host)
    return {f"{s['port']}/{s['proto']}": s["process"] or "(kernel)" for s in socks
            if s["port"] in (2377, 7946, 4789)}


@measured
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


MTU_OPTION = OVERLAY_MTU_OPTION  # chapter 4's name for it


def _masked(shown: facts.Shown, secret: str) -> facts.Shown:
    """The transcript with a secret (a swarm join token) replaced, for display."""
    hide = secret[:12] + "…(token hidden)…"
    return facts.Shown(shown.machine, shown.command.replace(secret, hide), shown.output.replace(secret, hide),
                       shown.returncode, shown.head)


def _networks_by_engine(world, host: str) -> dict[str, str]:
    """name -> driver of the networks the engine made itself (none of the course's labelled ones)."""
    return {n["name"]: n["driver"] for n in facts.engine_networks(world, host) if LABEL_WORLD not in n["labels"]}


@measured
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
    `docker_gwbridge` about 0.7 s after `swarm join` returns. A host that is in no swarm (`docker
    info`'s LocalNodeState "inactive": it never joined, or its join failed) makes neither, so its
    networks are read once, not waited on: the state decides, not the timeout."""
    from helpers.world import swarm

    deadline = time.monotonic() + timeout
    while True:
        found = _networks_by_engine(world, host)
        if ({"ingress", "docker_gwbridge"} <= set(found) or time.monotonic() > deadline
                or swarm.state(world.hosts[host].docker) == "inactive"):
            return found
        time.sleep(0.05)  # a look is one API call; a join settles in about 0.7 s


@measured
def label_swarm(client, labels: dict[str, str]) -> None:
    """Add labels to the swarm's spec (`docker swarm init` has no --label)."""
    current = client.api.inspect_swarm()
    spec = current["Spec"]
    spec["Labels"] = {**(spec.get("Labels") or {}), **labels}
    client.api.update_swarm(version=current["Version"]["Index"], swarm_spec=spec)


@measured
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


@measured
def overlay_c2c(world, scenario, size: int | None = None) -> dict:
    """overlay-b (host2) pings overlay-a (host1) by name, through the guard."""
    b = scenario.containers("host2")["b"]
    out = probe(world, b, f"{scenario.name}-a", "ping", size=size)
    return probe_row("c2c", out)


@measured
def overlay_vxlan(world, scenario) -> dict:
    """The decoded VXLAN frames of a b -> a ping on the LAN, with what they must match: host1's and
    host2's LAN addresses, the two overlay addresses and the network's VNI (docker network inspect)."""
    from helpers.lessons.probes import resolve_target

    net = scenario.networks("host1")[0]
    net.reload()
    return {"frames": vxlan_capture(world, scenario),
            "host1": facts.address(world, "host1"), "host2": facts.address(world, "host2"),
            "a": resolve_target(scenario, "container:a@host1"), "b": resolve_target(scenario, "container:b@host2"),
            "vni (docker network inspect)": int(net.attrs["Options"][OVERLAY_VXLANID_OPTION].split(",")[0])}


@measured
def overlay_mtu_on_small_underlay(world, lesson: Lesson, underlay: int = 1400,
                                  options: dict[str, str] | None = None) -> dict:
    """Shrink the whole underlay (host1/host2 eth0 and the LAN ports) to `underlay`, then make a
    new attachable overlay (with driver `options`, as `-o k=v`) and a container on it: the MTU its
    eth0 gets. Everything is restored afterwards."""
    from helpers.world import swarm

    name = f"{lesson.name}-mtu"
    opts = " ".join(f"-o {k}={v}" for k, v in (options or {}).items())
    before = mtu.lower(world, mtu.UNDERLAY, underlay)
    try:
        eth0 = facts.mtu(world, "host1")
        made = facts.sh(world, "host1", f"docker network create -d overlay --attachable {lesson_labels(lesson)} "
                                        f"{opts} {name}".replace("  ", " "))
        box = lesson.box("mtu", network=name)
        inside = facts.sh(world, "host1", f"docker exec {box.name} ip link show eth0")
        result = {"create": made, "inside": inside, "underlay eth0 (host1)": eth0, "options": options or {},
                  "container eth0 MTU": facts.mtu(world, box)}
    finally:
        mtu.restore(world, before)
        remove_container(world, f"{lesson.name}-mtu")
        for net in world.host1.docker.networks.list(names=[name]):
            if net.name == name:
                swarm.remove_overlay(world, net)
    return result


@measured
def overlay_path_mtu(world, scenario, path_mtu: int = 1400) -> dict:
    """The cloud/VPN fault: the path between the hosts (the LAN ports) carries only `path_mtu`
    bytes while the hosts' eth0 and the overlay keep their MTU. A small ping and a full-size one
    (filling the overlay MTU) from overlay-b to overlay-a; the path is restored afterwards."""
    b = scenario.containers("host2")["b"]
    overlay = facts.mtu(world, b)
    full = overlay - 28  # ICMP payload that fills the overlay MTU (IP 20 + ICMP 8)
    with mtu.lowered(world, mtu.PATH_ONLY, path_mtu):
        small = overlay_c2c(world, scenario)
        big = overlay_c2c(world, scenario, size=full)
        shown = facts.sh(world, "host2", f"docker exec {b.name} ping -c 2 -W 1 -s {full} {scenario.name}-a",
                         check=False)
    return {"path MTU (router ports)": path_mtu, "hosts' eth0 MTU": facts.mtu(world, "host2"),
            "overlay MTU (overlay-b eth0)": overlay, "outer packet of a full-size one": overlay + VXLAN_OVERHEAD,
            "small ping": small, "full-size ping": big, "shown": shown}


@measured
def gwbridge_subnet(world, host: str = "host1") -> str:
    net = world.hosts[host].docker.networks.get("docker_gwbridge")
    return net.attrs["IPAM"]["Config"][0]["Subnet"]


@measured
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
