"""Chapter 3 (host): a host-network container shares host1's stack; `-p` is ignored, no NAT; what
it reaches (loopback services, abstract sockets, the wire).

Every function takes the container, host or option that makes its claim true, so a test can call
the *same* function on a world where the claim is false and see the chapter's claim cell fail.
Where the learner would type a command, the function runs it with `facts.sh` and returns the
transcript (`Shown`) beside the parsed values.
"""
from __future__ import annotations

import time

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import (
    docker_addresses,
    host_egress,
    lesson_labels,
    masquerade_packets,
    probe_row,
    remove_container,
    rows_of,
    rule_trace,
    short,
    show_path,
)
from helpers.lessons.lesson import Lesson, who_sees
from helpers.scenarios.host import ADMIN_SOCKET
from helpers.world.guard import probe
from helpers.world.naming import IMAGE

# What the chapter's notebook calls (as ch03.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "abstract_sockets", "host_egress", "host_inbound", "host_stack_view", "Lesson",
    "loopback_reach", "masquerade_packets", "nat_met", "publish_ignored", "rows_of", "rule_trace",
    "show_path", "sniff_host_traffic", "SNIFFER", "SNIFFER_MOUNTS"
]

# Targets of the nat table that rewrite an address or a port.
NAT_TARGETS = ("MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NETMAP")


# The host tcpdump, lent read-only to a lab container: the lab image is busybox only, and an
# attacker who gets a shell in a container brings their own sniffer just as easily.
SNIFFER_MOUNTS = "-v /usr:/usr:ro -v /lib:/lib:ro -v /lib64:/lib64:ro"


SNIFFER = "/usr/bin/tcpdump -Z root -U -l -c 2 -ni eth0 icmp"   # -Z root: the image has no tcpdump user


@measured
def host_stack_view(world, container) -> dict:
    """Is the container host1's network stack? Its namespace, addresses, and Docker's view of it."""
    container.reload()
    return {"container": container.name, "network mode": container.attrs["HostConfig"]["NetworkMode"],
            "same namespace as host1": facts.same_netns(world, container, "host1"),
            "container addresses": sorted(facts.ipv4(world, container)),
            "host1 addresses": sorted(facts.ipv4(world, "host1")),
            "address Docker gave it": docker_addresses(container)}


@measured
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


@measured
def nat_met(traced: dict, namespace: str = "host1") -> dict:
    """What the kernel's trace (a `rule_trace`) says the probe's first packet met of `namespace`'s
    nat table on its way out: the hooks it crossed there (each met a rule or the chain's policy),
    every rule with a NAT target (MASQUERADE, SNAT, DNAT, REDIRECT, NETMAP) that acted on it, and
    the packet as nat POSTROUTING saw it (its source before any rewrite there)."""
    met = [e for e in traced["met"] if e["namespace"] == namespace and e["leg"] == "request" and e["table"] == "nat"]
    last = next((e for e in reversed(met) if e["hook"] == "POSTROUTING"), None)
    return {"traced in": namespace, "untraced": traced["untraced"].get(namespace),
            "nat hooks crossed": list(dict.fromkeys(e["hook"] for e in met)),
            "nat lines met": [f"{e['hook']}: {e['rule'] or e['kind'] + ' of chain ' + e['chain']} => {e['verdict']}"
                              for e in met],
            "NAT rules that acted": [f"{e['hook']}: {e['rule']}" for e in met
                                     if e["acted"] and e["target"] in NAT_TARGETS],
            "at nat POSTROUTING": (last or {}).get("before")}


@measured
def host_inbound(world, port: int) -> dict:
    """lanpc connects to host1's LAN address on `port`; who the server saw, and host1's DNAT rules
    for that port (a published bridge port has one; a host-network server needs none)."""
    out = probe(world, "lanpc", facts.address(world, "host1"), "http", port)
    return {"port": port, "reached": out.ok, "output": short(out.output),
            "server saw": who_sees(out.output) if out.ok else None, "lanpc address": facts.address(world, "lanpc"),
            "DNAT rules for the port": [r for r in facts.dnat_rules(world, "host1") if f"--dport {port} " in r]}


@measured
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


@measured
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


@measured
def sniff_host_traffic(world, lesson: Lesson, network: str = "host", role: str = "sniff",
                       cap_drop: str = "") -> dict:
    """A container started with Docker's default capabilities (CAP_NET_RAW among them) runs
    tcpdump on *its* eth0 while lanpc pings host1. With `--network host` its eth0 is host1's."""
    name = f"{lesson.name}-{role}"
    remove_container(world, name)  # a re-run starts a fresh capture
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
