"""Printed fix commands run as printed (issue 20.7): `dnlab` is the course venv's, on no PATH (not
root's, not sudo's), so a fix says `.venv/bin/dnlab` (from the repository, where JupyterLab's terminals
open) or the venv's full path; `sudo` only for a learner who is not root, and it drops $DNLAB_WORLD,
so a world other than the default one is named with `--world`. The labs' "tools that help" lines
name the learner's world the same way.

The old fixes said `sudo dnlab ...`: on this machine (root, no sudo, dnlab only in .venv) they do not
run at all; the tests below run the printed lines for real."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import errors, labs
from helpers.world import manager, shell
from helpers.world.naming import WorldNames

REPO = Path(__file__).resolve().parents[2]


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}  # a fresh shell's: no venv on it
    return subprocess.run(["sh", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("where", ["repository", "elsewhere"])
def test_a_printed_fix_runs_as_printed(where, tmp_path, monkeypatch):
    cwd = REPO if where == "repository" else tmp_path
    monkeypatch.chdir(cwd)  # where the learner is: the command is printed for there
    command = manager.command_for(WorldNames("w2"), "lab list")
    assert "--world w2" in command
    ran = _run(command, cwd)
    assert ran.returncode == 0, f"`{command}` from {cwd}: {ran.stderr}"
    assert "labs of world dnlab-w2" in ran.stdout


def test_up_command_names_the_world_and_runs(monkeypatch):
    monkeypatch.chdir(REPO)
    command = shell.up_command(WorldNames("w2")).replace(" up", " lab list")  # up itself would make a world
    assert _run(command, REPO).returncode == 0, command


def test_sudo_only_for_a_learner_who_is_not_root(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setattr(errors.os, "geteuid", lambda: 0)
    assert errors.dnlab_command("up", "w2") == ".venv/bin/dnlab --world w2 up"
    assert errors.dnlab_command("down") == ".venv/bin/dnlab down"
    monkeypatch.setenv("SUDO_USER", "ada")  # a root process started through sudo: the learner's shell is ada's
    assert errors.dnlab_command("up", "w2") == "sudo .venv/bin/dnlab --world w2 up"
    monkeypatch.delenv("SUDO_USER")
    monkeypatch.setattr(errors.os, "geteuid", lambda: 1000)
    assert errors.dnlab_command("up") == "sudo .venv/bin/dnlab up"
    # An environment setting goes after sudo, which drops the caller's.
    assert errors.with_env("sudo .venv/bin/dnlab up", "X=1") == "sudo X=1 .venv/bin/dnlab up"
    assert errors.with_env(".venv/bin/dnlab up", "X=1") == "X=1 .venv/bin/dnlab up"


def test_the_program_is_the_venvs_from_anywhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert errors.dnlab_program() == str(REPO / ".venv" / "bin" / "dnlab")
    monkeypatch.chdir(REPO / "notebooks")  # a terminal there: the relative form would not run
    assert errors.dnlab_program() == str(REPO / ".venv" / "bin" / "dnlab")
    monkeypatch.setattr(sys, "argv", ["/x/ipykernel_launcher.py", "-f", "k.json"])  # a chapter's kernel: notebooks/
    assert errors.dnlab_program() == ".venv/bin/dnlab"                # ...its JupyterLab terminal at the root


def _world(world_id: str | None):
    names = WorldNames(world_id)
    return SimpleNamespace(names=names, prefix=names.prefix)


LABS_WITH_A_TERMINAL = [lab for lab in labs.all_labs()
                        if "{dnlab}" in " ".join([*lab.tasks, lab.tools])]


@pytest.mark.parametrize("lab", LABS_WITH_A_TERMINAL, ids=lambda lab: str(lab.number))
def test_a_labs_tools_that_help_name_the_learners_world(lab, monkeypatch):
    monkeypatch.chdir(REPO)
    text = lab.task_markdown(_world("w2"))
    assert "{dnlab}" not in text and "<prefix>" not in text
    typed = errors.dnlab_command("", "w2")
    for line in text.splitlines():
        for part in line.split("`")[1::2]:          # every code span
            if "dnlab " in part and "dnlab/" not in part:
                assert part.startswith(typed), f"lab {lab.number}: `{part}` does not name world w2"
    default = lab.task_markdown(_world(None))
    assert "--world" not in default and errors.dnlab_command("") in default


def test_the_lab_notebooks_written_ahead_say_the_readmes_form():
    text = "\n".join(lab.markdown() for lab in labs.all_labs())
    assert "{dnlab}" not in text and "sudo .venv/bin/dnlab shell host1" in text
    assert "`dnlab lab start" not in text


def test_no_fix_in_helpers_says_sudo_dnlab():
    """`sudo dnlab` never runs: sudo's PATH has no venv. Every fix is written by errors.dnlab_command."""
    found = []
    for path in sorted((REPO / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "sudo dnlab" in node.value:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not found, found
