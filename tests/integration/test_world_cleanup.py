"""`dnlab clean` sweeps crashed worlds of the course and touches nothing else.

Decoys: a learner's own namespace, a namespace that *looks* like the course's but carries no label,
a foreign dockerd (a learner's engine in their own namespace) with a container and a network, and,
where a system engine runs, a container and a network on it.

Running worlds are spared (an engine answers, or an `up`/`down` holds the world's lock): the shared
test world stays up through every test here. The tests sweep only worlds they made (`dnlab --world X
clean`, `clean(only=...)`), since other worlds on a shared machine may be someone's, mid-crash-test.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import docker
import pytest

from helpers.errors import dnlab_command
from helpers.world import engine, manager, netns, status, up
from helpers.world.naming import IMAGE, RUN_ROOT, HostPaths, WorldNames
from tests.integration.world_checks import leftovers
from tests.worlds import own_world_id

DNLAB = [sys.executable, "-m", "helpers"]


@pytest.fixture
def foreign_engine():
    """A learner's own dockerd, in their own namespace, with a container and a network."""
    namespace = f"learner-{os.getpid()}"
    root = Path(tempfile.mkdtemp(prefix="learner-engine-"))
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    config = root / "daemon.json"
    config.write_text("{}")
    # dockerd gets its own copy of the log's descriptor at spawn: ours can close right after.
    with open(root / "dockerd.log", "w") as log:
        process = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{namespace}", "dockerd", "-H", f"unix://{root}/docker.sock",
             "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
             "--pidfile", str(root / "d.pid"), "--config-file", str(config), "--iptables=false"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = None
    try:
        paths = HostPaths(state=root, data_root=root / "data")  # same file names as the course's
        engine.wait_ready(paths, process)
        client = docker.DockerClient(base_url=paths.base_url, version="auto")
        from helpers.world import image

        image.load_into(client)
        network = client.networks.create("learner-net")
        container = client.containers.run(IMAGE, ["sleep", "600"], detach=True, name="dnlab-host1-lookalike",
                                          network="learner-net")
        yield {"namespace": namespace, "process": process, "client": client, "network": network,
               "container": container}
    finally:
        if client is not None:
            for leftover in client.containers.list(all=True):
                leftover.remove(force=True)
            client.close()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        subprocess.run(["ip", "netns", "delete", namespace])
        engine.unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)


def system_engine():
    try:
        client = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto", timeout=5)
        client.ping()
        return client
    except Exception:
        return None


def own_id(world, suffix: str) -> str:
    """A world id of this test session's own (the session world's id plus a suffix)."""
    return own_world_id(suffix)


def crash_world(world_id: str) -> None:
    """Leave a world as a crash would: every process killed, nothing removed."""
    names = WorldNames(world_id)
    pids = [p for h in ("host1", "host2") for p in engine.processes_of(names.host(h))]
    pids += netns.pids_inside(names.namespace("inet"))
    netns.kill_all(pids)


def test_clean_sweeps_a_crashed_world_and_spares_every_decoy(world, foreign_engine):
    world_id = own_id(world, "cz")
    # Fits the scheme of the very world being swept (its scratch engine's namespace), but the course
    # never labelled it and its manifest never listed it: a learner's.
    lookalike = f"dnlab-{world_id}-scratch"
    plain = f"learner-plain-{os.getpid()}"
    for name in (lookalike, plain):
        subprocess.run(["ip", "netns", "add", name], check=True)
    sys_client = system_engine()
    sys_decoys = []
    if sys_client is not None:
        sys_decoys = [sys_client.networks.create("learner-decoy-net")]
    try:
        up(world_id)
        names = WorldNames(world_id)
        client = engine.client(names.host("host1"))
        client.containers.run(IMAGE, ["sleep", "600"], detach=True, ports={"80/tcp": 8081})
        client.close()
        crash_world(world_id)
        assert not status(world_id)["up"]

        swept = subprocess.run([*DNLAB, "--world", world_id, "clean"], capture_output=True, text=True, timeout=120)
        assert swept.returncode == 0, swept.stderr
        assert f"world dnlab-{world_id}: removed" in swept.stdout
        assert leftovers(world_id) == []

        # Decoys survive: namespaces, the foreign engine with its container and network.
        present = netns.list_names()
        assert lookalike in present and plain in present
        assert foreign_engine["namespace"] in present
        assert foreign_engine["process"].poll() is None
        foreign_engine["container"].reload()
        assert foreign_engine["container"].status == "running"
        assert foreign_engine["client"].networks.get("learner-net").name == "learner-net"
        for network in sys_decoys:
            assert sys_client.networks.get(network.id).name == network.name
        # A second clean finds nothing more to do.
        again = subprocess.run([*DNLAB, "--world", world_id, "clean"], capture_output=True, text=True, timeout=120)
        assert "nothing of the course was left" in again.stdout
        assert status(world.names.world_id)["up"]
    finally:
        for name in (lookalike, plain):
            subprocess.run(["ip", "netns", "delete", name])
        for network in sys_decoys:
            network.remove()
        manager.down(world_id)


