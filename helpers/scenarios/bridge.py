"""Bridge scenarios: Docker's default bridge (docker0) and a user-defined bridge, on host1.

Both have the same cast, so the chapters can compare them probe by probe:

    a     an idle client container
    b     a web server whose answer names the client it sees (``you are ADDR:PORT``, the same
          words as the internet service), published on host1 (DNAT from outside, docker-proxy
          from host1's own loopback)
    c     (user-bridge only) a container on a second user bridge, to show isolation

Every address is resolved when a probe runs, from observed state: nothing here names one.
"""
from __future__ import annotations

from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario, register
from helpers.scenarios.webapp import web_command
from helpers.world.naming import SERVICE_TCP_PORT

WEB_PORT = 80  # inside the container
# The course's one "you are ADDR:PORT" web server (a CGI index, so GET / answers with the client
# address busybox httpd saw); IPv4 only, so the address reads as the kernel wrote it.
WEB_COMMAND = web_command(WEB_PORT, bind="0.0.0.0")


class _BridgeScenario(Scenario):
    driver = "bridge"
    network_name: str = "bridge"
    published_port: int = 0

    def _bridge_network(self) -> str:
        return self.network_name

    def _make(self) -> None:
        network = self._bridge_network()
        self.run_container("a", network=network)
        self.run_container("b", network=network, command=WEB_COMMAND,
                           ports={f"{WEB_PORT}/tcp": self.published_port})

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = [
            ProbeSpec("c2c", "container:a", "container:b", "ping",
                      description=translate("scenarios:bridge:c2c",
                                            "container to container on the same bridge: pure L2, one FDB lookup")),
            ProbeSpec("egress", "container:a", "machine:inet", "tcp", SERVICE_TCP_PORT,
                      description=translate("scenarios:bridge:egress",
                                            "container to the internet service: MASQUERADE rewrites the source")),
            ProbeSpec("publish", "inet", "machine:host1", "http", self.published_port,
                      description=translate("scenarios:bridge:publish",
                                            "internet client to the published port: DNAT rewrites the destination")),
            ProbeSpec("loopback", "host1", "127.0.0.1", "http", self.published_port,
                      description=translate("scenarios:bridge:loopback",
                                            "host1's own loopback to the published port: docker-proxy relays")),
        ]
        return {spec.name: spec for spec in specs}


@register
class DefaultBridge(_BridgeScenario):
    name = "default-bridge"
    title = "The default bridge (docker0)"
    probes = ("c2c", "egress", "publish", "loopback")
    network_name = "bridge"
    published_port = 8080


@register
class UserBridge(_BridgeScenario):
    name = "user-bridge"
    title = "A user-defined bridge"
    probes = ("c2c", "egress", "publish", "loopback", "isolation")
    published_port = 8081

    @property
    def network_name(self) -> str:  # type: ignore[override]
        return f"{self.name}-net"

    @property
    def other_network_name(self) -> str:
        return f"{self.name}-net2"

    def _make(self) -> None:
        self.make_network(self.network_name, driver="bridge")
        self.make_network(self.other_network_name, driver="bridge")
        super()._make()
        self.run_container("c", network=self.other_network_name)

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = super().probe_specs()
        specs["isolation"] = ProbeSpec(
            "isolation", "container:c", "container:b", "ping", expect=False,
            description=translate("scenarios:bridge:isolation",
                                  "two user bridges cannot talk: host1 drops the packet between them"))
        return specs
