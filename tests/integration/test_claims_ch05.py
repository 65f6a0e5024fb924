"""Chapter 5's claims fail on real lab worlds where they are false.

False worlds, built on host1 and removed afterwards: a macvlan network whose gateway and ip-range do
not fit the LAN (gateway .254 where nothing answers, a range that holds lanpc); the macvlan scenario
with its parent on another link (a veth pair on host1 that goes nowhere); a bridge container as the
listener; the host-side shim in vepa mode.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/05_macvlan.ipynb on
the session world, and a claim cell raises there if its claim is false
(tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
ch05:hears-lan's control stays here: both captures it reads are the false worlds' evidence too.
"""
from __future__ import annotations

import contextlib
import ipaddress

import pytest

from helpers.lessons import ch05, common, facts, probes
from tests.claimcells import assert_claim_fails, run_claim
from tests.worlds import scenario_and_lesson

ELSEWHERE = "mvx0"  # a veth on host1 whose peer stays on host1: a link that is not the LAN


@pytest.fixture(scope="module")
def mv(world):
    with scenario_and_lesson(world, "macvlan", "t-ch05", start=False) as pair:
        yield pair


@contextlib.contextmanager
def parent_elsewhere(world, scenario):
    """The macvlan scenario rebuilt with its parent on a link that does not reach the LAN."""
    scenario.stop()
    host1 = world.host1
    host1.run(["ip", "link", "add", ELSEWHERE, "type", "veth", "peer", "name", "mvx1"])
    for link in (ELSEWHERE, "mvx1"):
        host1.run(["ip", "link", "set", link, "up"])
    scenario.parent = ELSEWHERE
    try:
        yield scenario.start()
    finally:
        scenario.stop()
        scenario.parent = type(scenario).parent
        host1.run(["ip", "link", "del", ELSEWHERE], check=False)


def test_fits_lan_fails_for_a_wrong_gateway_and_range(world, mv):
    scenario, lesson = mv
    scenario.stop()
    lan = ipaddress.ip_network(facts.ipv4(world, "host1", "eth0")[0], strict=False)
    lanpc = ipaddress.ip_address(facts.address(world, "lanpc"))
    from docker.types import IPAMConfig, IPAMPool

    wrong = lesson.network("wrong", driver="macvlan", options={"parent": "eth0"}, ipam=IPAMConfig(pool_configs=[
        IPAMPool(subnet=str(lan), gateway=str(lan.network_address + 254),
                 iprange=str(ipaddress.ip_network(f"{lanpc}/28", strict=False)))]))
    try:
        fit = ch05.macvlan_fit(world, wrong)
        assert_claim_fails("ch05:fits-lan", {"fit": fit}, mentions="the gateway is the LAN's router")
        assert_claim_fails("ch05:fits-lan", {"fit": fit}, mentions="no LAN machine's address is inside the ip-range")
    finally:
        wrong.remove()


def test_own_mac_and_reach_fail_with_the_parent_on_another_link(world, mv):
    scenario, _ = mv
    with parent_elsewhere(world, scenario):
        assert_claim_fails("ch05:own-mac", {"identity": ch05.macvlan_identity(world, scenario)},
                           mentions="lan0 learned it")
        assert_claim_fails("ch05:reach", {"reach": ch05.macvlan_reach(world, scenario)},
                           mentions="lanpc reaches the container")


def _arp_names(world, scenario) -> dict:
    facts.forget_neighbours(world, "lanpc")
    common.show_path(world, scenario, "lan", view="L2")
    app = scenario.containers()["app"]
    return {"arp": common.show_path.last.arp_exchanges(), "app": app,
            "app_ip": facts.address(world, app), "mac": facts.mac_of(world, app)}


def test_arp_fails_with_the_parent_on_another_link(world, mv):
    scenario, _ = mv
    with parent_elsewhere(world, scenario):
        assert_claim_fails("ch05:arp", _arp_names(world, scenario), mentions="answered by the container itself")


def test_hears_lan_fails_for_a_bridge_listener(world, mv):
    scenario, lesson = mv
    scenario.start()
    bridge = ch05.lan_chatter_heard(world, lesson.box("listener"))
    macvlan = ch05.lan_chatter_heard(world, scenario.containers()["app"])
    run_claim("ch05:hears-lan", heard=macvlan, heard_bridge=bridge)
    assert_claim_fails("ch05:hears-lan", {"heard": bridge, "heard_bridge": bridge},
                       mentions="the macvlan container heard lanpc's ARP broadcast")
    # A listener on the LAN in the bridge container's place: what it heard of lanpc fails the third part
    # (a stray frame of its own bridge, an IPv6 solicitation or docker0's ARP, would not).
    assert_claim_fails("ch05:hears-lan", {"heard": macvlan, "heard_bridge": macvlan},
                       mentions="a bridge container on host1 heard none of it")


def test_shim_fails_in_vepa_mode(world, mv):
    scenario, _ = mv
    scenario.start()
    try:
        shim = scenario.add_host_shim(mode="vepa")
        assert_claim_fails("ch05:shim", {"shim": shim, "after": probes.run_spec(scenario, "host")},
                           mentions="host1 reaches the container")
    finally:
        scenario.remove_host_shim()
