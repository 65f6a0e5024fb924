"""The `none` driver: a container with a network namespace that holds only `lo`."""
from __future__ import annotations

from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario, register
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT


@register
class NoneScenario(Scenario):
    name = "none"
    driver = "null"
    title = "none: loopback only, nothing in, nothing out"
    probes = ("loopback", "egress", "lan", "c2c")

    def _make(self) -> None:
        self.run_container("box", network_mode="none")
        self.run_container("peer")  # a default-bridge neighbour it cannot reach

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = [
            ProbeSpec("loopback", "container:box", "127.0.0.1",
                      description=translate("scenarios:none:loopback",
                                            "its own loopback works: processes inside can still talk")),
            ProbeSpec("egress", "container:box", str(INET_IP), "tcp", SERVICE_TCP_PORT, expect=False,
                      description=translate("scenarios:none:egress",
                                            "no route at all: fails at once with 'network unreachable'")),
            ProbeSpec("lan", "container:box", "machine:host1", expect=False,
                      description=translate("scenarios:none:lan",
                                            "not even host1: there is no interface to send through")),
            ProbeSpec("c2c", "container:box", "container:peer", expect=False,
                      description=translate("scenarios:none:c2c", "nor a container on the default bridge")),
        ]
        return {s.name: s for s in specs}
