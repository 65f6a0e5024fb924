"""The lab world on this machine: up, idempotent up, down, two worlds, a killed `up`, the guard.

Each test uses its own world id, so none disturbs the shared `world` fixture.
"""
from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from helpers.errors import TrafficGuardError, dnlab_command
from helpers.world import down, engine, lab, status, up
from helpers.world.guard import check_target, probe, world_networks
from helpers.world.naming import IMAGE, INET_IP, SERVICE_TCP_PORT, WorldNames
from tests.integration.world_checks import leftovers
from tests.worlds import own_world_id

DNLAB = [sys.executable, "-m", "helpers"]
# The worlds these tests make and remove, apart from any other run's (tests/conftest.py).
IT1, IT2, IT3, IT4, IT5, IT6, IT7 = (own_world_id(f"it{n}") for n in range(1, 8))


def cli(*args: str, world_id: str) -> subprocess.CompletedProcess:
    return subprocess.run([*DNLAB, "--world", world_id, *args], capture_output=True, text=True, timeout=120)


def test_up_builds_the_world_and_a_second_up_reuses_it():
    try:
        first = up(IT1)
        assert not first.reused and first.made
        assert status(IT1)["up"]
        engines_before = {h: e["pid"] for h, e in status(IT1)["engines"].items()}
        second = up(IT1)
        assert second.reused and not second.made
        assert {h: e["pid"] for h, e in status(IT1)["engines"].items()} == engines_before
        printed = cli("up", world_id=IT1)
        assert printed.returncode == 0 and "already up" in printed.stdout
    finally:
        down(IT1)
    assert leftovers(IT1) == []


