"""The world does not inherit the machine's forwarding (issue 25.6).

A new network namespace copies the machine's IPv4 settings (`net.core.devconf_inherit_init_net=0`),
so on a machine that forwards (every Docker host, Docker Desktop's VM) host1 and host2 would start
forwarding, dockerd would leave the FORWARD policy ACCEPT and an unpublished port would be open to
the LAN. These tests simulate that machine without changing this machine's own root namespace: the
moment `ip netns add` has made a namespace, they write a forwarding machine's values into it, as the
kernel's copy would.
"""
from __future__ import annotations

import pytest

from helpers.world import down, netns, up
from helpers.world.naming import WorldNames
from tests.integration.world_checks import leftovers
from tests.worlds import own_world_id

INHERITED = {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "2",
             "net.ipv4.conf.default.rp_filter": "2"}
WORLD_ID = own_world_id("sy")


@pytest.fixture
def forwarding_machine(monkeypatch):
    """Every namespace made from now on starts with INHERITED, as on a machine that forwards."""
    real_run = netns.run

    def run_then_inherit(argv, namespace=None, **kwargs):
        result = real_run(argv, namespace, **kwargs)
        if list(argv[:3]) == ["ip", "netns", "add"]:
            real_run(["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in INHERITED.items())], argv[3])
        return result

    monkeypatch.setattr(netns, "run", run_then_inherit)


def _forward_policy(names: WorldNames, host: str) -> str:
    dump = netns.output(["iptables-save", "-t", "filter"], names.namespace(host))
    (policy,) = [line.split()[1] for line in dump.splitlines() if line.startswith(":FORWARD ")]
    return policy


def _world(with_fresh_values: bool, monkeypatch) -> dict:
    """Bring WORLD_ID up (on a forwarding machine), read what the lesson depends on, take it down."""
    if not with_fresh_values:
        monkeypatch.setattr(netns, "set_fresh_sysctls", lambda name: None)
    names = WorldNames(WORLD_ID)
    try:
        up(WORLD_ID)
        return {"policy": {h: _forward_policy(names, h) for h in ("host1", "host2")},
                "lanpc": netns.sysctls(names.namespace("lanpc"), list(netns.FRESH_MACHINE_SYSCTLS)),
                "router forwards": netns.sysctls(names.namespace("router"), ["net.ipv4.ip_forward"])}
    finally:
        down(WORLD_ID)
        assert leftovers(WORLD_ID) == []


def test_a_forwarding_machine_does_not_open_unpublished_ports(forwarding_machine, monkeypatch):
    seen = _world(with_fresh_values=True, monkeypatch=monkeypatch)
    # dockerd found forwarding off, turned it on itself, and so set the FORWARD policy to DROP.
    assert seen["policy"] == {"host1": "DROP", "host2": "DROP"}
    assert seen["lanpc"] == netns.FRESH_MACHINE_SYSCTLS  # nothing inherited: rp_filter 0, no forwarding
    assert seen["router forwards"] == {"net.ipv4.ip_forward": "1"}


def test_the_simulated_machine_breaks_a_world_without_the_fresh_values(forwarding_machine, monkeypatch):
    """The control: the simulation is the real failure (chapter 01's claim failed this way in the
    course image). Without `set_fresh_sysctls` the engines inherit forwarding and keep ACCEPT."""
    seen = _world(with_fresh_values=False, monkeypatch=monkeypatch)
    assert seen["policy"] == {"host1": "ACCEPT", "host2": "ACCEPT"}
    assert seen["lanpc"]["net.ipv4.ip_forward"] == "1"
