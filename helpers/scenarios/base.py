"""A scenario: the containers and networks one driver lesson needs, on a world's engines.

Scenarios are models in docker-py's Model/Collection style: a `Scenario` knows its resources by
their labels and makes them idempotently; `SCENARIOS` is the collection of every scenario class.

Naming: a scenario's containers are `<scenario>-<role>` (e.g. `user-bridge-a`), its networks
`<scenario>-net[...]`; all carry `org.dnlab.world=<prefix>` and `org.dnlab.scenario=<name>`, so
`stop()` removes exactly them and never a learner's own containers or networks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from helpers.scenarios.endpoint import Endpoint

# IDLE is PID 1 of a lab container: stays up, ignores nothing it shouldn't, exits at once on SIGKILL.
# IDLE, LABEL_ROLE and LABEL_SCENARIO are re-exported: scenarios import them from here.
from helpers.world.naming import IDLE, IMAGE, LABEL_ROLE, LABEL_SCENARIO, LABEL_WORLD  # noqa: F401


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
                from helpers.errors import LabError

                raise LabError(f"a container named {name} exists on {host} and is not the course's",
                               f"docker --context {self.world.hosts[host].context} rm -f {name}")
            if container.status != "running":
                container.start()
            return container
        labels = {**self.labels, LABEL_ROLE: role, **kwargs.pop("labels", {})}
        return client.containers.run(IMAGE, command or IDLE, name=name, hostname=role, detach=True,
                                     labels=labels, **kwargs)

    def make_network(self, name: str, host: str = "host1", **kwargs):
        client = self.world.hosts[host].docker
        existing = client.networks.list(names=[name])
        for network in existing:
            if network.name == name:
                if (network.attrs.get("Labels") or {}).get(LABEL_SCENARIO) != self.name:
                    from helpers.errors import LabError

                    raise LabError(f"a network named {name} exists on {host} and is not the course's",
                                   f"docker --context {self.world.hosts[host].context} network rm {name}")
                return network
        return client.networks.create(name, labels={**self.labels, **kwargs.pop("labels", {})}, **kwargs)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Scenario:
        """Make the scenario's resources (idempotent: a running scenario is reused)."""
        self._make()
        return self

    def _make(self) -> None:
        raise NotImplementedError

    def probe_specs(self) -> dict[str, ProbeSpec]:
        """probe name -> ProbeSpec (names from: c2c, egress, publish, loopback, isolation, ...)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Remove this scenario's containers and networks, on every host, and nothing else."""
        for host in self.world.hosts.values():
            client = host.docker
            for container in client.containers.list(all=True, filters=self._filters()):
                container.remove(force=True)
            for network in client.networks.list(filters=self._filters()):
                network.remove()

    def __repr__(self) -> str:
        return f"<Scenario {self.name} ({self.driver}) on {self.world.prefix}>"


SCENARIOS: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    SCENARIOS[cls.name] = cls
    return cls


def get(world, name: str) -> Scenario:
    from helpers.errors import LabError

    if name not in SCENARIOS:
        raise LabError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}",
                       f"dnlab path {next(iter(sorted(SCENARIOS)), 'user-bridge')} egress")
    return SCENARIOS[name](world)