def test_done_when_container_gets_172_17_and_the_internet_sees_host1(world):
    """The issue's acceptance: the CLI against host1, default bridge address, real SNAT."""
    context = world.host1.context
    shown = subprocess.run(["docker", "--context", context, "run", "--rm", IMAGE, "ip", "-o", "-4", "addr"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    bridge = world.host1.docker.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"]
    addresses = [line.split()[3] for line in shown.stdout.splitlines() if " eth0 " in line]
    import ipaddress

    assert addresses and ipaddress.ip_interface(addresses[0]) in ipaddress.ip_network(bridge)
    assert bridge.startswith("172.17.")

    container = world.host1.docker.containers.run(IMAGE, ["sleep", "60"], detach=True, labels=world.label)
    try:
        result = probe(world, container, str(INET_IP), "http")
        assert result.ok, result
        from helpers.world.service import parse_reply

        seen_address, seen_port = parse_reply(result.output)
        host1_eth0 = json.loads(world["host1"].run(["ip", "-j", "-4", "addr", "show", "eth0"]).stdout)
        assert seen_address == host1_eth0[0]["addr_info"][0]["local"]
        log = [json.loads(line) for line in world.names.service_log.read_text().splitlines()]
        assert {"client": seen_address, "port": seen_port} in [{"client": e["client"], "port": e["port"]} for e in log]
    finally:
        container.remove(force=True)


def test_two_worlds_coexist_and_down_removes_only_one(tmp_path):
    try:
        up(IT2)
        up(IT3)
        a, b = lab(IT2), lab(IT3)
        # The instructor's view of the classroom server: every world, and each one's labs passed.
        (tmp_path / f"labs-dnlab-{IT3}.json").write_text(json.dumps({"passed": {"1": {"slug": "user-bridge"}}}))
        listed = subprocess.run([*DNLAB, "status", "--all", "--json"], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "DNLAB_PROGRESS_DIR": str(tmp_path)}, check=True)
        rows = {row["prefix"]: row for row in json.loads(listed.stdout)}
        assert rows[f"dnlab-{IT2}"]["up"] and rows[f"dnlab-{IT3}"]["up"]
        assert rows[f"dnlab-{IT2}"]["labs passed"] == [] and rows[f"dnlab-{IT3}"]["labs passed"] == [1]
        assert rows[f"dnlab-{IT3}"]["world"] == IT3
        assert a.host1.base_url != b.host1.base_url
        # The same addresses in both, yet separate: a container in one world is not in the other.
        made = a.host1.docker.containers.run(IMAGE, ["sleep", "60"], detach=True, labels=a.label, name="only-in-it2")
        assert [c.name for c in b.host1.docker.containers.list(all=True)] == []
        assert probe(b, "host1", str(INET_IP), "tcp", SERVICE_TCP_PORT).ok
        made.remove(force=True)
        down(IT2)
        assert leftovers(IT2) == []
        assert status(IT3)["up"]
        assert f"dnlab-{IT2}" not in cli("status", "--all", world_id=IT3).stdout
        assert probe(b, "host2", str(INET_IP), "tcp", SERVICE_TCP_PORT).ok
    finally:
        down(IT2)
        down(IT3)
    assert leftovers(IT3) == []


def test_down_leaves_nothing_even_with_running_containers_and_networks():
    world = lab(IT4)
    client = world.host1.docker
    network = client.networks.create("it4-net", labels=world.label)
    client.containers.run(IMAGE, ["httpd", "-f", "-p", "80"], detach=True, network=network.name,
                          ports={"80/tcp": 8080}, labels=world.label)
    subprocess.run(["docker", "--context", world.host2.context, "run", "-d", IMAGE, "sleep", "100"],
                   check=True, capture_output=True)
    started = time.monotonic()
    printed = cli("down", world_id=IT4)
    assert printed.returncode == 0 and f"namespace dnlab-{IT4}-host1" in printed.stdout
    assert time.monotonic() - started < 10
    assert leftovers(IT4) == []


def _kill_when_engines_answer(starting: subprocess.Popen, world_id: str) -> None:
    """SIGKILL a starting `up` as soon as both engines answer: it is loading the images then."""
    deadline = time.monotonic() + 30
    hosts = [WorldNames(world_id).host(h) for h in ("host1", "host2")]
    while time.monotonic() < deadline and not all(engine.ping(h, timeout=0.2) for h in hosts):
        time.sleep(0.01)
    os.killpg(starting.pid, signal.SIGKILL)


def test_up_after_a_killed_up_repairs_the_world():
    # Killed while making namespaces, while starting engines, then while loading the images.
    for delay in (0.15, 0.45, None):
        starting = subprocess.Popen([*DNLAB, "--world", IT5, "up"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        if delay is None:
            _kill_when_engines_answer(starting, IT5)
        else:
            time.sleep(delay)
            os.killpg(starting.pid, signal.SIGKILL)
        starting.wait()
        # Issue 12.2: whatever the kill left, a world that says "up" has the lab image on each
        # engine (read back independently, through the docker CLI).
        if status(IT5)["up"]:
            for host in ("host1", "host2"):
                shown = subprocess.run(["docker", "-H", WorldNames(IT5).host(host).base_url, "image", "inspect",
                                        IMAGE], capture_output=True, timeout=30)
                assert shown.returncode == 0, f"status says up, {host} lacks {IMAGE}"
        try:
            report = up(IT5)
            assert status(IT5)["up"], report
            world = lab(IT5)
            assert all(IMAGE in w.docker.images.get(IMAGE).tags for w in (world.host1, world.host2))
            assert probe(world, "host1", str(INET_IP), "tcp", SERVICE_TCP_PORT).ok
            # Exactly one engine per host: nothing of the killed attempt still runs beside it.
            for host in ("host1", "host2"):
                dockerds = [p for p in engine.processes_of(world.names.host(host))
                            if b"dockerd" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]]
                assert len(dockerds) == 1, dockerds
        finally:
            down(IT5)
        assert leftovers(IT5) == []


def _subnets_in_use(world) -> list[ipaddress.IPv4Network]:
    """Every subnet of every network on the world's engines, as the engines list them."""
    return [ipaddress.ip_network(pool["Subnet"], strict=False) for host in world.hosts.values()
            for network in host.docker.api.networks()
            for pool in (network.get("IPAM") or {}).get("Config") or [] if pool.get("Subnet")]


def _unused_address(world, pool: str) -> str:
    """An address of a private `pool` that no network of the world's engines uses right now."""
    used = _subnets_in_use(world)
    for block in ipaddress.ip_network(pool).subnets(new_prefix=24):
        if not any(block.overlaps(subnet) for subnet in used):
            return str(block[3])
    raise AssertionError(f"every /24 of {pool} is in use: {used}")


def test_guard_refuses_foreign_targets_before_any_packet(world):
    # A dotted name like example.com now resolves in the lab, to its internet service (the lab's DNS
    # server): allowed. A name that busybox reads as a number (134744072 is 8.8.8.8) is that number.
    # Private addresses are foreign only while no lab network holds them: Docker 26 hands out the
    # next pool after each one removed (172.19, 172.20, ... then 192.168.0.0/20, 192.168.16.0/20, ...;
    # 20.10 reuses the first free), so after a few dozen networks 192.168.0.1 can be a lab address.
    private = [_unused_address(world, pool) for pool in ("10.0.0.0/8", "192.168.0.0/16")]
    for target in ("8.8.8.8", *private, "134744072"):
        with pytest.raises(TrafficGuardError):
            probe(world, "host1", target, "ping")
    assert probe(world, "lanpc", "198.51.100.11", "ping").ok


def test_guard_owns_a_pool_subnet_the_engine_gave_and_refuses_the_next_free_one(world):
    """What Docker 26's sequential pools do during a long run (the course image's `make test` once
    failed here: its 192.168.0.1 had become a lab network's address): a network in the engine's
    192.168.0.0/16 pool makes its addresses the lab's; the next free address there stays foreign."""
    used = _subnets_in_use(world)
    given = next(b for b in ipaddress.ip_network("192.168.0.0/16").subnets(new_prefix=20)
                 if not any(b.overlaps(subnet) for subnet in used))
    network = world.host1.docker.networks.create("guard-pool-net", labels=world.label, ipam=docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet=str(given))]))
    try:
        inside = str(given[1])
        assert check_target(inside, world_networks(world)) == inside   # the lab's own network now
        free = _unused_address(world, "192.168.0.0/16")
        assert ipaddress.ip_address(free) not in given
        with pytest.raises(TrafficGuardError):
            probe(world, "host1", free, "ping")
    finally:
        network.remove()


