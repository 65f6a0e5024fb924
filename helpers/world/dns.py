"""The lab internet's DNS server: names resolve inside the lab, and only to the lab.

It runs in the world's `inet` namespace, in the internet service's process (`service.serve` starts
it first), on UDP and TCP port 53 of the service's address; every engine's daemon.json names that
address as its containers' resolver, and Docker's embedded DNS forwards to it what it does not know.
What it answers (`LabZone.answer`):

- a lab machine's name (host1, host2, lanpc, router, inet), bare or under LAB_DOMAIN: the machine's
  address, read live from the machine (`Machine.read_address`: a lab may move it);
- any other dotted name (example.com, registry-1.docker.io): the internet service's address, so a
  tutorial's `ping google.com` or `wget -qO- http://example.com/` reaches the lab internet;
- any other single label, or a single label that the machine's search list turned into a dotted
  name: NXDOMAIN, as on the real internet; this keeps the lesson true that containers on the
  default bridge cannot resolve each other's names;
- a reverse (in-addr.arpa) question for a machine's address: its name under LAB_DOMAIN.

Only A (and PTR) questions get records; AAAA and the rest get an empty NOERROR answer (the lab has
no IPv6). Each answer is appended to the world's DNS log as one JSON line (`WorldNames.dns_log`).
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dnslib import PTR, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSServer

from helpers.errors import LabError
from helpers.world.naming import LAB_DOMAIN, PRIVATE_FILE_MODE, ROLES, WorldNames

DNS_TTL = 5                          # seconds: short, as a lab may move a machine
NAME_INTERFACE = {"router": "lan0"}  # the interface a machine's name stands for (others: eth0)

RESOLV_CONF = (Path("/etc/resolv.conf"), Path("/run/systemd/resolve/resolv.conf"))
CACHE_SECONDS = 2.0   # one address read per machine per burst of questions (busybox asks A and AAAA)


def search_domains(paths: tuple[Path, ...] = RESOLV_CONF) -> tuple[str, ...]:
    """The machine's resolver search list: dockerd copies it into every container's resolv.conf, so a
    container's `ping web` may ask for `web.<domain>`; those names must not meet the wildcard."""
    domains: list[str] = []
    for path in paths:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            if words and words[0] in ("search", "domain"):
                domains += [w.strip(".").lower() for w in words[1:] if w.strip(".")]
    return tuple(dict.fromkeys(domains))


@dataclass
class Answer:
    """What the zone says about one question: an rcode and the records' data (addresses or names)."""

    rcode: int
    records: list[str] = field(default_factory=list)
    kind: str = "A"


@dataclass
class LabZone:
    """The lab's names. `address_of(role)` reads a machine's address now; `internet()` the service's."""

    address_of: Callable[[str], str]
    internet: Callable[[], str]
    search: tuple[str, ...] = ()

    def machine(self, name: str) -> str | None:
        """The role a name stands for: `host1`, `host1.lab.test`, or `host1.<search domain>`."""
        label, _, rest = name.partition(".")
        if label in ROLES and rest in ("", LAB_DOMAIN, *self.search):
            return label
        return None

    def answer(self, qname: str, qtype: str) -> Answer:
        """The answer to one question (`qname` as asked, any case, trailing dot or not)."""
        name = qname.rstrip(".").lower()
        if name.endswith(".in-addr.arpa"):
            found = self._reverse(name)
            return found if qtype == "PTR" or found.rcode != RCODE.NOERROR else Answer(RCODE.NOERROR)
        role = self.machine(name)
        if role is None and self._nonexistent(name):
            return Answer(RCODE.NXDOMAIN)
        if qtype != "A":
            return Answer(RCODE.NOERROR)  # the name exists; it has no record of that type
        return Answer(RCODE.NOERROR, [self.address_of(role) if role else self.internet()])

    def _nonexistent(self, name: str) -> bool:
        """Single labels, names in the lab's own zone that no machine has, and single labels the
        search list expanded: the real internet has none of them either."""
        if "." not in name or name == LAB_DOMAIN or name.endswith("." + LAB_DOMAIN):
            return True
        return name.partition(".")[2] in self.search

    def _reverse(self, name: str) -> Answer:
        try:
            address = str(ipaddress.ip_address(".".join(reversed(name.split(".")[:-2]))))
        except ValueError:
            return Answer(RCODE.NXDOMAIN)
        for role in ROLES:
            try:
                if self.address_of(role) == address:
                    return Answer(RCODE.NOERROR, [f"{role}.{LAB_DOMAIN}"], "PTR")
            except (LookupError, LabError):
                continue
        return Answer(RCODE.NXDOMAIN)


