"""The environment each lab dockerd runs in (issue 11.2's engine part, issue 12.8 and 12.9).

Each engine has its own network, mount and UTS namespaces: its hostname is its role, its
/etc/resolv.conf names the lab's DNS, and the folders Docker writes whatever its flags say
(`engine.ENGINE_FIXED_DIRS`) are the world's own in its mount namespace. What is read here is read
independently of the manager: /proc of the engine's process, the machine's own file tree and mount
table, `docker info`, the sockets of the host's network namespace.
"""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import scenarios
from helpers.world import down, engine, swarm, up
from helpers.world.engine import ENGINE_FIXED_DIRS, ENGINE_MACHINE_FILES
from helpers.world.guard import probe
from helpers.world.naming import (
    ENGINE_PRIVATE_DIR,
    HOSTS,
    IDLE,
    IMAGE,
    INET_IP,
)

SHIM_SOCKETS = "/run/containerd/s/"
# Where the machine would get what an engine writes outside its own folders (issue 12.9's list).
WATCHED = (*ENGINE_FIXED_DIRS, "/var/run/docker/netns")


def engine_pid(world, host: str) -> int:
    pid = engine.pid(world.hosts[host].paths)
    assert pid is not None, f"no dockerd runs for {host}"
    return pid


def nameservers(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("nameserver ")]


def tree(roots=WATCHED) -> set[str]:
    """Every path under the watched folders of the machine, as this (the machine's) namespace sees them."""
    found = set()
    for root in {os.path.realpath(r) for r in roots}:
        for directory, subdirs, files in os.walk(root):
            found.update(os.path.join(directory, name) for name in subdirs + files)
    return found


def shim_sockets(world, host: str) -> set[str]:
    """Unix socket paths bound under containerd's fixed shim folder in the host's network namespace."""
    table = Path(f"/proc/{engine_pid(world, host)}/net/unix").read_text().splitlines()[1:]
    return {fields[-1] for fields in (line.split() for line in table)
            if len(fields) >= 8 and fields[-1].startswith(SHIM_SOCKETS)}


def private(world, host: str, target: str) -> Path:
    return world.hosts[host].paths.state / ENGINE_PRIVATE_DIR / target.strip("/").replace("/", "-")


def test_each_engine_has_its_own_hostname_resolver_and_namespaces(world):
    machine_resolv = Path("/etc/resolv.conf").read_text()
    for host in HOSTS:
        pid = engine_pid(world, host)
        for kind in ("net", "mnt", "uts"):
            assert os.stat(f"/proc/{pid}/ns/{kind}").st_ino != os.stat(f"/proc/self/ns/{kind}").st_ino, kind
        # What the engine reports, through the SDK and through the CLI a learner types.
        assert world.hosts[host].docker.info()["Name"] == host
        assert world.hosts[host].cli("info", "--format", "{{.Name}}").strip() == host
        # Its resolver, as its own process sees the file: the lab's DNS only.
        assert nameservers(Path(f"/proc/{pid}/root/etc/resolv.conf").read_text()) == [str(INET_IP)]
        hosts_line = Path(f"/proc/{pid}/root/etc/hosts").read_text().split()
        assert host in hosts_line and os.uname().nodename not in hosts_line
    # The machine's own files and name are untouched.
    assert Path("/etc/resolv.conf").read_text() == machine_resolv
    assert str(INET_IP) not in nameservers(machine_resolv)
    # A leak is the engine's own file or folder showing at the machine's path. Not any mount there:
    # in a container (the course image) Docker itself binds /etc/resolv.conf and /etc/hosts.
    leaked = {(host, target) for host in HOSTS for target in (*ENGINE_FIXED_DIRS, *ENGINE_MACHINE_FILES)
              if private(world, host, target).exists() and os.path.exists(target)
              and os.path.samefile(target, private(world, host, target))}
    assert not leaked, f"an engine's private bind is visible on the machine: {leaked}"


def test_container_namespaces_stay_reachable_from_the_machine(world):
    """dockerd mounts its sandboxes in its own mount namespace; the tracer enters them from the
    machine's (the exec-root is a shared mount)."""
    container = world.host1.docker.containers.run(IMAGE, IDLE, detach=True, labels=world.label,
                                                  name="engine-env-sandbox")
    try:
        container.reload()
        key = container.attrs["NetworkSettings"]["SandboxKey"]
        assert Path(key).is_relative_to(world.host1.paths.exec_root)
        seen = subprocess.run(["nsenter", f"--net={key}", "ip", "-j", "-4", "addr", "show", "eth0"],
                              capture_output=True, text=True)
        assert seen.returncode == 0, seen.stderr
        assert container.attrs["NetworkSettings"]["IPAddress"] in seen.stdout
    finally:
        container.remove(force=True)


