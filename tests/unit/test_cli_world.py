"""The world commands' decisions, without root or a world: what `clean` spares, what it reports when
one world cannot be swept, how a malformed context is survived, the fix an engine failure names."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import cli
from helpers.errors import LabError, dnlab_command
from helpers.world import engine, manager, proc
from helpers.world.engine import ENGINE_SOCKET_GROUP
from helpers.world.naming import WorldNames


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A pretend machine: root, run and data folders in tmp_path, no namespaces, no CLI contexts."""
    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    monkeypatch.setattr(manager, "RUN_ROOT", tmp_path / "run")
    monkeypatch.setattr(manager, "DATA_ROOT", tmp_path / "data")
    monkeypatch.setattr(manager.netns, "list_names", lambda: [])
    monkeypatch.setattr(manager, "_docker_cli_present", lambda: False)
    return tmp_path


def test_the_engine_socket_belongs_to_root_alone():
    assert engine.daemon_config("/x")["group"] == ENGINE_SOCKET_GROUP == "root"


def test_clean_spares_running_worlds_and_goes_on_past_one_it_cannot_sweep(machine, monkeypatch, capsys):
    worlds = ["dnlab-aa", "dnlab-bb", "dnlab-cc"]
    monkeypatch.setattr(manager, "discover", lambda warnings=None, marked=None: worlds)
    monkeypatch.setattr(manager, "running_reason",
                        lambda names: "dockerd answers on host1" if names.prefix == "dnlab-bb" else None)

    def teardown(names):
        if names.prefix == "dnlab-aa":
            raise OSError("a malformed leftover")
        return [f"namespace {names.prefix}-host1"]

    monkeypatch.setattr(manager, "_teardown", teardown)
    code = cli.main(["clean"])
    out, err = capsys.readouterr()
    assert code == 4  # one world could not be swept: a lab error, after sweeping the others
    assert "world dnlab-cc: removed namespace dnlab-cc-host1" in out
    assert ("world dnlab-bb is running (dockerd answers on host1): left alone; "
            f"to remove it: {dnlab_command('down', 'bb')}") in out
    assert "world dnlab-aa: could not sweep it: OSError: a malformed leftover" in err


