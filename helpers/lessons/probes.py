"""Run a scenario's ProbeSpecs for real (through the guard) and read their verdicts.

The path tracer captures around a probe; this module only resolves a spec's source and target
from observed state and sends it with `guard.probe`, for reachability tables and tests.
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.scenarios.base import ProbeSpec, Scenario
from helpers.world.guard import ProbeResult, probe


def resolve_target(scenario: Scenario, target: str) -> str:
    """An address or name to send to: "container:<role>[@host]" -> the container's address on
    its first network; "machine:<role>" -> that machine's LAN address; anything else as is."""
    world = scenario.world
    if target.startswith("machine:"):
        return str(world[target.split(":", 1)[1]].address)
    if target.startswith("container:"):
        role, _, host = target.split(":", 1)[1].partition("@")
        container = scenario.containers(host or "host1")[role]
        container.reload()
        networks = container.attrs["NetworkSettings"]["Networks"]
        for settings in networks.values():
            if settings.get("IPAddress"):
                return settings["IPAddress"]
        raise LookupError(f"{container.name} has no address (network mode "
                          f"{container.attrs['HostConfig']['NetworkMode']})")
    return target


def resolve_source(scenario: Scenario, spec: ProbeSpec):
    if spec.source.startswith("container:"):
        return scenario.containers(spec.source_host)[spec.source.split(":", 1)[1]]
    return spec.source


@dataclass
class Verdict:
    spec: ProbeSpec
    result: ProbeResult | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.result and self.result.ok)

    @property
    def as_expected(self) -> bool:
        return self.ok == self.spec.expect

    def row(self) -> dict:
        return {"probe": self.spec.name, "from": self.spec.source, "to": self.spec.target,
                "kind": self.spec.kind + (f"/{self.spec.port}" if self.spec.port else ""),
                "reached": self.ok, "expected": self.spec.expect,
                "output": (_last_line(self.result.output) if self.result else self.error)}


def _last_line(output: str) -> str:
    """The probe's last non-empty line, whole (a table cell wraps; a cut word misleads)."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_spec(scenario: Scenario, spec: ProbeSpec | str, timeout: int = 2) -> Verdict:
    if isinstance(spec, str):
        spec = scenario.probe_specs()[spec]
    try:
        target = resolve_target(scenario, spec.target)
    except LookupError as exc:  # e.g. a `none` container has no address to aim at
        return Verdict(spec, None, str(exc))
    result = probe(scenario.world, resolve_source(scenario, spec), target, spec.kind, spec.port, timeout)
    return Verdict(spec, result)


def run_all(scenario: Scenario, timeout: int = 2) -> list[Verdict]:
    return [run_spec(scenario, spec, timeout) for spec in scenario.probe_specs().values()]
