"""Engine versions (helpers/world/engines.py): the `--engine` spec, the machine's Debian mirror, and
the fetch, run against a fake apt (real `dpkg-deb`/`dpkg -x` on tiny packages), so its command lines,
its atomicity and its errors are checked without a network or root."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import cli
from helpers.errors import LabError, UsageError, dnlab_command, with_env
from helpers.world import engines

DATA = Path(__file__).parent / "data"


# --- the spec ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, parsed", [
    ("28", {"host1": "28", "host2": "28"}),
    ("host2=28", {"host2": "28"}),
    ("host1=system,host2=28", {"host1": "system", "host2": "28"}),
    ("28,host1=system", {"host1": "system", "host2": "28"}),
    (" host2=28 ", {"host2": "28"}),
    ("system", {"host1": "system", "host2": "system"}),
    ("", {}),
    (None, {}),
])
def test_spec_parses(spec, parsed):
    assert engines.parse_spec(spec) == parsed


@pytest.mark.parametrize("spec, said", [
    ("27", "unknown engine '27'"),
    ("host2=29", "unknown engine '29'"),
    ("host3=28", "unknown Docker host 'host3'"),
    ("host2=28,host2=system", "host2 named twice"),
    ("28,system", "two engines for every host"),
    ("28,", "empty item"),
    ("host2=", "unknown engine ''"),
])
def test_bad_spec_is_a_usage_error_naming_the_choices(monkeypatch, spec, said):
    monkeypatch.delenv("DNLAB_WORLD", raising=False)  # CI's legs set it: the fix then names that world
    with pytest.raises(UsageError) as raised:
        engines.parse_spec(spec)
    assert said in raised.value.problem
    assert raised.value.fix and raised.value.fix.startswith(dnlab_command("up --engine"))
    monkeypatch.setenv("DNLAB_WORLD", "w3")
    with pytest.raises(UsageError) as raised:
        engines.parse_spec(spec)
    assert raised.value.fix.startswith(dnlab_command("up --engine", "w3"))
    if "unknown engine" in said:
        assert "the engines are system, 28" in raised.value.problem


def test_unknown_engine_exits_2_before_root_is_asked(monkeypatch, capsys):
    monkeypatch.delenv(engines.ENGINE_ENV, raising=False)
    monkeypatch.setenv("DNLAB_WORLD", "t")  # as in CI's legs: the fix names the world the command gave
    code = cli.main(["--world", "zz", "up", "--engine", "27"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown engine '27'" in err and "system, 28" in err
    assert f"fix: {dnlab_command('up --engine 28', 'zz')}" in err, err


def test_the_environment_variable_has_the_same_syntax(monkeypatch, capsys):
    monkeypatch.setenv(engines.ENGINE_ENV, "host9=28")
    assert cli.main(["--world", "zz", "up"]) == 2
    assert "unknown Docker host 'host9'" in capsys.readouterr().err


def test_resolve_keeps_what_the_world_recorded():
    assert engines.resolve({"host2": "28"}, None) == {"host1": "system", "host2": "28"}
    assert engines.resolve({}, {"host1": "system", "host2": "28"}) == {"host1": "system", "host2": "28"}
    assert engines.resolve({"host1": "28"}, {"host1": "system", "host2": "28"}) == {"host1": "28", "host2": "28"}


def test_conflicts_name_each_host_asked_for_another_engine():
    recorded = {"host1": "system", "host2": "28"}
    assert engines.conflicts({"host2": "28"}, recorded) == {}
    assert engines.conflicts({"host1": "28", "host2": "28"}, recorded) == {"host1": ("system", "28")}
    assert engines.conflicts({"host2": "28"}, None) == {"host2": ("system", "28")}


def test_a_running_world_asked_for_another_engine_names_down_then_up(tmp_path):
    from helpers.world import manager
    from helpers.world.naming import WorldNames

    with pytest.raises(LabError) as raised:
        manager.check_engines(WorldNames("ea"), {"host1": "28", "host2": "28"},
                               {"host1": "system", "host2": "28"}, "28")
    assert "host1 runs engine system, asked for 28" in raised.value.problem
    assert raised.value.fix == f"{dnlab_command('down', 'ea')} && {dnlab_command('up', 'ea')} --engine 28"


def test_record_round_trip(tmp_path):
    assert engines.read_record(tmp_path) is None
    engines.write_record(tmp_path, {"host1": "system", "host2": "28"})
    assert engines.read_record(tmp_path) == {"host1": "system", "host2": "28"}


# --- the machine's mirror, and the suite ------------------------------------------------------

def test_mirror_from_this_machines_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    shutil.copy(DATA / "engines_debian12.sources", tmp_path / "sources.list.d" / "debian.sources")
    # Saved from this machine: bookworm from deb.debian.org/debian, and the security archive.
    assert engines.machine_mirror(tmp_path) == "http://deb.debian.org/debian"


def test_mirror_from_a_one_line_sources_list(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb http://security.debian.org/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian/ bookworm main contrib\n")
    assert engines.machine_mirror(tmp_path) == "http://mirror.example.org/debian"


def test_no_debian_mirror(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu noble main\n")
    assert engines.machine_mirror(tmp_path) is None


def test_pick_version_from_saved_madison():
    madison = (DATA / "engines_madison_docker_io.txt").read_text()  # saved here: forky and sid
    assert engines.pick_version(madison, "28", ("forky", "sid")) == ("28.5.2+dfsg4-5", "forky")
    assert engines.pick_version(madison, "28", ("sid", "forky")) == ("28.5.2+dfsg4-5", "sid")
    assert engines.pick_version(madison, "29", ("forky", "sid")) is None


# --- the fetch, with a fake apt -----------------------------------------------------------------

def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _deb(out: Path, name: str, version: str, files: dict[str, str]) -> None:
    tree = out / f"tree-{name}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(f"Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
                                             "Maintainer: t <t@example.org>\nDescription: test\n")
    for inside, body in files.items():
        _script(tree / inside, body)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out / f"{name}_{version}_amd64.deb")],
                   check=True, capture_output=True)
    shutil.rmtree(tree)


@pytest.fixture
def fake_apt(tmp_path):
    """A fake apt-get/apt-cache: `update` as $FAKE_UPDATE says, `madison` the saved output (or none with
    $FAKE_NO_MADISON), `download` copies prebuilt debs into its folder. Each call's argv goes to a log."""
    if shutil.which("dpkg-deb") is None:
        pytest.fail("dpkg-deb is missing: the fetch needs dpkg; fix: sudo apt-get install -y dpkg")
    debs, tools, log = tmp_path / "debs", tmp_path / "tools", tmp_path / "apt.log"
    debs.mkdir()
    _deb(debs, "docker.io", "28.5.2+dfsg4-5", {
        "usr/sbin/dockerd": 'echo "Docker version 28.5.2+dfsg4, build 3ef3c07"\n',
        "usr/sbin/docker-proxy": "exit 0\n"})
    _deb(debs, "containerd", "2.1.9+ds1-5", {
        "usr/bin/containerd": 'echo "containerd github.com/containerd/containerd/v2 2.1.9+unknown"\n',
        "usr/bin/containerd-shim-runc-v2": "exit 0\n", "usr/bin/ctr": "exit 0\n"})
    # As on Debian 12: the package's runc cannot run here.
    _deb(debs, "runc", "1.3.6+ds1-1", {"usr/sbin/runc": "echo \"runc: version `GLIBC_2.38' not found\" >&2; exit 1\n"})
    _deb(debs, "tini-static", "0.19.0-6+b2", {"usr/bin/tini-static": "exit 0\n"})
    madison = DATA / "engines_madison_docker_io.txt"
    _script(tools / "apt-get", f'echo "apt-get $*" >> {log}\n'
            'case " $* " in *" update"*) [ -z "$FAKE_UPDATE_FAILS" ] || { echo "E: Failed to fetch '
            'http://mirror/debian/dists/forky/InRelease Could not resolve" >&2; exit 100; } ;; '
            f'*" download "*) cp {debs}/*.deb . ;; esac\n')
    _script(tools / "apt-cache", f'echo "apt-cache $*" >> {log}\n[ -n "$FAKE_NO_MADISON" ] || cat {madison}\n')
    apt_dir = tmp_path / "etc-apt"
    (apt_dir / "sources.list.d").mkdir(parents=True)
    shutil.copy(DATA / "engines_debian12.sources", apt_dir / "sources.list.d" / "debian.sources")
    return {"tools": engines.Tools(str(tools / "apt-get"), str(tools / "apt-cache")), "log": log,
            "apt_dir": apt_dir, "root": tmp_path / "cache", "debs": debs}


