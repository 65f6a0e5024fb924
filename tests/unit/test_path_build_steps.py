"""Each step function of helpers/path/build.py on saved real runs (tests/unit/data/paths/).

The hops come from the rebuilt path; the step functions are called again on one hop's context and
what they say is checked against the run's own saved tool outputs (`ip -j route`, `bridge -j fdb`,
`ip -d -j link`, `iptables-save -c`, docker inspect), read here independently of helpers.observe.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from pathlib import Path

from helpers.path import load, rebuild
from helpers.path.build import (
    HopContext,
    bridge_steps,
    build_path,
    deliver_steps,
    explain_hop,
    hop_context,
    route_steps,
    send_steps,
    vxlan_steps,
)
from helpers.path.model import Hop
from helpers.path.model import Path as PacketPath

DATA = Path(__file__).parent / "data" / "paths"


def _meta(name: str) -> dict:
    return json.loads((DATA / name / "run.json").read_text())


def _raw(meta: dict, namespace: str, what: str, when: str = "raw_after") -> list | str:
    text = meta[when].get(namespace, {}).get(what) or meta["raw_before"][namespace][what]
    return text if what == "rules" else json.loads(text)


def _endpoint(meta: dict, container: str) -> dict:
    return next(t["container"] for t in meta["targets"] if t["name"] == container)["endpoints"][0]


def _run(name: str) -> tuple[PacketPath, list[HopContext | None]]:
    """The rebuilt path and a context for each of its hops (the proxy docker-proxy relayed for
    segment 1, as the path itself names it)."""
    obs = load(DATA / name)
    path = rebuild(DATA / name)
    used = {}
    for relay in path.proxies:
        used[1] = next(p for p in obs.proxies[relay["namespace"]] if p.pid == relay["pid"])
    return path, [hop_context(path.hops, i, obs, used) for i in range(len(path.hops))]


def _at(path: PacketPath, contexts, leg: str, namespace: str, interface: str, direction: str) -> HopContext:
    [ctx] = [c for h, c in zip(path.hops, contexts, strict=True) if (h.leg, h.namespace, h.interface, h.direction)
             == (leg, namespace, interface, direction)]
    return ctx


def _kinds(steps) -> list[str]:
    return [s.kind for s in steps]


# --- send ----------------------------------------------------------------------------------------

def test_send_names_the_route_the_container_chose():
    meta = _meta("user-bridge-egress")
    path, contexts = _run("user-bridge-egress")
    first = contexts[0]
    [step] = send_steps(first)
    assert step.kind == "sent"
    # The container's default route, as its own `ip -j route` listed it, points at the gateway
    # docker inspect gave the endpoint.
    routes = _raw(meta, first.hop.namespace, "routes", "raw_before")
    default = next(r for r in routes if r["dst"] == "default")
    assert default["gateway"] == _endpoint(meta, "user-bridge-a")["gateway"]
    assert default["gateway"] in step.route and step.route in step.detail
    # Nothing else on the request leg is "sent": every later hop has a previous one.
    assert all(send_steps(c) == [] for c, h in zip(contexts[1:], path.hops[1:], strict=True) if h.leg == "request")


def test_send_marks_the_start_of_the_reply_leg():
    path, contexts = _run("user-bridge-egress")
    starts = [c for c in contexts if _kinds(send_steps(c)) == ["sent"]]
    assert [c.hop.leg for c in starts] == ["request", "reply"]
    assert starts[1].hop is path.reply[0] and starts[1].prev is None


def test_send_names_the_docker_proxy_connection():
    meta = _meta("user-bridge-loopback")
    path, contexts = _run("user-bridge-loopback")
    proxied = [(h, send_steps(c)) for h, c in zip(path.hops, contexts, strict=True)
               if h.leg == "request" and h.segment == 1]
    steps = proxied[0][1]
    assert _kinds(steps) == ["proxied"]
    # The proxy listening on the probe's port, as the run read it on host1.
    proxy = next(p for p in meta["proxies"]["host1"] if p["host_port"] == meta["port"])
    assert f"pid {proxy['pid']}" in steps[0].detail
    assert f"{proxy['container_ip']}:{proxy['container_port']}" in steps[0].detail
    assert all(later == [] for _, later in proxied[1:])


# --- VXLAN ---------------------------------------------------------------------------------------

def test_vxlan_encap_and_decap_name_the_vni_of_the_vxlan_device():
    meta = _meta("overlay-c2c-ip")
    path, contexts = _run("overlay-c2c-ip")
    sandbox = next(n for n in meta["raw_before"] if n.startswith("host2:") and any(
        link.get("linkinfo", {}).get("info_kind") == "vxlan" for link in _raw(meta, n, "links", "raw_before")))
    vni = next(link["linkinfo"]["info_data"]["id"] for link in _raw(meta, sandbox, "links", "raw_before")
               if link.get("linkinfo", {}).get("info_kind") == "vxlan")
    request = [(h, vxlan_steps(c)) for h, c in zip(path.hops, contexts, strict=True) if h.leg == "request"]
    encap = [(h, s) for h, s in request if _kinds(s) == ["vxlan-encap"]]
    decap = [(h, s) for h, s in request if _kinds(s) == ["vxlan-decap"]]
    assert len(encap) == 1 and len(decap) == 1
    assert (encap[0][0].namespace, encap[0][0].interface) == ("host2", "eth0")
    assert f"VNI {vni}" in encap[0][1][0].detail and f"VNI {vni}" in decap[0][1][0].detail
    assert decap[0][0].interface == "vxlan0" and decap[0][0].namespace.startswith("host1:")


def test_no_vxlan_steps_on_a_single_host_path():
    _, contexts = _run("user-bridge-egress")
    assert all(vxlan_steps(c) == [] for c in contexts)


# --- bridge --------------------------------------------------------------------------------------

def test_bridge_port_names_the_fdb_entry_of_the_destination_mac():
    meta = _meta("user-bridge-c2c")
    path, contexts = _run("user-bridge-c2c")
    b_mac = _endpoint(meta, "user-bridge-b")["mac"]
    # The port host1's `bridge -j fdb` (after the probe) maps b's MAC to.
    entry = next(e for e in _raw(meta, "host1", "fdb") if e["mac"] == b_mac and e.get("master"))
    ingress = contexts[1]
    assert ingress.hop.namespace == "host1" and ingress.hop.direction == "in"
    [step] = bridge_steps(ingress)
    assert step.kind == "bridged" and step.fdb == step.detail
    assert f"{b_mac} -> port {entry['ifname']}" in step.fdb and entry["master"] in step.fdb
    egress = _at(path, contexts, "request", "host1", entry["ifname"], "out")
    [out] = bridge_steps(egress)
    assert out.detail.startswith(f"out of {entry['master']} port {entry['ifname']}, ")


def test_bridge_itself_takes_the_frame_up_to_the_host():
    meta = _meta("user-bridge-egress")
    path, contexts = _run("user-bridge-egress")
    gateway = _endpoint(meta, "user-bridge-a")["gateway"]
    # The bridge holding the gateway address, from host1's `ip -j addr`.
    bridge = next(link for link in _raw(meta, "host1", "links", "raw_before")
                  if any(a.get("local") == gateway for a in link.get("addr_info", [])))
    ctx = _at(path, contexts, "request", "host1", bridge["ifname"], "in")
    [step] = bridge_steps(ctx)
    assert step.kind == "received" and bridge["address"] in step.detail


def test_no_bridge_steps_where_no_bridge_is():
    path, contexts = _run("user-bridge-egress")
    ctx = _at(path, contexts, "request", "inet", "eth0", "in")
    assert ctx.bridge is None and bridge_steps(ctx) == []


# --- route and NAT -------------------------------------------------------------------------------

def _counted(rules_text: str, target: str) -> list[str]:
    return [line for line in rules_text.splitlines() if f"-j {target}" in line and not line.startswith("[0:")]


def test_route_masquerades_at_host1_eth0_with_the_counted_rule():
    meta = _meta("user-bridge-egress")
    path, contexts = _run("user-bridge-egress")
    ctx = _at(path, contexts, "request", "host1", "eth0", "out")
    steps = route_steps(ctx)
    assert _kinds(steps) == ["masquerade", "routed"]
    masq = steps[0]
    counted = [line.split("] ", 1)[1] for line in _counted(_raw(meta, "host1", "rules"), "MASQUERADE")]
    # Docker's rule names the network's subnet: the prefix host1 routes to the container's bridge.
    container_ip = ipaddress.ip_address(_endpoint(meta, "user-bridge-a")["ip"])
    subnet = next(r["dst"] for r in _raw(meta, "host1", "routes", "raw_before")
                  if r["dst"] != "default" and container_ip in ipaddress.ip_network(r["dst"]))
    assert masq.rule in counted and masq.counter >= 1 and f"-s {subnet}" in masq.rule
    # The route out: host1's default route (its `ip -j route`), through eth0.
    default = next(r for r in _raw(meta, "host1", "routes", "raw_before") if r["dst"] == "default")
    assert default["gateway"] in steps[1].route and default["dev"] == "eth0"


def test_route_undoes_nat_on_the_reply_without_a_rule():
    path, contexts = _run("user-bridge-egress")
    un = [(c.hop, route_steps(c)) for c in contexts if c.hop.leg == "reply" and "un-nat" in _kinds(route_steps(c))]
    [(hop, steps)] = un
    assert hop.namespace == "host1" and steps[-1].kind == "routed"
    assert all(s.rule is None for s in steps if s.kind == "un-nat")
    assert path.request[0].src in steps[0].detail


def test_route_dnats_the_published_port():
    meta = _meta("user-bridge-publish")
    _, contexts = _run("user-bridge-publish")
    dnat = [(c.hop, route_steps(c)) for c in contexts if "dnat" in _kinds(route_steps(c))]
    [(hop, steps)] = dnat
    assert hop.namespace == "host1" and _kinds(steps) == ["dnat", "routed"]
    web = _endpoint(meta, "user-bridge-b")["ip"]
    assert f"--dport {meta['port']}" in steps[0].rule and web in steps[0].rule and steps[0].counter >= 1


def test_no_route_steps_across_one_bridge():
    _, contexts = _run("user-bridge-c2c")
    assert all(route_steps(c) == [] for c in contexts)


# --- deliver -------------------------------------------------------------------------------------

def test_deliver_at_the_target_and_back_at_the_source():
    meta = _meta("user-bridge-egress")
    _, contexts = _run("user-bridge-egress")
    ends = [(c.hop, deliver_steps(c)) for c in contexts if deliver_steps(c)]
    assert [(h.leg, h.namespace) for h, _ in ends] == [("request", "inet"), ("reply", "user-bridge-a")]
    inet_ip = next(a["local"] for link in _raw(meta, "inet", "links", "raw_before")
                   for a in link.get("addr_info", []) if a["family"] == "inet" and link["ifname"] == "eth0")
    assert ends[0][0].dst_ip == inet_ip and _kinds(ends[0][1]) == ["delivered"]


def test_deliver_to_docker_proxy_where_it_listens():
    meta = _meta("user-bridge-loopback")
    _, contexts = _run("user-bridge-loopback")
    [step] = deliver_steps(contexts[0])
    proxy = next(p for p in meta["proxies"]["host1"] if p["host_port"] == meta["port"])
    assert step.detail == f"delivered to docker-proxy (pid {proxy['pid']}) listening on :{meta['port']}"


def test_deliver_names_the_drop_rule_whose_counter_rose():
    meta = _meta("user-bridge-isolation")
    _, contexts = _run("user-bridge-isolation")
    dropped = [(c.hop, deliver_steps(c)) for c in contexts if "dropped" in _kinds(deliver_steps(c))]
    [(hop, [step])] = dropped
    counted = [line.split("] ", 1)[1] for line in _counted(_raw(meta, "host1", "rules"), "DROP")]
    assert hop.namespace == "host1" and step.rule in counted and "DOCKER-ISOLATION" in step.rule


# --- the hop as a whole --------------------------------------------------------------------------

def test_a_hop_nothing_explains_is_received():
    """host1 eth0 taking the internet's reply in: not a bridge, not the end, not routed yet."""
    path, contexts = _run("user-bridge-egress")
    ctx = _at(path, contexts, "reply", "host1", "eth0", "in")
    assert all(kind(ctx) == [] for kind in (send_steps, vxlan_steps, bridge_steps, route_steps, deliver_steps))
    assert [(s.kind, s.detail) for s in explain_hop(ctx)] == [("received", "arrived at eth0")]


def test_explain_hop_is_what_the_path_holds():
    for run in ("user-bridge-egress", "user-bridge-loopback", "overlay-c2c-ip", "macvlan-lan-first-contact"):
        path, contexts = _run(run)
        for hop, ctx in zip(path.hops, contexts, strict=True):
            assert isinstance(hop, Hop) and ctx is not None, (run, hop.namespace)
            assert explain_hop(ctx) == hop.steps, (run, hop.namespace, hop.interface)


# --- the port is the probe spec's ----------------------------------------------------------------

def test_the_request_is_found_on_the_spec_port_only():
    """The builder has no port of its own: the saved run's spec port finds the SYN; another port
    finds nothing (and says so); no port at all matches the same SYN on any port."""
    obs = load(DATA / "user-bridge-egress")
    found = build_path(obs)
    assert found.request[0].dst.endswith(f":{obs.port}")
    other = build_path(replace(obs, port=obs.port + 1))
    assert not other.hops and other.evidence["capture"] == f"no packet of the probe left {obs.source}"
    anyport = build_path(replace(obs, port=None))
    assert [h.to_json() for h in anyport.hops] == [h.to_json() for h in found.hops]
