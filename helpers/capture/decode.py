"""Decode captured frames with scapy into plain `Frame` records (Ethernet, ARP, IPv4/6, ICMP, TCP,
UDP, and VXLAN with its inner frame), and give each IP packet a *fingerprint* that survives NAT.

The fingerprint is what makes one packet recognisable at every hop: NAT rewrites addresses and
ports, routers rewrite MACs and TTL, VXLAN wraps it, but the IP ID, the TCP sequence numbers, the
ICMP sequence and the payload stay the same.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.errors import LabError

VXLAN_PORT = 4789
TCP_FLAGS = "FSRPAUEC"


@dataclass
class Frame:
    time_ns: int
    length: int
    src_mac: str | None = None
    dst_mac: str | None = None
    ethertype: int | None = None
    arp: dict | None = None            # op, psrc, pdst, hwsrc, hwdst
    src: str | None = None             # IP addresses
    dst: str | None = None
    ip_id: int | None = None
    ttl: int | None = None
    proto: str | None = None           # icmp | tcp | udp | icmp6 | <number>
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None
    icmp_seq: int | None = None
    tcp_flags: str | None = None       # "S", "SA", "PA", ...
    tcp_seq: int | None = None
    tcp_ack: int | None = None
    payload_len: int = 0
    payload_digest: str = ""
    vni: int | None = None             # VXLAN: this frame carries `inner`
    inner: Frame | None = None

    @property
    def innermost(self) -> Frame:
        return self.inner.innermost if self.inner is not None else self

    @property
    def is_ip(self) -> bool:
        return self.src is not None

    def endpoint(self, which: str) -> str | None:
        """"addr" or "addr:port" (IPv6 in brackets) for `which` = src | dst."""
        address = getattr(self, which)
        port = self.sport if which == "src" else self.dport
        if address is None:
            return None
        if port is None:
            return address
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"

    def fingerprint(self) -> tuple | None:
        """Identity of the innermost IP packet that NAT, routing and VXLAN leave unchanged."""
        f = self.innermost
        if not f.is_ip:
            return None
        if f.proto == "tcp":
            return ("tcp", f.tcp_seq, f.tcp_ack, f.tcp_flags, f.payload_len, f.payload_digest)
        if f.proto in ("icmp", "icmp6"):
            return (f.proto, f.icmp_type, f.icmp_seq, f.ip_id, f.payload_digest)
        return (f.proto, f.ip_id, f.payload_len, f.payload_digest)

    def summary(self) -> str:
        f = self
        if f.arp:
            a = f.arp
            return (f"ARP who-has {a['pdst']} tell {a['psrc']}" if a["op"] == 1
                    else f"ARP {a['psrc']} is-at {a['hwsrc']}")
        if not f.is_ip:
            return f"ethertype 0x{f.ethertype or 0:04x}"
        text = f"{f.endpoint('src')} > {f.endpoint('dst')} {f.proto}"
        if f.proto == "tcp":
            text += f" [{f.tcp_flags}] seq {f.tcp_seq}"
        elif f.icmp_type is not None:
            text += f" type {f.icmp_type} seq {f.icmp_seq}"
        if f.inner is not None:
            text += f" VXLAN vni {f.vni}: {f.inner.summary()}"
        return text

    def to_json(self) -> dict:
        return asdict(self)


def _flags(value) -> str:
    value = int(value)
    return "".join(letter for bit, letter in enumerate(TCP_FLAGS) if value & (1 << bit))


def _digest(data: bytes) -> str:
    return hashlib.blake2s(data, digest_size=6).hexdigest() if data else ""


def decode_packet(packet, time_ns: int | None = None) -> Frame:
    """One scapy packet (starting at Ethernet) -> Frame."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Ether
    from scapy.layers.vxlan import VXLAN

    if time_ns is None:
        time_ns = int(packet.time * 1_000_000_000)
    frame = Frame(time_ns=time_ns, length=len(packet))
    if Ether in packet:
        eth = packet[Ether]
        frame.src_mac, frame.dst_mac, frame.ethertype = eth.src, eth.dst, eth.type
    if ARP in packet:
        arp = packet[ARP]
        frame.arp = {"op": int(arp.op), "psrc": arp.psrc, "pdst": arp.pdst, "hwsrc": arp.hwsrc, "hwdst": arp.hwdst}
        return frame
    ip = packet.getlayer(IP) or packet.getlayer(IPv6)
    if ip is None:
        return frame
    frame.src, frame.dst = ip.src, ip.dst
    if ip.version == 4:
        frame.ip_id, frame.ttl = int(ip.id), int(ip.ttl)
    else:
        frame.ttl = int(ip.hlim)
    l4 = ip.payload
    if isinstance(l4, TCP):
        frame.proto, frame.sport, frame.dport = "tcp", int(l4.sport), int(l4.dport)
        frame.tcp_flags, frame.tcp_seq, frame.tcp_ack = _flags(l4.flags), int(l4.seq), int(l4.ack)
        data = bytes(l4.payload)
    elif isinstance(l4, UDP):
        frame.proto, frame.sport, frame.dport = "udp", int(l4.sport), int(l4.dport)
        if VXLAN in l4 and Ether in l4[VXLAN]:
            frame.vni = int(l4[VXLAN].vni)
            inner = l4[VXLAN][Ether]
            frame.inner = decode_packet(inner.__class__(bytes(inner)), time_ns)
            frame.payload_len = len(bytes(l4.payload))
            return frame
        data = bytes(l4.payload)
    elif isinstance(l4, ICMP):
        frame.proto = "icmp"
        frame.icmp_type, frame.icmp_code = int(l4.type), int(l4.code)
        # error messages (unreachable, time exceeded) carry no id/seq: scapy gives None
        frame.icmp_id = int(l4.id) if l4.id is not None else None
        frame.icmp_seq = int(l4.seq) if l4.seq is not None else None
        data = bytes(l4.payload)
    elif ip.version == 6 and l4.__class__.__name__.startswith("ICMPv6"):
        frame.proto = "icmp6"
        frame.icmp_type, frame.icmp_code = int(getattr(l4, "type", 0)), int(getattr(l4, "code", 0))
        frame.icmp_id, frame.icmp_seq = getattr(l4, "id", None), getattr(l4, "seq", None)
        data = bytes(l4.payload)
    else:
        frame.proto = str(ip.proto if ip.version == 4 else ip.nh)
        data = bytes(l4)
    frame.payload_len = len(data)
    frame.payload_digest = _digest(data)
    return frame


