"""Typed observations of one network namespace: what the kernel holds, as plain dataclasses.

Everything here is read, never assumed: drawings, widgets, lab checks and tests use these types.
"""
from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Address:
    address: str          # "172.18.0.2"
    prefixlen: int
    family: str = "inet"  # inet | inet6
    scope: str = "global"

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"

    @property
    def network(self):
        return ipaddress.ip_network(self.cidr, strict=False)


@dataclass
class Interface:
    ifindex: int
    name: str
    mac: str = ""
    kind: str = ""                 # veth | bridge | vxlan | macvlan | loopback | ...
    mtu: int = 0
    up: bool = False
    master: str | None = None      # the bridge this interface is a port of
    peer_ifindex: int | None = None  # veth: the peer's ifindex in its own namespace (link_index)
    peer_netnsid: int | None = None  # veth: the peer's namespace id as seen from here
    addresses: list[Address] = field(default_factory=list)
    vxlan_id: int | None = None

    @property
    def ipv4(self) -> list[Address]:
        return [a for a in self.addresses if a.family == "inet"]

    @property
    def is_bridge(self) -> bool:
        return self.kind == "bridge"


@dataclass(frozen=True)
class Route:
    dst: str                       # "default" or a prefix
    dev: str | None = None
    gateway: str | None = None
    prefsrc: str | None = None
    protocol: str | None = None
    scope: str | None = None
    table: str | None = None
    type: str = "unicast"

    def network(self):
        return ipaddress.ip_network("0.0.0.0/0" if self.dst == "default" else self.dst, strict=False)

    def __str__(self) -> str:
        text = self.dst + (f" via {self.gateway}" if self.gateway else "") + (f" dev {self.dev}" if self.dev else "")
        return text + (f" src {self.prefsrc}" if self.prefsrc else "")


@dataclass(frozen=True)
class Neighbour:
    ip: str
    dev: str
    mac: str | None
    state: str


@dataclass(frozen=True)
class FdbEntry:
    mac: str
    port: str          # the bridge port (or the bridge itself for its own MAC)
    bridge: str | None  # the master bridge; None for a `self` entry of a device's own table
    state: str = ""    # permanent | reachable / "" (learned) | ...
    local: bool = False  # the MAC belongs to this host (permanent, not learned)
    vlan: int | None = None
    dst: str | None = None  # vxlan fdb: the remote VTEP

    @property
    def learned(self) -> bool:
        return not self.local and self.state != "permanent"


@dataclass
class Rule:
    """One iptables rule (from iptables-save -c), with its counters and the parts that matter."""

    table: str
    chain: str
    spec: str                 # the rule as iptables-save prints it, after "-A CHAIN "
    target: str = ""
    packets: int = 0
    bytes: int = 0
    src: str | None = None
    dst: str | None = None
    in_if: str | None = None
    out_if: str | None = None
    proto: str | None = None
    dport: str | None = None
    to: str | None = None     # --to-destination / --to-source
    negated: tuple[str, ...] = ()  # which of src/dst/in_if/out_if carry a "!"
    index: int = 0            # position within its chain, from 1

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.chain, self.spec)

    @property
    def is_policy(self) -> bool:
        return self.index == 0

    def __str__(self) -> str:
        if self.is_policy:
            return f"{self.chain} {self.spec}"
        return f"-A {self.chain} {self.spec}"


@dataclass(frozen=True)
class Tuple:
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_id: int | None = None


@dataclass(frozen=True)
class ConntrackEntry:
    proto: str
    original: Tuple
    reply: Tuple
    state: str | None = None
    flags: tuple[str, ...] = ()
    zone: int | None = None

    @property
    def snat(self) -> bool:
        """The reply is addressed elsewhere than the original source: the source was rewritten."""
        return self.reply.dst != self.original.src or self.reply.dport != self.original.sport

    @property
    def dnat(self) -> bool:
        return self.reply.src != self.original.dst or self.reply.sport != self.original.dport


@dataclass
class NamespaceState:
    """A snapshot of one network namespace."""

    name: str                       # display name: "host1", "router", "container:user-bridge-a"
    kind: str                       # machine | container
    path: str                       # the netns file the snapshot was read through
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    neighbours: list[Neighbour] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    conntrack: list[ConntrackEntry] = field(default_factory=list)
    nft: str = ""                   # `nft list ruleset` (native nftables of an engine that uses it)
    host: str | None = None         # the Docker host a container runs on
    container: str | None = None    # container name
    container_id: str | None = None
    pid: int | None = None

    def interface(self, name: str) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def bridges(self) -> list[Interface]:
        return [i for i in self.interfaces if i.is_bridge]

    def ports_of(self, bridge: str) -> list[Interface]:
        return [i for i in self.interfaces if i.master == bridge]

    def owns_ip(self, ip: str) -> bool:
        return any(a.address == ip for i in self.interfaces for a in i.addresses)

    def to_json(self) -> dict:
        return asdict(self)
