"""Engines by version, live (issue 25.1; helpers/world/engines.py): a world with host2 on Debian's
docker.io 28.5 beside host1 on the machine's dockerd, and a world whose two engines are 28.

Each version is read independently of the manager's record: the engine's API (`docker version`), the
machine's own `dockerd --version`, the cached release's `dockerd --version`. These worlds are the
test's own (`own_world_id`), made with an explicit spec, so they run the same on every leg
($DNLAB_ENGINE only sets the session world's engines).
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from helpers import cli, scenarios
from helpers.errors import LabError, dnlab_command
from helpers.world import down, engine, engines, swarm, up
from helpers.world.model import World
from helpers.world.naming import HOSTS, IMAGE, INET_IP, WorldNames
from helpers.world.proc import which
from tests.worlds import own_world_id


def _number(version_line: str) -> str:
    """"20.10.24" of "Docker version 20.10.24+dfsg1, build 5d6db84" or of "20.10.24+dfsg1"."""
    found = re.search(r"(\d+\.\d+\.\d+)", version_line)
    assert found, version_line
    return found.group(1)


def machine_dockerd() -> str:
    return _number(subprocess.run([which("dockerd"), "--version"], capture_output=True, text=True).stdout)


def release_dockerd(key: str) -> str:
    folder = engines.bin_dir(key)
    return _number(subprocess.run([str(folder / "dockerd"), "--version"], capture_output=True, text=True).stdout)


def _world(world_id: str, spec: str):
    up(world_id, spec)
    world = World(WorldNames(world_id))  # not lab(): it would read $DNLAB_ENGINE, the session's choice
    yield world
    down(world_id)


@pytest.fixture(scope="module")
def mixed():
    yield from _world(own_world_id("2"), "host2=28")


@pytest.fixture(scope="module")
def all28():
    yield from _world(own_world_id("3"), "28")


def test_status_shows_each_hosts_engine_version(mixed, capsys):
    world_id = mixed.names.world_id
    assert cli.main(["--world", world_id, "status"]) == 0
    shown = dict(re.findall(r"dockerd (host\d): .*?Docker (\S+) \(engine", capsys.readouterr().out))
    host1, host2 = machine_dockerd(), release_dockerd("28")
    assert host2.startswith("28.5.") and host1 != host2
    assert _number(shown["host1"]) == host1 and _number(shown["host2"]) == host2
    # the engines' own word, read with the SDK
    assert _number(mixed.host1.docker.version()["Version"]) == host1
    assert _number(mixed.host2.docker.version()["Version"]) == host2


def test_a_container_runs_on_each_engine(mixed):
    for host in HOSTS:
        said = mixed.hosts[host].docker.containers.run(IMAGE, ["echo", f"on {host}"], remove=True)
        assert said.decode().strip() == f"on {host}"


def test_docker_info_in_the_shell_names_the_engines_version(mixed, capfd):
    world_id = mixed.names.world_id
    code = cli.main(["--world", world_id, "shell", "host2", "--", "docker", "info", "--format", "{{.ServerVersion}}"])
    assert code == 0
    assert _number(capfd.readouterr().out) == release_dockerd("28")


def test_a_running_world_keeps_its_engines(mixed, monkeypatch):
    monkeypatch.delenv(engines.ENGINE_ENV, raising=False)
    world_id = mixed.names.world_id
    with pytest.raises(LabError) as raised:
        up(world_id, "28")
    assert "host1 runs engine system, asked for 28" in raised.value.problem
    assert raised.value.fix == f"{dnlab_command('down', world_id)} && {dnlab_command('up', world_id)} --engine 28"
    assert up(world_id, "host2=28").reused  # the engine it runs: nothing to do


def test_plain_up_repairs_a_host_on_its_own_engine(mixed, monkeypatch):
    monkeypatch.delenv(engines.ENGINE_ENV, raising=False)
    world_id = mixed.names.world_id
    engine.stop(mixed.names.host("host2"))
    assert engine.server_version(mixed.names.host("host2")) is None
    report = up(world_id)
    assert "host2 (engine 28)" in str(report)
    assert _number(engine.server_version(mixed.names.host("host2"))) == release_dockerd("28")
    assert _number(engine.server_version(mixed.names.host("host1"))) == machine_dockerd()


def test_docker_28_publishes_through_docker_forward(all28):
    host1 = all28.host1
    assert _number(host1.docker.version()["Version"]).startswith("28.")
    web = host1.docker.containers.run("nginx:latest", detach=True, name="ea-web", ports={"80/tcp": 8080},
                                      labels={"org.dnlab.world": all28.names.prefix})
    try:
        web.reload()
        address = web.attrs["NetworkSettings"]["IPAddress"]
        rules = host1.run(["iptables-save"]).stdout
        assert "-A FORWARD -j DOCKER-FORWARD" in rules
        assert f"-A PREROUTING -d {address}/32 ! -i docker0 -j DROP" in rules  # 28's direct-access filter
        eth0 = host1.read_address()
        # the nginx stand-in answers through host1's published port (tried a few times: it takes a moment)
        ask = (f"for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {eth0} 8080 "
               "| grep -m1 '^HTTP/1.[01] 200' && break; sleep 0.3; done")
        fetched = all28["lanpc"].run(["sh", "-c", ask], check=False)
        assert fetched.stdout.startswith("HTTP/1."), fetched
    finally:
        web.remove(force=True)


def test_the_course_launch_holds_on_28(all28):
    """daemon.json (engine.daemon_config), cgroupfs, the UTS and mount namespaces, on Docker 28."""
    for host in HOSTS:
        docker = all28.hosts[host].docker
        info = docker.info()
        assert info["ServerVersion"].startswith("28.")
        assert info["CgroupDriver"] == "cgroupfs" and info["Name"] == host
        resolv = docker.containers.run(IMAGE, ["cat", "/etc/resolv.conf"], remove=True).decode()
        assert f"nameserver {INET_IP}" in resolv  # the lab's DNS from daemon.json
        pid = engine.pid(all28.names.host(host))
        assert Path(f"/proc/{pid}/root/etc/resolv.conf").read_text() == engine.resolv_conf()
        assert str(engines.CACHE_ROOT) in Path(f"/proc/{pid}/cmdline").read_text()


def test_swarm_and_an_overlay_between_two_28_engines(all28):
    from helpers.path import trace

    swarm.ensure(all28)
    nodes = {node.attrs["Description"]["Hostname"] for node in all28.host1.docker.nodes.list()}
    assert nodes == set(HOSTS)
    scenario = scenarios.get(all28, "overlay")
    scenario.start()
    try:
        path = trace(all28, "overlay", "c2c-ip")
        assert path.reached and path.as_expected
        # seen on the LAN as VXLAN between the two hosts' eth0 (outer UDP 4789)
        outer = [hop.outer for hop in path.request if hop.outer]
        eth0s = {all28.hosts[h].read_address() for h in HOSTS}
        assert outer and all(o["dst"].rpartition(":")[::2] in {(a, "4789") for a in eth0s} for o in outer), outer
    finally:
        scenario.stop()
        swarm.leave(all28)
