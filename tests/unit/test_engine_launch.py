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


def test_mounts_below_a_worlds_folders_are_whole_path_components():
    """CI runs worlds e28 and e28b side by side: e28's check must not count e28b's mounts as its own
    (a 2026-12-07 rehearsal failed on it when the test matched the folder as a substring)."""
    points = ["/", "/run", "/run/dnlab/dnlab-e28b/host1/exec", "/run/dnlab/dnlab-e28b/host1/exec/netns/e3020bbd9f15",
              "/var/lib/dnlab/dnlab-e28bx"]
    assert engine.mounts_below("/run/dnlab/dnlab-e28", "/var/lib/dnlab/dnlab-e28", points=points) == []
    ours = ["/run/dnlab/dnlab-e28", "/run/dnlab/dnlab-e28/host2/exec", "/var/lib/dnlab/dnlab-e28/host1/docker"]
    assert engine.mounts_below(Path("/run/dnlab/dnlab-e28"), "/var/lib/dnlab/dnlab-e28/",
                               points=points + ours) == ours


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


# --- waiting for an engine to answer: its socket, served late (engine.wait_ready) -------------------

@pytest.fixture
def short_dir():
    """A folder whose socket path fits a Unix socket's 108 bytes (pytest's tmp_path may not)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="dnl-ping-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _engine_paths(folder: Path) -> HostPaths:
    return HostPaths(state=folder / "state", data_root=folder / "data")


def _listening(paths: HostPaths):
    """A Unix socket at the engine's path that listens but has not accepted yet, as dockerd's does from
    the start of its init until it serves."""
    import socket

    paths.state.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths.socket))
    listener.listen(8)
    return listener


def test_a_ping_sent_before_the_engine_serves_is_answered_when_it_serves(short_dir):
    """The ping is held across the engine's start: answered the moment it serves, here 0.7 s after it was
    sent (past the 0.5 s a ping was given before), on that same connection."""
    import threading
    import time

    paths = _engine_paths(short_dir)
    listener = _listening(paths)
    requests = []

    def serve_late():
        time.sleep(0.7)  # the engine's own start, not a wait of the code under test
        conn, _ = listener.accept()
        requests.append(conn.recv(4096))
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK")
        conn.close()

    server = threading.Thread(target=serve_late)
    sent = time.monotonic()
    server.start()
    try:
        engine.wait_ready(paths, None, timeout=10)
    finally:
        server.join()
        listener.close()
    assert 0.7 <= time.monotonic() - sent < 5
    assert len(requests) == 1 and requests[0].startswith(b"GET /_ping HTTP/1.")


def test_an_engine_that_dies_before_it_serves_ends_the_wait_at_once(short_dir):
    """A held ping does not outlive its dockerd: the wait ends with the LabError naming the socket and
    the log's tail soon after the process exits, not at the timeout."""
    import subprocess
    import time

    from helpers.errors import LabError

    paths = _engine_paths(short_dir)
    listener = _listening(paths)
    paths.log.write_text("failed to start daemon: the test's reason\n")
    process = subprocess.Popen(["sleep", "0.3"])
    started = time.monotonic()
    try:
        with pytest.raises(LabError) as failed:
            engine.wait_ready(paths, process, timeout=30)
    finally:
        listener.close()
        process.wait()
    assert time.monotonic() - started < 5
    assert str(paths.socket) in failed.value.problem and "the test's reason" in failed.value.problem


def test_the_engine_api_answer_is_read_whole_with_its_status(short_dir):
    """`get_json` and `get_status` over an HTTP exchange: a body longer than one read, a 404, and a
    peer that closes without an answer (None, as an engine that does not answer)."""
    import threading

    paths = _engine_paths(short_dir)
    listener = _listening(paths)
    body = json.dumps([{"Id": f"sha256:{i:064x}"} for i in range(2000)]).encode()
    answers = [b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body,
               b"HTTP/1.0 404 Not Found\r\n\r\n{}", b""]

    def serve():
        for answer in answers:
            conn, _ = listener.accept()
            conn.recv(4096)
            conn.sendall(answer)
            conn.close()

    server = threading.Thread(target=serve)
    server.start()
    try:
        assert engine.get_json(paths, "/images/json") == json.loads(body)
        assert engine.get_status(paths, "/images/x/json") == 404
        assert engine.get_status(paths, "/_ping") is None
    finally:
        server.join()
        listener.close()
