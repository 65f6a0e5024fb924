"""Hardening, second round (issue 23): each reproduction of the report, driven as the report drove it.

- world ids are matched whole, and what a newline id left is removed by `down`/`clean` (23.3);
- a file written at a user's request never follows a link another user planted (23.1);
- the world's lock: root's alone, never deleted while waited on, a waiter says what it waits for (23.2);
- no traceback reaches the learner, ports and endpoints are checked as usage (23.5);
- the guard probes the address it checked; a learner's 10.0.0.0/8 network owns nothing of the
  machine's (23.4); network aliases as trace targets (23.7); an engine sees only its own world's
  folders (23.6).

Every `dnlab` runs as its own process (`python -m helpers` from this checkout), as a learner's terminal
runs it. Worlds made here are named after the session world (`own_world_id`), never fixed ids.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.world import netns
from helpers.world.naming import DATA_ROOT, EXIT_USAGE, MARKER_PREFIX, RUN_ROOT, WorldNames
from tests.worlds import own_world_id

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def dnlab(*args: str, world: str | None = None, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """`dnlab [--world W] ARGS` from this checkout, as its own process."""
    argv = [sys.executable, "-m", "helpers", *(["--world", world] if world is not None else []), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env, **kwargs)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# --- 23.3: world ids matched whole; a newline id's leftovers removed -------------------------------

@pytest.mark.parametrize("bad", ["hh\n", "hh\n\n", "h\th", "hh\r", "\nhh"])
def test_a_world_id_with_a_control_character_is_refused(bad):
    for argv in (("status",), ("down",), ("up",)):
        result = dnlab(*argv, world=bad, timeout=30)
        assert result.returncode == EXIT_USAGE, (bad, argv, result.stdout, result.stderr)
        assert "is not valid" in result.stderr and "fix:" in result.stderr
        no_traceback(result)
    env_result = subprocess.run([sys.executable, "-m", "helpers", "status"], capture_output=True, text=True,
                                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "DNLAB_WORLD": bad})
    assert env_result.returncode == EXIT_USAGE, env_result.stderr


def _plant_newline_world(world_id: str) -> tuple[str, list[str], list[Path]]:
    """What `--world $'<id>\\n' up` left before the fix: five labelled namespaces, the state folder
    with its manifest and lock, the engines' data folder. (Planted, so the test needs no old code.)"""
    raw = WorldNames(world_id).prefix + "\n"
    namespaces = [f"{raw}-{role}" for role in ("router", "inet", "host1", "host2", "lanpc")]
    for name in namespaces:
        netns.create(name, MARKER_PREFIX + raw)
    state, data = RUN_ROOT / raw, DATA_ROOT / raw
    (state / "host1").mkdir(parents=True)
    (state / "manifest.json").write_text(json.dumps({"prefix": raw, "namespaces": namespaces}))
    (RUN_ROOT / f"{raw}.lock").write_text("")
    (data / "host1").mkdir(parents=True)
    return raw, namespaces, [state, data, RUN_ROOT / f"{raw}.lock"]


def _left(namespaces: list[str], folders: list[Path]) -> list[str]:
    names = set(netns.list_names())
    return [repr(n) for n in namespaces if n in names] + [repr(str(f)) for f in folders if os.path.lexists(f)]


@pytest.mark.parametrize("verb", ["down", "clean"])
def test_down_and_clean_remove_what_a_newline_world_id_left(verb):
    world_id = own_world_id("nl")
    raw, namespaces, folders = _plant_newline_world(world_id)
    try:
        result = dnlab(verb, world=world_id)
        assert result.returncode == 0, result.stderr
        no_traceback(result)
        assert _left(namespaces, folders) == [], f"`dnlab --world {world_id} {verb}` left: {result.stdout}"
        listed = dnlab("status", "--all", timeout=60)
        assert repr(raw) not in listed.stdout
    finally:
        for name in namespaces:
            if netns.exists(name):
                netns.delete(name)
        for folder in folders:
            subprocess.run(["rm", "-rf", "--", str(folder)], check=False)


def test_status_all_names_a_newline_worlds_leftovers_and_a_bare_clean_is_its_fix():
    world_id = own_world_id("nm")
    raw, namespaces, folders = _plant_newline_world(world_id)
    try:
        listed = dnlab("status", "--all", timeout=60)
        assert listed.returncode == 0, listed.stderr
        line = next((line for line in listed.stdout.splitlines() if "no command accepts" in line), "")
        assert "sudo dnlab clean" in line, listed.stdout
        # The fix it prints, narrowed to this world so the test spares everyone else's leftovers:
        assert dnlab("clean", world=world_id).returncode == 0
        assert _left(namespaces, folders) == []
    finally:
        for name in namespaces:
            if netns.exists(name):
                netns.delete(name)
        for folder in folders:
            subprocess.run(["rm", "-rf", "--", str(folder)], check=False)
