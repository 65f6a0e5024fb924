"""`dnlab map` after replaying Docker's own networking tutorials by hand on host1 (overlay for
standalone containers, macvlan, host network, a published port, a container that has exited):
every fact of the map's JSON is compared with `docker network inspect` / `docker inspect` and the
kernel (`ip -j`), read independently here.
"""
from __future__ import annotations

import contextlib
import json
import time

import docker.errors
import pytest

from helpers import cli, scenarios
from helpers.draw.host_figure import draw_host_map, sections
from helpers.observe.topology import HostMap, host_map
from helpers.world import guard, swarm
from helpers.world.naming import IDLE, IMAGE
from helpers.world.swarm import GOSSIP_WAIT, OVERLAY_VXLANID_OPTION
from tests.waits import until

OVERLAY, MACVLAN, BRIDGE = "map-overlay", "map-macvlan", "map-bridge"
BOXES1 = ("map-ov1", "map-mv", "map-hostnet", "map-web", "map-exited", "map-two")


def _remove(world) -> None:
    for host, names in (("host1", BOXES1), ("host2", ("map-ov2",))):
        for name in names:
            with contextlib.suppress(docker.errors.NotFound):
                world.hosts[host].docker.containers.get(name).remove(force=True)
    for network in world.host1.docker.networks.list(names=[MACVLAN, OVERLAY, BRIDGE]):
        if network.name == OVERLAY:
            swarm.remove_overlay(world, network)
        elif network.name in (MACVLAN, BRIDGE):
            network.remove()


def _run_on_host2(world, **kwargs):
    for attempt in range(40):   # the worker learns of the overlay from the manager as it attaches
        try:
            return world.host2.docker.containers.run(IMAGE, IDLE, **kwargs)
        except docker.errors.APIError:
            if attempt == 39:
                raise
            time.sleep(0.25)
    return None


def _replay(world):
    """The tutorials' networks and containers, made with the docker SDK as a learner's CLI would."""
    h1, label = world.host1.docker, world.label
    overlay = h1.networks.create(OVERLAY, driver="overlay", attachable=True, labels=label)
    h1.containers.run(IMAGE, IDLE, name="map-ov1", network=OVERLAY, detach=True, labels=label)
    ov2 = _run_on_host2(world, name="map-ov2", network=OVERLAY, detach=True, labels=label)
    lan = world["host1"].read_address().rsplit(".", 1)[0]
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(
        subnet=f"{lan}.0/24", iprange=f"{lan}.208/28", gateway=world["router"].read_address("lan0"))])
    h1.networks.create(MACVLAN, driver="macvlan", options={"parent": "eth0"}, ipam=ipam, labels=label)
    h1.containers.run(IMAGE, IDLE, name="map-mv", network=MACVLAN, detach=True, labels=label)
    h1.containers.run(IMAGE, IDLE, name="map-hostnet", network_mode="host", detach=True, labels=label)
    h1.containers.run(IMAGE, IDLE, name="map-web", ports={"80/tcp": None}, detach=True, labels=label)
    h1.containers.run(IMAGE, ["true"], name="map-exited", detach=True, labels=label).wait(timeout=10)
    # The bridge tutorial's alpine4: on a user-defined bridge and, connected after, on the default one.
    h1.networks.create(BRIDGE, driver="bridge", labels=label)
    h1.containers.run(IMAGE, IDLE, name="map-two", network=BRIDGE, detach=True, labels=label)
    h1.networks.get("bridge").connect("map-two")
    target = h1.api.inspect_container("map-ov1")["NetworkSettings"]["Networks"][OVERLAY]["IPAddress"]
    last = []
    until(lambda: last.append(guard.probe(world, ov2, target, "ping", timeout=1)) or last[-1].ok,
          timeout=GOSSIP_WAIT, every=0.3, seen=lambda: last[-1].output.strip()[-200:],
          reason="map-ov2 on host2 to reach map-ov1 by address (host2 learns where map-ov1 lives by gossip: "
                 "then the overlay's peers, which the map reads, are set)")
    return overlay


@pytest.fixture(scope="module")
def replayed(world):
    if "macvlan" in scenarios.running(world):
        scenarios.stop(world, "macvlan")   # one macvlan network per parent and subnet: the tutorial's own
    _remove(world)
    with swarm.borrowed(world):
        try:
            yield world, _replay(world)
        finally:
            _remove(world)


@pytest.fixture(scope="module")
def mapped(replayed) -> tuple:
    world, overlay = replayed
    return world, overlay, host_map(world, "host1")


def inspect_networks(world) -> dict[str, dict]:
    api = world.host1.docker.api
    return {n["Name"]: api.inspect_network(n["Id"]) for n in api.networks()}


