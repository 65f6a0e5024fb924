"""The one endpoint resolver on a live world: a container on two networks, a machine, a missing
container; the probe table and the tracer must name the same address.

Expected addresses are read independently (`docker inspect` through the CLI's Go template, `ip -j`
in the machine's namespace), never from the resolver itself.
"""
from __future__ import annotations

import json

import pytest

from helpers import scenarios
from helpers.errors import UnresolvedEndpoint
from helpers.lessons import probes
from helpers.path.tracer import trace
from helpers.scenarios.endpoint import parse


def _inspected(world, name: str) -> dict[str, str]:
    """{network: address} of a container, as `docker inspect` prints it."""
    out = world.host1.cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", name)
    return {net: s["IPAddress"] for net, s in json.loads(out).items()}


@pytest.fixture
def two_networks(world):
    """user-bridge with `b` also connected to `c`'s network (user-bridge-net2); disconnected after."""
    sc = scenarios.get(world, "user-bridge").start()
    net2 = world.host1.docker.networks.get(sc.other_network_name)
    b = sc.containers("host1")["b"]
    net2.connect(b)
    try:
        yield sc
    finally:
        net2.disconnect(b)


def test_container_on_two_networks_resolves_by_the_rule(world, two_networks):
    sc = two_networks
    on = _inspected(world, sc.container_name("b"))
    assert set(on) == {sc.network_name, sc.other_network_name} and all(on.values())
    # No sender: the first network by name (user-bridge-net sorts before user-bridge-net2).
    assert probes.resolve_target(sc, "container:b") == on[min(on)]
    # Sender c is only on net2: the address they share.
    c = sc.containers("host1")["c"]
    assert probes.resolve_target(sc, "container:b", source=c) == on[sc.other_network_name]
    # The probe table and the tracer aim at that same address, and now c reaches b through it.
    verdict = probes.run_spec(sc, "isolation")
    path = trace(world, sc, "isolation")
    assert path.target == on[sc.other_network_name]
    assert verdict.ok and path.reached  # "isolation" is false on this world: they share net2


def test_machine_and_missing_container(world):
    sc = scenarios.get(world, "user-bridge").start()
    links = json.loads(world["inet"].run(["ip", "-j", "-4", "addr", "show", "dev", "eth0"]).stdout)
    assert parse("machine:inet").resolve(sc) == links[0]["addr_info"][0]["local"]
    with pytest.raises(UnresolvedEndpoint, match="no container user-bridge-nobody runs on host1"):
        probes.resolve_target(sc, "container:nobody")
    with pytest.raises(UnresolvedEndpoint, match="user-bridge-b runs on host2"):
        probes.resolve_target(sc, "container:b@host2")
