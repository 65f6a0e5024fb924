"""The traffic guard, and `probe`: the one way the course sends a packet.

Every probe names a source inside the world (a machine or a container) and a target; the target
must be an address the world owns, or a name that resolves, inside the lab, only to such addresses.
Anything else is refused before a packet leaves, so no lesson, lab or test can reach a real network.

The world owns its address plan (LAN, "internet"), loopback, and the subnets of its engines' Docker
networks that lie inside the engines' address pools: a learner can name a network anything and give
it any subnet (`--subnet 192.0.2.0/24`, the real NIC's range on some machines), so a network alone
proves nothing. A learner also controls names (a container called `134744072` is 8.8.8.8 to any C
resolver, and `--add-host` maps a name anywhere), so a name is judged by the address it resolves to:
in the source container as its own tools will resolve it (its /etc/hosts, then its resolver, which
is the engine's embedded DNS or the lab's), and from a machine through the lab's DNS server only,
never the machine's resolver (a world namespace shares the machine's /etc/resolv.conf).
"""
from __future__ import annotations

import ipaddress
import json
import re
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import TrafficGuardError, UsageError, dnlab_command, env_world
from helpers.language import translate
from helpers.world.naming import INTERNET, LAN, SERVICE_TCP_PORT
from helpers.world.proc import run

# Docker's address pools when daemon.json sets no `default-address-pools` (the same on 20.10 and 26.1):
# local networks take a /16 of 172.17-31 or a /20 of 192.168; swarm's overlays a /24 of 10.0.0.0/8
# unless `swarm init --default-addr-pool` said otherwise. The guard owns a Docker subnet only inside these.
ENGINE_DEFAULT_POOLS = ("172.17.0.0/16", "172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13", "192.168.0.0/16")
SWARM_DEFAULT_POOL = "10.0.0.0/8"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_FIX = "probe a lab address, e.g. 203.0.113.10 (the internet service); `dnlab status` lists them"
# Printed between a container's /etc/hosts and its nslookup answer, in the one exec that reads both.
_HOSTS_END = "--- dnlab: end of /etc/hosts ---"
_UNSPECIFIED = ipaddress.ip_address("0.0.0.0")  # stands for an answer that is no address: never owned


def engine_pools(host) -> list[Network]:
    """The address pools of one Docker host's engine: daemon.json's `default-address-pools` (Docker's
    defaults when unset) and its swarm's `DefaultAddrPool` (10.0.0.0/8 unless `swarm init` set one)."""
    try:
        config = json.loads(host.paths.config.read_text())
    except (OSError, ValueError, AttributeError):
        config = {}
    local = [pool["base"] for pool in config.get("default-address-pools") or []] or list(ENGINE_DEFAULT_POOLS)
    swarm = ((host.docker.info().get("Swarm") or {}).get("Cluster") or {}).get("DefaultAddrPool")
    return [ipaddress.ip_network(pool) for pool in [*local, *(swarm or [SWARM_DEFAULT_POOL])]]


def owned_subnet(subnet: Network, pools: list[Network]) -> bool:
    """A Docker network's subnet counts only inside the lab plan or the engine's pools."""
    return any(subnet.version == pool.version and subnet.subnet_of(pool) for pool in [LAN, INTERNET, *pools])


class Owned(list):
    """The networks the world owns (a list of them, as ever) and, inside its Docker subnets, what is
    still not the lab's: `excluded`, the machine's own prefixes such a subnet covers (a learner's
    `--subnet 10.0.0.0/8` covered this machine's real resolver, issue 23.4); `held`, the addresses the
    lab itself holds in those subnets (its containers', its bridges' gateways), which stay the lab's:
    inside the course image the machine's eth0 is on 172.17.0.0/16 like the lab's own docker0."""

    def __init__(self, networks=(), excluded=(), held=()):
        super().__init__(networks)
        self.excluded: list[Network] = list(excluded)
        self.held: set[Address] = set(held)


