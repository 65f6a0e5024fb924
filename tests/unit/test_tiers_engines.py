"""The test files CI's Docker 28 leg leaves out (tests/tiers.py SAME_ON_EVERY_SESSION_ENGINE) never ask
for the session world's engines, which are all that $DNLAB_ENGINE changes: no test or fixture takes the
session world (`world`, `lab_world`) except where named below with what it is used for, none calls
`lab()`, and each `up()` names its engines or runs with $DNLAB_ENGINE removed. A file that starts to
meet the session's engines fails here until it leaves the table (and runs on the Docker 28 leg again);
.ci/run passes the table's --ignore options."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tiers

ROOT = Path(__file__).resolve().parents[2]
# (file, function) -> why it takes the session world without meeting its engines
SESSION_WORLD_ONLY_FOR = {
    ("tests/integration/test_claims_ch07_engines.py", "side"):
        "ch07.side_world and take_down read only its id (the side world's id and its adoption for `down`)",
}


def _functions(tree: ast.Module):
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _drops_engine_env(function: ast.FunctionDef) -> bool:
    """The function removes $DNLAB_ENGINE first (`monkeypatch.delenv(engines.ENGINE_ENV, ...)`)."""
    return any(isinstance(n, ast.Call) and _called(n) == "delenv" and "ENGINE_ENV" in ast.unparse(n.args[0])
               for n in ast.walk(function) if isinstance(n, ast.Call) and n.args)


@pytest.mark.parametrize("relative", sorted(tiers.SAME_ON_EVERY_SESSION_ENGINE))
def test_a_file_left_out_on_other_engines_never_meets_the_session_engines(relative):
    tree = ast.parse((ROOT / relative).read_text())
    assert tiers.tier_of(relative) in ("world", "lifecycle", "browser"), relative
    for function in _functions(tree):
        params = {a.arg for a in function.args.args + function.args.kwonlyargs}
        if params & {"world", "lab_world"}:
            assert (relative, function.name) in SESSION_WORLD_ONLY_FOR, \
                f"{relative}::{function.name} takes the session world: it runs on $DNLAB_ENGINE's engines"
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            name = _called(call)
            assert name != "lab", f"{relative}::{function.name} calls lab(): the session's engines"
            if name == "up":
                named = len(call.args) >= 2 or any(k.arg == "engine_spec" for k in call.keywords)
                assert named or _drops_engine_env(function), \
                    f"{relative}::{function.name}: up() without an engine spec takes $DNLAB_ENGINE's"
            words = {n.value for arg in call.args for n in ast.walk(arg) if isinstance(n, ast.Constant)}
            if "up" in words:  # `dnlab ... up` as a command line
                assert "--engine" in words or _drops_engine_env(function), \
                    f"{relative}::{function.name}: `dnlab up` without --engine takes $DNLAB_ENGINE's"


@pytest.mark.parametrize("relative", sorted(tiers.UI_SAME_ON_EVERY_SESSION_ENGINE))
def test_a_ui_file_left_out_of_the_docker_28_leg_is_a_browser_test_and_says_where_its_facts_are_checked(relative):
    assert tiers.tier_of(relative) == "browser", relative
    named = [word for word in tiers.UI_SAME_ON_EVERY_SESSION_ENGINE[relative].split() if word.startswith("tests/")]
    assert all((ROOT / word).is_file() for word in named), named
    assert {"tests/browser/test_japanese_lab_browser.py"} | set(tiers.UI_SAME_ON_EVERY_SESSION_ENGINE) \
        == {path for path in tiers.collected_paths(ROOT) if tiers.tier_of(path) == "browser"}
    # the machine's leg and the Debian 13 leg still run it: only the Docker 28 leg's options leave it out
    assert f"--ignore={relative}" in tiers.other_engine_ignores(part=1).split()


def test_ci_leaves_them_out_of_the_docker_28_leg_only():
    run = (ROOT / ".ci" / "run").read_text()
    commands = []
    for world in ("e28", "e28b"):  # each part's command, its continuation lines included
        start = run.index(f"DNLAB_ENGINE=28 DNLAB_WORLD={world} bash scripts/test.sh")
        commands.append(run[start:run.index("\n", run.index("-m ", start))])
    assert "$part1" in commands[0] and "other_engine_ignores(part=1)" in run, commands[0]
    assert "other_engine_ignores(part=2)" in commands[1], commands[1]
    assert "same_everywhere" not in (ROOT / "Makefile").read_text()  # make test-engine28 runs every file


# The paths scripts/test.sh gives pytest: pytest collects a path it is given whatever --ignore says.
GIVEN_TO_PYTEST = ("tests", "notebooks")


def _runs(part: int) -> set[str]:
    """The collected files part `part` of the Docker 28 leg runs (those no --ignore of it covers)."""
    ignored = [option.removeprefix("--ignore=") for option in tiers.other_engine_ignores(part=part).split()]
    assert not set(ignored) & set(GIVEN_TO_PYTEST), ignored
    return {path for path in tiers.collected_paths(ROOT)
            if not any(path == left or path.startswith(left + "/") for left in ignored)}


def test_pytest_collects_exactly_the_second_parts_files():
    """The real collection of part 2, as .ci/run's command line asks for it."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
               "-m", "world or lifecycle or notebooks or learner or browser",
               *tiers.other_engine_ignores(part=2).split(), *GIVEN_TO_PYTEST[:1], "--nbval-lax", "notebooks"]
    # .ci/run's environment for it (DNLAB_ENGINE=28 leaves the Japanese chapters out), and with them in
    # (DNLAB_JA_NOTEBOOKS=1, as on a Debian 13 leg): either way, part 2's files only. The two run side by
    # side: each spends ~5 s starting pytest and its plugins (nbval's imports), on one core.
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "DNLAB_ENGINE": "28", "DNLAB_JA_NOTEBOOKS": japanese})
            for japanese in ("0", "1")]
    try:
        outs = [run.communicate(timeout=120)[0] for run in runs]
    finally:
        for run in runs:
            run.kill()      # after a timeout: neither is left running (no-op on one that ended)
            run.wait()
    for out in outs:
        files = {line.split("::")[0] for line in out.splitlines() if "::" in line}
        assert files == set(tiers.ENGINE28_SECOND_PART), out[-2000:]


