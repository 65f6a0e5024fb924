"""Names, paths and addresses of a dnlab lab world.

A *world* is a small simulated cloud built from network namespaces on this machine. It is fully
disconnected from the machine's real network: no link of the world reaches the root namespace.

Topology::

    host1 (eth0) ─┐                                  ┌─ inet (eth0): "the internet"
    host2 (eth0) ─┼─ lan0 bridge ── router ── wan0 ──┘   answers every client with the
    lanpc (eth0) ─┘  (the physical LAN)                  address it sees it come from

Naming scheme (``W`` is the world id; the default world has none)::

    prefix               dnlab                      (default world)
                         dnlab-W                    (world W, e.g. dnlab-w2)
    namespaces           <prefix>-router  <prefix>-inet  <prefix>-host1  <prefix>-host2
                         <prefix>-lanpc;  <prefix>-scratch only while a lesson runs a fresh engine
    namespace label      the alias of its ``lo`` is ``dnlab-world=<prefix>``
    router interfaces    lan0 (bridge), p-host1 / p-host2 / p-lanpc (its ports), wan0
    machine interfaces   eth0 in every machine namespace
    state (tmpfs)        /run/dnlab/<prefix>/            manifest.json, service pid and log, DNS log
                         /run/dnlab/<prefix>/<host>/     docker.sock, dockerd.pid, dockerd.log,
                                                        daemon.json, exec/ (dockerd exec-root, a shared
                                                        mount), private/ (bound, in the engine's own mount
                                                        namespace, over /etc/resolv.conf, /etc/hosts and
                                                        engine.ENGINE_FIXED_DIRS)
    engine data          /var/lib/dnlab/<prefix>/<host>/ (dockerd data-root)
    docker contexts      <prefix>-host1, <prefix>-host2  (so ``docker --context dnlab-host1``)
    docker labels        org.dnlab.world=<prefix> on what the course makes;
                         org.dnlab.scenario=<name> and org.dnlab.role=<role> on what a scenario
                         (or a lesson) makes; org.dnlab.course=dnlab on the lab image
    lab image            dnlab/box:latest (busybox-static, built offline); a container that only
                         has to stay up runs ``sleep 1000000``

Address plan: only documentation ranges, so nothing collides with or reaches a real network.
Every world uses the same plan: its namespaces are isolated, so two worlds never meet::

    LAN        198.51.100.0/24   router .1, host1 .11, host2 .12, lanpc .20
    internet   203.0.113.0/24    router .1, inet .10 (TCP service port 9000, HTTP port 80, DNS 53)

This module holds that scheme: names, labels, name patterns, paths, the address plan and the modes
of the world's folders and files (used by every room that writes one), the name rules that read a
leftover's malformed prefix (`plain`, `malformed_prefix`), and the one name Docker itself gives that
the course reads (an overlay's namespace). Nothing else: other constants live with their owners (exit
codes in helpers/errors.py, gossip waits and overlay options in swarm, MTU numbers in mtu, address
pools in guard, engine settings and the machine's folders an engine covers in engine, the lab DNS's
TTL in dns, lab 13's MTU in helpers/labs/lab13.py, the course image's and the classroom's in
helpers/hosting/).
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import LabError, dnlab_command

COURSE = "dnlab"
WORLD_ENV = "DNLAB_WORLD"
LABEL_WORLD = "org.dnlab.world"
LABEL_COURSE = "org.dnlab.course"
LABEL_SCENARIO = "org.dnlab.scenario"
LABEL_ROLE = "org.dnlab.role"
IMAGE = "dnlab/box:latest"
# The images Docker's docs name, built offline like the lab image (README, "Images"): stand-ins
# for alpine and nginx (busybox) and a netshoot-like toolbox (Debian's own tcpdump, curl, dig, ...).
ALPINE_IMAGE = "alpine:latest"
NGINX_IMAGE = "nginx:latest"
TOOLS_IMAGE = "dnlab/tools:latest"
LABEL_STANDS_IN = "org.dnlab.stands-in-for"   # on a stand-in: the image it replaces ("alpine")
LABEL_BUILD = "org.dnlab.build"               # on every course image: the build it came from
IDLE = ["sleep", "1000000"]          # the command of a container that only has to stay up
MARKER_PREFIX = "dnlab-world="

RUN_ROOT = Path("/run/dnlab")
DATA_ROOT = Path("/var/lib/dnlab")
CACHE_ROOT = Path("/var/cache/dnlab")
# An engine's own folder in its state folder: what it binds over the machine's folders and files
# (engine.ENGINE_FIXED_DIRS, engine.ENGINE_MACHINE_FILES) in its own mount namespace.
ENGINE_PRIVATE_DIR = "private"
# Mount points of engine.ENGINE_FIXED_DIRS that were missing and that the course made (in RUN_ROOT): the
# last world to go removes them, so the machine's tree is left as it was found.
MADE_MOUNTPOINTS_RECORD = "made-mountpoints.json"

LAN = ipaddress.ip_network("198.51.100.0/24")
INTERNET = ipaddress.ip_network("203.0.113.0/24")
ROUTER_LAN_IP = ipaddress.ip_address("198.51.100.1")
ROUTER_WAN_IP = ipaddress.ip_address("203.0.113.1")
INET_IP = ipaddress.ip_address("203.0.113.10")
SERVICE_TCP_PORT = 9000
SERVICE_HTTP_PORT = 80
# The lab internet's DNS server (helpers/world/dns.py), run by the service in `inet` and named in
# every engine's daemon.json: the machines' names, bare and under LAB_DOMAIN (.test is reserved, RFC
# 2606, so it is never a real name), answer their live address; every other dotted name answers the
# internet service's address; every other single label does not exist (NXDOMAIN), as on the internet.
DNS_PORT = 53
LAB_DOMAIN = "lab.test"
# An overlay network's own namespace on a host, under the engine's exec-root netns/: libnetwork's
# "<epoch>-" (1 on a first join) and the first characters of the network's id, 12 in all (it holds
# br0, vxlan0 and one veth per local container).
OVERLAY_NETNS = re.compile(r"^\d+-(?P<id>[0-9a-z]+)$")
# Captures (helpers/capture): each one's folder is <state dir>/CAPTURE_DIR/<pid>-<random>, holding its
# pcaps and CAPTURE_OWNER, a file its owner keeps locked (flock) while it lives: a folder whose lock is
# free is a dead owner's and is swept. Every tcpdump names its folder on its command line, which is
# how `down` and `clean` end a world's captures in any namespace, Docker's own included.
CAPTURE_DIR = "captures"
CAPTURE_OWNER = ".owner"
# A rule trace (helpers/observe/nftrace.py) keeps one ledger per running trace in <state dir>/LEDGER_DIR:
# what a trace killed with SIGKILL left is found by it (named here so every command can look for that
# folder without importing the tracer).
LEDGER_DIR = "nftrace"
# Starting a scenario (helpers/scenarios/base.py) holds <state dir>/SCENARIO_LOCK.format(name) (flock):
# two traces or explorer tabs never make the same scenario's containers and networks at once.
SCENARIO_LOCK = "scenario-{}.lock"

# Each world's folders (run state, engine data) and files (logs, daemon.json, the service's log):
# root's alone, so no other user reads a learner's traffic or reaches an engine's files.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
HOSTS = ("host1", "host2")           # machines that run their own dockerd
MACHINES = HOSTS + ("lanpc",)        # every machine on the LAN
ROLES = ("router", "inet") + MACHINES
# A throwaway engine in its own namespace, made only for a lesson that needs a *fresh* engine
# (`manager.scratch_engine`); not part of a running world's health.
SCRATCH = "scratch"
# A throwaway engine of the course's own kind, outside any world (helpers/hosting/sandbox.py: the
# course image's own test, the classroom): namespace, state dir (RUN_ROOT), data dir (DATA_ROOT) and
# cgroup parent are all SANDBOX_PREFIX + its name; its namespace's `lo` carries the alias
# SANDBOX_MARKER_PREFIX + that same full name. Never a world prefix (`dnlab-<id>` has one dash), so a
# world's cleanup never takes it for a world. While its owner lives it holds SANDBOX_OWNER (flock) in
# its state dir: `dnlab clean` removes a sandbox whose lock is free (its owner crashed).
SANDBOX_PREFIX = "dnlab-sbx-"
SANDBOX_MARKER_PREFIX = "dnlab-sandbox="
SANDBOX_OWNER = ".owner"
SANDBOX_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
MACHINE_IPS = {
    "host1": ipaddress.ip_address("198.51.100.11"),
    "host2": ipaddress.ip_address("198.51.100.12"),
    "lanpc": ipaddress.ip_address("198.51.100.20"),
}

_WORLD_ID = re.compile(r"^[a-z][a-z0-9]{0,7}$")


class NamingError(LabError, ValueError):
    """A world id or machine name that does not fit the naming scheme."""

    def __init__(self, problem: str, fix: str | None = None):
        super().__init__(problem, fix)


def validate_world_id(world_id: str | None) -> str | None:
    """Return the world id if it fits the scheme (a-z then a-z0-9, at most 8), else raise."""
    if world_id in (None, ""):
        return None
    # fullmatch: `re.match` with `$` also matches before a final newline, so `--world $'w\n'` passed
    # and made namespaces whose names no command could type back (issue 23.3).
    if not isinstance(world_id, str) or not _WORLD_ID.fullmatch(world_id):
        control = " (it holds a control character)" if isinstance(world_id, str) and any(
            ord(c) < 32 or ord(c) == 127 for c in world_id) else ""
        raise NamingError(
            f"world id {world_id!r} is not valid{control}: use 1 to 8 lower-case letters and digits, "
            "starting with a letter", f"export {WORLD_ENV}=w2   # or: {dnlab_command('...', 'w2')}")
    return world_id


def prefix_for(world_id: str | None) -> str:
    """`dnlab` for the default world, `dnlab-<id>` for another one."""
    world_id = validate_world_id(world_id)
    return COURSE if world_id is None else f"{COURSE}-{world_id}"


def world_id_from_env() -> str | None:
    return validate_world_id(os.environ.get(WORLD_ENV) or None)


_PREFIX = re.compile(rf"^{COURSE}(?:-([a-z][a-z0-9]{{0,7}}))?$")
_NAMESPACE = re.compile(rf"^({COURSE}(?:-[a-z][a-z0-9]{{0,7}})?)-({'|'.join(ROLES + (SCRATCH,))})$")


def parse_prefix(prefix: str) -> str | None:
    """The world id of a prefix (None for the default world); NamingError if not a prefix."""
    match = _PREFIX.fullmatch(prefix)
    if not match:
        raise NamingError(f"{prefix!r} is not a dnlab world prefix")
    return match.group(1)


def parse_namespace(name: str) -> tuple[str, str] | None:
    """(prefix, role) if `name` fits the namespace scheme, else None."""
    match = _NAMESPACE.fullmatch(name)
    return (match.group(1), match.group(2)) if match else None


def plain(name: str) -> str:
    """`name` without control or blank characters: what a terminal shows of it."""
    return "".join(c for c in name if c.isprintable() and not c.isspace())


def malformed_prefix(name: str) -> bool:
    """True if `name` is no prefix, but a world's once its control characters go: what a world id such as
    `$'w\\n'` left before ids were matched whole (issue 23.3; helpers/world/leftovers.py)."""
    if name == plain(name):
        return False
    try:
        parse_prefix(plain(name))
    except NamingError:
        return False
    return True


@dataclass(frozen=True)
class HostPaths:
    """Where one Docker host of a world keeps its engine's files."""

    state: Path
    data_root: Path

    @property
    def socket(self) -> Path:
        return self.state / "docker.sock"

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.state / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.state / "dockerd.log"

    @property
    def config(self) -> Path:
        return self.state / "daemon.json"

    @property
    def exec_root(self) -> Path:
        return self.state / "exec"


