"""Paths rebuilt from saved real runs (pcaps + tool outputs, tests/unit/data/paths/<scenario>-<probe>).

Every expected address comes from the run's own saved `docker inspect` and `ip -j` outputs.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.capture.decode import read_pcap
from helpers.path import rebuild
from helpers.path.model import Path as PacketPath

DATA = Path(__file__).parent / "data" / "paths"


def _meta(name: str) -> dict:
    return json.loads((DATA / name / "run.json").read_text())


def _container(meta: dict, name: str) -> dict:
    return next(t["container"] for t in meta["targets"] if t["name"] == name)


def _eth0(meta: dict, namespace: str) -> dict:
    links = json.loads(meta["raw_before"][namespace]["links"])
    return next(link for link in links if link["ifname"] == "eth0")


def _ipv4(link: dict) -> str:
    return next(a["local"] for a in link["addr_info"] if a["family"] == "inet")


def _hops(path, leg="request", **match):
    return [h for h in path.hops if h.leg == leg and all(getattr(h, k) == v for k, v in match.items())]


@pytest.mark.parametrize("name", ["user-bridge-egress", "default-bridge-egress"])
def test_egress_masquerade_at_host1_eth0(name):
    meta = _meta(name)
    path = rebuild(DATA / name)
    container_ip = _container(meta, f"{meta['scenario']}-a")["endpoints"][0]["ip"]
    host1_ip = _ipv4(_eth0(meta, "host1"))
    first = path.request[0]
    assert first.namespace == f"{meta['scenario']}-a" and first.src_ip == container_ip
    masq = _hops(path, namespace="host1", interface="eth0", direction="out")
    assert len(masq) == 1 and masq[0].action == "masquerade"
    assert masq[0].changes["src"][0].startswith(container_ip + ":")
    assert masq[0].changes["src"][1].startswith(host1_ip + ":")
    rule = next(s for s in masq[0].steps if s.kind == "masquerade")
    assert rule.counter >= 1 and "MASQUERADE" in rule.rule
    # The internet service saw host1's LAN address: in the capture and in its own reply.
    arrived = path.request[-1]
    assert arrived.namespace == "inet" and arrived.src_ip == host1_ip and arrived.action == "delivered"
    assert path.evidence["reply_says_client_is"] == arrived.src
    # conntrack: original from the container, reply to host1.
    entry = next(e for e in path.conntrack if e["namespace"] == "host1")
    assert entry["snat"] and entry["original"].startswith(container_ip) and host1_ip in entry["reply"]
    # The reply comes back un-NATed to the container.
    assert path.reply[-1].namespace == first.namespace and path.reply[-1].dst_ip == container_ip
    assert any(h.action == "un-nat" for h in path.reply)


def test_publish_dnat_and_the_container_sees_the_client():
    meta = _meta("user-bridge-publish")
    path = rebuild(DATA / "user-bridge-publish")
    inet_ip = _ipv4(_eth0(meta, "inet"))
    host1_ip = _ipv4(_eth0(meta, "host1"))
    web_ip = _container(meta, "user-bridge-b")["endpoints"][0]["ip"]
    dnat = [h for h in path.request if h.action == "dnat"]
    assert len(dnat) == 1 and dnat[0].namespace == "host1"
    assert dnat[0].changes["dst"][0] == f"{host1_ip}:{meta['port']}"
    assert dnat[0].dst_ip == web_ip
    step = next(s for s in dnat[0].steps if s.kind == "dnat")
    assert step.counter >= 1 and f"--dport {meta['port']}" in step.rule
    seen = path.request[-1]
    assert seen.namespace == "user-bridge-b" and seen.src_ip == inet_ip
    assert path.evidence["reply_says_client_is"].startswith(inet_ip + ":")


def test_loopback_goes_through_docker_proxy():
    meta = _meta("user-bridge-loopback")
    path = rebuild(DATA / "user-bridge-loopback")
    gateway = _container(meta, "user-bridge-b")["endpoints"][0]["gateway"]
    assert path.request[0].interface == "lo" and path.request[0].segment == 0
    proxied = [h for h in path.request if h.action == "proxied"]
    assert len(proxied) == 1 and proxied[0].segment == 1 and proxied[0].src_ip == gateway
    assert path.request[-1].namespace == "user-bridge-b" and path.request[-1].src_ip == gateway
    assert path.proxies and path.proxies[0]["to"].startswith(path.request[-1].dst_ip)
    assert path.evidence["reply_says_client_is"].startswith(gateway + ":")


def test_c2c_is_pure_layer2():
    meta = _meta("user-bridge-c2c")
    path = rebuild(DATA / "user-bridge-c2c")
    a, b = _container(meta, "user-bridge-a"), _container(meta, "user-bridge-b")
    for hop in path.request:
        assert hop.src_mac == a["endpoints"][0]["mac"] and hop.dst_mac == b["endpoints"][0]["mac"]
        assert not hop.changes, "nothing is rewritten on one bridge"
    assert {h.namespace for h in path.request} == {"user-bridge-a", "host1", "user-bridge-b"}
    bridged = [h for h in path.request if h.action == "bridged"]
    assert bridged and all(s.fdb for h in bridged for s in h.steps if s.kind == "bridged")
    assert any(b["endpoints"][0]["mac"] in s.fdb for h in bridged for s in h.steps if s.fdb)


def test_isolation_names_the_drop_rule():
    path = rebuild(DATA / "user-bridge-isolation")
    assert path.reached is False and path.as_expected and not path.reply
    dropped = path.where_dropped()
    assert dropped is not None and dropped.namespace == "host1"
    step = next(s for s in dropped.steps if s.kind == "dropped")
    assert "DOCKER-ISOLATION" in step.rule and step.rule.endswith("-j DROP") and step.counter >= 1


def test_overlay_vxlan_encap_and_decap():
    meta = _meta("overlay-c2c-ip")
    path = rebuild(DATA / "overlay-c2c-ip")
    host1_ip, host2_ip = _ipv4(_eth0(meta, "host1")), _ipv4(_eth0(meta, "host2"))
    encap = [h for h in path.request if h.action == "vxlan-encap"]
    decap = [h for h in path.request if h.action == "vxlan-decap"]
    assert len(encap) == 1 and len(decap) == 1
    assert encap[0].outer["src"].split(":")[0] == host2_ip and encap[0].outer["dst"] == f"{host1_ip}:4789"
    assert encap[0].src == path.request[0].src and decap[0].dst == path.request[-1].dst


def test_vxlan_inner_frame_decoded():
    pcap = next((DATA / "overlay-c2c-ip" / "pcaps").glob("*host2-eth0.pcap"))
    frames = [f for f in read_pcap(pcap) if f.vni is not None]
    assert frames
    inner = frames[0].inner
    assert frames[0].dport == 4789 and inner.is_ip and inner.proto == "icmp"
    assert frames[0].fingerprint() == inner.fingerprint()


def test_json_shape_and_summary():
    path = rebuild(DATA / "user-bridge-egress")
    data = json.loads(path.dumps())
    for hop in data["hops"]:
        for key in ("namespace", "interface", "action", "src", "dst", "src_mac", "dst_mac", "changes", "leg"):
            assert key in hop
    assert any(r["field"] == "src" and r["namespace"] == "host1" for r in data["rewrites"])
    text = path.summary()
    assert "masquerade" in text and path.request[0].src in text
    assert isinstance(path, PacketPath)


@pytest.mark.parametrize("view", ["L2", "L3", "NAT"])
def test_draw_path_views(view):
    import matplotlib

    matplotlib.use("Agg")
    from helpers.draw import alt_text, draw_path

    path = rebuild(DATA / "user-bridge-publish")
    figure = draw_path(path, view=view)
    assert figure.get_size_inches()[0] <= 11.5
    texts = [t.get_text() for t in figure.axes[0].texts]
    dnat = next(h for h in path.hops if h.action == "dnat")
    if view == "L2":
        assert any(dnat.src_mac in t for t in texts)
    else:
        assert any(dnat.changes["dst"][1].split(":")[0] in t for t in texts)
    assert "dnat" in alt_text(path, view)


def test_macvlan_first_contact_arp_and_directions():
    """lanpc's first packet to a macvlan container that has not spoken yet: lanpc asks ARP, the
    question floods the LAN, the container answers with its own MAC, and the switch learns that MAC
    during the probe (so the reply still enters the router by host1's port)."""
    name = "macvlan-lan-first-contact"
    meta = _meta(name)
    path = rebuild(DATA / name)
    endpoint = _container(meta, "macvlan-app")["endpoints"][0]
    assert path.reached and path.where_dropped() is None
    # The reply comes in by host1's port of the LAN switch and out by lanpc's.
    router = [(h.interface, h.direction) for h in path.reply if h.namespace == "router"]
    assert router[0] == ("p-host1", "in") and router[-1] == ("p-lanpc", "out")
    [exchange] = path.arp_exchanges()
    assert exchange["asker"] == "lanpc" and exchange["question"].startswith(f"who-has {endpoint['ip']} ")
    assert {"host1/eth0", "host2/eth0"} <= set(exchange["heard_at"])   # a broadcast reaches every host
    assert exchange["answered_by"] == "macvlan-app"
    assert exchange["answer"] == f"{endpoint['ip']} is-at {endpoint['mac']}"
    assert _eth0(meta, "host1")["address"] not in exchange["answer"]    # not host1's MAC
    assert any(line.startswith("ARP: lanpc asked") for line in path.summary().splitlines())


def test_l2_view_shows_the_arp_exchange():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.draw import alt_text, draw_path

    path = rebuild(DATA / "macvlan-lan-first-contact")
    [line] = path.arp_lines()
    texts = [t.get_text() for t in draw_path(path, view="L2").axes[0].texts]
    assert line in texts and line in alt_text(path, "L2")
    assert line not in alt_text(path, "L3")   # ARP belongs to the L2 view only


def test_cli_rebuilds_a_saved_run_without_a_world(capsys, tmp_path):
    """`dnlab path --from DIR` redraws a run saved with --keep (e.g. shared by an instructor), as root or not."""
    from helpers import cli

    png = tmp_path / "egress.png"
    code = cli.main(["path", "--from", str(DATA / "user-bridge-egress"), "--json", "--png", str(png)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and png.stat().st_size > 10_000
    assert data["hops"] == rebuild(DATA / "user-bridge-egress").to_json()["hops"]
    assert any(h["action"] == "masquerade" for h in data["hops"])


def test_a_pings_conntrack_is_its_own_not_an_earlier_pings():
    """A saved run taken right after another ping between the same two containers (issue 20.7): host1's
    conntrack held both (ids 7 and 13); the path lists only its own echo's, by the id the capture saw."""
    path = rebuild(DATA / "user-bridge-c2c-second-ping")
    ids = {h.icmp_id for h in path.hops if h.leg == "request"}
    assert len(ids) == 1 and None not in ids
    [own] = ids
    assert [e["original"].rsplit(" id ", 1)[1] for e in path.conntrack] == [str(own)], path.conntrack
