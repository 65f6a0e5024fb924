"""Scenarios, one per driver lesson. Importing a driver module registers its scenarios.

`running(world)` lists what the course's scenarios left on the world's engines (by their labels,
never by name); `stop(world, name)` and `stop_all(world)` remove it (`dnlab scenario list|stop`), so
a learner's engines hold only what they made themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from helpers.scenarios.base import SCENARIOS, ProbeSpec, Scenario, get, register
from helpers.world.naming import LABEL_SCENARIO, LABEL_WORLD

# Each driver module registers its scenarios on import; add yours here.
DRIVER_MODULES = ("bridge", "host", "none", "macvlan", "overlay")


def _load_all() -> None:
    import importlib
    import importlib.util

    for module in DRIVER_MODULES:
        if importlib.util.find_spec(f"helpers.scenarios.{module}") is not None:
            importlib.import_module(f"helpers.scenarios.{module}")


_load_all()



@dataclass
class Running:
    """What one scenario has on the world's engines: host -> names of its containers / networks."""

    name: str
    known: bool                                       # a scenario class of the course (else: labels only)
    containers: dict[str, list[str]] = field(default_factory=dict)
    networks: dict[str, list[str]] = field(default_factory=dict)
    swarm: bool = False                               # the swarm carries this scenario's labels

    def describe(self) -> str:
        parts = [f"{host}: {', '.join(names)}" for host, names in self.containers.items() if names]
        nets = [f"{host}: {', '.join(names)}" for host, names in self.networks.items() if names]
        text = f"{self.name}: containers {'; '.join(parts) or 'none'}; networks {'; '.join(nets) or 'none'}"
        return text + ("; the swarm" if self.swarm else "")


def _world_filter(world) -> dict:
    return {"label": [f"{LABEL_WORLD}={world.prefix}", LABEL_SCENARIO]}


def running(world) -> dict[str, Running]:
    """Every scenario with a container or network (or the swarm) on this world's engines, by label."""
    from helpers.world import swarm

    found: dict[str, Running] = {}

    def entry(name: str) -> Running:
        return found.setdefault(name, Running(name, name in SCENARIOS))

    for host, docker_host in world.hosts.items():
        client = docker_host.docker
        for container in client.containers.list(all=True, filters=_world_filter(world)):
            entry(container.labels[LABEL_SCENARIO]).containers.setdefault(host, []).append(container.name)
        for network in client.networks.list(filters=_world_filter(world)):
            labels = network.attrs.get("Labels") or {}
            entry(labels[LABEL_SCENARIO]).networks.setdefault(host, []).append(network.name)
    made_by = swarm.labels(world)
    if made_by.get(LABEL_WORLD) == world.prefix and made_by.get(LABEL_SCENARIO):
        entry(made_by[LABEL_SCENARIO]).swarm = True
    return dict(sorted(found.items()))


def probe_description(scenario: str, probe: str, saved: str, kind: str = "ping", port: int | None = None) -> str:
    """A traced probe's description (a figure's subtitle) in the language in force. A path keeps the
    description its probe had when traced (the saved runs: English), so it is written again here by its
    scenario (a course scenario's `probe_specs`, or a learner's own trace from its ends `a -> b`, `kind`
    and `port`) when that English still reads `saved`; else `saved` as it is (an older wording has no
    translation to show)."""
    from helpers.language import speaking
    from helpers.scenarios.own import OwnTrace, trace_description

    def written() -> str | None:
        if scenario == OwnTrace.name:
            source, arrow, target = probe.partition(" -> ")
            return trace_description(kind, source, target, port) if arrow else None
        cls = SCENARIOS.get(scenario)
        spec = cls(None).probe_specs().get(probe) if cls else None   # probe_specs reads no world
        return spec.description if spec else None

    with speaking("en"):
        english = written()
    return (written() or saved) if english == saved else saved


def stop(world, name: str) -> None:
    """Remove scenario `name` from the world's engines: by its own `stop()` when it is one of the
    course's classes (an overlay also leaves the swarm it made), else by its labels."""
    if name in SCENARIOS:
        get(world, name).stop()
        return
    labels = {"label": [f"{LABEL_WORLD}={world.prefix}", f"{LABEL_SCENARIO}={name}"]}
    for docker_host in world.hosts.values():
        for container in docker_host.docker.containers.list(all=True, filters=labels):
            container.remove(force=True)
    for docker_host in world.hosts.values():
        for network in docker_host.docker.networks.list(filters=labels):
            if network.attrs.get("Scope") != "swarm" or docker_host.role == "host1":
                network.remove()


def stop_all(world) -> list[str]:
    """Stop every scenario found on the world's engines; their names."""
    names = list(running(world))
    for name in names:
        stop(world, name)
    return names


__all__ = ["SCENARIOS", "Scenario", "ProbeSpec", "Running", "get", "probe_description", "register", "running", "stop",
           "stop_all"]
