"""Observations the chapters prove claims with: read live state, never assume it.

Every function reads the world as it is (``ip -j``, ``bridge -j``, ``iptables-save``, ``conntrack``,
the docker SDK, /proc) and returns plain Python data, so a notebook cell is one call and one claim.
A *place* is where to look: a machine role ("host1", "router", "lanpc", ...) or a docker SDK
Container (entered through its PID's network namespace, with the machine's own iproute2).
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from helpers.world import netns
from helpers.world.proc import run, which

Place = Union[str, Any]  # a machine role, or a docker SDK Container

# Docker's documented default address pools (daemon `default-address-pools` when unset), in order.
DEFAULT_POOLS = [("172.17.0.0/16", 16), ("172.18.0.0/16", 16), ("172.19.0.0/16", 16),
                 ("172.20.0.0/14", 16), ("172.24.0.0/14", 16), ("172.28.0.0/14", 16),
                 ("192.168.0.0/16", 20)]


# --- running commands in a place --------------------------------------------------------------

def _pid(container) -> int:
    container.reload()
    pid = container.attrs["State"]["Pid"]
    if not pid:
        raise RuntimeError(f"container {container.name} is not running")
    return pid


def run_in(world, place: Place, argv: list[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run a host tool (ip, bridge, ss, ...) inside `place`'s network namespace."""
    if isinstance(place, str):
        return world[place].run(argv, check=check, timeout=timeout)
    full = [which("nsenter"), "-t", str(_pid(place)), "-n", which(argv[0]), *argv[1:]]
    result = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} in {place.name}: {result.stderr.strip()}")
    return result


def ip_json(world, place: Place, *args: str) -> list[dict]:
    """`ip -j <args>` inside `place`, parsed."""
    return json.loads(run_in(world, place, ["ip", "-j", *args]).stdout or "[]")


def interfaces(world, place: Place) -> list[str]:
    return [link["ifname"] for link in ip_json(world, place, "link", "show")]


def ipv4(world, place: Place, ifname: str | None = None) -> list[str]:
    """IPv4 addresses with prefix (e.g. 172.17.0.2/16), optionally of one interface."""
    found = []
    for link in ip_json(world, place, "addr", "show"):
        if ifname and link["ifname"] != ifname:
            continue
        for addr in link.get("addr_info", []):
            if addr["family"] == "inet" and not addr["local"].startswith("127."):
                found.append(f"{addr['local']}/{addr['prefixlen']}")
    return found


def address(world, place: Place, ifname: str = "eth0") -> str:
    """The first IPv4 address of `ifname` in `place`, without prefix."""
    return ipv4(world, place, ifname)[0].split("/")[0]


def default_route(world, place: Place) -> dict | None:
    for route in ip_json(world, place, "route", "show"):
        if route.get("dst") == "default":
            return {"via": route.get("gateway"), "dev": route.get("dev")}
    return None


def mtu(world, place: Place, ifname: str = "eth0") -> int:
    return ip_json(world, place, "link", "show", "dev", ifname)[0]["mtu"]


def same_netns(world, place_a: Place, place_b: Place) -> bool:
    """True if two places are one network namespace (compared by the kernel's inode)."""
    return _netns_inode(world, place_a) == _netns_inode(world, place_b)


def _netns_inode(world, place: Place) -> int:
    if isinstance(place, str):
        return netns.inode(world[place].namespace)
    return os.stat(f"/proc/{_pid(place)}/ns/net").st_ino


# --- the engine -------------------------------------------------------------------------------

