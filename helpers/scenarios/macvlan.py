"""The `macvlan` driver: containers with their own MAC, directly on the lab LAN.

`macvlan-net` is a macvlan network with `-o parent=eth0` on host1, using the LAN's own subnet and
router, with a small `ip_range` slice for containers. `macvlan-app` (a web server) is reached by
the plain LAN machine `lanpc` directly, but not by host1: the kernel does not pass traffic between
a macvlan parent and its own macvlan children. `add_host_shim()` gives host1 its own macvlan
sub-interface on eth0 (the usual workaround); `stop()` removes it.

Subnet, gateway and ip-range are the LAN's own: the containers are machines on that LAN, so they
need its prefix, its real router as gateway, and a slice no other machine (and no DHCP server)
hands out. `parent` can be set on an instance to build the world where the claims of chapter 5 are
false: a parent on another link (tests/integration/test_claims_ch05.py).
"""
from __future__ import annotations

import ipaddress

from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario, register
from helpers.scenarios.webapp import wait_listening, web_command
from helpers.world.naming import INET_IP, LAN, ROUTER_LAN_IP, SERVICE_TCP_PORT

# Slices of the lab LAN: containers get addresses from IP_RANGE, host1's shim takes SHIM_IP.
IP_RANGE = ipaddress.ip_network(f"{LAN.network_address + 128}/28")
SHIM_IP = LAN.network_address + 250
SHIM_IF = "mv-host"
PARENT = "eth0"


@register
class MacvlanScenario(Scenario):
    name = "macvlan"
    driver = "macvlan"
    title = "macvlan: a container as its own machine on the LAN"
    probes = ("lan", "host", "egress")
    parent = PARENT  # host1's link to the LAN; an instance may point it elsewhere (a test's false world)

    def _make(self) -> None:
        from docker.types import IPAMConfig, IPAMPool

        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(LAN), gateway=str(ROUTER_LAN_IP),
                                                 iprange=str(IP_RANGE))])
        self.make_network("macvlan-net", driver="macvlan", options={"parent": self.parent}, ipam=ipam)
        app = self.run_container("app", network="macvlan-net", command=web_command(80))
        wait_listening(app, 80)

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = [
            ProbeSpec("lan", "lanpc", "container:app",
                      description=translate("scenarios:macvlan:lan",
                                            "the plain LAN machine reaches the container directly (its own MAC)")),
            ProbeSpec("lan-http", "lanpc", "container:app", "http", 80,
                      description=translate("scenarios:macvlan:lan-http",
                                            "and its web server, with no port publishing and no NAT")),
            ProbeSpec("host", "host1", "container:app", expect=False,
                      description=translate("scenarios:macvlan:host",
                                            "host1 cannot: the kernel filters parent <-> macvlan child traffic")),
            ProbeSpec("egress", "container:app", str(INET_IP), "tcp", SERVICE_TCP_PORT,
                      description=translate("scenarios:macvlan:egress",
                                            "out through the LAN router with its own LAN address: no NAT on host1")),
        ]
        return {s.name: s for s in specs}

    # --- the host-side workaround -------------------------------------------------------------
    def shim_present(self) -> bool:
        return self.world.host1.run(["ip", "link", "show", SHIM_IF], check=False).returncode == 0

    def add_host_shim(self, mode: str = "bridge") -> dict:
        """Give host1 a macvlan sub-interface of eth0 and route the container range through it.

        `mode` must be `bridge` (the containers' own mode) for host1 and the containers to meet
        inside the kernel; a `vepa` shim sends everything out to the LAN switch, which does not
        send a frame back out of the port it came in on."""
        host1 = self.world.host1
        if not self.shim_present():
            host1.run(["ip", "link", "add", SHIM_IF, "link", PARENT, "type", "macvlan", "mode", mode])
            host1.run(["ip", "addr", "add", f"{SHIM_IP}/32", "dev", SHIM_IF])
            host1.run(["ip", "link", "set", SHIM_IF, "up"])
            host1.run(["ip", "route", "add", str(IP_RANGE), "dev", SHIM_IF])
        return {"interface": SHIM_IF, "mode": mode, "address": str(SHIM_IP), "route": f"{IP_RANGE} dev {SHIM_IF}"}

    def remove_host_shim(self) -> None:
        if self.shim_present():
            self.world.host1.run(["ip", "link", "del", SHIM_IF])

    def stop(self) -> None:
        self.remove_host_shim()
        super().stop()


def ipvlan_support(world, host: str = "host1") -> tuple[bool, str]:
    """Can this kernel make an ipvlan link? Tried for real on a throwaway link, then removed."""
    machine = world.hosts[host]
    result = machine.run(["ip", "link", "add", "ipvl-probe", "link", PARENT, "type", "ipvlan", "mode", "l2"],
                         check=False)
    if result.returncode == 0:
        machine.run(["ip", "link", "del", "ipvl-probe"], check=False)
        return True, "ipvlan link created and removed"
    return False, (result.stderr or result.stdout).strip()