def test_status_json_and_errors_are_clear():
    printed = cli("status", "--json", world_id="it6")
    report = json.loads(printed.stdout)
    assert printed.returncode == 3 and report["up"] is False and report["prefix"] == "dnlab-it6"
    bad = subprocess.run([*DNLAB, "--world", "BAD!", "up"], capture_output=True, text=True)
    assert bad.returncode == 2 and "fix: export DNLAB_WORLD=w2" in bad.stderr


def test_a_name_in_use_by_the_learner_is_reported_not_taken(world):
    """A learner's own container or network with a scenario's name: a clear error, untouched."""
    from helpers.errors import LabError
    from helpers.scenarios import get

    scenario = get(world, "user-bridge")
    scenario.stop()
    client = world.host1.docker
    mine = client.networks.create("user-bridge-net")  # no course labels: the learner's
    try:
        with pytest.raises(LabError) as taken:
            scenario.start()
        assert "is not the course's" in taken.value.problem
        assert taken.value.fix == f"docker --context {world.host1.context} network rm user-bridge-net"
        scenario.stop()
        assert client.networks.get(mine.id).name == "user-bridge-net"
    finally:
        mine.remove()
    container = client.containers.run(IMAGE, ["sleep", "60"], name="user-bridge-a", detach=True)
    try:
        with pytest.raises(LabError, match="is not the course's"):
            scenario.start()
        scenario.stop()
        assert client.containers.get(container.id).status == "running"
    finally:
        container.remove(force=True)
        scenario.stop()


