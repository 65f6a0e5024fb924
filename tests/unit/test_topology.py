"""The host map assembled from saved real outputs (a run's `ip -j` and `docker inspect` data)."""
from __future__ import annotations

import json
from pathlib import Path

from helpers.observe.collect import ContainerInfo, Endpoint, NetworkInfo, from_outputs
from helpers.observe.topology import assemble
from helpers.world.naming import LABEL_WORLD

RUN = Path(__file__).parent / "data" / "paths" / "user-bridge-egress" / "run.json"


def test_assemble_pairs_containers_with_host_veths():
    meta = json.loads(RUN.read_text())
    host = from_outputs("host1", "machine", "", meta["raw_before"]["host1"])
    containers, states = [], {}
    for target in meta["targets"]:
        if target["container"]:
            data = dict(target["container"], endpoints=[Endpoint(**e) for e in target["container"]["endpoints"]])
            info = ContainerInfo(**data)
            containers.append(info)
            states[target["name"]] = from_outputs(target["name"], "container", "", meta["raw_before"][target["name"]])
    prefix = containers[0].labels[LABEL_WORLD]
    hand = ContainerInfo("hand-box", "f" * 64, "host1", 0, True, {LABEL_WORLD: prefix}, [], {}, "hand-net")
    networks = [NetworkInfo("bridge", "0" * 12, "bridge", [], [], "docker0"),
                NetworkInfo("hand-net", "1" * 12, "bridge", [], [], "br-111111111111", labels={LABEL_WORLD: prefix})]
    found = assemble("host1", host, networks, containers + [hand], states, prefix)
    host_links = {link["ifname"]: link for link in json.loads(meta["raw_before"]["host1"]["links"])}
    # found.containers ends with the hand-made box (checked below): the course's come first, in order.
    for node, info in zip(found.containers, containers, strict=False):
        assert node.origin == "course"
        attachment = node.attachments[0]
        assert attachment.ip == info.endpoints[0].ip
        assert host_links[attachment.host_veth]["master"] == attachment.bridge
    assert found.containers[-1].origin == "hand"
    assert [n.origin for n in found.networks] == ["engine", "hand"]
    assert "hand-box (made by hand)" in found.summary()