def test_the_docker_28_legs_two_parts_run_every_file_of_the_leg_once():
    every = set(tiers.collected_paths(ROOT))
    first, second = _runs(1), _runs(2)
    assert first.isdisjoint(second), first & second
    left_out = set(tiers.SAME_ON_EVERY_SESSION_ENGINE) | set(tiers.UI_SAME_ON_EVERY_SESSION_ENGINE)
    assert first | second == every - left_out
    assert second == set(tiers.ENGINE28_SECOND_PART)
    assert {"notebooks/04_overlay.ipynb", "tests/integration/test_claims_ch01.py"} <= first
    with pytest.raises(ValueError, match="parts 1 and 2"):
        tiers.other_engine_ignores(part=3)


def test_the_partition_is_checked_on_a_tree_with_a_file_of_neither(tmp_path):
    """A new test file lands in part 1 (the rest), never in neither part: checked on a made-up tree."""
    for relative in (*tiers.ENGINE28_SECOND_PART, "tests/integration/test_new.py", "notebooks/11_new.ipynb",
                     "tests/unit/test_saved.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    second = tiers.other_engine_ignores(part=2, root=tmp_path).split()
    assert "--ignore=tests/integration/test_new.py" in second and "--ignore=notebooks/11_new.ipynb" in second
    assert "--ignore=tests/unit" in second
    assert not any(p in option for option in second for p in tiers.ENGINE28_SECOND_PART)
    first = tiers.other_engine_ignores(part=1, root=tmp_path).split()
    assert "--ignore=tests/integration/test_new.py" not in first