def test_overlay_leaves_nothing_outside_the_worlds_folders(world):
    """Issue 12.9: the machine's folders before `up`, while an overlay runs, and after `down`.

    Other worlds on the machine may write there at the same time (engines started before this
    launcher), so what is compared is what can be told to be ours: the `lb_<id>` folders of our
    overlay networks, the shim sockets bound in our hosts' namespaces, and 20.10's trust key.
    """
    world_id = world.names.world_id
    down(world_id)
    before = tree()
    try:
        up(world_id)
        overlay = scenarios.get(world, "overlay").start()
        ids = {n.id for h in HOSTS for n in world.hosts[h].docker.networks.list(filters={"driver": "overlay"})}
        assert ids, "the overlay scenario made no overlay network"
        lb_in_world = {p.name for h in HOSTS
                       for p in private(world, h, "/var/lib/docker").glob("network/files/lb_*")}
        assert {f"lb_{i}" for i in ids} & lb_in_world, "no load-balancer sandbox was written in the world"
        sockets = set().union(*(shim_sockets(world, h) for h in HOSTS))
        assert sockets, "no shim socket found in the hosts' namespaces"
        for socket_path in sockets:
            assert not os.path.exists(socket_path), f"{socket_path} is on the machine"
            host_dirs = [private(world, h, "/run/containerd") / "s" / Path(socket_path).name for h in HOSTS]
            assert any(p.exists() for p in host_dirs), f"{socket_path} is in no world folder"
        if int(world.host1.docker.version()["Version"].split(".")[0]) < 23:
            # dockerd 20.10 writes a trust key at start (23+ no longer does): in the world, not /etc/docker.
            assert (private(world, "host1", "/etc/docker") / "key.json").exists()
        ours = {f"lb_{i}" for i in ids} | {Path(s).name for s in sockets}
        assert not {p for p in tree() - before if Path(p).name in ours}, "written on the machine while running"
        overlay.stop()
        down(world_id)
        after = tree()
        assert not {p for p in after if Path(p).name in ours}, "left on the machine after down"
        # By whole path components: world e28b (CI runs it beside e28) has folders that begin the same way.
        assert engine.mounts_below(world.names.state_dir, world.names.data_dir) == [], "mounted after down"
    finally:
        up(world_id)


def test_a_killed_worker_engine_attaches_to_the_overlay_at_once_after_up(world):
    """Issue 12.8: after host2's dockerd is killed and `up` repairs it, the first overlay attach on
    host2 works (before: 20 s "context deadline exceeded", then 404 "network not found") and the
    container reaches host1's by name without half a minute of gossip. `up` restarted host2 only
    once host1's gossip had dropped the dead node (`engine.wait_peers_forget`)."""
    overlay = scenarios.get(world, "overlay").start()
    os.kill(engine_pid(world, "host2"), signal.SIGKILL)
    up(world.names.world_id)
    swarm.ensure(world)
    # One attempt, no retry: before the fix this raised the 500 "attaching to network failed".
    container = world.host2.docker.containers.run(IMAGE, IDLE, detach=True, labels=world.label,
                                                  name="engine-env-rejoined", network="overlay-net")
    try:
        # Up to five pings, stopping at the first answer (no need to send the other four after it).
        reached = any(probe(world, container, f"{overlay.name}-a", "ping", timeout=1).ok for _ in range(5))
        assert reached, "host2's new container never reached overlay-a by name"
        hostnames = [n.attrs["Description"]["Hostname"] for n in world.host1.docker.nodes.list()]
        assert sorted(hostnames) == sorted(HOSTS), hostnames
    finally:
        container.remove(force=True)


@pytest.fixture(autouse=True)
def _no_leftover_probe_containers(world):
    yield
    for host in HOSTS:
        for name in ("engine-env-sandbox", "engine-env-rejoined"):
            for container in world.hosts[host].docker.containers.list(all=True, filters={"name": f"^/{name}$"}):
                container.remove(force=True)
