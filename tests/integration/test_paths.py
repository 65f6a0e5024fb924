"""Traced paths on a real world: every probe of the bridge scenarios yields the hops and rewrites
the kernel really made. Expected values are read independently (docker inspect, `ip -j`, the
internet service's log), never written as constants.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from helpers.path import trace
from helpers.world.naming import IMAGE, LABEL_WORLD, SERVICE_TCP_PORT

SCENARIOS = ("default-bridge", "user-bridge")


def ip_json(world, role: str, *args: str) -> list:
    out = subprocess.run(["nsenter", f"--net=/run/netns/{world[role].namespace}", "ip", "-j", *args],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def eth0_ip(world, role: str) -> str:
    link = ip_json(world, role, "addr", "show", "eth0")[0]
    return next(a["local"] for a in link["addr_info"] if a["family"] == "inet")


def inspect(world, name: str, host: str = "host1") -> dict:
    return world.hosts[host].docker.api.inspect_container(name)


def endpoint(world, name: str) -> dict:
    return next(iter(inspect(world, name)["NetworkSettings"]["Networks"].values()))


def iptables(world, role: str) -> str:
    return subprocess.run(["nsenter", f"--net=/run/netns/{world[role].namespace}", "iptables-save", "-c"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def started(world):
    from helpers import scenarios

    for name in SCENARIOS:
        scenarios.get(world, name).start()
    return world


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_egress(started, scenario):
    world = started
    path = trace(world, scenario, "egress")
    assert path.reached and path.as_expected
    container_ip = endpoint(world, f"{scenario}-a")["IPAddress"]
    host1_ip = eth0_ip(world, "host1")
    assert path.request[0].src_ip == container_ip
    hop = next(h for h in path.request if h.namespace == "host1" and h.interface == "eth0")
    assert hop.action == "masquerade"
    assert hop.changes["src"][0].split(":")[0] == container_ip and hop.src_ip == host1_ip
    # The service confirms it: its reply and its own log line for this connection.
    assert path.evidence["reply_says_client_is"] == path.request[-1].src
    assert path.evidence["inet_log"]["client"] == host1_ip
    seen = [json.loads(line) for line in world.names.service_log.read_text().splitlines()]
    assert {"client": host1_ip, "port": int(hop.src.split(":")[1])}.items() <= seen[-1].items() or any(
        e["client"] == host1_ip and e["port"] == int(hop.src.split(":")[1]) for e in seen)
    # The MASQUERADE rule named is a real rule of host1, and its counter rose.
    rule = next(s for s in hop.steps if s.kind == "masquerade")
    assert rule.rule in iptables(world, "host1") and rule.counter >= 1
    assert any(e["namespace"] == "host1" and e["snat"] for e in path.conntrack)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_publish(started, scenario):
    world = started
    path = trace(world, scenario, "publish")
    assert path.reached and path.as_expected
    inet_ip, host1_ip = eth0_ip(world, "inet"), eth0_ip(world, "host1")
    web_ip = endpoint(world, f"{scenario}-b")["IPAddress"]
    published = inspect(world, f"{scenario}-b")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    dnat = next(h for h in path.request if h.action == "dnat")
    assert dnat.namespace == "host1"
    assert dnat.changes["dst"] == [f"{host1_ip}:{published}", f"{web_ip}:80"]
    step = next(s for s in dnat.steps if s.kind == "dnat")
    assert step.counter >= 1 and step.rule in iptables(world, "host1")
    last = path.request[-1]
    assert last.namespace == f"{scenario}-b" and last.src_ip == inet_ip
    # The web server in the container names the internet client as its client.
    assert path.evidence["reply_says_client_is"].split(":")[0] == inet_ip


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_loopback(started, scenario):
    world = started
    path = trace(world, scenario, "loopback")
    assert path.reached
    gateway = endpoint(world, f"{scenario}-b")["Gateway"]
    proxied = next(h for h in path.request if h.action == "proxied")
    assert proxied.src_ip == gateway
    pid = path.proxies[0]["pid"]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0].endswith(b"docker-proxy")
    assert path.request[-1].src_ip == gateway
    assert path.evidence["reply_says_client_is"].split(":")[0] == gateway


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_c2c(started, scenario):
    world = started
    path = trace(world, scenario, "c2c")
    assert path.reached
    a, b = endpoint(world, f"{scenario}-a"), endpoint(world, f"{scenario}-b")
    fdb = json.loads(subprocess.run(["nsenter", f"--net=/run/netns/{world['host1'].namespace}", "bridge", "-j",
                                     "fdb", "show"], capture_output=True, text=True, check=True).stdout)
    b_port = next(e["ifname"] for e in fdb if e["mac"] == b["MacAddress"] and e.get("master"))
    for hop in path.request:
        assert (hop.src_mac, hop.dst_mac) == (a["MacAddress"], b["MacAddress"])
        assert (hop.src_ip, hop.dst_ip) == (a["IPAddress"], b["IPAddress"])
    assert any(h.interface == b_port and h.action == "bridged" for h in path.request)
    assert not path.rewrites()


def test_isolation(started):
    world = started
    before = iptables(world, "host1")
    path = trace(world, "user-bridge", "isolation")
    assert not path.reached and path.as_expected
    dropped = path.where_dropped()
    assert dropped is not None and dropped.namespace == "host1"
    step = next(s for s in dropped.steps if s.kind == "dropped")
    assert step.rule in before  # a real rule of host1 ...
    line = next(entry for entry in iptables(world, "host1").splitlines() if entry.endswith(step.rule))
    old = next(entry for entry in before.splitlines() if entry.endswith(step.rule))
    assert int(line[1:].split(":")[0]) > int(old[1:].split(":")[0])  # ... whose counter rose


def test_cli_path_json(started):
    env_world = started.names.world_id
    out = subprocess.run([".venv/bin/dnlab", "--world", env_world, "path", "user-bridge", "egress", "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    host1_ip = eth0_ip(started, "host1")
    hop = next(h for h in data["hops"] if h["namespace"] == "host1" and h["interface"] == "eth0"
               and h["leg"] == "request")
    assert hop["src"].split(":")[0] == host1_ip and hop["action"] == "masquerade"
    for key in ("namespace", "interface", "action", "src", "dst", "src_mac", "dst_mac"):
        assert key in hop


def test_cli_path_keep_saves_pcaps_that_rebuild_the_same_path(started, tmp_path):
    from helpers.capture.decode import read_pcap

    env_world = started.names.world_id
    traced = subprocess.run([".venv/bin/dnlab", "--world", env_world, "path", "user-bridge", "egress", "--json",
                             "--keep", str(tmp_path)], capture_output=True, text=True, check=True)
    assert f"dnlab path --from {tmp_path}" in traced.stderr
    pcaps = sorted((tmp_path / "pcaps").glob("*.pcap"))
    host1_eth0 = next(p for p in pcaps if p.name.endswith("-host1-eth0.pcap"))
    host1_ip = eth0_ip(started, "host1")
    # The file a learner opens in Wireshark holds the masqueraded packet: from host1's LAN address.
    assert any(f.src == host1_ip and f.dport == SERVICE_TCP_PORT for f in read_pcap(host1_eth0))
    again = subprocess.run([".venv/bin/dnlab", "path", "--from", str(tmp_path), "--json"],
                           capture_output=True, text=True, check=True).stdout
    assert json.loads(again)["hops"] == json.loads(traced.stdout)["hops"]


def test_map_lists_hand_made_network_and_container(started):
    world = started
    context = world.names.context("host1")
    docker = ["docker", "--context", context]
    label = f"{LABEL_WORLD}={world.prefix}"  # the world label, so `down` removes it; no scenario label
    subprocess.run([*docker, "network", "create", "--label", label, "hand-net"], capture_output=True, check=True)
    try:
        subprocess.run([*docker, "run", "-d", "--name", "hand-box", "--label", label, "--network", "hand-net",
                        IMAGE, "sleep", "100000"], capture_output=True, check=True)
        started_at = time.monotonic()
        out = subprocess.run([".venv/bin/dnlab", "--world", world.names.world_id, "map", "--host", "host1",
                              "--json"], capture_output=True, text=True, check=True).stdout
        elapsed = time.monotonic() - started_at
        print(f"dnlab map --json: {elapsed:.2f} s")
        data = json.loads(out)
        net = next(n for n in data["networks"] if n["name"] == "hand-net")
        assert net["origin"] == "hand"
        box = next(c for c in data["containers"] if c["name"] == "hand-box")
        ip = inspect(world, "hand-box")["NetworkSettings"]["Networks"]["hand-net"]["IPAddress"]
        assert box["attachments"][0]["ip"] == ip and box["attachments"][0]["bridge"] == net["bridge"]
        links = {link["ifname"]: link for link in ip_json(world, "host1", "link")}
        assert links[box["attachments"][0]["host_veth"]]["master"] == net["bridge"]
    finally:
        subprocess.run([*docker, "rm", "-f", "hand-box"], capture_output=True)
        subprocess.run([*docker, "network", "rm", "hand-net"], capture_output=True)

