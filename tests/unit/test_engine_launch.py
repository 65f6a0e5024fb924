"""The pieces of an engine's launch that need no root: its sh script, its machine files, the mount
points the course makes and removes, and a crashed worker's swarm state."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from helpers.world import engine
from helpers.world.naming import INET_IP, MACHINE_IPS, MADE_MOUNTPOINTS_RECORD, HostPaths


def test_containing_mount_is_the_longest_parent_mount_point():
    points = ["/", "/run", "/run/netns", "/etc/resolv.conf", "/runner"]
    assert engine.containing_mount("/run/containerd", points) == "/run"
    assert engine.containing_mount("/runner/x", points) == "/runner"
    assert engine.containing_mount("/etc/resolv.conf", points) == "/etc/resolv.conf"
    assert engine.containing_mount("/var/lib/docker", points) == "/"


def test_launch_script_sets_the_name_makes_holders_slave_binds_then_execs(monkeypatch):
    monkeypatch.setattr(engine, "mount_points", lambda: ["/", "/run", "/etc/resolv.conf"])
    binds = [(Path("/run/dnlab/w x/host1/private/run-containerd"), "/run/containerd"),
             (Path("/run/dnlab/w/host1/private/var-lib-docker"), "/var/lib/docker"),
             (Path("/run/dnlab/w/host1/private/etc-resolv.conf"), "/etc/resolv.conf")]
    lines = engine.launch_script("host1", binds, ["/usr/sbin/dockerd", "--host", "unix:///a b"]).splitlines()
    assert lines[0] == "set -e"
    assert lines[1] == "echo host1 > /proc/sys/kernel/hostname"
    slaves = [shlex.split(line)[-1] for line in lines if "--make-slave" in line]
    assert sorted(slaves) == ["/", "/etc/resolv.conf", "/run"]
    bind_lines = [shlex.split(line)[-2:] for line in lines if " --bind " in line]
    assert bind_lines == [[str(source), target] for source, target in binds]
    # Every slave comes before the first bind: a bind under a shared holder would reach the machine.
    assert max(i for i, line in enumerate(lines) if "--make-slave" in line) < min(
        i for i, line in enumerate(lines) if " --bind " in line)
    assert shlex.split(lines[-1]) == ["exec", "/usr/sbin/dockerd", "--host", "unix:///a b"]


def test_machine_files_name_the_lab():
    assert [line.split()[1] for line in engine.resolv_conf().splitlines()
            if line.startswith("nameserver")] == [str(INET_IP)]
    assert f"{MACHINE_IPS['host2']}\thost2" in engine.hosts_file("host2").splitlines()
    assert "127.0.1.1\tscratch" in engine.hosts_file("scratch").splitlines()


def test_private_binds_make_their_sources_in_the_hosts_state(tmp_path):
    paths = HostPaths(state=tmp_path / "host1", data_root=tmp_path / "data")
    binds = engine.private_binds(paths, "host1")
    targets = {target for _, target in binds}
    assert {"/run/containerd", "/var/lib/docker"} <= {t.rstrip("/") for t in targets}
    for source, _ in binds:
        assert source.parent == paths.state / "private" and source.exists()
    resolv = [s for s, t in binds if t.endswith("resolv.conf")]
    if resolv:  # only where the machine has the file
        assert resolv[0].read_text() == engine.resolv_conf()


@pytest.fixture
def fake_machine(tmp_path, monkeypatch):
    run_root = tmp_path / "run-dnlab"
    fixed = (str(tmp_path / "var/lib/docker"), str(tmp_path / "run/containerd"))
    (tmp_path / "run").mkdir()
    monkeypatch.setattr(engine, "RUN_ROOT", run_root)
    monkeypatch.setattr(engine, "ENGINE_FIXED_DIRS", fixed)
    return tmp_path, run_root


def test_missing_mount_points_are_made_recorded_and_removed_by_the_last_world(fake_machine):
    machine, run_root = fake_machine
    engine.ensure_mountpoints()
    assert (machine / "var/lib/docker").is_dir() and (machine / "run/containerd").is_dir()
    made = json.loads((run_root / MADE_MOUNTPOINTS_RECORD).read_text())
    assert sorted(made) == [str(machine / "run/containerd"), str(machine / "var")]  # topmost made
    (run_root / "dnlab-w2").mkdir()  # another world is still here: nothing goes
    assert engine.release_mountpoints() == []
    assert (machine / "var/lib/docker").is_dir()
    (run_root / "dnlab-w2").rmdir()
    removed = engine.release_mountpoints()
    assert str(machine / "var") in removed and not (machine / "var").exists()
    assert not (machine / "run/containerd").exists() and (machine / "run").is_dir()  # not ours
    assert not (run_root / MADE_MOUNTPOINTS_RECORD).exists()


def test_release_keeps_a_mount_point_someone_filled(fake_machine):
    machine, _ = fake_machine
    engine.ensure_mountpoints()
    (machine / "var/lib/docker/theirs").write_text("x")
    engine.release_mountpoints()
    assert (machine / "var/lib/docker/theirs").exists()


def test_nothing_recorded_when_the_machine_has_every_mount_point(fake_machine):
    machine, run_root = fake_machine
    for directory in engine.ENGINE_FIXED_DIRS:
        Path(directory).mkdir(parents=True)
    engine.ensure_mountpoints()
    assert not (run_root / MADE_MOUNTPOINTS_RECORD).exists()


# docker-state.json as dockerd 20.10 wrote it here for the lab's manager (host1) and worker (host2).
MANAGER_STATE = ('{"LocalAddr":"198.51.100.11","RemoteAddr":"","ListenAddr":"198.51.100.11:2377",'
                 '"AdvertiseAddr":"198.51.100.11:2377","DataPathAddr":"","DefaultAddressPool":null,'
                 '"SubnetSize":0,"DataPathPort":4789,"JoinInProgress":false}')
WORKER_STATE = ('{"LocalAddr":"","RemoteAddr":"198.51.100.11:2377","ListenAddr":"198.51.100.12:2377",'
                '"AdvertiseAddr":"198.51.100.12:2377","DataPathAddr":"","DefaultAddressPool":null,'
                '"SubnetSize":0,"DataPathPort":0,"JoinInProgress":false}')


@pytest.mark.parametrize(("state", "address"), [(MANAGER_STATE, "198.51.100.11"),
                                                 (WORKER_STATE, "198.51.100.12"), (None, None)])
def test_swarm_address_of_a_stopped_engine(tmp_path, state, address):
    paths = HostPaths(state=tmp_path / "s", data_root=tmp_path / "d")
    if state is not None:
        (paths.data_root / "swarm").mkdir(parents=True)
        (paths.data_root / "swarm/docker-state.json").write_text(state)
    assert engine.swarm_address(paths) == address


def test_no_swarm_no_wait(tmp_path):
    """A fresh engine (cold `up`) never asks the others anything."""
    paths = HostPaths(state=tmp_path / "s", data_root=tmp_path / "d")
    other = HostPaths(state=tmp_path / "nobody", data_root=tmp_path / "d2")
    assert engine.wait_peers_forget(paths, [other]) == 0.0