def read_pcap(path: str | Path) -> list[Frame]:
    """Every frame of a pcap (Ethernet link type; nanosecond or microsecond timestamps)."""
    # Import every layer before the first dissection: scapy binds IP, VXLAN, ... on import.
    from scapy.layers import inet, inet6, vxlan  # noqa: F401
    from scapy.layers.l2 import Ether
    from scapy.utils import RawPcapReader

    frames = []
    if Path(path).stat().st_size == 0:  # scapy: "No data could be read!", as a traceback
        raise _unreadable(Path(path))
    with RawPcapReader(str(path)) as reader:
        nano = reader.nano   # pcap with nanosecond stamps: `frac` is already in ns
        for data, meta in reader:
            sec, frac = meta.sec, meta.usec
            time_ns = sec * 1_000_000_000 + (frac if nano else frac * 1000)
            frames.append(decode_packet(Ether(data), time_ns))
    return frames


def _unreadable(path: Path) -> LabError:
    """An empty pcap: tcpdump could not even write its header. Almost always a full disk (issue 23.5)."""
    import shutil

    free = shutil.disk_usage(path.parent).free
    if free < 1 << 20:
        return LabError(f"the capture {path.name} is empty: its folder {path.parent} is full ({free} bytes free)",
                        f"df -h {path.parent}   # free some space there, then run the command again")
    return LabError(f"the capture {path} is empty: tcpdump wrote nothing into it (was it killed?)",
                    "run the command again; if it persists: dnlab doctor")


def read_many(files: dict) -> dict:
    """{key: path} -> {key: [Frame]}."""
    return {key: read_pcap(path) for key, path in files.items() if Path(path).exists()}


__all__ = ["Frame", "decode_packet", "read_pcap", "read_many", "VXLAN_PORT"]