def test_clean_spares_a_world_whose_up_holds_the_lock(machine, monkeypatch):
    import fcntl

    monkeypatch.setattr(manager, "discover", lambda warnings=None, marked=None: ["dnlab-aa"])
    monkeypatch.setattr(manager, "running_reason", lambda names: None)  # engines not (yet) answering
    monkeypatch.setattr(manager, "_teardown", lambda names: pytest.fail("swept a world being made"))
    (machine / "run").mkdir()
    with open(machine / "run" / "dnlab-aa.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a running `up` holds
        report = manager.clean()
    assert report.running == {"dnlab-aa": "an `up` or `down` of it is under way"} and not report.swept


def test_clean_with_a_world_sweeps_that_world_alone(machine, monkeypatch, capsys):
    monkeypatch.setattr(manager, "discover", lambda warnings=None, marked=None: ["dnlab-aa", "dnlab-bb"])
    monkeypatch.setattr(manager, "running_reason", lambda names: None)
    monkeypatch.setattr(manager, "_teardown", lambda names: [f"directory of {names.prefix}"])
    assert cli.main(["--world", "bb", "clean"]) == 0
    out = capsys.readouterr().out
    assert "dnlab-bb: removed" in out and "dnlab-aa" not in out


def test_a_malformed_context_is_a_warning_not_a_stop(machine, monkeypatch):
    """One malformed context makes `docker context ls` fail as a whole (docker CLI 28, measured)."""
    monkeypatch.setattr(manager, "_docker_cli_present", lambda: True)
    (machine / "run" / "dnlab-aa").mkdir(parents=True)

    def run_docker(args, **kwargs):
        if args[:2] == ["context", "ls"]:
            return subprocess.CompletedProcess(args, 1, "", "failed to read metadata: parsing meta.json")
        return subprocess.CompletedProcess(args, 0, '{"Name": "x", "Endpoints": {"docker": {"Host": "h"}}}\n', "")

    monkeypatch.setattr(manager.engine, "run_docker", run_docker)
    warnings: list[str] = []
    assert manager.discover(warnings) == ["dnlab-aa"]
    assert "docker context ls failed" in warnings[0] and "meta.json" in warnings[0]


def test_a_context_pointing_into_the_run_folder_with_a_malformed_name_is_skipped(machine, monkeypatch):
    monkeypatch.setattr(manager, "_docker_cli_present", lambda: True)
    listed = "\n".join([
        '{"Name": "odd", "DockerEndpoint": "unix://%s/Not-A-World/host1/docker.sock"}' % (machine / "run"),
        '{"Name": "ok", "DockerEndpoint": "unix://%s/dnlab-qq/host1/docker.sock"}' % (machine / "run"),
        "not json at all",
    ])
    monkeypatch.setattr(manager.engine, "run_docker",
                        lambda args, **kwargs: subprocess.CompletedProcess(args, 0, listed, ""))
    assert manager.discover([]) == ["dnlab-qq"]


def test_status_all_lists_every_world_even_when_one_cannot_be_read(machine, monkeypatch):
    monkeypatch.setattr(manager, "discover", lambda warnings=None, marked=None: ["dnlab-aa", "dnlab-bb"])
    real_status = manager.status

    def status(world_id):
        if world_id == "aa":
            raise PermissionError("unreadable pidfile")
        return real_status(world_id)

    monkeypatch.setattr(manager, "status", status)
    monkeypatch.setattr(manager.netns, "exists", lambda name: False)
    rows = {row["prefix"]: row for row in manager.status_all()}
    assert rows["dnlab-aa"]["error"] == "PermissionError: unreadable pidfile" and not rows["dnlab-aa"]["up"]
    assert rows["dnlab-bb"]["up"] is False and "dockerd on host1 does not answer" in rows["dnlab-bb"]["missing"]


@pytest.mark.parametrize("world_id, fix", [
    ("zz", f"{dnlab_command('down', 'zz')} && {dnlab_command('up', 'zz')}"),
    (None, f"{dnlab_command('down')} && {dnlab_command('up')}")])
def test_an_engine_that_fails_to_start_names_its_own_world_never_clean(monkeypatch, world_id, fix):
    def wait_ready(paths, process, timeout=30):
        raise LabError("dockerd did not come up", "sudo dnlab clean && sudo dnlab up")

    monkeypatch.setattr(manager.engine, "wait_ready", wait_ready)
    names = WorldNames(world_id)
    with pytest.raises(LabError) as failed:
        manager.wait_engine(names, "host1", None)
    assert failed.value.fix == fix and "clean" not in failed.value.fix


def test_world_folders_and_files_are_made_private(machine, monkeypatch):
    names = WorldNames("zz")
    monkeypatch.setattr(manager, "RUN_ROOT", machine / "run")
    state = machine / "run" / names.prefix
    monkeypatch.setattr(WorldNames, "state_dir", property(lambda self: state))
    monkeypatch.setattr(WorldNames, "data_dir", property(lambda self: machine / "data" / self.prefix))
    state.mkdir(parents=True)
    state.chmod(0o755)  # a world made before this change
    manager.make_private(names)
    modes = {p.relative_to(machine): p.stat().st_mode & 0o777 for p in Path(machine).rglob("*")}
    assert modes[Path("run/dnlab-zz")] == modes[Path("data/dnlab-zz")] == 0o700
    assert modes[Path("run/dnlab-zz/host1")] == 0o700
    for name in ("run/dnlab-zz/host1/dockerd.log", "run/dnlab-zz/host1/daemon.json", "run/dnlab-zz/inet-seen.jsonl"):
        assert modes[Path(name)] == 0o600, name


def test_a_world_whose_dockerd_lives_but_misses_the_ping_counts_as_running(monkeypatch):
    """A loaded machine: the engine is busy (loading the images) and misses the ping; its live dockerd
    still makes the world a running one, never a crash's leftovers."""
    from helpers.world import engine
    from helpers.world.naming import WorldNames

    monkeypatch.setattr(engine, "ping", lambda paths, timeout=1.0: False)
    monkeypatch.setattr(engine, "pid", lambda paths: 4242 if paths.socket.parent.name == "host2" else None)
    assert manager.running_reason(WorldNames("bb")) == "dockerd runs on host2 (pid alive, not answering yet)"
    monkeypatch.setattr(engine, "pid", lambda paths: None)
    assert manager.running_reason(WorldNames("bb")) is None
