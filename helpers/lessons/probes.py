"""Run a scenario's ProbeSpecs for real (through the guard) and read their verdicts.

The path tracer captures around a probe; this module only resolves a spec's source and target
from observed state and sends it with `guard.probe`, for reachability tables and tests.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers.lessons.claims import measured
from helpers.scenarios.base import ProbeSpec, Scenario
from helpers.scenarios.endpoint import Endpoint, sdk_networks
from helpers.world.guard import ProbeResult, probe


@measured
def resolve_target(scenario: Scenario, target: str | Endpoint, *, source=None, default_host: str = "host1") -> str:
    """An address or name to send to, by the one resolver (`helpers.scenarios.endpoint`):
    "container:<role>[@host]" -> the container's address (on a network it shares with `source`,
    a docker SDK Container, else on its first network by name); "machine:<role>" -> that machine's
    eth0 address, read now; anything else as is."""
    end = target if isinstance(target, Endpoint) else Endpoint.parse(target)
    prefer = sdk_networks(source) if source is not None and not isinstance(source, str) else {}
    return end.resolve(scenario, default_host=default_host, prefer=prefer)


@measured
def resolve_source(scenario: Scenario, spec: ProbeSpec):
    """The probe's sender: the scenario's docker SDK Container, or the machine role."""
    end = spec.source_end
    if not end.is_container:
        return end.name
    host = spec.source_container_host
    found = scenario.containers(host).get(end.name)
    if found is None:
        from helpers.errors import UnresolvedEndpoint, dnlab_command

        raise UnresolvedEndpoint(f"scenario {scenario.name} has no container {end.name} on {host}",
                                 dnlab_command(f"path {scenario.name} {spec.name}", scenario.world.names.world_id)
                                 + "   # starts the scenario")
    return found


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
        """One row of a reachability table: what was sent, whether it got through, what came back.
        What the scenario's design expects stays out of it: beside a live "reached" it read as a
        second verdict (`'reached': True, 'expected': False` under a proven claim); `as_expected`
        has it for the tests."""
        return {"probe": self.spec.name, "from": self.spec.source, "to": self.spec.target,
                "kind": self.spec.kind + (f"/{self.spec.port}" if self.spec.port else ""),
                "reached": self.ok, "output": (_last_line(self.result.output) if self.result else self.error)}


def _last_line(output: str) -> str:
    """The probe's last non-empty line, whole (a table cell wraps; a cut word misleads)."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


@measured
def run_spec(scenario: Scenario, spec: ProbeSpec | str, timeout: int = 2) -> Verdict:
    if isinstance(spec, str):
        spec = scenario.probe_specs()[spec]
    source = resolve_source(scenario, spec)  # a missing sender is an error, never "not reached"
    try:
        target = resolve_target(scenario, spec.target_end, source=source, default_host=spec.source_host)
    except LookupError as exc:  # e.g. a `none` container has no address to aim at
        return Verdict(spec, None, str(exc))
    result = probe(scenario.world, source, target, spec.kind, spec.port, timeout)
    return Verdict(spec, result)


@measured
def run_specs(scenario: Scenario, names: list[str] | tuple[str, ...], timeout: int = 2) -> dict[str, Verdict]:
    """The scenario's probes `names` (name -> Verdict, in that order). They run side by side: each
    is a read-only send from its own source, and one that is expected to fail would otherwise hold
    up the rest for its whole timeout (a dropped ping waits `timeout` seconds for nothing)."""
    specs = scenario.probe_specs()
    wanted = [specs[name] for name in names]
    if len(wanted) < 2:
        return {spec.name: run_spec(scenario, spec, timeout) for spec in wanted}
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        return dict(zip(names, pool.map(lambda spec: run_spec(scenario, spec, timeout), wanted), strict=True))


@measured
def run_all(scenario: Scenario, timeout: int = 2) -> list[Verdict]:
    """Every probe of the scenario, in the order of its specs, side by side (`run_specs`)."""
    return list(run_specs(scenario, list(scenario.probe_specs()), timeout).values())
