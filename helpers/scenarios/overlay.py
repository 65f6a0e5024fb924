"""The `overlay` driver: host1 and host2 form a swarm; an attachable overlay spans both.

host1 runs `swarm init --advertise-addr <its eth0 address>` (read from the namespace, not assumed),
host2 joins with the worker token, host1 creates `overlay-net` (`--attachable`, so plain
containers may join), and `overlay-a` (host1) and `overlay-b` (host2) run on it. VXLAN carries
their traffic across the LAN in UDP 4789. Their way out is not the overlay: each container also
gets an interface on host1's (or host2's) `docker_gwbridge` with its default route, and the host
masquerades it with Docker's `-s <gwbridge subnet> ! -o docker_gwbridge -j MASQUERADE` (the
`egress` probe; chapter 4 counts that rule's packets). The overlay's MTU is libnetwork's fixed
1500 - 50 unless `-o com.docker.network.driver.mtu=N` is given (then N - 50): it never reads the
underlay's MTU. The swarm carries the scenario's labels, so `stop()`
leaves it only if this scenario made it, and removes the `docker_gwbridge` the swarm left behind.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario, register
from helpers.world import swarm
from helpers.world.naming import INET_IP, LABEL_SCENARIO, SERVICE_TCP_PORT
from helpers.world.swarm import GOSSIP_WAIT

NETWORK = "overlay-net"


@register
class OverlayScenario(Scenario):
    name = "overlay"
    driver = "overlay"
    title = "overlay: one network across two Docker hosts (swarm + VXLAN)"
    probes = ("c2c", "c2c-ip", "egress")
    # How long the members may take to count each other among their gossip peers before the heal.
    gossip_form_wait = swarm.GOSSIP_FORM_WAIT

    def swarm_made_here(self) -> bool:
        return swarm.labels(self.world).get(LABEL_SCENARIO) == self.name

    def _make(self) -> None:
        # The gossip forms (about 1 s after host2 joins) while the containers attach (~2 s, ~0.4 s less
        # in all than one after the other): a member whose gossip never starts is healed afterwards, and
        # the heal reconnects overlay-b.
        swarm.ensure(self.world, labels=self.labels, settle=False)
        self.make_network(NETWORK, driver="overlay", attachable=True, scope="swarm")
        # The two containers start in parallel: each attach waits on its own engine.
        with ThreadPoolExecutor(max_workers=2) as pool:
            gossip = pool.submit(swarm.wait_gossip, self.world, self.gossip_form_wait)
            on_host1 = pool.submit(self.run_container, "a", "host1", network=NETWORK)
            # host2 learns of the attachable network from the manager when its container attaches.
            for attempt in range(40):
                try:
                    self.run_container("b", "host2", network=NETWORK)
                    break
                except Exception:  # the worker may not know the network for a moment after joining
                    if attempt == 39:
                        raise
                    time.sleep(0.25)
            on_host1.result()
            if gossip.result():
                swarm.heal_gossip(self.world)
        self.wait_c2c()

    def wait_c2c(self, timeout: float = GOSSIP_WAIT) -> None:
        """Gossip (7946) must tell host2 where overlay-a lives before the first ping gets through."""
        b = self.containers("host2")["b"]
        if not swarm.wait_for_name(self.world, b, f"{self.name}-a", timeout):
            raise TimeoutError(f"{self.name}-b cannot reach {self.name}-a by name after {timeout:.0f} s, even after "
                               f"{self.name}-a rejoined the overlay; what each engine knew: "
                               f"{swarm.last_diagnosis(self.world)}")

    def _remove_network(self) -> None:
        """Remove overlay-net on the manager, and wait until both engines have forgotten it."""
        if swarm.state(self.world.host1.docker) != "active":
            return
        for network in self.networks("host1"):
            swarm.remove_overlay(self.world, network)

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = [
            ProbeSpec("c2c", "container:b", f"{self.name}-a", source_host="host2",
                      description=translate("scenarios:overlay:c2c",
                                            "a container on host2 pings one on host1 by name, across the LAN")),
            ProbeSpec("c2c-ip", "container:b", "container:a@host1", source_host="host2",
                      description=translate("scenarios:overlay:c2c-ip",
                                            "the same by overlay address: VXLAN in UDP 4789 on the LAN")),
            ProbeSpec("egress", "container:a", str(INET_IP), "tcp", SERVICE_TCP_PORT,
                      description=translate("scenarios:overlay:egress",
                                            "out through docker_gwbridge, masqueraded on host1's eth0")),
        ]
        return {s.name: s for s in specs}

    def stop(self) -> None:
        made_here = self.swarm_made_here()
        # Containers on every host first: the manager refuses to remove a network still in use.
        self.remove_containers()
        self._remove_network()
        if made_here:
            swarm.leave_if_unused(self.world)  # a lab's overlay may still use it