@dataclass(frozen=True)
class WorldNames:
    """Every name and path of one world, derived from its id alone."""

    world_id: str | None = None
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", prefix_for(self.world_id))

    @classmethod
    def from_prefix(cls, prefix: str) -> WorldNames:
        return cls(parse_prefix(prefix))

    def namespace(self, role: str) -> str:
        if role not in ROLES + (SCRATCH,):
            raise NamingError(f"unknown machine {role!r}; the world has {', '.join(ROLES)}",
                              dnlab_command("status", self.world_id) + "   # lists the machines")
        return f"{self.prefix}-{role}"

    @property
    def namespaces(self) -> dict[str, str]:
        return {role: self.namespace(role) for role in ROLES}

    @property
    def marker(self) -> str:
        return MARKER_PREFIX + self.prefix

    @property
    def state_dir(self) -> Path:
        return RUN_ROOT / self.prefix

    @property
    def data_dir(self) -> Path:
        return DATA_ROOT / self.prefix

    @property
    def manifest(self) -> Path:
        return self.state_dir / "manifest.json"

    @property
    def service_pidfile(self) -> Path:
        return self.state_dir / "inet-service.pid"

    @property
    def service_log(self) -> Path:
        """JSON lines, one per client the internet service saw."""
        return self.state_dir / "inet-seen.jsonl"

    @property
    def dns_log(self) -> Path:
        """JSON lines, one per question the lab's DNS server answered."""
        return self.state_dir / "inet-dns.jsonl"

    def host(self, host: str) -> HostPaths:
        if host not in HOSTS + (SCRATCH,):
            raise NamingError(f"unknown Docker host {host!r}; the world has {', '.join(HOSTS)}",
                              dnlab_command("status", self.world_id) + "   # lists the Docker hosts")
        return HostPaths(state=self.state_dir / host, data_root=self.data_dir / host)

    def context(self, host: str) -> str:
        self.host(host)
        return f"{self.prefix}-{host}"

    @property
    def label(self) -> dict[str, str]:
        return {LABEL_WORLD: self.prefix}