def test_lab_engines_and_world_files_are_root_only(world):
    """Issue 12.1: a member of the `docker` group gets nothing from a lab engine (its socket is
    root:root, its folder 0700) and no other user reads the logs, configs or the service's log."""
    import grp
    import stat

    names = world.names
    for folder in (names.state_dir, names.data_dir, *(names.host(h).state for h in ("host1", "host2"))):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for host in ("host1", "host2"):
        paths = names.host(host)
        socket_stat = paths.socket.stat()
        assert stat.S_ISSOCK(socket_stat.st_mode) and socket_stat.st_gid == 0 and socket_stat.st_uid == 0
        assert stat.S_IMODE(socket_stat.st_mode) & 0o007 == 0
        for private in (paths.log, paths.config):
            assert stat.S_IMODE(private.stat().st_mode) & 0o077 == 0, private
    assert stat.S_IMODE(names.service_log.stat().st_mode) & 0o077 == 0
    # The attack of the issue, as it was: nobody, with the `docker` group, connects to host1's engine.
    try:
        docker_gid = grp.getgrnam("docker").gr_gid
    except KeyError:
        docker_gid = 999  # no such group here: any non-root group shows the same
    attempt = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={docker_gid}", "--", sys.executable, "-c",
         "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
         str(names.host("host1").socket)], capture_output=True, text=True, timeout=30)
    assert attempt.returncode != 0 and "PermissionError" in attempt.stderr, attempt.stderr


def test_status_says_an_engine_lacks_the_image_and_up_repairs_it(world):
    """Issue 12.2: an engine that answers without the lab image (a killed `up`) is not "up"."""
    world.host2.docker.api.remove_image(IMAGE, force=True)  # untags it even under running containers
    shown = cli("status", "--json", world_id=world.names.world_id)
    report = json.loads(shown.stdout)
    assert shown.returncode == 3 and not report["up"]
    assert report["engines"]["host2"]["answers"] and not report["engines"]["host2"]["image"]
    assert report["engines"]["host2"]["images lacking"] == [IMAGE] and report["engines"]["host1"]["image"]
    assert report["missing"] == [f"dockerd on host2 lacks {IMAGE}"]
    text = cli("status", world_id=world.names.world_id)
    assert f"LACKS {IMAGE}" in text.stdout and f"fix: {dnlab_command('up', world.names.world_id)}" in text.stdout
    repaired = cli("up", world_id=world.names.world_id)
    assert repaired.returncode == 0 and "on host2" in repaired.stdout and "already up" not in repaired.stdout
    assert IMAGE in world.host2.docker.images.get(IMAGE).tags  # read back through the SDK
    assert status(world.names.world_id)["up"]
    assert "already up" in cli("up", world_id=world.names.world_id).stdout


def test_an_empty_world_id_never_means_the_default_world():
    for argv, env in ((["--world", "", "status"], {}), (["status"], {"DNLAB_WORLD": ""})):
        shown = subprocess.run([*DNLAB, *argv], capture_output=True, text=True, timeout=60,
                               env={**os.environ, **env})
        assert shown.returncode == 2 and "world id is empty" in shown.stderr and not shown.stdout


def test_a_side_world_goes_with_the_down_of_its_world_even_after_its_maker_was_killed():
    """Chapter 7's side world (helpers/lessons/ch07.py, section 7.4) is taken down by the chapter or at its
    kernel's exit; a SIGKILLed kernel does neither. `manager.adopt` records it in the session world,
    whose `down` removes it too."""
    maker_code = (f"import time\nfrom helpers.world import manager\nmanager.up({IT7!r})\n"
                  f"manager.adopt({IT6!r}, {IT7!r})\nprint('made', flush=True)\ntime.sleep(600)\n")
    repo = str(Path(__file__).resolve().parents[2])
    try:
        up(IT6)
        maker = subprocess.Popen([sys.executable, "-c", maker_code], cwd=repo, stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": repo})
        try:
            assert maker.stdout.readline().strip() == "made"
        finally:
            maker.kill()
            maker.wait(timeout=10)
        assert status(IT7)["up"]  # what the killed maker left
        removed = down(IT6)
        assert any(line.startswith(f"side world {IT7}: namespace") for line in removed), removed
        assert not status(IT7)["up"]
        assert leftovers(IT7) == [] and leftovers(IT6) == []
    finally:
        down(IT7)
        down(IT6)
