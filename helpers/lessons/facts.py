"""Observations the chapters prove claims with: read live state, never assume it.

A thin, notebook-friendly layer over the rooms that do the work: `helpers.observe` reads and parses
a namespace (`ip -j`, `bridge -j`, `iptables-save -c`, `conntrack`, docker-proxy processes) and
`helpers.capture` runs tcpdump and decodes the frames with scapy. Every function here returns plain
Python data, so a notebook cell is one call and one claim. The `*_row(s)` functions are pure (typed
observations in, plain rows out), so unit tests feed them saved outputs.
A *place* is where to look: a machine role ("host1", "router", "lanpc", ...) or a docker SDK
Container (entered through its PID's network namespace, with the machine's own iproute2).
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers.lessons.claims import measured
from helpers.observe import collect, parse
from helpers.observe.model import ConntrackEntry, FdbEntry, NamespaceState, Rule, Tuple
from helpers.world.naming import ROLES
from helpers.world.proc import in_netns, which

Place = str | Any  # a machine role, or a docker SDK Container

# Docker's documented default address pools (daemon `default-address-pools` when unset), in order.
DEFAULT_POOLS = [("172.17.0.0/16", 16), ("172.18.0.0/16", 16), ("172.19.0.0/16", 16),
                 ("172.20.0.0/14", 16), ("172.24.0.0/14", 16), ("172.28.0.0/14", 16),
                 ("192.168.0.0/16", 20)]


# --- a place, and what its namespace holds ------------------------------------------------------

def _pid(container) -> int:
    container.reload()
    pid = container.attrs["State"]["Pid"]
    if not pid:
        raise RuntimeError(f"container {container.name} is not running")
    return pid


def _target(world, place: Place) -> collect.Target:
    """The namespace of a place, as the observation room names it (display name, kind, netns file)."""
    if isinstance(place, str):
        return collect.machine_targets(world, [place])[0]
    return collect.Target(place.name, "container", f"/proc/{_pid(place)}/ns/net")


@measured
def state(world, place: Place, *parts: str) -> NamespaceState:
    """A typed snapshot of `place` through `helpers.observe` (only the `parts` asked for: links,
    routes, neighbours, fdb, rules, conntrack), so each fact reads only what it needs."""
    target = _target(world, place)
    return collect.read_namespace(target.name, target.kind, target.path, parts or None)


@measured
def run_in(world, place: Place, argv: list[str], check: bool = True,
           timeout: float = 30) -> subprocess.CompletedProcess:
    """Run a host tool (sh, ip, ss, ...) inside `place`'s network namespace."""
    if isinstance(place, str):
        return world[place].run(argv, check=check, timeout=timeout)
    full = [which("nsenter"), "-t", str(_pid(place)), "-n", which(argv[0]), *argv[1:]]
    result = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} in {place.name}: {result.stderr.strip()}")
    return result


@measured
def ip_json(world, place: Place, *args: str) -> list[dict]:
    """`ip -j <args>` inside `place`, as iproute2 prints it (for a cell that shows the raw JSON)."""
    return json.loads(run_in(world, place, ["ip", "-j", *args]).stdout or "[]")


def _interface(world, place: Place, ifname: str):
    iface = state(world, place, "links").interface(ifname)
    if iface is None:
        raise LookupError(f"no interface {ifname} in {_target(world, place).name}")
    return iface


@measured
def interfaces(world, place: Place) -> list[str]:
    return [iface.name for iface in state(world, place, "links").interfaces]


@measured
def ipv4(world, place: Place, ifname: str | None = None) -> list[str]:
    """IPv4 addresses with prefix (e.g. 172.17.0.2/16), optionally of one interface."""
    return [a.cidr for iface in state(world, place, "links").interfaces if not ifname or iface.name == ifname
            for a in iface.ipv4 if not ipaddress.ip_address(a.address).is_loopback]


@measured
def address(world, place: Place, ifname: str = "eth0") -> str:
    """The first IPv4 address of `ifname` in `place`, without prefix: a machine's through the one
    reader of a machine's address (`Machine.read_address`), a container's from its namespace."""
    if isinstance(place, str) and place in ROLES:
        return world[place].read_address(ifname)
    found = ipv4(world, place, ifname)
    if not found:
        raise LookupError(f"{ifname} of {getattr(place, 'name', place)} has no IPv4 address")
    return found[0].split("/")[0]


