"""The host map of a host on an overlay, assembled from saved real outputs (host1 of a lab world
after Docker's "overlay for standalone containers" tutorial, plus an exited container): `docker
network ls` / `docker inspect` JSON, `ip -j -d addr` of host1 and of the container, and the links
and FDB of each overlay's own namespace. Expected values are read from the same saved outputs."""
from __future__ import annotations

import json
from pathlib import Path

from helpers.observe.collect import ContainerInfo, Endpoint, NetworkInfo, from_outputs, network_info
from helpers.observe.topology import assemble, overlay_targets
from helpers.world.naming import LABEL_WORLD
from helpers.world.swarm import OVERLAY_VXLANID_OPTION

DATA = json.loads((Path(__file__).parent / "data" / "host1_map_overlay.json").read_text())
OVERLAY = "test-net"


def saved_map():
    host = from_outputs("host1", "machine", "", {"links": DATA["host_links"]})
    containers = [ContainerInfo(**{**c, "endpoints": [Endpoint(**e) for e in c["endpoints"]]})
                  for c in DATA["containers"]]
    networks = [network_info(n) for n in DATA["networks"]]
    states = {name: from_outputs(name, "container", "", {"links": text})
              for name, text in DATA["container_links"].items()}
    engine = {net: from_outputs(o["name"], "docker", "", {"links": o["links"], "fdb": o["fdb"]})
              for net, o in DATA["overlays"].items()}
    prefix = next(c.labels.get(LABEL_WORLD, "") for c in containers)
    return assemble("host1", host, networks, containers, states, prefix, engine)


def test_an_overlay_container_is_named_on_both_its_networks():
    found = saved_map()
    running = [c for c in found.containers if c.running]
    assert running
    for node in running:
        inspected = next(c for c in DATA["containers"] if c["name"] == node.name)
        names = {a.network for a in node.attachments}
        assert None not in names
        assert {e["network"] for e in inspected["endpoints"]} <= names
    node = next(c for c in running if any(a.network == OVERLAY for a in c.attachments))
    on_overlay = next(a for a in node.attachments if a.network == OVERLAY)
    assert on_overlay.namespace == DATA["overlays"][OVERLAY]["name"] and on_overlay.bridge == "br0"
    # Docker's inspect does not list the container's eth1: it is named by the bridge it hangs from.
    gw = next(a for a in node.attachments if a.network != OVERLAY)
    assert gw.network == "docker_gwbridge" and gw.bridge == "docker_gwbridge" and gw.namespace is None


def test_the_overlays_own_namespace_as_the_kernel_holds_it():
    found = saved_map()
    ns = next(o for o in found.overlays if o.network == OVERLAY)
    links = {link["ifname"]: link for link in json.loads(DATA["overlays"][OVERLAY]["links"])}
    vxlan = next(link for link in links.values() if (link.get("linkinfo") or {}).get("info_kind") == "vxlan")
    assert ns.vxlan == vxlan["ifname"] and ns.vni == vxlan["linkinfo"]["info_data"]["id"]
    net = next(n for n in DATA["networks"] if n["Name"] == OVERLAY)
    assert [ns.vni] == next(n.vni for n in found.networks if n.name == OVERLAY)
    assert ns.vni == int(net["Options"][OVERLAY_VXLANID_OPTION])
    peers = {e["dst"] for e in json.loads(DATA["overlays"][OVERLAY]["fdb"]) if e.get("dst")}
    assert set(ns.peers) == peers != set()
    assert ns.ports and all(links[p]["master"] == ns.bridge for p in ns.ports)


def test_an_exited_container_keeps_its_networks_and_is_marked():
    found = saved_map()
    exited = [c for c in found.containers if not c.running]
    assert exited
    for node in exited:
        inspected = next(c for c in DATA["containers"] if c["name"] == node.name)
        assert [a.network for a in node.attachments] == [e["network"] for e in inspected["endpoints"]]
        assert f"container {node.name} (made by hand): exited" in found.summary()
    assert "None" not in found.summary()
    assert json.loads(json.dumps(found.to_json()))["overlays"][0]["vni"] is not None


def test_overlay_namespaces_are_matched_by_network_id_at_any_epoch(tmp_path):
    for name in ("1-abcdefghij", "2-qrstuvwxyz", "ingress_sbox", "lb_abcdefghi", "0f835eae9049"):
        (tmp_path / name).write_text("")
    networks = [NetworkInfo("one", "abcdefghij0123456789abcde", "overlay", [], [], None),
                NetworkInfo("two", "qrstuvwxyz0123456789abcde", "overlay", [], [], None),
                NetworkInfo("local", "0f835eae9049" + "0" * 52, "bridge", [], [], "br-0f835eae9049")]
    every = lambda path: True  # noqa: E731 - these plain files stand for namespaces
    found = {target.name: network for target, network in overlay_targets(tmp_path, networks, every).items()}
    assert found == {"1-abcdefghij": "one", "2-qrstuvwxyz": "two"}
    assert overlay_targets(tmp_path / "missing", networks, every) == {}
    # As they are (plain files, as an engine leaves them behind a namespace that went): none is read.
    assert overlay_targets(tmp_path, networks) == {}
