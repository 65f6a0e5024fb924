"""The engine table's rows that no claim cell measures, measured on the engine in front of the test
(the session world's host1: 20.10 in the Debian 12 leg, 26.1 in the Debian 13 leg, 28.5 in the
Docker 28 leg): what the engine does must be what `engine_facts` says holds on its version.

Each measurement returns the era it observed (the release from which the table says that behaviour
holds); the test fails when the table gives this version another era. The rows measured by claim
cells (chains, direct-access, loopback-publish, internal-route, ...) are asserted in the chapters.
"""
from __future__ import annotations

import ipaddress
import shutil
import subprocess

import pytest

from helpers.world import engine_facts, engines, swarm
from helpers.world.naming import IDLE, IMAGE

# Outside every lab and Docker pool, and never routed (RFC 2544's benchmark range): a macvlan network
# made with it only to read the gateway Docker picks; no container joins it, nothing is sent.
MACVLAN_SUBNET = "198.18.99.0/24"


def _version(world) -> str:
    return world.host1.docker.version()["Version"]


def _era(fact_id: str, value_matches) -> str:
    """The `since` of the first era of `fact_id` whose value `value_matches` (a predicate on the
    table's own wording), so the test reads which era was observed, not a hand-copied version."""
    eras = [era for era in engine_facts.fact(fact_id).eras if value_matches(era.value)]
    assert len(eras) == 1, f"{fact_id}: the predicate picks {len(eras)} eras"
    return eras[0].since


@pytest.fixture
def container(world):
    client = world.host1.docker
    made = client.containers.run(IMAGE, IDLE, name="facts-live", detach=True, labels=world.label)
    made.reload()
    yield made
    made.remove(force=True)


def measure_random_mac(world, container) -> str:
    settings = container.attrs["NetworkSettings"]["Networks"]["bridge"]
    derived = "02:42:" + ":".join(f"{octet:02x}" for octet in ipaddress.ip_address(settings["IPAddress"]).packed)
    return _era("random-mac", (lambda v: v.startswith("02:42")) if settings["MacAddress"] == derived
                else (lambda v: v == "random"))


def measure_network_mode(world, container) -> str:
    mode = container.attrs["HostConfig"]["NetworkMode"]
    return _era("network-mode", lambda v: v == f'"{mode}"')


def measure_enable_ipv4(world, container) -> str:
    present = "EnableIPv4" in world.host1.docker.networks.get("bridge").attrs
    return _era("enable-ipv4", (lambda v: v.startswith("present")) if present else (lambda v: v == "absent"))


def measure_macvlan_gateway(world, container) -> str:
    """A container on a macvlan network made without --gateway: its default route, if any, goes via the
    subnet's first address (`docker network inspect` names no gateway either way). Its parent is a veth
    of its own in host1: an engine refuses a second macvlan network on a parent (a scenario's or a lab's
    on eth0 may be up)."""
    client = world.host1.docker
    parent = "factsmv0"
    world["host1"].run(["ip", "link", "add", parent, "type", "veth", "peer", "name", "factsmv1"])
    try:
        world["host1"].run(["ip", "link", "set", parent, "up"])
        network = client.networks.create("facts-live-mv", driver="macvlan", options={"parent": parent},
                                         labels=world.label, ipam={"Config": [{"Subnet": MACVLAN_SUBNET}]})
        try:
            routes = client.containers.run(IMAGE, ["ip", "route"], network=network.name, remove=True,
                                           labels=world.label).decode()
        finally:
            # `run(remove=True)` returns before the engine has released the endpoint ("has active endpoints").
            assert swarm.remove_when_released(network), "the macvlan network still has a container"
    finally:
        world["host1"].run(["ip", "link", "del", parent], check=False)
    first = str(next(ipaddress.ip_network(MACVLAN_SUBNET).hosts()))
    return _era("macvlan-gateway", (lambda v: "first address" in v) if f"default via {first}" in routes
                else (lambda v: v.startswith("no default gateway")))


def measure_kv_store(world, container) -> str:
    """Whether this engine's dockerd still takes the external key-value store flag: 20.10 parses
    `--cluster-store` (a deprecation warning, hidden from --help), later releases refuse it."""
    folder = engines.bin_dir(engines.read_record(world.names.state_dir)["host1"], fetch_missing=False)
    dockerd = str(folder / "dockerd") if folder else shutil.which("dockerd")
    parsed = subprocess.run([dockerd, "--cluster-store", "consul://127.0.0.1:1", "--version"],
                            capture_output=True, text=True, timeout=30)
    return _era("kv-store", (lambda v: v.startswith("deprecated")) if parsed.returncode == 0
                else (lambda v: v.startswith("removed")))


def measure_forward_policy(world, container) -> str:
    """The world starts each host with forwarding off (a fresh machine), so dockerd turned it on: the
    table says it then sets DROP on every release; what differs from 28.0 is the raw-table rule
    that makes the policy moot, which the claim ch01:unpublished measures."""
    dump = world["host1"].run(["iptables-save", "-t", "filter"]).stdout
    assert ":FORWARD DROP" in dump, "dockerd turned forwarding on and left the FORWARD policy ACCEPT"
    raw = world["host1"].run(["iptables-save", "-t", "raw"]).stdout
    address = container.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    direct_rule = f"-d {address}/32 ! -i docker0 -j DROP" in raw
    return _era("forward-policy", (lambda v: "whatever the policy" in v) if direct_rule
                else (lambda v: v.startswith("dockerd sets")))


def measure_multiple_networks(world, container) -> str:
    """A container created on two networks at once (what `docker run --network A --network B` asks):
    20.10 refuses it and makes no container; API 1.44 engines (25.0 on) create it on both."""
    import docker

    client = world.host1.docker
    nets = [client.networks.create(f"facts-live-n{i}", labels=world.label) for i in (1, 2)]
    api = client.api
    try:
        made = api.create_container(IMAGE, IDLE, name="facts-live-two", labels=dict(world.label),
                                    networking_config=api.create_networking_config(
                                        {net.name: api.create_endpoint_config() for net in nets}))
    except docker.errors.APIError as refused:
        assert "cannot be connected to network endpoints" in str(refused), refused
        assert not client.containers.list(all=True, filters={"name": "facts-live-two"}), "refused, yet made"
        attached = None
    else:
        attached = set(client.containers.get(made["Id"]).attrs["NetworkSettings"]["Networks"])
        client.containers.get(made["Id"]).remove(force=True)
    finally:
        for net in nets:
            net.remove()
    if attached is None:
        return _era("multiple-networks", lambda v: v.startswith("refused"))
    assert attached == {net.name for net in nets}, attached
    return _era("multiple-networks", lambda v: v.startswith("accepted"))


MEASURES = {
    "random-mac": measure_random_mac,
    "network-mode": measure_network_mode,
    "enable-ipv4": measure_enable_ipv4,
    "macvlan-gateway": measure_macvlan_gateway,
    "kv-store": measure_kv_store,
    "forward-policy": measure_forward_policy,
    "multiple-networks": measure_multiple_networks,
}


@pytest.mark.parametrize("fact_id", sorted(MEASURES))
def test_the_engine_does_what_the_table_says_of_its_version(world, container, fact_id):
    version = _version(world)
    observed = MEASURES[fact_id](world, container)
    expected = engine_facts.fact(fact_id).on(version)
    assert observed == expected.since, (
        f"{fact_id} on Docker {version}: the engine behaves as from {observed} "
        f"({engine_facts.fact(fact_id).on(observed).value}), the table says {expected.value!r}")
