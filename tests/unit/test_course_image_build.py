"""The course image's offline build: the Dockerfile's settings as `docker import --change` lines (read
from the real Dockerfile, so `make course-image` and `docker build` cannot drift), the one steps script
both builds run, the entrypoint's cgroup v2 step, and the capability filter of the throwaway engine's runtime."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from helpers.errors import LabError
from helpers.hosting import course_image, runc_caps
from helpers.hosting.course_image import COURSE_IMAGE, COURSE_IMAGE_PORT

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_changes_of_the_real_dockerfile():
    changes = course_image.import_changes(DOCKERFILE)
    kinds = [line.split()[0] for line in changes]
    assert {"ENV", "WORKDIR", "VOLUME", "EXPOSE", "ENTRYPOINT"} <= set(kinds)
    assert f"EXPOSE {COURSE_IMAGE_PORT}" in changes
    assert "VOLUME /var/lib/dnlab" in changes
    entrypoint = json.loads(next(line for line in changes if line.startswith("ENTRYPOINT")).split(None, 1)[1])
    # The entrypoint the import sets is a file of the repository at the place the steps put it.
    assert entrypoint[0].startswith("/opt/dnlab/") and (ROOT / entrypoint[0].removeprefix("/opt/dnlab/")).is_file()
    path = next(line for line in changes if line.startswith("ENV")).split("PATH=", 1)[1].split()[0]
    assert path.split(":")[0] == "/opt/dnlab/.venv/bin"   # `make test`, `dnlab`, `jupyter` found inside


def test_the_dockerfile_runs_the_steps_script_and_nothing_else():
    runs = [line for line in course_image.logical_lines(DOCKERFILE) if line.split()[0] == "RUN"]
    assert runs == ['RUN bash /opt/dnlab/scripts/course-image/steps.sh "$VARIANT"']
    build = (ROOT / "scripts/course-image/build.sh").read_text()
    assert "scripts/course-image/steps.sh" in build


def test_parser_joins_continuations_skips_comments_and_keeps_the_last_stage():
    text = ("FROM a AS build\nENV X=1\n# a comment\nFROM debian:trixie\nENV A=1 \\\n    B=2\n"
            "RUN true\nCMD [\"sh\"]\n")
    assert course_image.import_changes(text) == ["ENV A=1 B=2", 'CMD ["sh"]']


def test_an_instruction_import_cannot_carry_is_an_error():
    with pytest.raises(LabError, match="HEALTHCHECK"):
        course_image.import_changes("FROM debian:trixie\nHEALTHCHECK CMD true\n")


def test_import_command_is_shell_quoted():
    command = course_image.import_command(["ENV A=1 B=2", 'ENTRYPOINT ["/x"]'], Path("/c/rootfs.tar"))
    assert shlex.split(command) == ["docker", "import", "--change", "ENV A=1 B=2", "--change", 'ENTRYPOINT ["/x"]',
                                    "/c/rootfs.tar", COURSE_IMAGE]


def test_entrypoint_moves_processes_before_enabling_controllers():
    script = (ROOT / "scripts/course-image/entrypoint.sh").read_text()
    body = script[script.index("nest_cgroup_v2() {"):]
    assert body.index("init/cgroup.procs") < body.index("cgroup.subtree_control")
    # The refusal names the exact command that works.
    assert "docker run --rm -it --privileged -p 127.0.0.1:$PORT:$PORT dnlab/course" in script
    assert re.search(rf"PORT={COURSE_IMAGE_PORT}\b", script)


STATUS = "Name:\tx\nCapBnd:\t000001fffeffffff\n"   # this machine's: every capability but SYS_RESOURCE (24)


def test_withheld_capabilities_from_the_bounding_set():
    assert runc_caps.withheld(STATUS, 40) == {"CAP_SYS_RESOURCE"}
    assert runc_caps.withheld("CapBnd:\t000001ffffffffff\n", 40) == set()
    # A kernel that knows fewer capabilities is not "withholding" the ones it lacks.
    assert runc_caps.withheld("CapBnd:\t000000ffffffffff\n", 39) == set()


def test_filter_removes_only_the_withheld(tmp_path):
    config = {"ociVersion": "1.0.2", "process": {"capabilities": {
        "bounding": ["CAP_NET_ADMIN", "CAP_SYS_RESOURCE"], "effective": ["CAP_SYS_RESOURCE"], "ambient": []}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    spec = runc_caps.spec_file(["--root", "/r", "create", "--bundle", str(tmp_path), "--pid-file", "p", "id"])
    assert spec == tmp_path / "config.json"
    runc_caps.rewrite(spec, {"CAP_SYS_RESOURCE"})
    caps = json.loads(spec.read_text())["process"]["capabilities"]
    assert caps == {"bounding": ["CAP_NET_ADMIN"], "effective": [], "ambient": []}


def test_exec_process_file_is_found():
    assert runc_caps.spec_file(["exec", "--process", "/tmp/p.json", "id"]) == Path("/tmp/p.json")
    assert runc_caps.spec_file(["state", "id"]) is None


def _fake_cgroup_v2(tmp_path: Path, self_cgroup: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.procs").write_text("1\n42\n")
    (root / "cgroup.subtree_control").write_text("")
    own = tmp_path / "self-cgroup"
    own.write_text(self_cgroup + "\n")
    return root, own


def _nest(root: Path, own: Path) -> subprocess.CompletedProcess:
    entrypoint = ROOT / "scripts/course-image/entrypoint.sh"
    return subprocess.run(["bash", "-c", f"source {shlex.quote(str(entrypoint))}; nest_cgroup_v2"],
                          env={"PATH": "/usr/bin:/bin", "DNLAB_CGROUP_ROOT": str(root), "DNLAB_SELF_CGROUP": str(own)},
                          capture_output=True, text=True)


def test_cgroup_v2_step_moves_processes_into_init_and_enables_each_controller(tmp_path):
    root, own = _fake_cgroup_v2(tmp_path, "0::/")
    # Plain files stand in for the kernel's: only the last write to each stays.
    result = _nest(root, own)
    assert result.returncode == 0, result.stderr
    assert (root / "init").is_dir()
    assert (root / "init/cgroup.procs").read_text().strip() in {"1", "42"}   # processes were moved
    assert (root / "cgroup.subtree_control").read_text().strip() == "+pids"   # the last of "+cpu +memory +pids"


def test_cgroup_v2_step_leaves_a_shared_cgroup_namespace_alone(tmp_path):
    root, own = _fake_cgroup_v2(tmp_path, "0::/docker/abc")
    result = _nest(root, own)
    assert result.returncode == 0, result.stderr
    assert not (root / "init").exists()
    assert "without a private cgroup namespace" in result.stderr


def test_engines_use_cgroupfs_so_a_path_cgroup_parent_works_under_systemd_on_cgroup_v2():
    from helpers.world import engine

    config = engine.daemon_config("/dnlab-host1")
    assert config["cgroup-parent"] == "/dnlab-host1"
    assert "native.cgroupdriver=cgroupfs" in config["exec-opts"]


def test_doctor_finds_an_engines_tools_in_its_bin_when_the_machine_has_none(tmp_path, monkeypatch):
    """The learner image carries Docker 28 alone (no dockerd on PATH): doctor looks in the bin/ of the
    engine the world's `up` runs; for the machine's engine (`system`) a missing dockerd stays MISSING."""
    from helpers.world import doctor, engines

    bins = tmp_path / "28.5.2" / "bin"
    bins.mkdir(parents=True)
    (bins / "dockerd").write_text("#!/bin/sh\n")
    (bins / "dockerd").chmod(0o755)
    monkeypatch.setattr(engines, "bin_dir", lambda choice, fetch_missing=True, root=None:
                        None if choice == engines.SYSTEM else bins)
    monkeypatch.setattr(doctor.shutil, "which", lambda *a, **k: None)
    monkeypatch.setenv("DNLAB_WORLD", "zz")
    monkeypatch.setattr(engines, "read_record", lambda state_dir: None)
    monkeypatch.setenv(engines.ENGINE_ENV, "28")
    found = doctor._engine_tool("dockerd", None)
    assert found.ok and found.detail == str(bins / "dockerd")
    monkeypatch.delenv(engines.ENGINE_ENV)
    assert not doctor._engine_tool("dockerd", None).ok
    monkeypatch.setenv(engines.ENGINE_ENV, "host2=28")   # host1 still the machine's: its dockerd is missing
    assert not doctor._engine_tool("dockerd", None).ok


def _stop_all(tmp_path: Path, server: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The entrypoint's stop_all as `docker stop` runs it (SIGTERM to the entrypoint), with a fake `dnlab`
    and a fake server (`server`: a shell body run in the background) that each write when they begin and
    end what stopping asks of them. The order of those lines."""
    events = tmp_path / "events"
    (tmp_path / "dnlab").write_text(f"#!/bin/sh\necho \"world down $*\" >> {events}\nsleep 0.5\n"
                                    f"echo 'world gone' >> {events}\n")
    (tmp_path / "dnlab").chmod(0o755)
    entrypoint = ROOT / "scripts/course-image/entrypoint.sh"
    script = (f"set -euo pipefail; source {shlex.quote(str(entrypoint))}; trap stop_all TERM INT\n"
              f"{server} & server_pid=$!\nsleep 0.2; kill -TERM $$; wait \"$server_pid\" || true\n")
    result = subprocess.run(["bash", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin", "EVENTS": str(events)},
                            capture_output=True, text=True, timeout=30)
    return result, events.read_text().splitlines()


def test_stopping_takes_the_server_and_the_world_down_side_by_side(tmp_path):
    """`docker stop` waits for both, so neither waits for the other: the world goes down while the
    server is still shutting down (one after the other cost a culled learner's stop 1.3-2.7 s more)."""
    server = ("( trap 'echo \"server stopping\" >> \"$EVENTS\"; sleep 0.5;"
              " echo \"server gone\" >> \"$EVENTS\"; exit 0' TERM; while true; do sleep 0.05; done )")
    result, order = _stop_all(tmp_path, server)
    assert result.returncode == 0, result.stderr
    assert "taking the lab world down" in result.stderr
    assert order.index("world down down") < order.index("server gone")
    assert order.index("server stopping") < order.index("world gone")
    assert order[-1] in ("server gone", "world gone") and len(order) == 4


def test_stopping_takes_the_world_down_when_the_server_has_already_gone(tmp_path):
    result, order = _stop_all(tmp_path, "true")
    assert result.returncode == 0, result.stderr
    assert order == ["world down down", "world gone"]
