"""A scenario: the containers and networks one driver lesson needs, on a world's engines.

Scenarios are models in docker-py's Model/Collection style: a `Scenario` knows its resources by
their labels and makes them idempotently; `SCENARIOS` is the collection of every scenario class.

Naming: a scenario's containers are `<scenario>-<role>` (e.g. `user-bridge-a`), its networks
`<scenario>-net[...]`; all carry `org.dnlab.world=<prefix>` and `org.dnlab.scenario=<name>`, so
`stop()` removes exactly them and never a learner's own containers or networks.
"""
from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import docker.errors

from helpers.errors import LabError, dnlab_command
from helpers.scenarios.endpoint import Endpoint

# IDLE is PID 1 of a lab container: stays up, ignores nothing it shouldn't, exits at once on SIGKILL.
# IDLE, LABEL_ROLE and LABEL_SCENARIO are re-exported: scenarios import them from here.
from helpers.world import naming
from helpers.world.naming import IDLE, IMAGE, LABEL_ROLE, LABEL_SCENARIO, LABEL_WORLD  # noqa: F401

# The scenario locks this thread holds: start() repairing a half-made scenario calls stop(), which
# takes the same lock; flock would make a second descriptor of one process wait for the first.
_HELD = threading.local()


@contextmanager
def scenario_lock(world, name: str) -> Iterator[Path]:
    """Hold the world's lock of scenario `name` (an flock in the world's run folder): one process or
    thread at a time makes or removes that scenario; reentrant within a thread."""
    path = world.names.state_dir / naming.SCENARIO_LOCK.format(re.sub(r"[^A-Za-z0-9._-]", "_", name))
    held: set[Path] = _HELD.__dict__.setdefault("paths", set())
    if path in held:
        yield path
        return
    try:
        # root's alone, as every file of the world's run folder; held across the yield, closed below
        handle = open(path, "a", opener=lambda file, flags: os.open(file, flags, naming.PRIVATE_FILE_MODE))  # noqa: SIM115
    except FileNotFoundError:
        from helpers.world.manager import command_for

        raise LabError(f"world {world.prefix} is not up (no {world.names.state_dir})",
                       command_for(world.names, "up")) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.add(path)
        try:
            yield path
        finally:
            held.discard(path)


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of a scenario, as data: the path tracer runs it with captures around it.

    `source` is "container:<role>" (a container of the scenario, on `source_host`) or a machine
    role ("inet", "lanpc", "host1", ...). `target` is an address, a container name, or
    "container:<role>[@host]" / "machine:<role>", resolved from observed state when the probe runs
    (a target container without `@host` is on `source_host`). The notation and the address rule
    for a container on several networks live in `helpers.scenarios.endpoint`: read the ends as
    `source_end` / `target_end`, never by splitting the text.
    `expect` says whether the probe should get through (isolation probes expect False).
    """

    name: str
    source: str
    target: str
    kind: str = "ping"          # ping | tcp | http
    port: int | None = None
    source_host: str = "host1"
    expect: bool = True
    description: str = ""

    @property
    def source_end(self) -> Endpoint:
        """The source as an Endpoint (a container of the scenario, or a machine)."""
        return Endpoint.parse_source(self.source)

    @property
    def target_end(self) -> Endpoint:
        """The target as an Endpoint (a container, a machine, an address or a name)."""
        return Endpoint.parse(self.target)

    @property
    def source_container_host(self) -> str:
        """The Docker host of a container source: its `@host`, else `source_host`."""
        return self.source_end.on(self.source_host)


class Scenario:
    """Base class; subclasses set `name`, `driver`, `probes` and implement `_make`."""

    name: ClassVar[str] = ""
    driver: ClassVar[str] = ""
    title: ClassVar[str] = ""
    probes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, world):
        self.world = world

    # --- labels and lookup --------------------------------------------------------------------
    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_WORLD: self.world.prefix, LABEL_SCENARIO: self.name}

    def _filters(self) -> dict:
        return {"label": [f"{key}={value}" for key, value in self.labels.items()]}

    def containers(self, host: str = "host1") -> dict[str, object]:
        """role -> docker SDK Container, of this scenario on `host`."""
        found = self.world.hosts[host].docker.containers.list(all=True, filters=self._filters())
        return {c.labels.get(LABEL_ROLE, c.name): c for c in found}

    def networks(self, host: str = "host1") -> list:
        return self.world.hosts[host].docker.networks.list(filters=self._filters())

    def container_name(self, role: str) -> str:
        """The name of this scenario's container `role`: `<scenario>-<role>`."""
        return f"{self.name}-{role}"

    def includes(self, container) -> bool:
        """Whether the tracer reads and captures `container` (a ContainerInfo): the scenario's own,
        by its label. A trace of a learner's own containers (`dnlab trace`) picks them by name."""
        return container.labels.get(LABEL_SCENARIO) == self.name

    # --- helpers for subclasses ---------------------------------------------------------------
    def run_container(self, role: str, host: str = "host1", command: list[str] | None = None, **kwargs):
        """Start (or reuse) the container `<scenario>-<role>` from the lab image."""
        client = self.world.hosts[host].docker
        name = self.container_name(role)
        existing = client.containers.list(all=True, filters={"name": f"^/{name}$"})
        if existing:
            container = existing[0]
            if container.labels.get(LABEL_SCENARIO) != self.name:
                raise LabError(f"a container named {name} exists on {host} and is not the course's",
                               f"docker --context {self.world.hosts[host].context} rm -f {name}")
            if container.status != "running":
                container.start()  # an engine's refusal (a half-made scenario) is start()'s to repair
            return container
        labels = {**self.labels, LABEL_ROLE: role, **kwargs.pop("labels", {})}
        return client.containers.run(IMAGE, command or IDLE, name=name, hostname=role, detach=True,
                                     labels=labels, **kwargs)

    def make_network(self, name: str, host: str = "host1", **kwargs):
        client = self.world.hosts[host].docker
        existing = [n for n in client.networks.list(names=[name]) if n.name == name]
        for network in existing:
            if (network.attrs.get("Labels") or {}).get(LABEL_SCENARIO) != self.name:
                raise LabError(f"a network named {name} exists on {host} and is not the course's",
                               f"docker --context {self.world.hosts[host].context} network rm {name}")
        if existing:
            # Engine 20.10 lets racing makers create one name twice; containers then cannot attach
            # ("network is ambiguous"). Keep the oldest; an extra still in use makes start() repair.
            existing.sort(key=lambda n: n.attrs.get("Created", ""))
            for extra in existing[1:]:
                extra.remove()
            return existing[0]
        # check_duplicate: a maker outside the lock (a lesson) gets a 409, not a second network (20.10;
        # Docker 25+ always refuses a duplicate name and ignores the flag).
        return client.networks.create(name, labels={**self.labels, **kwargs.pop("labels", {})},
                                      check_duplicate=True, **kwargs)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Scenario:
        """Make the scenario's resources (idempotent: a running scenario is reused).

        One maker at a time per world and scenario (`scenario_lock`), so parallel traces and
        explorer tabs never race each other into 409 conflicts. A scenario an engine refuses to
        complete (half-made by a killed maker: duplicate networks, a container that cannot start)
        is removed and made again, once."""
        with scenario_lock(self.world, self.name):
            try:
                self._make()
            except docker.errors.APIError:
                self.stop()
                self._make()
        return self

    def _make(self) -> None:
        raise NotImplementedError

    def probe_specs(self) -> dict[str, ProbeSpec]:
        """probe name -> ProbeSpec (names from: c2c, egress, publish, loopback, isolation, ...)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Remove this scenario's containers and networks, on every host, and nothing else."""
        with scenario_lock(self.world, self.name):
            self.remove_containers()
            for host in self.world.hosts.values():
                for network in host.docker.networks.list(filters=self._filters()):
                    network.remove()

    def remove_containers(self) -> None:
        """Remove (force) this scenario's containers on every host, side by side as `docker rm -f A B`
        does: each removal waits on its own engine's work (kill, unmount, release the endpoint), not
        on the others'. Every container is gone when it returns; the first failure is raised."""
        from concurrent.futures import ThreadPoolExecutor

        found = [c for host in self.world.hosts.values()
                 for c in host.docker.containers.list(all=True, filters=self._filters())]
        if len(found) < 2:
            for container in found:
                container.remove(force=True)
            return
        with ThreadPoolExecutor(max_workers=min(len(found), 8)) as pool:
            list(pool.map(lambda container: container.remove(force=True), found))

    def __repr__(self) -> str:
        return f"<Scenario {self.name} ({self.driver}) on {self.world.prefix}>"


SCENARIOS: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    SCENARIOS[cls.name] = cls
    return cls


def get(world, name: str) -> Scenario:
    if name not in SCENARIOS:
        raise LabError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}",
                       dnlab_command(f"path {next(iter(sorted(SCENARIOS)), 'user-bridge')} egress",
                                     world.names.world_id))
    return SCENARIOS[name](world)
