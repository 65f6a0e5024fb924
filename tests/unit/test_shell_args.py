"""`dnlab shell`: argument errors name the fix; the shell's command line and environment (no root needed)."""
from __future__ import annotations

import pytest

from helpers import cli
from helpers.errors import dnlab_command
from helpers.world import netns, proc, shell
from helpers.world.naming import WorldNames


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_unknown_machine_lists_the_valid_ones(capsys):
    code, err = run(capsys, "--world", "zz", "shell", "host3")
    assert code == 2
    assert "unknown machine 'host3'" in err
    for machine in ("host1", "host2", "lanpc", "router", "inet"):
        assert machine in err


def test_shell_needs_root(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 1000)
    code, err = run(capsys, "--world", "zz", "shell", "host1")
    assert code == 4 and "needs root" in err  # a lab error (helpers.errors.EXIT_LAB_ERROR), not a usage error


@pytest.mark.parametrize("world_args, fix", [(["--world", "zz"], f"fix: {dnlab_command('up', 'zz')}"),
                                             ([], f"fix: {dnlab_command('up')}")])
def test_world_not_up_gives_the_one_command_that_fixes_it(monkeypatch, capsys, world_args, fix):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    monkeypatch.delenv("DNLAB_WORLD", raising=False)
    monkeypatch.setattr(netns, "exists", lambda name: False)
    code, err = run(capsys, *world_args, "shell", "lanpc", "--", "true")
    assert code == 4
    assert "is not up" in err and fix in err


def test_world_comes_from_the_environment(monkeypatch, capsys):
    monkeypatch.setattr(proc.os, "geteuid", lambda: 0)
    monkeypatch.setenv("DNLAB_WORLD", "qq")
    monkeypatch.setattr(netns, "exists", lambda name: False)
    code, err = run(capsys, "shell", "host2")
    assert code == 4 and "dnlab-qq-host2" in err


def test_bad_world_id_is_refused(capsys):
    code, err = run(capsys, "--world", "Bad!", "shell", "host1")
    assert code == 2 and "fix: export DNLAB_WORLD=w2" in err


def test_interactive_shell_enters_the_namespace_with_nsenter_not_ip_netns_exec():
    argv = shell.shell_argv(WorldNames("zz"), "host1")
    assert argv[0].endswith("nsenter") and argv[1] == "--net=/run/netns/dnlab-zz-host1"
    assert "netns" not in argv[2:] and argv[-1] == "-i"


def test_one_command_line_runs_through_sh_so_pipes_work():
    argv = shell.shell_argv(WorldNames("zz"), "router", ["iptables-save -t nat | grep DNAT"])
    assert argv[2].endswith("sh") and argv[3:] == ["-c", "iptables-save -t nat | grep DNAT"]


def test_several_words_run_as_argv():
    argv = shell.shell_argv(WorldNames("zz"), "host1", ["docker", "ps", "-a"])
    assert argv[2:] == ["docker", "ps", "-a"]


def test_environment_points_docker_at_the_hosts_own_engine():
    names = WorldNames("zz")
    env = shell.shell_env(names, "host1", {"DOCKER_CONTEXT": "other", "DOCKER_HOST": "tcp://x", "HOME": "/root"})
    assert env["DOCKER_HOST"] == names.host("host1").base_url
    assert "DOCKER_CONTEXT" not in env and env["HOME"] == "/root"
    assert env["PS1"] == "[dnlab-zz host1]# " and env["DNLAB_WORLD"] == "zz"


def test_machines_without_an_engine_never_reach_a_real_one():
    env = shell.shell_env(WorldNames(None), "lanpc", {})
    assert env["PS1"] == "[dnlab lanpc]# "
    assert env["DOCKER_HOST"].startswith("unix:///dev/null/") and "lanpc" in env["DOCKER_HOST"]