def machine_prefixes() -> list[Network]:
    """What of the machine's own network no Docker subnet of the lab may claim: the machine's
    addresses, the destinations (but the default) and gateways of its routes, its resolvers; read in
    the namespace `dnlab` runs in (the machine's). Loopback is the lab's own anyway."""
    found: set[Network] = set()
    for link in json.loads(run(["ip", "-j", "addr"], check=False).stdout or "[]"):
        for info in link.get("addr_info") or []:
            if info.get("local"):
                found.add(ipaddress.ip_network(info["local"]))
    for family in ("-4", "-6"):
        for route in json.loads(run(["ip", "-j", family, "route"], check=False).stdout or "[]"):
            if route.get("dst") not in (None, "default"):
                found.add(ipaddress.ip_network(route["dst"], strict=False))
            if route.get("gateway"):
                found.add(ipaddress.ip_network(route["gateway"]))
    try:
        resolvers = nameservers(Path("/etc/resolv.conf").read_text())
    except OSError:
        resolvers = []
    for server in resolvers:
        address = as_address(server.split("%")[0])
        if address is not None:
            found.add(ipaddress.ip_network(address))
    return sorted((n for n in found if not any(n.version == lo.version and n.subnet_of(lo) for lo in LOOPBACK)),
                  key=lambda n: (n.version, n))


def _held(host, network: dict) -> set[Address]:
    """The addresses the lab holds on one Docker network: its containers' and its gateways."""
    inspected = host.docker.api.inspect_network(network["Id"])
    held = {ipaddress.ip_address(pool["Gateway"]) for pool in (inspected.get("IPAM") or {}).get("Config") or []
            if pool.get("Gateway")}
    for endpoint in (inspected.get("Containers") or {}).values():
        for key in ("IPv4Address", "IPv6Address"):
            if endpoint.get(key):
                held.add(ipaddress.ip_interface(endpoint[key]).ip)
    return held


def world_networks(world) -> Owned:
    """Every subnet the world owns: its LAN, its internet, and those of its engines' Docker networks
    that lie inside the engines' pools (`owned_subnet`); less, in those, the machine's own prefixes
    they cover, but for the addresses the lab holds there (`Owned`)."""
    owned = Owned([LAN, INTERNET])
    machine = machine_prefixes()
    for host in world.hosts.values():
        pools = engine_pools(host)
        for network in host.docker.api.networks():
            for pool in (network.get("IPAM") or {}).get("Config") or []:
                subnet = ipaddress.ip_network(pool["Subnet"], strict=False) if pool.get("Subnet") else None
                if subnet is None or not owned_subnet(subnet, pools):
                    continue
                if subnet not in owned:
                    owned.append(subnet)
                covered = [m for m in machine if m.version == subnet.version and m.overlaps(subnet)]
                if covered:
                    owned.excluded += [m for m in covered if m not in owned.excluded]
                    owned.held |= _held(host, network)
    return owned


def _machines_own(address: Address, owned: list[Network]) -> Network | None:
    """The machine's prefix that keeps `address` from the lab, if any (see `Owned`)."""
    if not isinstance(owned, Owned) or address in owned.held or any(address in n for n in (LAN, INTERNET)):
        return None
    return next((m for m in owned.excluded if m.version == address.version and address in m), None)


def as_address(target: str) -> Address | None:
    """The address a target means to the tools the probes run, or None for a name: besides the usual
    forms, C's inet_aton (busybox, glibc) reads `134744072`, `0x8080808` and `8.8.2056` as 8.8.8.8."""
    try:
        return ipaddress.ip_address(target)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(target))
    except (OSError, ValueError):
        return None


def container_names(world) -> set[str]:
    """Every name Docker's DNS answers in the world: containers' names and their network aliases.
    Read by docker inspect (`containers.list`): the list endpoint carries no Aliases (issue 23.7)."""
    names: set[str] = set()
    for host in world.hosts.values():
        for container in host.docker.containers.list():
            names.add(container.name)
            for settings in ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).values():
                names.update(settings.get("Aliases") or [])
                names.update(settings.get("DNSNames") or [])
    return names


def check_address(address: Address, owned: list[Network], target: str | None = None) -> None:
    """Raise TrafficGuardError unless `address` lies in an owned network or loopback (and is not the
    machine's own, inside a learner's Docker subnet: `Owned`)."""
    machines = _machines_own(address, owned)
    if machines is not None:
        raise TrafficGuardError(
            f"refused to send to {target or address}: {address} is this machine's own network ({machines}: its "
            "address, a route or its resolver), even though a Docker network of the lab covers it", _FIX)
    if any(address in network for network in (*owned, *LOOPBACK) if network.version == address.version):
        return
    means = f"{target!r} means {address}" if target not in (None, str(address)) else str(address)
    raise TrafficGuardError(
        f"refused to send to {means}: the lab world does not own that address "
        f"(it owns {', '.join(str(n) for n in owned)} and loopback)", _FIX)