def test_cli_json_is_the_map(mapped, capsys):
    world = mapped[0]
    assert cli.main(["--world", world.names.world_id, "map", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {n["name"] for n in data["networks"]} == set(inspect_networks(world))
    assert {c["name"] for c in data["containers"]} >= set(BOXES1)
    assert data["overlays"] and all(k in data["overlays"][0] for k in ("bridge", "vxlan", "vni", "peers"))


def test_networks_as_docker_says(mapped):
    world, _, found = mapped
    inspected = inspect_networks(world)
    nodes = {n.name: n for n in found.networks}
    assert set(nodes) == set(inspected)
    for name, net in inspected.items():
        assert nodes[name].driver == net["Driver"]
    assert nodes[MACVLAN].parent == inspected[MACVLAN]["Options"]["parent"]
    assert nodes[OVERLAY].vni == [int(v) for v in inspected[OVERLAY]["Options"][OVERLAY_VXLANID_OPTION].split(",")]
    gw = inspected["docker_gwbridge"]["Options"]["com.docker.network.bridge.name"]
    assert nodes["docker_gwbridge"].bridge == gw and gw in {i["name"] for i in found.interfaces}


def test_overlay_namespace_as_the_kernel_and_docker_say(mapped):
    world, overlay, found = mapped
    api = world.host1.docker.api
    ns = next(o for o in found.overlays if o.network == OVERLAY)
    assert ns.namespace.endswith(overlay.id[:len(ns.namespace) - 2]) and ns.bridge == "br0"
    assert ns.vni == int(api.inspect_network(overlay.id)["Options"][OVERLAY_VXLANID_OPTION])
    peers = {p["IP"] for p in api.inspect_network(overlay.id, verbose=True).get("Peers") or []}
    assert set(ns.peers) == peers - {world["host1"].read_address()} != set()
    gateway = api.inspect_network(overlay.id)["IPAM"]["Config"][0]["Gateway"]
    assert any(a.split("/")[0] == gateway for a in ns.addresses)
    ov1 = next(c for c in found.containers if c.name == "map-ov1")
    on_overlay = next(a for a in ov1.attachments if a.network == OVERLAY)
    assert on_overlay.namespace == ns.namespace and on_overlay.host_veth in ns.ports and on_overlay.bridge == "br0"


def test_containers_as_docker_inspect_says(mapped):
    world, _, found = mapped
    api = world.host1.docker.api
    gwbridge = api.inspect_network("docker_gwbridge")["Containers"]
    for node in found.containers:
        detail = api.inspect_container(node.name)
        networks = detail["NetworkSettings"]["Networks"]
        assert node.running == detail["State"]["Running"]
        assert node.ports == (detail["NetworkSettings"]["Ports"] or {})
        if detail["HostConfig"]["NetworkMode"] == "host":
            assert node.network_mode == "host" and node.attachments == []
            continue
        expected = {net: ep["IPAddress"] or None for net, ep in networks.items()}
        if detail["Id"] in gwbridge:   # Docker lists an overlay container's eth1 only under docker_gwbridge
            expected["docker_gwbridge"] = gwbridge[detail["Id"]]["IPv4Address"].split("/")[0]
        assert {a.network: a.ip for a in node.attachments} == expected, node.name
    two = next(c for c in found.containers if c.name == "map-two")
    bridges = {n["Name"]: n["Options"].get("com.docker.network.bridge.name") or f"br-{n['Id'][:12]}"
               for n in api.networks() if n["Driver"] == "bridge"}
    expected = {(BRIDGE, bridges[BRIDGE]), ("bridge", bridges["bridge"])}
    assert {(a.network, a.bridge) for a in two.attachments} == expected
    exited = next(c for c in found.containers if c.name == "map-exited")
    assert not exited.running and [a.network for a in exited.attachments] == ["bridge"]


def test_the_drawing_shows_it(mapped, tmp_path):
    world, _, found = mapped
    parts = {s.title: s for s in sections(found)}
    assert any(t.startswith("br0") and OVERLAY in t for t in parts)
    assert any(t == f"{MACVLAN}: macvlan on parent eth0" for t in parts)
    drawing = draw_host_map(found)
    texts = [t.get_text() for t in drawing.axes[0].texts]
    assert "map-exited (by hand) (exited)" in texts
    web = next(c for c in found.containers if c.name == "map-web")
    port = web.ports["80/tcp"][0]["HostPort"]
    assert f"publishes :{port}->80/tcp" in texts
    assert any(t.startswith("host network: shares host1") for t in texts)
    assert drawing.size_px()[0] <= 1000
    assert cli.main(["--world", world.names.world_id, "map", "--png", str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_summary_names_every_network(mapped):
    found: HostMap = mapped[2]
    text = found.summary()
    assert "None" not in text
    assert f"network {MACVLAN} (made by hand): macvlan" in text and "parent eth0" in text


def test_trace_from_the_macvlan_and_host_network_containers(mapped, capsys):
    """`dnlab trace` on the tutorials' own networks: macvlan straight onto the LAN, host network as host1."""
    world = mapped[0]
    assert cli.main(["--world", world.names.world_id, "trace", "map-mv", "lanpc", "--json"]) == 0
    path = json.loads(capsys.readouterr().out)
    mv_ip = world.host1.docker.api.inspect_container("map-mv")["NetworkSettings"]["Networks"][MACVLAN]["IPAddress"]
    request = [h for h in path["hops"] if h["leg"] == "request"]
    assert request[0]["namespace"] == "map-mv" and request[0]["src"] == mv_ip
    assert request[1]["namespace"] == "router" and request[-1]["namespace"] == "lanpc"   # no bridge of host1
    assert cli.main(["--world", world.names.world_id, "trace", "map-hostnet", "lanpc", "--json"]) == 0
    path = json.loads(capsys.readouterr().out)
    assert path["source"] == "host1" and path["hops"][0]["src"] == world["host1"].read_address()