class LiveAddresses:
    """Machines' addresses read from the world (`ip -j addr` in each namespace), kept CACHE_SECONDS."""

    def __init__(self, names: WorldNames):
        from helpers.world.model import Machine

        self.machines = {role: Machine(role, names.namespace(role)) for role in ROLES}
        self.cache: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, role: str) -> str:
        with self.lock:
            seen = self.cache.get(role)
            if seen and time.monotonic() - seen[0] < CACHE_SECONDS:
                return seen[1]
        address = self.machines[role].read_address(NAME_INTERFACE.get(role, "eth0"))
        with self.lock:
            self.cache[role] = (time.monotonic(), address)
        return address


def reply(request: DNSRecord, zone: LabZone) -> DNSRecord:
    """The DNS reply to `request` (one question, as every stub resolver sends)."""
    response = request.reply()
    response.header.ad = 0  # dig asks with AD set; nothing here is DNSSEC-validated
    question = request.q
    qtype = QTYPE.get(question.qtype, str(question.qtype))
    try:
        answer = zone.answer(str(question.qname), "PTR" if qtype == "PTR" else qtype)
    except (LookupError, OSError, LabError) as error:  # a machine without its address (or namespace)
        print(f"dns: {question.qname}: {error}", file=sys.stderr, flush=True)
        response.header.rcode = RCODE.SERVFAIL
        return response
    response.header.rcode = answer.rcode
    for record in answer.records:
        data = PTR(record + ".") if answer.kind == "PTR" else A(record)
        response.add_answer(RR(question.qname, getattr(QTYPE, answer.kind), rdata=data, ttl=DNS_TTL))
    return response


class _Resolver(BaseResolver):
    def __init__(self, zone: LabZone):
        self.zone = zone

    def resolve(self, request: DNSRecord, handler) -> DNSRecord:
        return reply(request, self.zone)


class JsonLog:
    """dnslib's logger interface: one JSON line per reply (the course's evidence), errors to stderr."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def log_reply(self, handler, reply: DNSRecord) -> None:
        entry = {"time": time.time(), "client": handler.client_address[0], "port": handler.client_address[1],
                 "proto": handler.protocol, "name": str(reply.q.qname).rstrip("."),
                 "type": QTYPE.get(reply.q.qtype, str(reply.q.qtype)), "rcode": RCODE.get(reply.header.rcode),
                 "answers": [str(rr.rdata).rstrip(".") for rr in reply.rr]}
        # Made root's alone if new (the learner's traffic): opened with the mode, not chmod'ed after.
        with self.lock, open(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE),
                             "a") as log:
            log.write(json.dumps(entry) + "\n")

    def log_error(self, handler, error) -> None:
        print(f"dns: {handler.client_address[0]}: {error}", file=sys.stderr, flush=True)

    def log_recv(self, handler, data) -> None: ...
    def log_send(self, handler, data) -> None: ...
    def log_request(self, handler, request) -> None: ...
    def log_truncated(self, handler, reply) -> None: ...
    def log_data(self, dnsobj) -> None: ...


def read_log(path: Path) -> list[dict]:
    """The DNS log's entries, oldest first ([] before the first question)."""
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def start(names: WorldNames, host: str, port: int) -> list[DNSServer]:
    """Serve the world's zone on `host`:`port` (UDP and TCP) in threads of this process; returns once
    both sockets are bound, so a caller that waits for the service's TCP port waits for these too."""
    addresses = LiveAddresses(names)
    zone = LabZone(addresses, lambda: addresses("inet"), search_domains())
    logger = JsonLog(names.dns_log)
    servers = [DNSServer(_Resolver(zone), address=host, port=port, tcp=tcp, logger=logger) for tcp in (False, True)]
    for server in servers:
        server.start_thread()
    return servers