def check_target(target: str, owned: list[Network], names: set[str] = frozenset()) -> str:
    """Return `target` if the world owns it (an address, in any form a resolver reads as one, or one of
    its containers' names); raise TrafficGuardError otherwise. `probe` also resolves names in the lab."""
    address = as_address(target)
    if address is not None:
        check_address(address, owned, target)
        return target
    if _NAME.fullmatch(target) and target in names:
        return target  # resolved by the lab's own embedded DNS, inside the lab
    raise TrafficGuardError(
        f"refused to send to {target!r}: it is neither an address of the lab world nor one of "
        "its containers' names, and the course never resolves outside names", _FIX)


def parse_hosts(text: str, name: str) -> list[str]:
    """The addresses /etc/hosts (its text) gives `name`, in file order."""
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and name in fields[1:]:
            found.append(fields[0])
    return found


def parse_nslookup(text: str) -> list[str]:
    """The answer's addresses in busybox nslookup's output: the `Address` lines after the first
    `Name:` (those before it are the server's own)."""
    answer = text.split("Name:", 1)[1] if "Name:" in text else ""
    return [line.split()[-1] for line in answer.splitlines() if line.startswith("Address")]


def lab_dns_server(world) -> str:
    """The lab's DNS server: the internet machine's address, read now (the engines' daemon.json names it)."""
    return world["inet"].read_address()


def nameservers(text: str) -> list[str]:
    """The `nameserver` addresses of a resolv.conf (its text)."""
    return re.findall(r"^\s*nameserver\s+(\S+)", text, re.M)


def _container_files(container) -> tuple[str, str]:
    """(/etc/hosts, /etc/resolv.conf) of a container, read in one exec."""
    _, raw = container.exec_run(["sh", "-c", f'cat /etc/hosts; echo "{_HOSTS_END}"; cat /etc/resolv.conf'])
    hosts, _, resolv = raw.decode(errors="replace").partition(_HOSTS_END)
    return hosts, resolv


def resolve_in_lab(world, source, name: str, owned: list[Network]) -> list[str]:
    """The addresses `name` resolves to for `source`, inside the lab; [] if it does not resolve.

    A container: its /etc/hosts first, else its own resolver (what its ping and wget will use), once
    each of its nameservers is checked (`docker run --dns 8.8.8.8` would send the question out). A
    machine: the lab's DNS server only (its namespace shares the real machine's resolv.conf)."""
    if isinstance(source, str):
        server = lab_dns_server(world)
        result = world[source].run(["busybox", "nslookup", "-type=a", name, server], check=False, timeout=10)
        return parse_nslookup(result.stdout)
    hosts, resolv = _container_files(source)
    if parse_hosts(hosts, name):
        return parse_hosts(hosts, name)
    servers = nameservers(resolv)
    for server in servers:
        check_address(as_address(server) or _UNSPECIFIED, owned, f"{source.name}'s nameserver {server}")
    if not servers:
        return []
    # Asked of the server just checked, by address: a resolv.conf swapped meanwhile changes nothing.
    _, raw = source.exec_run(["nslookup", "-type=a", name, servers[0]])
    return parse_nslookup(raw.decode(errors="replace"))


def checked_target(world, source, target: str, owned: list[Network]) -> str | None:
    """What `source` sends to for `target` (TrafficGuardError if nothing): an owned address as given;
    for a name, the address it resolves to in the lab, once, after every address it resolves to is
    checked; None if it does not resolve (nothing is sent: the tool would say `bad address`).

    The name itself is never handed to the tool: it would resolve it again, and a container that swaps
    its /etc/hosts between a lab address and 8.8.8.8 got 3 of 60 probes sent out (issue 23.4)."""
    address = as_address(target)
    if address is not None:
        check_address(address, owned, target)
        return target
    if not _NAME.fullmatch(target):
        raise TrafficGuardError(f"refused to send to {target!r}: not an address nor a host name", _FIX)
    resolved = resolve_in_lab(world, source, target, owned)
    for found in resolved:
        check_address(as_address(found) or _UNSPECIFIED, owned, target)
    return resolved[0] if resolved else None


