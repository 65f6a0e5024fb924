"""The driver explorer against a real world: set a widget's value as a learner would, then check
that what it shows matches state read independently (docker inspect, `ip -j`, iptables-save,
a probe of our own through the guard)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers.widgets import explorer as explorer_module
from helpers.widgets.explorer import Explorer
from helpers.world.guard import probe
from helpers.world.naming import INET_IP, LABEL_SCENARIO, SERVICE_TCP_PORT

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def container(world, name, host="host1"):
    return world.hosts[host].docker.api.inspect_container(name)


def ip_addresses(pid: int) -> set[str]:
    """IPv4 addresses of a process's network namespace, read with `ip -j` (not the explorer's code)."""
    out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-j", "-4", "addr"],
                         capture_output=True, text=True, check=True).stdout
    return {f"{a['local']}/{a['prefixlen']}" for link in json.loads(out) for a in link["addr_info"]}


def nat_table(world, host="host1") -> str:
    return world.hosts[host].run(["iptables-save", "-t", "nat"]).stdout


@pytest.fixture(scope="module")
def ex(world):
    explorer_module._CACHES.pop(world.prefix, None)  # a cold start, whatever ran before
    return Explorer(world)


def shown_text(ex: Explorer) -> str:
    return ex.facts_html.value.replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", '"')


def test_default_bridge_facts_match_live_state(world, ex):
    assert ex.errors == [], ex.errors
    assert ex.driver.value == "default-bridge" and ex.probe.value == "to the internet"
    assert 'data-scenario="default-bridge"' in ex.caption.value and "<svg" in ex.figure.value
    info = container(world, ex.facts.container)
    assert info["Config"]["Labels"][LABEL_SCENARIO] == "default-bridge"
    endpoint = info["NetworkSettings"]["Networks"]["bridge"]
    # addresses: ip -j in the container's namespace, and docker's own view of the endpoint
    live = ip_addresses(info["State"]["Pid"])
    assert f"{endpoint['IPAddress']}/{endpoint['IPPrefixLen']}" in live
    for address in live:
        assert any(line.split()[1] == address for line in ex.facts.addresses)
        assert address in shown_text(ex)
    assert f"default via {endpoint['Gateway']} dev eth0" in ex.facts.routes
    # the network summary and the MASQUERADE rule of its subnet
    network = world.host1.docker.api.inspect_network("bridge")
    subnet = network["IPAM"]["Config"][0]["Subnet"]
    assert any(f"subnet {subnet}" in line and "driver bridge" in line for line in ex.facts.networks)
    masquerade = [line for line in nat_table(world).splitlines()
                  if line.startswith("-A POSTROUTING") and f"-s {subnet}" in line and "MASQUERADE" in line]
    assert masquerade and set(masquerade) <= set(ex.facts.nat)
    assert masquerade[0] in shown_text(ex)


def test_reachability_shown_matches_an_independent_probe(world, ex):
    ex.driver.value = "default-bridge"
    ex.probe.value = "to the internet"
    source = world.host1.docker.containers.get(ex.facts.container)
    ours = probe(world, source, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    assert ex.facts.reached is ours.ok is True
    assert "reached" in ex.facts.reachability[0] and "as the scenario expects" in shown_text(ex)


def test_switching_to_macvlan_shows_macvlan_and_what_changed(world, ex):
    ex.driver.value = "default-bridge"
    before = ex.facts
    ex.driver.value = "macvlan"
    assert ex.errors == [], ex.errors[-1:]
    assert 'data-scenario="macvlan"' in ex.caption.value and "<svg" in ex.figure.value
    assert ex.facts.driver == "macvlan"
    info = container(world, ex.facts.container)
    [(net_name, endpoint)] = info["NetworkSettings"]["Networks"].items()
    network = world.host1.docker.api.inspect_network(net_name)
    assert network["Driver"] == "macvlan"
    parent = network["Options"]["parent"]
    assert any(f"parent {parent}" in line and "driver macvlan" in line for line in ex.facts.networks)
    address = f"{endpoint['IPAddress']}/{endpoint['IPPrefixLen']}"
    assert address in ip_addresses(info["State"]["Pid"])
    assert any(line.split()[1] == address for line in ex.facts.addresses)
    # no NAT rule of the host names the macvlan container, and the widget says so
    assert endpoint["IPAddress"] not in nat_table(world)
    assert len(ex.facts.nat) == 1 and ex.facts.nat[0].startswith("(none")
    # what changed: the bridge address went, the macvlan one came, the MASQUERADE rule went
    diff = ex.diff_html.value
    assert "from <b>default-bridge</b> to <b>macvlan</b>" in diff
    old_address = next(line.split()[1] for line in before.addresses if line.startswith("eth0"))
    assert f"- eth0 {old_address}" in diff and f"+ eth0 {address}" in diff
    assert any(f"- {rule}" in diff.replace("&gt;", ">") for rule in before.nat if "MASQUERADE" in rule)


def test_a_probe_the_scenario_lacks_is_said_not_failed(world, ex):
    ex.driver.value = "macvlan"
    specs = ex.cache.scenarios["macvlan"].probe_specs()
    missing = [c for c in explorer_module.PROBES if explorer_module.probe_for(c, specs, "macvlan") is None]
    assert missing, "macvlan offers every probe: pick another scenario for this test"
    ex.probe.value = missing[0]
    assert "offers no" in ex.message.value and "dnlab-error" not in ex.message.value
    assert ex.figure.value == "" and ex.facts.driver == "macvlan"
    ex.probe.value = "to the internet"
    assert ex.message.value == "" and "<svg" in ex.figure.value


def test_rerun_sends_the_probe_again_and_restores_a_removed_container(world, ex):
    ex.driver.value = "macvlan"
    ex.probe.value = "to the internet"
    old_path, old_container = ex.path, ex.facts.container
    world.host1.docker.containers.get(old_container).remove(force=True)  # behind the widget's back
    ex.rerun.click()
    assert ex.message.value == "", ex.message.value
    assert ex.path is not old_path
    assert container(world, old_container)["State"]["Running"]


def test_switching_back_to_a_warm_or_a_restarted_scenario_shows_it(world, ex):
    """Warm switches reuse the started scenario; a stopped one is started again on demand.
    (Their speed is measured by bench/bench.py, not asserted here.)"""
    ex.probe.value = "to the internet"
    for name in ("default-bridge", "macvlan", "user-bridge"):
        ex.driver.value = name
    started = dict(ex.cache.scenarios)
    for name in ("default-bridge", "macvlan", "user-bridge"):
        ex.driver.value = name
        assert ex.message.value == "" and f'data-scenario="{name}"' in ex.caption.value
    assert ex.cache.scenarios == started
    ex.driver.value = "default-bridge"
    ex.cache.scenarios["macvlan"].stop()
    ex.cache.drop("macvlan")
    ex.driver.value = "macvlan"
    assert ex.message.value == "" and 'data-scenario="macvlan"' in ex.caption.value
