"""Clear errors: each names what is wrong and the one command that fixes it (no root needed).
Usage errors (the command line, $DNLAB_WORLD) exit 2, lab errors 4 (errors.EXIT_*)."""
import subprocess
import sys

import pytest

from helpers import cli, errors
from helpers.errors import dnlab_command
from helpers.world import proc


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_not_root_says_so_and_how(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 1000)
    for command in (["up"], ["down"], ["clean"]):
        code, err = run(capsys, *command)
        assert code == 4
        assert "needs root" in err and "fix: sudo" in err


def test_a_missing_tool_names_its_package(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    monkeypatch.setattr(proc.shutil, "which", lambda tool, path=None: None)
    code, err = run(capsys, "--world", "zz", "up")
    assert code == 4
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


@pytest.mark.parametrize("command", [["status"], ["up"], ["down"], ["clean"], ["path", "--from", "/nonexistent"]])
def test_an_empty_world_id_is_a_usage_error_never_the_default_world(monkeypatch, capsys, command):
    from helpers.world import manager

    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    # Should the check ever fail, nothing real is swept, made or removed on this machine.
    for action in ("clean", "up", "down", "status"):
        monkeypatch.setattr(manager, action, lambda *a, **k: pytest.fail("acted on a world with an empty id"))
    monkeypatch.delenv("DNLAB_WORLD", raising=False)
    code, err = run(capsys, "--world", "", *command)
    assert code == 2 and "world id is empty (--world '')" in err and f"fix: {dnlab_command('...', 'w2')}" in err
    monkeypatch.setenv("DNLAB_WORLD", "")
    code, err = run(capsys, *command)
    assert code == 2 and "world id is empty (DNLAB_WORLD='')" in err and "fix: unset DNLAB_WORLD" in err


def test_an_empty_world_id_is_refused_by_the_python_entry_too(monkeypatch):
    from helpers.errors import UsageError
    from helpers.world import manager

    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    with pytest.raises(UsageError, match="world id is empty"):
        manager.up("")
    monkeypatch.setenv("DNLAB_WORLD", "")
    with pytest.raises(UsageError, match="world id is empty"):
        manager.status()


def test_usage_errors_and_lab_errors_have_distinct_exit_statuses(monkeypatch, capsys):

    assert len({errors.EXIT_CHECK_FAILED, errors.EXIT_USAGE, errors.EXIT_NOT_UP, errors.EXIT_LAB_ERROR,
                errors.EXIT_BROKEN_PIPE}) == 5
    with pytest.raises(SystemExit) as argparse_error:
        cli.main(["no-such-command"])
    assert argparse_error.value.code == errors.EXIT_USAGE
    monkeypatch.setattr(proc.os, "geteuid", lambda: 1000)
    code, _ = run(capsys, "up")
    assert code == errors.EXIT_LAB_ERROR
    assert "exit status" in cli.build_parser().format_help()


def test_a_malformed_saved_run_is_one_line(capsys, tmp_path):
    for text in ('{"x":', "{}", "[]"):
        (tmp_path / "run.json").write_text(text)
        code, err = run(capsys, "path", "--from", str(tmp_path))
        assert code == 2, err
        assert "is not a readable saved run" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 2  # the problem, then its fix


@pytest.mark.parametrize("port", ["0", "65536", "-1", "http"])
def test_explorer_port_is_range_checked(capsys, port):
    with pytest.raises(SystemExit) as refused:
        cli.main(["--world", "zz", "explorer", "--port", port, "--print-command"])
    assert refused.value.code == 2
    assert "1 to 65535" in capsys.readouterr().err


def test_explorer_prints_a_url_with_a_token_and_gives_it_to_voila_only_through_the_environment(capsys):
    from helpers.cli import explorer

    code = cli.main(["--world", "zz", "explorer", "--port", "8999", "--print-command"])
    printed = capsys.readouterr().out
    assert code == 0 and "--token" in printed.split()
    env = explorer.voila_env("zz", "t0ken")
    assert env["JUPYTER_TOKEN"] == "t0ken" and env["DNLAB_WORLD"] == "zz"
    assert "t0ken" not in " ".join(explorer.voila_command(8999))  # never on a command line `ps` shows
    assert explorer.url(8999, "t0ken") == "http://127.0.0.1:8999/?token=t0ken"
    first, second = explorer.new_token(), explorer.new_token()
    assert first != second and len(first) >= 32


def test_a_closed_stdout_ends_quietly():
    """`dnlab status | head -1`: no BrokenPipeError traceback, the shell's SIGPIPE status (141)."""
    # A status far longer than a pipe's buffer, so the write really meets the closed pipe.
    code = ("import sys; from helpers import cli; "
            "cli._status = lambda args: [print('line', i) for i in range(100000)] and 0; "
            "sys.exit(cli.main(['--world', 'zz', 'status']))")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"line 0\n"
    child.stdout.close()
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(60) == 141 and "Traceback" not in err, err


def test_helpers_submodules_load_on_first_use():
    """`import helpers; helpers.path.trace` works without importing helpers.path first."""
    shown = subprocess.run([sys.executable, "-c", "import sys, helpers; assert 'helpers.path' not in sys.modules; "
                            "print(helpers.path.trace.__module__, helpers.world.naming.COURSE)"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["helpers.path.tracer", "dnlab"]
    with pytest.raises(AttributeError):
        import helpers

        helpers.no_such_room  # noqa: B018 - the attribute access is the test


def test_ctrl_c_ends_in_one_line_and_status_130_not_a_traceback(monkeypatch, capsys):
    from helpers.errors import EXIT_INTERRUPTED

    def interrupted(args):
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of any command

    monkeypatch.setattr(cli, "_check_world", interrupted)
    code, err = run(capsys, "--world", "w7", "up")
    assert code == EXIT_INTERRUPTED == 130
    assert "dnlab: up interrupted (Ctrl-C)" in err and "Traceback" not in err
    assert err.rstrip().endswith("--world w7 status"), err