@dataclass
class ProbeResult:
    source: str
    target: str
    kind: str
    ok: bool
    output: str
    returncode: int

    def __str__(self) -> str:
        fields = dict(source=self.source, target=self.target, kind=self.kind, output=self.output.strip()[:200])
        if self.ok:
            return translate("world:probe:reached", "{source} reached {target} ({kind}): {output}", **fields)
        return translate("world:probe:not-reached", "{source} did not reach {target} ({kind}): {output}", **fields)


_TOOL = {"ping": "ping", "tcp": "nc", "http": "wget", "udp": "tftp"}   # the busybox applet of each kind


def _command(kind: str, target: str, port: int | None, timeout: int, size: int | None = None) -> list[str]:
    port = SERVICE_TCP_PORT if port is None and kind in ("tcp", "udp") else port
    if port is not None:
        # `int(port or SERVICE_TCP_PORT)` once sent `--tcp 0` to 9000, and 99999 to whatever nc made of it
        given = port
        try:
            port = int(port)
        except (TypeError, ValueError):
            port = -1
        if not 1 <= port <= 65535:
            raise UsageError(f"{given!r} is not a port: ports run from 1 to 65535",
                             dnlab_command("trace SOURCE TARGET --tcp 8080", env_world()))
    if kind == "ping":
        return ["ping", "-c", "1", "-W", str(timeout), *(["-s", str(int(size))] if size else []), target]
    if kind == "tcp":
        return ["sh", "-c", f"echo | nc -w {timeout} {shlex.quote(target)} {port}"]
    if kind == "http":
        host = f"[{target}]" if ":" in target else target
        # busybox wget's own -T option segfaults (Debian 1.35); the timeout applet bounds it instead.
        return ["timeout", str(timeout), "wget", "-q", "-O", "-", f"http://{host}:{80 if port is None else port}/"]
    if kind == "udp":
        # One UDP datagram to any port: busybox's nc has no -u here, but its tftp sends a read
        # request to HOST PORT and waits for an answer; `ok` means something answered it.
        return ["timeout", str(timeout), "tftp", "-g", "-r", "dnlab-probe", "-l", "/dev/null", target,
                str(port)]
    raise ValueError(f"unknown probe kind {kind!r}: use ping, tcp, udp or http")


def probe(world, source, target: str, kind: str = "ping", port: int | None = None,
          timeout: int = 2, size: int | None = None) -> ProbeResult:
    """Send one probe from `source` (a machine role such as "inet", or a docker SDK Container).

    `size` is a ping's payload in bytes (the IP packet is 28 bytes more); other kinds ignore it.

    The target is checked first (`checked_target`: a name is resolved in the lab and its address
    checked); the command runs inside the lab only (a container, or a world namespace through the
    machine's busybox), never in the machine's own network namespace.
    """
    sent_to = checked_target(world, source, target, world_networks(world))
    if sent_to is None:  # nothing sent: the name resolves nowhere in the lab; what its tool would say
        label = source if isinstance(source, str) else source.name
        return ProbeResult(label, target, kind, False, f"{_TOOL.get(kind, kind)}: bad address '{target}'", 1)
    argv = _command(kind, sent_to, port, timeout, size if kind == "ping" else None)
    if isinstance(source, str):
        machine = world[source]  # KeyError for an unknown role: there is no namespace to run in
        result = run(["busybox", *argv], machine.namespace, check=False, timeout=timeout + 10)
        code, text, label = result.returncode, result.stdout + result.stderr, source
    else:
        code, raw = source.exec_run(argv)
        text, label = raw.decode(errors="replace"), source.name
    return ProbeResult(label, target, kind, code == 0, text, code)


# --- a crafted frame: a TCP SYN to a lab host's loopback (moby#45610, chapter 7) ------------------

# Run by the lab's Python inside the sending machine's namespace: one SYN in a frame addressed to the
# host's MAC, and the first TCP answer from that port to the SYN's source port (seen on eth0 by a raw
# socket, before the sender's kernel would drop a reply from 127.0.0.1 as a martian). Prints JSON.
_LOOPBACK_SYN = """
import json, random, sys, threading
from scapy.all import AsyncSniffer, Ether, IP, TCP, conf, get_if_hwaddr, sendp
conf.verb = 0
mac, src, dst, port, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
sport = random.randint(20000, 60000)
ready = threading.Event()
sniffer = AsyncSniffer(iface="eth0", count=1, started_callback=ready.set,
                       filter=f"tcp and src host {dst} and src port {port} and dst port {sport}")
sniffer.start()
ready.wait(10)
sendp(Ether(dst=mac, src=get_if_hwaddr("eth0")) / IP(src=src, dst=dst) / TCP(sport=sport, dport=port, flags="S"),
      iface="eth0")
sniffer.join(timeout)
if sniffer.running:
    sniffer.stop()
answer = [str(p[TCP].flags) for p in (sniffer.results or []) if TCP in p]
print(json.dumps({"sport": sport, "answer": answer[0] if answer else None}))
"""