def _fetch(fake):
    return engines.fetch("28", root=fake["root"], tools=fake["tools"], apt_dir=fake["apt_dir"])


def test_fetch_uses_a_private_apt_and_caches_a_whole_release(fake_apt, monkeypatch):
    monkeypatch.delenv(engines.MIRROR_ENV, raising=False)
    folder = _fetch(fake_apt)
    assert folder == fake_apt["root"] / "28.5.2"
    found = json.loads((folder / engines.MANIFEST).read_text())
    assert found["dockerd"] == "28.5.2" and found["packages"]["suite"] == "forky"
    assert found["packages"]["containerd"] == "2.1.9+ds1-5"
    assert found["runc"].startswith("the machine's")
    # bin/: the release's binaries, and no runc (the machine's is found on PATH after it)
    assert sorted(p.name for p in (folder / "bin").iterdir()) == sorted(engines.BINARIES)
    assert all((folder / "bin" / name).resolve().is_file() for name in engines.BINARIES)
    assert not (folder / "bin" / "runc").exists()
    # Programs nothing links are not kept (ctr); the linked ones are.
    assert not (folder / "root/usr/bin/ctr").exists() and (folder / "root/usr/bin/containerd").is_file()
    assert [p.name for p in fake_apt["root"].iterdir() if p.name.startswith(".fetch")] == []
    calls = fake_apt["log"].read_text().splitlines()
    assert [c.split()[0] + " " + c.split()[-1] for c in calls[:2]] == ["apt-get update", "apt-cache docker.io"]
    download = calls[2]
    assert download.endswith("download docker.io=28.5.2+dfsg4-5 containerd/forky runc/forky tini-static/forky")
    for call in calls:  # every call reads the fetch's own sources and keeps its lists and cache there
        assert "Dir::Etc::sourcelist=" + str(fake_apt["root"]) in call
        assert "Dir::State::lists=" + str(fake_apt["root"]) in call and "Dir::Cache=" + str(fake_apt["root"]) in call
        assert "/etc/apt" not in call
    # The second time, the cache answers: no apt at all.
    fake_apt["log"].unlink()
    assert _fetch(fake_apt) == folder and not fake_apt["log"].exists()
    assert engines.bin_dir("28", root=fake_apt["root"]) == folder / "bin"
    assert engines.bin_dir("system", root=fake_apt["root"]) is None