@measured
def default_route(world, place: Place) -> dict | None:
    route = next((r for r in state(world, place, "routes").routes if r.dst == "default"), None)
    return {"via": route.gateway, "dev": route.dev} if route else None


@measured
def route_for(routes: list, address: str) -> dict | None:
    """The route the kernel's longest-prefix match picks for `address` among `routes` (typed, main
    table, unicast): {"dst", "via", "dev"}, dst "default" for 0.0.0.0/0. `ip route get` names the
    gateway and device but not which route matched; this does. Pure."""
    ip = ipaddress.ip_address(address)
    candidates = [r for r in routes if r.type == "unicast" and r.table in (None, "main")
                  and ip in r.network()]
    best = max(candidates, key=lambda r: r.network().prefixlen, default=None)
    return {"dst": best.dst, "via": best.gateway, "dev": best.dev} if best else None


@measured
def route_to(world, place: Place, address: str) -> dict | None:
    """`route_for` on a lab machine's or container's own routes (`ip -j route`)."""
    return route_for(state(world, place, "routes").routes, address)


@measured
def mtu(world, place: Place, ifname: str = "eth0") -> int:
    return _interface(world, place, ifname).mtu


@measured
def mac_of(world, place: Place, ifname: str = "eth0") -> str:
    return _interface(world, place, ifname).mac


@measured
def forget_neighbours(world, place: Place) -> None:
    """Flush a lab machine's or container's neighbour (ARP) table, so its next packet must ask again."""
    run_in(world, place, ["ip", "neigh", "flush", "all"])


@measured
def same_netns(world, place_a: Place, place_b: Place) -> bool:
    """True if two places are one network namespace (compared by the kernel's inode)."""
    return os.stat(_target(world, place_a).path).st_ino == os.stat(_target(world, place_b).path).st_ino


# --- the engine -------------------------------------------------------------------------------