def engine_networks(world, host: str = "host1") -> list[dict]:
    """name, driver, scope, subnets and labels of every network the engine lists."""
    rows = []
    for net in world.hosts[host].docker.api.networks():
        subnets = [c.get("Subnet") for c in (net.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
        rows.append({"name": net["Name"], "driver": net["Driver"], "scope": net["Scope"],
                     "subnets": subnets, "labels": net.get("Labels") or {}})
    return sorted(rows, key=lambda r: r["name"])


def swarm_state(world, host: str) -> str:
    return world.hosts[host].docker.info()["Swarm"]["LocalNodeState"]


def fresh_engine_networks(world, host: str = "host2") -> dict[str, str]:
    """name -> driver of what the engine made by itself (no course label), on a non-swarm engine.

    Honest "fresh": the engine must not be in a swarm, and every network the course made carries
    the world label, so what is left is exactly what dockerd creates on its own at first start.
    """
    if swarm_state(world, host) != "inactive":
        raise RuntimeError(f"{host} is in a swarm; stop the overlay scenario first")
    return {n["name"]: n["driver"] for n in engine_networks(world, host)
            if "org.dnlab.world" not in n["labels"]}


def builtin_drivers(world, host: str = "host1") -> list[str]:
    """Network drivers the engine reports it has (`docker info` Plugins.Network)."""
    return sorted(world.hosts[host].docker.info()["Plugins"]["Network"])


def next_default_subnet(used: list[str]) -> str:
    """The subnet Docker's default pools give next, given the subnets already in use."""
    taken = [ipaddress.ip_network(s) for s in used]
    for base, size in DEFAULT_POOLS:
        for candidate in ipaddress.ip_network(base).subnets(new_prefix=size):
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
    raise RuntimeError("the default pools are exhausted")


def cli(world, host: str, args: str, check: bool = True) -> str:
    """Run the real `docker --context <prefix>-<host> <args>` and return its output."""
    import shlex

    argv = [which("docker"), "--context", world.hosts[host].context, *shlex.split(args)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {args}: {result.stderr.strip()}")
    return (result.stdout + result.stderr).strip()


# --- netfilter --------------------------------------------------------------------------------

def nat_rules(world, host: str = "host1", counters: bool = False) -> list[str]:
    """The nat table's rules (`iptables-save -t nat`), one `-A CHAIN ...` line each."""
    argv = ["iptables-save", "-t", "nat"] + (["-c"] if counters else [])
    lines = run_in(world, host, argv).stdout.splitlines()
    return [line for line in lines if "-A " in line]


def rule_packets(world, host: str, *fragments: str) -> int:
    """Packet counter of the first nat rule containing every fragment."""
    for line in nat_rules(world, host, counters=True):
        if all(f in line for f in fragments):
            return int(re.match(r"\[(\d+):", line).group(1))
    raise LookupError(f"no nat rule with {fragments} on {host}")


def masquerade_rule(world, host: str, subnet: str) -> str | None:
    for line in nat_rules(world, host):
        if f"-s {subnet}" in line and "MASQUERADE" in line and "! -o" in line:
            return line
    return None


def dnat_rules(world, host: str = "host1") -> list[str]:
    return [line for line in nat_rules(world, host) if "-j DNAT" in line]


def conntrack(world, host: str, proto: str = "tcp", dport: int | None = None) -> list[dict]:
    """Connection-tracking entries as {"original": {...}, "reply": {...}, "state": ...}."""
    argv = ["conntrack", "-L", "-p", proto] + (["--dport", str(dport)] if dport else [])
    entries = []
    for line in run_in(world, host, argv, check=False).stdout.splitlines():
        pairs = re.findall(r"(\w+)=(\S+)", line)
        tuples, current = [], {}
        for key, value in pairs:
            if key in current:  # the second src= starts the reply tuple
                tuples.append(current)
                current = {}
            if key in ("src", "dst", "sport", "dport"):
                current[key] = value
        tuples.append(current)
        if len(tuples) >= 2:
            state = next((w for w in line.split() if w.isupper() and w.isalpha()), "")
            entries.append({"original": tuples[0], "reply": tuples[1], "state": state})
    return entries


def docker_proxies(world, host: str = "host1") -> list[dict]:
    """docker-proxy processes of this host's engine (found by their network namespace)."""
    inode = netns.inode(world[host].namespace)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode().split("\0")
            if not argv or not argv[0].endswith("docker-proxy"):
                continue
            if os.stat(proc / "ns/net").st_ino != inode:
                continue
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        opts = dict(zip(argv[1::2], argv[2::2]))
        found.append({"pid": int(proc.name), "host_ip": opts.get("-host-ip"),
                      "host_port": int(opts.get("-host-port", 0)),
                      "container_ip": opts.get("-container-ip"),
                      "container_port": int(opts.get("-container-port", 0))})
    return found


def listening(world, place: Place) -> list[dict]:
    """Listening TCP and UDP sockets: {"proto", "local", "port", "process"} (`ss -lntup`)."""
    out = run_in(world, place, ["ss", "-H", "-lntup"]).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split()
        local = cols[4]
        addr, _, port = local.rpartition(":")
        proc = re.search(r'"([^"]+)"', line)
        rows.append({"proto": cols[0], "local": addr, "port": int(port), "process": proc.group(1) if proc else ""})
    return rows


# --- bridges, veths, fdb ----------------------------------------------------------------------

def bridge_fdb(world, machine: str, bridge: str) -> list[dict]:
    """Learned (dynamic) entries of a Linux bridge's forwarding database: MAC -> port."""
    rows = json.loads(run_in(world, machine, ["bridge", "-j", "fdb", "show", "br", bridge]).stdout or "[]")
    return [{"mac": r["mac"], "port": r["ifname"]} for r in rows
            if "permanent" not in (r.get("state") or "") and not r.get("vlan") and r.get("flags") != ["self"]]


def mac_of(world, place: Place, ifname: str = "eth0") -> str:
    return ip_json(world, place, "link", "show", "dev", ifname)[0]["address"]


def veth_peer(world, host: str, container, ifname: str = "eth0") -> dict:
    """The host end of a container's veth: matched by the ifindex each end reports of the other."""
    inside = ip_json(world, container, "link", "show", "dev", ifname)[0]
    for link in ip_json(world, host, "link", "show"):
        if link["ifindex"] == inside.get("link_index") and link.get("link_index") == inside["ifindex"]:
            return {"container_if": f"{ifname}@if{inside['link_index']} (index {inside['ifindex']})",
                    "host_if": f"{link['ifname']} (index {link['ifindex']})",
                    "host_ifname": link["ifname"], "master": link.get("master")}
    raise LookupError(f"no veth peer of {container.name}:{ifname} on {host}")


def resolv_nameservers(container) -> list[str]:
    code, out = container.exec_run(["cat", "/etc/resolv.conf"])
    return re.findall(r"^nameserver\s+(\S+)", out.decode(), re.M)


def lookup(container, name: str) -> tuple[bool, str]:
    """Resolve a container name with the container's own resolver (nslookup, inside the lab)."""
    code, out = container.exec_run(["nslookup", name])
    text = out.decode(errors="replace")
    return code == 0 and "Address" in text.split("Name:")[-1], text.strip()


# --- captures ---------------------------------------------------------------------------------

@dataclass
class Capture:
    """A tcpdump running in a machine's namespace while an action happens."""

    machine: str
    iface: str
    lines: list[str]

    def __repr__(self) -> str:
        return f"capture on {self.machine}:{self.iface}\n" + "\n".join(self.lines)


def capture(world, captures: list[tuple[str, str, str]], action, count: int = 1, wait: float = 3.0) -> list[Capture]:
    """Run tcpdump on each (machine, iface, bpf filter), do `action()`, return what each saw."""
    procs = []
    for machine, iface, bpf in captures:
        argv = [which("nsenter"), f"--net=/run/netns/{world[machine].namespace}", which("tcpdump"),
                "-nn", "-l", "-i", iface, "-c", str(count), bpf]
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    _wait_listening(procs)
    result = action()
    seen = []
    for (machine, iface, _), proc in zip(captures, procs):
        try:
            out, _ = proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, _ = proc.communicate()
        seen.append(Capture(machine, iface, [line for line in out.splitlines() if line.strip()]))
    capture.last_result = result
    return seen


def _wait_listening(procs, timeout: float = 3.0) -> None:
    # tcpdump says "listening on ..." on stderr once its socket is open; read until every one did.
    import select

    deadline = time.monotonic() + timeout
    pending = list(procs)
    while pending and time.monotonic() < deadline:
        ready, _, _ = select.select([p.stderr for p in pending], [], [], 0.1)
        for stream in ready:
            line = stream.readline()
            if "listening on" in line:
                pending = [p for p in pending if p.stderr is not stream]


def pcap(world, machine: str, iface: str, bpf: str, action, count: int = 2, wait: float = 4.0):
    """Like `capture`, but returns scapy packets (for headers tcpdump's text hides, e.g. VXLAN)."""
    from scapy.all import rdpcap  # scapy decodes UDP 4789 as VXLAN

    path = world.names.state_dir / f"capture-{machine}-{iface}.pcap"
    argv = [which("nsenter"), f"--net=/run/netns/{world[machine].namespace}", which("tcpdump"),
            "-nn", "-U", "-i", iface, "-c", str(count), "-w", str(path), bpf]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_listening([proc])
    action()
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()
    packets = list(rdpcap(str(path))) if path.exists() else []
    path.unlink(missing_ok=True)
    return packets


# --- display ----------------------------------------------------------------------------------

def table(rows: list[dict], columns: list[str] | None = None):
    """A small HTML table for a notebook (no pandas needed)."""
    from html import escape

    from IPython.display import HTML

    columns = columns or list(rows[0]) if rows else []
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def side_by_side(sdk_code: str, cli_command: str, sdk_result: Any, cli_output: str):
    """The docker SDK call and the equivalent CLI command, both run for real, next to each other."""
    from html import escape

    from IPython.display import HTML

    return HTML(
        "<table><tr><th>docker SDK (Python)</th><th>docker CLI</th></tr><tr>"
        f"<td><pre>{escape(sdk_code)}\n\n# -> {escape(str(sdk_result))}</pre></td>"
        f"<td><pre>$ {escape(cli_command)}\n{escape(cli_output)}</pre></td></tr></table>")
