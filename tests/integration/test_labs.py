"""Every lab on a real world: fresh state fails with a helpful message, the reference solution passes.

Per lab: reset -> check fails (each failing item says what is wrong) -> for troubleshooting labs,
start (the break) -> check fails naming the fault -> solution -> check passes -> reset leaves no
trace of the lab's names (and the world's routes and NAT rules as they were).
"""
from __future__ import annotations

import time

import pytest

from helpers import labs
from helpers.labs import progress, solutions, state
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.naming import IDLE, IMAGE
from tests.integration.lab_symptoms import SYMPTOM


def _baseline(world) -> dict:
    """World state outside the labs' names that a lab may break and its reset must restore."""
    host1 = facts.state(world, "host1", "links", "routes", "rules")
    return {"gateway": next((route.gateway for route in host1.routes if route.dst == "default"), None),
            "masquerade": sorted(str(rule) for rule in host1.rules if rule.target == "MASQUERADE"),
            # veth names are left out: leaving a swarm restarts the course's published containers
            # (see helpers.world.swarm), which gives their veths new names; the links a lab adds
            # (a macvlan shim, a bridge) are what must be gone.
            "links": sorted(iface.name for iface in host1.interfaces
                            if iface.kind != "veth" and not iface.name.startswith("veth")),
            "swarm": [swarm.state(h.docker) for h in world.hosts.values()]}


def _names_left(world, lab) -> list[str]:
    left = [f"{host}:{name}" for host, name in lab.containers
            if state.container(world.hosts[host].docker, name) is not None]
    left += [f"{host}:{name}" for host, name in lab.networks
             if state.network(world.hosts[host].docker, name) is not None]
    return left


def _assert_helpful_failure(result) -> None:
    assert not result.passed
    assert result.failed, str(result)
    for item in result.failed:
        assert item.problem.strip(), f"item without a message: {item.what}"
        assert item.hint.strip() or item.what, item


@pytest.mark.parametrize("number", sorted(labs.LABS))
def test_lab_fails_fresh_and_passes_after_solution(lab_world, number):
    world, lab = lab_world, labs.get(number)
    started = time.monotonic()
    lab.reset(world)
    before = _baseline(world)

    fresh = lab.check(world)
    _assert_helpful_failure(fresh)
    assert fresh.failed[0].hint, f"the first failing item of lab {number} has no hint:\n{fresh}"
    with pytest.raises(labs.LabCheckFailed, match=f"Lab {number}"):
        lab.check(world, strict=True)

    if lab.kind == "troubleshoot":
        lab.start(world)
        broken = lab.check(world)
        _assert_helpful_failure(broken)
        assert any(SYMPTOM[number] in item.what for item in broken.failed), \
            f"lab {number}'s check does not name the fault:\n{broken}"

    solutions.apply(number, world)
    solved = lab.check(world, strict=True)
    assert solved.passed and not solved.failed
    assert number in progress.passed_numbers(world.prefix)

    lab.reset(world)
    assert _names_left(world, lab) == []
    assert _baseline(world) == before, "the reset did not restore the world around the lab"
    assert not lab.check(world).passed
    print(f"lab {number}: {time.monotonic() - started:.1f} s")


def test_reset_touches_nothing_but_the_lab_names(lab_world):
    """A learner's own container and network (other names, same engine) survive a lab's reset."""
    world = lab_world
    client = world.host1.docker
    net = client.networks.create("lab1-net", labels=world.label)
    own_net = client.networks.create("mine-net", labels=world.label)
    own = client.containers.run(IMAGE, IDLE, name="mine", network="lab1-net",
                                detach=True, labels=world.label)
    try:
        done = labs.get(1).reset(world)
        assert done == ["network lab1-net on host1"]
        own.reload()
        assert own.status == "running" and "lab1-net" not in state.networks_of(own)
        assert state.network(client, "mine-net") is not None
    finally:
        own.remove(force=True)
        own_net.remove()
        if state.network(client, net.name) is not None:
            net.remove()


def test_cli_start_check_reset(lab_world, capsys):
    """`dnlab lab start|check|reset N` on the same world, as a workshop terminal uses them."""
    from helpers.cli import main

    world_args = ["--world", lab_world.names.world_id]
    assert main([*world_args, "lab", "reset", "9"]) == 0
    assert main([*world_args, "lab", "start", "9"]) == 0
    capsys.readouterr()
    assert main([*world_args, "lab", "check", "9"]) == 1
    out = capsys.readouterr().out
    assert "✘ lab9-web reaches lab9-api by name" in out and "hint:" in out
    assert main([*world_args, "lab", "reset", "9"]) == 0
    assert "container lab9-web on host1" in capsys.readouterr().out
    assert main([*world_args, "lab", "list"]) == 0
    assert "Troubleshooting: a name that does not resolve" in capsys.readouterr().out


def test_masquerade_check_reads_the_rule_counter(lab_world):
    """Lab 11 with a MASQUERADE rule that exists but matches nothing on the way out (`-o docker0`):
    the rule's packet counter, read around the probe, tells the learner so."""
    world, lab = lab_world, labs.get(11)
    lab.start(world)
    subnet = world.host1.docker.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"]
    wrong = ["POSTROUTING", "-s", subnet, "-o", "docker0", "-j", "MASQUERADE"]
    world["host1"].run(["iptables", "-t", "nat", "-A", *wrong])
    try:
        result = lab.check(world, record=False)
        items = {item.what: item for item in result.items}
        reach = items["lab11-app reaches the internet service"]
        assert not reach.ok and "counted none of its packets" in reach.problem, str(result)
        assert "-o docker0" in reach.problem
        # The reset puts Docker's own rule back even though the learner's wrong one is still there.
        lab.reset(world)
        docker_rule = ["POSTROUTING", "-s", subnet, "!", "-o", "docker0", "-j", "MASQUERADE"]
        assert world["host1"].run(["iptables", "-t", "nat", "-C", *docker_rule], check=False).returncode == 0
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", *wrong], check=False)
        lab.reset(world)
    assert state.masquerade(facts.state(world, "host1", "rules"), subnet) is not None
