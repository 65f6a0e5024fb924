"""The host, none, macvlan and overlay scenarios against independently read state.

Each test starts its scenario, checks what the engine and kernel report (docker inspect, `ip -j`,
`bridge -j fdb`, iptables-save, swarm info) and runs its probes, then stops it and checks that
nothing of it is left.
"""
from __future__ import annotations

import pytest

from helpers import scenarios
from helpers.lessons import facts, probes
from helpers.scenarios.macvlan import ipvlan_support


@pytest.fixture
def started(world, request):
    scenario = scenarios.get(world, request.param)
    scenario.stop()
    scenario.start()
    yield scenario
    scenario.stop()
    for host in world.hosts.values():
        assert scenario.containers(host.role) == {}
        assert scenario.networks(host.role) == []


def _all_as_expected(scenario):
    verdicts = probes.run_all(scenario)
    assert verdicts, "a scenario without probes proves nothing"
    bad = [v.row() for v in verdicts if not v.as_expected]
    assert not bad, bad


@pytest.mark.parametrize("started", ["host"], indirect=True)
def test_host_shares_host1_stack(world, started):
    app = started.containers()["app"]
    assert facts.same_netns(world, app, "host1")
    assert sorted(facts.ipv4(world, app)) == sorted(facts.ipv4(world, "host1"))
    # no NAT rule mentions the host container: it has no address of its own
    assert app.attrs["NetworkSettings"]["Networks"]["host"]["IPAddress"] == ""
    _all_as_expected(started)


@pytest.mark.parametrize("started", ["none"], indirect=True)
def test_none_has_only_loopback(world, started):
    box = started.containers()["box"]
    assert facts.interfaces(world, box) == ["lo"]
    assert facts.default_route(world, box) is None
    verdicts = {v.spec.name: v for v in probes.run_all(started)}
    assert verdicts["loopback"].ok
    assert "unreachable" in verdicts["egress"].result.output.lower()
    _all_as_expected(started)


@pytest.mark.parametrize("started", ["macvlan"], indirect=True)
def test_macvlan_on_the_lan(world, started):
    app = started.containers()["app"]
    network = started.networks()[0]
    network.reload()
    assert network.attrs["Options"]["parent"] == "eth0"
    mac = facts.mac_of(world, app)
    assert mac != facts.mac_of(world, "host1")
    _all_as_expected(started)  # lanpc reaches it; host1 does not
    fdb = facts.bridge_fdb(world, "router", "lan0")
    assert {"mac": mac, "port": "p-host1"} in fdb  # the container's own MAC, learned on host1's port
    started.add_host_shim()
    assert probes.run_spec(started, "host").ok  # the workaround: host1 reaches it through the shim
    started.remove_host_shim()
    assert not started.shim_present()


def test_ipvlan_detected(world):
    supported, reason = ipvlan_support(world)
    assert isinstance(supported, bool) and reason
    assert world.host1.run(["ip", "link", "show", "ipvl-probe"], check=False).returncode != 0


@pytest.mark.parametrize("started", ["overlay"], indirect=True)
def test_overlay_spans_two_hosts_and_its_stop_leaves_the_swarm(world, started):
    for host in ("host1", "host2"):
        assert facts.swarm_state(world, host) == "active"
    names = {n["name"]: n for n in facts.engine_networks(world, "host1")}
    assert names["overlay-net"]["driver"] == "overlay" and "ingress" in names
    b = started.containers("host2")["b"]
    assert facts.mtu(world, b) == facts.mtu(world, "host2") - 50
    _all_as_expected(started)
    # Its stop leaves the swarm it made (one start for both claims: a swarm's making and leaving are the
    # scenario's slowest steps; the fixture's stop after this one finds nothing left to do).
    started.stop()
    for host in ("host1", "host2"):
        assert facts.swarm_state(world, host) == "inactive"
        assert {n["name"] for n in facts.engine_networks(world, host)} >= {"bridge", "host", "none"}
        assert "docker_gwbridge" not in {n["name"] for n in facts.engine_networks(world, host)}
