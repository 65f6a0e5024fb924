"""The traffic guard, and `probe`: the one way the course sends a packet.

Every probe names a source inside the world (a machine or a container) and a target; the target
must be an address the world owns (its LAN, its "internet", loopback, or a subnet of one of its own
Docker networks) or the name of one of its containers. Anything else is refused before a packet
leaves, so no lesson, lab or test can reach a real network.
"""
from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from helpers.errors import TrafficGuardError
from helpers.world.naming import INTERNET, LAN, SERVICE_TCP_PORT
from helpers.world.proc import run

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def world_networks(world) -> list[Network]:
    """Every subnet the world owns: its LAN, its internet, and its engines' Docker networks."""
    owned: list[Network] = [LAN, INTERNET]
    for host in world.hosts.values():
        for network in host.docker.api.networks():
            for pool in (network.get("IPAM") or {}).get("Config") or []:
                if pool.get("Subnet"):
                    owned.append(ipaddress.ip_network(pool["Subnet"], strict=False))
    return owned


def container_names(world) -> set[str]:
    names: set[str] = set()
    for host in world.hosts.values():
        for container in host.docker.api.containers():
            names.update(name.lstrip("/") for name in container["Names"])
            for settings in container["NetworkSettings"]["Networks"].values():
                names.update(settings.get("Aliases") or [])
    return names


def check_target(target: str, owned: list[Network], names: set[str] = frozenset()) -> str:
    """Return `target` if the world owns it; raise TrafficGuardError otherwise."""
    try:
        address = ipaddress.ip_address(target)
    except ValueError:
        if _NAME.match(target) and target in names:
            return target  # resolved by the lab's own embedded DNS, inside the lab
        raise TrafficGuardError(
            f"refused to send to {target!r}: it is neither an address of the lab world nor one of "
            "its containers' names, and the course never resolves outside names",
            "probe a lab address, e.g. 203.0.113.10 (the internet service); `dnlab status` lists them",
        ) from None
    if any(address in network for network in (*owned, *LOOPBACK) if network.version == address.version):
        return target
    raise TrafficGuardError(
        f"refused to send to {address}: the lab world does not own that address "
        f"(it owns {', '.join(str(n) for n in owned)} and loopback)",
        "probe a lab address, e.g. 203.0.113.10 (the internet service); `dnlab status` lists them",
    )


@dataclass
class ProbeResult:
    source: str
    target: str
    kind: str
    ok: bool
    output: str
    returncode: int

    def __str__(self) -> str:
        verdict = "reached" if self.ok else "did not reach"
        return f"{self.source} {verdict} {self.target} ({self.kind}): {self.output.strip()[:200]}"


def _command(kind: str, target: str, port: int | None, timeout: int, size: int | None = None) -> list[str]:
    if kind == "ping":
        return ["ping", "-c", "1", "-W", str(timeout), *(["-s", str(int(size))] if size else []), target]
    if kind == "tcp":
        return ["sh", "-c", f"echo | nc -w {timeout} {shlex.quote(target)} {int(port or SERVICE_TCP_PORT)}"]
    if kind == "http":
        host = f"[{target}]" if ":" in target else target
        # busybox wget's own -T option segfaults (Debian 1.35); the timeout applet bounds it instead.
        return ["timeout", str(timeout), "wget", "-q", "-O", "-", f"http://{host}:{int(port or 80)}/"]
    raise ValueError(f"unknown probe kind {kind!r}: use ping, tcp or http")


def probe(world, source, target: str, kind: str = "ping", port: int | None = None,
          timeout: int = 2, size: int | None = None) -> ProbeResult:
    """Send one probe from `source` (a machine role such as "inet", or a docker SDK Container).

    `size` is a ping's payload in bytes (the IP packet is 28 bytes more); other kinds ignore it.

    The target is checked first; the command runs inside the lab only (a container, or a world
    namespace through the machine's busybox), never in the machine's own network namespace.
    """
    owned = world_networks(world)
    check_target(target, owned, container_names(world))
    argv = _command(kind, target, port, timeout, size if kind == "ping" else None)
    if isinstance(source, str):
        machine = world[source]  # KeyError for an unknown role: there is no namespace to run in
        result = run(["busybox", *argv], machine.namespace, check=False, timeout=timeout + 10)
        code, text, label = result.returncode, result.stdout + result.stderr, source
    else:
        code, raw = source.exec_run(argv)
        text, label = raw.decode(errors="replace"), source.name
    return ProbeResult(label, target, kind, code == 0, text, code)
