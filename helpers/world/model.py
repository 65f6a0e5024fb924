"""The world as objects: a World holds Machines; a DockerHost is a Machine with its own engine.

Models only describe and reach what exists; making and removing it is `manager`'s work.
"""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address

from helpers.world import engine
from helpers.world.naming import HOSTS, INET_IP, MACHINE_IPS, ROLES, HostPaths, WorldNames
from helpers.world.proc import run


@dataclass
class Machine:
    """One namespace of the world: router, inet, a Docker host or the plain LAN machine."""

    role: str
    namespace: str

    def run(self, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a command inside this machine's namespace (no traffic guard: use `probe` for that)."""
        return run(argv, self.namespace, check=check, timeout=timeout)

    def read_address(self, ifname: str = "eth0") -> str:
        """The first IPv4 address of `ifname` in this machine, read now (`ip -j -4 addr show dev
        IFNAME` in its namespace), never taken from the address plan: a lab may have changed it.
        The one reader of a machine's address: facts, swarm and the probe resolver call it."""
        import json

        links = json.loads(self.run(["ip", "-j", "-4", "addr", "show", "dev", ifname]).stdout or "[]")
        found = [a["local"] for link in links for a in link.get("addr_info", []) if a.get("family") == "inet"]
        if not found:
            raise LookupError(f"{ifname} of {self.role} has no IPv4 address")
        return found[0]

    @property
    def address(self) -> IPv4Address | None:
        """The address plan's LAN address of this role (what `up` configures); read the live one
        with `read_address()`."""
        if self.role == "inet":
            return INET_IP
        return MACHINE_IPS.get(self.role)


@dataclass
class DockerHost(Machine):
    """A machine with its own dockerd; `docker` is a docker SDK client for that engine."""

    paths: HostPaths = field(default=None)  # type: ignore[assignment]
    context: str = ""

    @cached_property
    def docker(self):
        return engine.client(self.paths)

    @property
    def base_url(self) -> str:
        return self.paths.base_url

    def cli(self, *args: str) -> str:
        """What `docker --context <this host's context> ARGS` prints (the real CLI, run now)."""
        return engine.docker_cli(self.base_url, *args, context=self.context)


class World:
    """A running lab world: `world.host1.docker.containers.run(...)`, `world['router'].run([...])`."""

    def __init__(self, names: WorldNames):
        self.names = names
        self.machines: dict[str, Machine] = {}
        for role in ROLES:
            namespace = names.namespace(role)
            if role in HOSTS:
                self.machines[role] = DockerHost(role, namespace, names.host(role), names.context(role))
            else:
                self.machines[role] = Machine(role, namespace)

    def __getitem__(self, role: str) -> Machine:
        return self.machines[role]

    @property
    def prefix(self) -> str:
        return self.names.prefix

    @property
    def hosts(self) -> dict[str, DockerHost]:
        return {role: m for role, m in self.machines.items() if isinstance(m, DockerHost)}

    @property
    def host1(self) -> DockerHost:
        return self.hosts["host1"]

    @property
    def host2(self) -> DockerHost:
        return self.hosts["host2"]

    @property
    def label(self) -> dict[str, str]:
        """Labels for every container and network the course makes in this world."""
        return dict(self.names.label)

    def __repr__(self) -> str:
        return f"<World {self.prefix}: {', '.join(self.machines)}>"