def check_loopback_frame(dst_mac: str, address: str, host_macs: dict[str, str]) -> str:
    """The lab host a crafted frame goes to: `dst_mac` must be the eth0 MAC of one of the world's
    Docker hosts (`host_macs`, role -> MAC, read in the world's namespaces) and `address` a loopback
    address, so the frame can only reach that host's own loopback. TrafficGuardError otherwise."""
    parsed = as_address(address)
    if parsed is None or not any(parsed in lo for lo in LOOPBACK if lo.version == parsed.version):
        raise TrafficGuardError(f"refused to craft a frame to {address!r}: only a lab host's loopback "
                                "(127.0.0.0/8) is sent to this way", "send_loopback_syn(world, 'lanpc', 'host1', 8081)")
    hosts = [role for role, mac in host_macs.items() if mac.lower() == dst_mac.lower()]
    if not hosts:
        raise TrafficGuardError(f"refused to craft a frame to MAC {dst_mac}: it is not the eth0 of a Docker "
                                f"host of this lab world ({', '.join(f'{r} {m}' for r, m in host_macs.items())})",
                                "send_loopback_syn(world, 'lanpc', 'host1', 8081)")
    return hosts[0]


def host_macs(world) -> dict[str, str]:
    """The eth0 MAC of each Docker host of the world, read now in its namespace."""
    return {role: json.loads(world[role].run(["ip", "-j", "link", "show", "dev", "eth0"]).stdout)[0]["address"]
            for role in world.hosts}


@dataclass
class CraftedResult:
    """What `send_loopback_syn` sent (from, to which host's MAC, the TCP ports) and what came back."""

    source: str
    host: str
    mac: str
    target: str
    port: int
    sport: int
    answer: str | None   # the TCP flags of the answer seen on the source's eth0 ("SA"), or None

    def __str__(self) -> str:
        got = (translate("world:probe:answered", "answered with TCP flags {flags}", flags=self.answer) if self.answer
               else translate("world:probe:no-answer", "no answer"))
        return translate("world:probe:crafted",
                         "{source} -> {target}:{port} in a frame to {host}'s MAC {mac} (source port {sport}): {got}",
                         source=self.source, target=self.target, port=self.port, host=self.host, mac=self.mac,
                         sport=self.sport, got=got)


def send_loopback_syn(world, source: str, host: str, port: int, address: str = "127.0.0.1",
                      timeout: float = 2) -> CraftedResult:
    """Send one TCP SYN to `address`:`port` (loopback only) from the lab machine `source`, in an
    Ethernet frame addressed to `host`'s eth0 MAC: what a LAN neighbour can do to reach a port
    published on 127.0.0.1 (moby#45610). The MAC is checked to be a Docker host's of this world
    (`check_loopback_frame`), and scapy runs inside `source`'s namespace: nothing leaves the lab."""
    import sys

    if source not in world.machines or source in world.hosts:
        raise UsageError(f"{source!r} is not a plain machine of the lab (a neighbour such as lanpc)",
                         "send_loopback_syn(world, 'lanpc', 'host1', 8081)")
    macs = host_macs(world)
    if host not in macs:
        raise UsageError(f"{host!r} is not a Docker host of the world ({', '.join(macs)})",
                         "send_loopback_syn(world, 'lanpc', 'host1', 8081)")
    check_loopback_frame(macs[host], address, macs)
    _command("tcp", address, port, 1)  # the port check of every probe (1-65535)
    machine = world[source]
    argv = [sys.executable, "-c", _LOOPBACK_SYN, macs[host], machine.read_address(), address, str(int(port)),
            str(timeout)]
    found = json.loads(run(argv, machine.namespace, timeout=timeout + 30).stdout.strip().splitlines()[-1])
    return CraftedResult(source, host, macs[host], address, int(port), found["sport"], found["answer"])