def test_the_private_sources_name_the_machines_mirror_and_both_suites(tmp_path):
    engines._private_apt(tmp_path, "http://deb.debian.org/debian", ("forky", "sid"))
    lines = (tmp_path / "sources.list").read_text().splitlines()
    mirror = "http://deb.debian.org/debian"
    assert [line.split()[-3:] for line in lines] == [[mirror, s, "main"] for s in ("forky", "sid")]


def test_an_unreachable_archive_names_the_package_and_the_fix(fake_apt, monkeypatch):
    monkeypatch.delenv(engines.MIRROR_ENV, raising=False)
    monkeypatch.setenv("FAKE_UPDATE_FAILS", "1")
    monkeypatch.setenv("FAKE_NO_MADISON", "1")
    with pytest.raises(LabError) as raised:
        _fetch(fake_apt)
    problem = raised.value.problem
    assert "docker.io" in problem and "http://deb.debian.org/debian" in problem and "Could not resolve" in problem
    assert dnlab_command("engines fetch 28") in raised.value.fix
    assert list(fake_apt["root"].iterdir()) == [fake_apt["root"] / ".lock"]  # nothing half-made


def test_a_dockerd_of_another_version_leaves_nothing(fake_apt, monkeypatch, tmp_path):
    # Rebuild docker.io with a dockerd that answers as 20.10: the check must refuse it.
    _deb(fake_apt["debs"], "docker.io", "28.5.2+dfsg4-5", {
        "usr/sbin/dockerd": 'echo "Docker version 20.10.24+dfsg1, build 5d6db84"\n',
        "usr/sbin/docker-proxy": "exit 0\n"})
    with pytest.raises(LabError) as raised:
        _fetch(fake_apt)
    assert "does not answer as Docker 28" in raised.value.problem and "20.10.24" in raised.value.problem
    assert engines.cached("28", fake_apt["root"]) is None
    assert list(fake_apt["root"].iterdir()) == [fake_apt["root"] / ".lock"]