@measured
def engine_networks(world, host: str = "host1") -> list[dict]:
    """name, driver, scope, subnets and labels of every network the engine lists."""
    rows = []
    for net in world.hosts[host].docker.api.networks():
        subnets = [c.get("Subnet") for c in (net.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]
        rows.append({"name": net["Name"], "driver": net["Driver"], "scope": net["Scope"],
                     "subnets": subnets, "labels": net.get("Labels") or {}})
    return sorted(rows, key=lambda r: r["name"])


@measured
def swarm_state(world, host: str) -> str:
    return world.hosts[host].docker.info()["Swarm"]["LocalNodeState"]


@measured
def next_default_subnet(used: list[str]) -> str:
    """The subnet Docker's default pools give next, given the subnets already in use."""
    taken = [ipaddress.ip_network(s) for s in used]
    for base, size in DEFAULT_POOLS:
        for candidate in ipaddress.ip_network(base).subnets(new_prefix=size):
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
    raise RuntimeError("the default pools are exhausted")


@measured
def cli(world, host: str, args: str, check: bool = True) -> str:
    """What the real `docker --context <prefix>-<host> <args>` prints (stdout and stderr), run by
    the course's one docker CLI runner (`engine.run_docker`; its DockerCliError if it fails)."""
    import shlex

    from helpers.world.engine import run_docker

    docker_host = world.hosts[host]
    result = run_docker(shlex.split(args), base_url=docker_host.base_url, context=docker_host.context, check=check)
    return (result.stdout + result.stderr).strip()


@dataclass
class Shown:
    """A command as the learner would type it on a lab machine, and what it printed (trimmed).

    Displays like a terminal: ``host1# iptables-save -t nat | grep MASQUERADE`` and its output.
    `output` keeps the whole text for a claim to read."""

    machine: str
    command: str
    output: str
    returncode: int
    head: int = 20

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()

    def __repr__(self) -> str:
        shown = self.lines[: self.head]
        more = len(self.lines) - len(shown)
        tail = [f"… ({more} more lines)"] if more > 0 else []
        status = [f"(exit status {self.returncode})"] if self.returncode else []
        return "\n".join([f"{self.machine}# {self.command}", *shown, *tail, *status])


@measured
def sh(world, machine: str, command: str, *, head: int = 20, check: bool = True, timeout: float = 60) -> Shown:
    """Run `command` in a shell on a lab machine, exactly as the learner would type it after
    `sudo .venv/bin/dnlab shell <machine>`: inside that machine's network namespace, with `docker`
    talking to that machine's own engine (on host1 and host2). Shows the prompt, the command and
    up to `head` lines of output. Only lab addresses exist in there: the namespaces have no link out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    if machine in world.hosts:
        env["DOCKER_HOST"] = world.hosts[machine].base_url
    argv = in_netns(world[machine].namespace, ["sh", "-c", command])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    text = (result.stdout + result.stderr).rstrip("\n")
    if check and result.returncode != 0:
        raise RuntimeError(f"{machine}# {command}\nfailed with exit status {result.returncode}:\n{text}")
    return Shown(machine, command, text, result.returncode, head)


# --- netfilter, conntrack, docker-proxy -------------------------------------------------------------

@measured
def iptables(world, host: str = "host1", table: str = "nat") -> list[Rule]:
    """The rules of one table with their counters (`iptables-save -c`), typed; chain policies left out."""
    return [r for r in state(world, host, "rules").rules if r.table == table and not r.is_policy]


@measured
def matching(rules: list[Rule], *fragments: str) -> list[Rule]:
    """The rules whose `-A CHAIN ...` line contains every fragment."""
    return [r for r in rules if all(f in str(r) for f in fragments)]


@measured
def nat_rules(world, host: str = "host1") -> list[str]:
    """The nat table's rules, one `-A CHAIN ...` line each (as `iptables-save -t nat` prints them)."""
    return [str(r) for r in iptables(world, host)]


@measured
def rule_packets(world, host: str, *fragments: str) -> int:
    """Packet counter of the first nat rule containing every fragment."""
    found = matching(iptables(world, host), *fragments)
    if not found:
        raise LookupError(f"no nat rule with {fragments} on {host}")
    return found[0].packets


@measured
def masquerade_rule(world, host: str, subnet: str) -> str | None:
    """Docker's `-s SUBNET ! -o BRIDGE -j MASQUERADE` rule of a bridge network, if it has one."""
    return next((str(r) for r in iptables(world, host)
                 if r.target == "MASQUERADE" and r.src == subnet and "out_if" in r.negated), None)


@measured
def dnat_rules(world, host: str = "host1") -> list[str]:
    return [str(r) for r in iptables(world, host) if r.target == "DNAT"]


def _ends(t: Tuple) -> dict:
    return {"src": t.src, "dst": t.dst, "sport": t.sport, "dport": t.dport}


@measured
def conntrack_rows(entries: list[ConntrackEntry], proto: str = "tcp", dport: int | None = None) -> list[dict]:
    """Entries of one protocol (and original destination port) as {"original", "reply", "state"}."""
    return [{"original": _ends(e.original), "reply": _ends(e.reply), "state": e.state or ""}
            for e in entries if e.proto == proto and (dport is None or e.original.dport == dport)]


@measured
def conntrack(world, host: str, proto: str = "tcp", dport: int | None = None) -> list[dict]:
    """Connection-tracking entries as {"original": {...}, "reply": {...}, "state": ...}."""
    return conntrack_rows(state(world, host, "conntrack").conntrack, proto, dport)


@measured
def proxy_row(proxy: collect.Proxy) -> dict:
    return {"pid": proxy.pid, "host_ip": proxy.host_ip, "host_port": proxy.host_port,
            "container_ip": proxy.container_ip, "container_port": proxy.container_port}


@measured
def docker_proxies(world, host: str = "host1") -> list[dict]:
    """docker-proxy processes of this host's engine (found by their network namespace)."""
    return [proxy_row(p) for p in collect.docker_proxies({host: _target(world, host).path})[host]]


@measured
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

@measured
def fdb_rows(entries: list[FdbEntry], bridge: str) -> list[dict]:
    """Learned (dynamic) entries of one bridge's forwarding database: MAC -> port."""
    return [{"mac": e.mac, "port": e.port} for e in entries if e.bridge == bridge and e.learned and e.vlan is None]


@measured
def bridge_fdb(world, machine: str, bridge: str) -> list[dict]:
    """Learned (dynamic) entries of a Linux bridge's forwarding database: MAC -> port."""
    return fdb_rows(state(world, machine, "fdb").fdb, bridge)


@measured
def veth_row(host: NamespaceState, inside: NamespaceState, ifname: str = "eth0") -> dict:
    """The host end of `inside`'s veth `ifname`: the pair names each other's ifindex."""
    mine = inside.interface(ifname)
    for host_end, _ in parse.peer_pairs(host.interfaces, [mine] if mine else []):
        return {"container_if": f"{ifname}@if{mine.peer_ifindex} (index {mine.ifindex})",
                "host_if": f"{host_end.name} (index {host_end.ifindex})",
                "host_ifname": host_end.name, "master": host_end.master}
    raise LookupError(f"no veth peer of {inside.name}:{ifname} on {host.name}")


@measured
def veth_peer(world, host: str, container, ifname: str = "eth0") -> dict:
    """The host end of a container's veth: matched by the ifindex each end reports of the other."""
    return veth_row(state(world, host, "links"), state(world, container, "links"), ifname)


@measured
def resolv_nameservers(container) -> list[str]:
    code, out = container.exec_run(["cat", "/etc/resolv.conf"])
    return re.findall(r"^nameserver\s+(\S+)", out.decode(), re.M)


@measured
def lookup(container, name: str) -> tuple[bool, str]:
    """Resolve a container name with the container's own resolver (nslookup, inside the lab).

    Queries never leave the lab: the embedded DNS answers names it knows and forwards the rest
    to the lab's own "internet" (every engine's daemon.json sets dns to 203.0.113.10)."""
    code, out = container.exec_run(["nslookup", name])
    text = out.decode(errors="replace")
    return code == 0 and "Address" in text.split("Name:")[-1], text.strip()


@measured
def lookup_outcome(text: str, name: str) -> dict:
    """What a busybox `nslookup NAME` printed, read as which server answered and how: "NXDOMAIN"
    (the server answered: no such name), "answered" (it gave an address), "refused", "timed out" or
    "other". A lookup that found no address is not yet NXDOMAIN: a server that is down gives none
    either. Pure, so saved outputs test it."""
    server = re.search(r"^Server:\s+(\S+)", text, re.M)
    answer = text.split("Name:", 1)[1] if "Name:" in text else ""
    if re.search(rf"^\*\* server can't find {re.escape(name)}\.?: NXDOMAIN", text, re.M):
        outcome = "NXDOMAIN"
    elif re.search(r"^Address(?: \d+)?:\s+\S+", answer, re.M):
        outcome = "answered"
    elif "refused" in text.lower():
        outcome = "refused"
    elif "timed out" in text.lower():
        outcome = "timed out"
    else:
        outcome = "other"
    return {"server": server.group(1) if server else None, "outcome": outcome}


# --- captures ---------------------------------------------------------------------------------

@measured
def capture(world, where: list[tuple[Place, str]], action: Callable[[], Any],
            keep: Callable[[Any], bool] | None = None) -> tuple[Any, list[list]]:
    """tcpdump on every (place, interface) at once while `action()` runs (`helpers.capture`), then
    the frames each one saw, decoded by scapy (`helpers.capture.decode.Frame`), those `keep` accepts.

    Returns (what `action` returned, [frames of each point, in the order given]).
    """
    from helpers.capture import Capture, Point, read_pcap

    points = [Point(target.name, target.path, iface)
              for target, iface in ((_target(world, place), iface) for place, iface in where)]
    cap = Capture(points)
    try:
        with cap:
            result = action()
        seen = [[f for f in read_pcap(cap.files[p]) if keep is None or keep(f)] if p in cap.files else []
                for p in points]
    finally:
        cap.cleanup()
    return result, seen


# --- display ----------------------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """One table cell as a reader wants it: a dict as `key: value` lines, a list comma-joined,
    None as a dash; never a Python repr."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "\n".join(f"{k}: {cell_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(cell_text(v) for v in value) if value else "(none)"
    return str(value)


def table(rows: list[dict], columns: list[str] | None = None):
    """A rendered HTML table for a notebook (no pandas needed); nested values become readable text."""
    from html import escape

    from IPython.display import HTML

    columns = columns or (list(dict.fromkeys(k for r in rows for k in r)) if rows else [])
    head = "".join(f"<th style='text-align:left'>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(
        f"<td style='text-align:left;white-space:pre-wrap'>{escape(cell_text(r.get(c)))}</td>" for c in columns)
        + "</tr>" for r in rows)
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def side_by_side(sdk_code: str, cli_command: str, sdk_result: Any, cli_output: str):
    """The docker SDK call and the equivalent CLI command, both run for real, next to each other."""
    from html import escape

    from IPython.display import HTML

    return HTML(
        "<table><tr><th>docker SDK (Python)</th><th>docker CLI</th></tr><tr>"
        f"<td><pre>{escape(sdk_code)}\n\n# -> {escape(str(sdk_result))}</pre></td>"
        f"<td><pre>$ {escape(cli_command)}\n{escape(cli_output)}</pre></td></tr></table>")