def test_clean_spares_running_worlds_and_names_them(world):
    """Issue 12.3: a learner's `clean` never ends another's session. The session world runs (its
    engines answer); a crashed world is swept; a world whose `up` holds the lock is left to it."""
    crashed = own_id(world, "cy")
    session = world.names
    try:
        up(crashed)
        crash_world(crashed)
        # An `up` (here: this test) holds the crashed world's lock: clean leaves it to that `up`.
        with open(RUN_ROOT / f"dnlab-{crashed}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            waiting = subprocess.run([*DNLAB, "--world", crashed, "clean"], capture_output=True, text=True,
                                     timeout=60)
        assert f"world dnlab-{crashed} is running (an `up` or `down` of it is under way)" in waiting.stdout
        assert WorldNames(crashed).namespace("host1") in netns.list_names()

        report = manager.clean(only={session.prefix, f"dnlab-{crashed}"})  # what a bare `dnlab clean` does
        assert list(report.swept) == [f"dnlab-{crashed}"] and not report.failed
        assert report.running == {session.prefix: "dockerd answers on host1, host2"}
        assert leftovers(crashed) == []
        assert status(session.world_id)["up"]
        assert all(ns in netns.list_names() for ns in session.namespaces.values())

        kept = subprocess.run([*DNLAB, "--world", session.world_id, "clean"], capture_output=True, text=True,
                              timeout=60)
        assert kept.returncode == 0
        assert (f"world {session.prefix} is running (dockerd answers on host1, host2): left alone; "
                f"to remove it: {dnlab_command('down', session.world_id)}") in kept.stdout
        assert status(session.world_id)["up"]
    finally:
        manager.down(crashed)


def test_a_malformed_context_stops_neither_status_all_nor_clean(world, tmp_path, monkeypatch):
    """One malformed docker CLI context makes `docker context ls` fail as a whole; `status --all`
    and `clean` warn and go on. The contexts live in a HOME of this test's own, never root's."""
    broken = tmp_path / ".docker" / "contexts" / "meta" / "0123abcd"
    broken.mkdir(parents=True)
    (broken / "meta.json").write_text("{not json")
    monkeypatch.setenv("HOME", str(tmp_path))
    crashed = own_id(world, "cx")
    names = WorldNames(crashed)
    try:
        up(crashed)
        contexts = [names.context(h) for h in ("host1", "host2")]
        inspect = ["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]
        shown = subprocess.run([*inspect, *contexts], capture_output=True, text=True, timeout=30)
        assert shown.stdout.split() == [names.host(h).base_url for h in ("host1", "host2")], shown.stderr
        crash_world(crashed)

        listed = subprocess.run([*DNLAB, "status", "--all", "--json"], capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0 and "docker context ls failed" in listed.stderr
        rows = {row["prefix"]: row for row in json.loads(listed.stdout)}
        assert rows[world.names.prefix]["engines answering"] == ["host1", "host2"]
        assert not rows[names.prefix]["up"] and "dockerd on host1 does not answer" in rows[names.prefix]["missing"]

        swept = subprocess.run([*DNLAB, "--world", crashed, "clean"], capture_output=True, text=True, timeout=120)
        assert swept.returncode == 0, swept.stderr
        assert f"context {contexts[0]}" in swept.stdout and "docker context ls failed" in swept.stderr
        gone = subprocess.run([*inspect, *contexts], capture_output=True, text=True, timeout=30)
        assert gone.returncode != 0 and not gone.stdout.strip()
        assert leftovers(crashed) == []
    finally:
        manager.down(crashed)


def test_a_scratch_engine_of_a_world_not_up_leaves_no_world_behind():
    """`dnlab doctor` runs a scratch engine for a world that may not be up (the default one on a fresh
    machine): it went, but the world's own folders stayed, empty, and `status --all` then listed a
    crashed world's leftovers there."""
    world_id = own_world_id("sc")
    names = WorldNames(world_id)
    assert not any(netns.exists(ns) for ns in names.namespaces.values()), f"world {world_id} is up"
    with manager.scratch_engine(world_id) as scratch:
        assert scratch.client.ping()
    assert not names.state_dir.exists() and not names.data_dir.exists()
    assert world_id not in {entry.get("world") for entry in manager.status_all()}