def test_a_killed_fetchs_leftover_is_swept_and_never_taken_for_a_release(fake_apt):
    leftover = fake_apt["root"] / ".fetch-28-99999" / "stage"
    leftover.mkdir(parents=True)
    (fake_apt["root"] / "28.5.1").mkdir()  # no manifest: not a whole release
    assert engines.cached("28", fake_apt["root"]) is None
    folder = _fetch(fake_apt)
    assert folder.name == "28.5.2" and not leftover.parent.exists()


def test_no_debian_archive_names_the_mirror_variable(fake_apt, monkeypatch):
    monkeypatch.delenv(engines.MIRROR_ENV, raising=False)
    (fake_apt["apt_dir"] / "sources.list.d" / "debian.sources").unlink()
    with pytest.raises(LabError) as raised:
        _fetch(fake_apt)
    assert "no Debian archive" in raised.value.problem
    assert raised.value.fix == with_env(dnlab_command("engines fetch 28"), "DNLAB_ENGINE_MIRROR=http://deb.debian.org/debian")


def test_not_fetched_without_fetching_names_the_command(tmp_path):
    with pytest.raises(LabError) as raised:
        engines.bin_dir("28", fetch_missing=False, root=tmp_path)
    assert raised.value.fix == dnlab_command("engines fetch 28")


# --- what doctor shows ------------------------------------------------------------------------

def test_doctor_shows_each_hosts_engine_and_the_notes_of_each_version(monkeypatch):
    from helpers.world import doctor

    monkeypatch.setattr(doctor, "engine_versions", lambda: {
        "distribution": "Debian GNU/Linux 12 (bookworm)", "dockerd": "Docker version 20.10.24+dfsg1, build 5d6db84",
        "docker CLI": "Docker version 20.10.24+dfsg1, build 5d6db84"})
    monkeypatch.setattr(doctor, "world_engines", lambda world_id=None: {
        "host1": {"engine": "system", "version": "20.10.24+dfsg1"},
        "host2": {"engine": "28", "version": "28.5.2+dfsg4"}})
    monkeypatch.setattr(engines, "available", lambda root=None: {"system": {}, "28": None})
    report = doctor.engine_report("ea")
    assert "  host1: Docker 20.10.24+dfsg1 (engine system)\n  host2: Docker 28.5.2+dfsg4 (engine 28)" in report
    assert f"28: not fetched; fetch it once: {dnlab_command('engines fetch 28')}" in report
    assert "(this machine's is Docker 20.10.24;" in report and "(a host's is Docker 28.5.2;" in report
    # each block renders its own version's truth (the table's: 28 keeps the isolation chains beside DOCKER-FORWARD)
    blocks = report.split("Statements that differ")
    assert "DOCKER-FORWARD" not in blocks[1] and "DOCKER-FORWARD" in blocks[2]


def test_doctor_without_a_running_world_shows_no_hosts(monkeypatch, tmp_path):
    from helpers.world import doctor

    monkeypatch.setattr(doctor, "world_engines", lambda world_id=None: {})
    report = doctor.engine_report("ea")
    assert "This world's engines" not in report and "Engines a host can run" in report
