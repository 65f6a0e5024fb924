"""`dnlab clean` sweeps crashed worlds of the course and touches nothing else.

Decoys: a learner's own namespace, a namespace that *looks* like the course's but carries no label,
a foreign dockerd (a learner's engine in their own namespace) with a container and a network, and,
where a system engine runs, a container and a network on it.

Note: `clean` sweeps every world of the course on the machine, the shared test world included; the
test brings that one back up at the end.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import docker
import pytest

from helpers.world import engine, netns, status, up
from helpers.world.naming import IMAGE, HostPaths, WorldNames

from world_checks import leftovers

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


def crash_world(world_id: str) -> None:
    """Leave a world as a crash would: every process killed, nothing removed."""
    names = WorldNames(world_id)
    pids = [p for h in ("host1", "host2") for p in engine.processes_of(names.host(h))]
    pids += netns.pids_inside(names.namespace("inet"))
    netns.kill_all(pids)


def test_clean_sweeps_a_crashed_world_and_spares_every_decoy(foreign_engine):
    lookalike = "dnlab-zz-host1"          # fits the naming scheme, but the course never labelled it
    plain = f"learner-plain-{os.getpid()}"
    for name in (lookalike, plain):
        subprocess.run(["ip", "netns", "add", name], check=True)
    sys_client = system_engine()
    sys_decoys = []
    if sys_client is not None:
        sys_decoys = [sys_client.networks.create("learner-decoy-net")]
    try:
        world_id = "cz"
        up(world_id)
        names = WorldNames(world_id)
        client = engine.client(names.host("host1"))
        client.containers.run(IMAGE, ["sleep", "600"], detach=True, ports={"80/tcp": 8081})
        client.close()
        crash_world(world_id)
        assert not status(world_id)["up"]

        swept = subprocess.run([*DNLAB, "clean"], capture_output=True, text=True, timeout=120)
        assert swept.returncode == 0, swept.stderr
        assert "world dnlab-cz" in swept.stdout
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
        again = subprocess.run([*DNLAB, "clean"], capture_output=True, text=True, timeout=120)
        assert "world dnlab-cz" not in again.stdout
    finally:
        for name in (lookalike, plain):
            subprocess.run(["ip", "netns", "delete", name])
        for network in sys_decoys:
            network.remove()
        # `clean` swept the shared test world too: bring it back for the tests after this one.
        test_world = os.environ.get("DNLAB_WORLD")
        if test_world:
            up(test_world)
