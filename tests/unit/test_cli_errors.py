"""Clear errors: each names what is wrong and the one command that fixes it (no root needed)."""
import pytest

from helpers import cli
from helpers.world import proc


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_not_root_says_so_and_how(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 1000)
    for command in (["up"], ["down"], ["clean"]):
        code, err = run(capsys, *command)
        assert code == 2
        assert "needs root" in err and "fix: sudo" in err


def test_a_missing_tool_names_its_package(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    monkeypatch.setattr(proc.shutil, "which", lambda tool, path=None: None)
    code, err = run(capsys, "--world", "zz", "up")
    assert code == 2
    assert "`ip` is not installed" in err and "fix: sudo apt-get install -y iproute2" in err


def test_bad_world_id(capsys):
    code, err = run(capsys, "--world", "Bad!", "status")
    assert code == 2 and "fix: export DNLAB_WORLD=w2" in err


@pytest.mark.parametrize("tool, package", [("dockerd", "docker.io"), ("busybox", "busybox-static"),
                                           ("conntrack", "conntrack"), ("tcpdump", "tcpdump")])
def test_each_tool_maps_to_its_debian_package(monkeypatch, tool, package):
    monkeypatch.setattr(proc.shutil, "which", lambda name, path=None: None)
    with pytest.raises(proc.MissingToolError) as missing:
        proc.which(tool)
    assert missing.value.fix == f"sudo apt-get install -y {package}"


def test_path_without_a_probe_or_a_saved_run(capsys, tmp_path):
    code, err = run(capsys, "path", "user-bridge")
    assert code == 2 and "needs a SCENARIO and a PROBE" in err and "fix: dnlab path user-bridge egress" in err
    code, err = run(capsys, "path", "--from", str(tmp_path))
    assert code == 2 and "holds no saved run" in err and f"--keep {tmp_path}" in err
