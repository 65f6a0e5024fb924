"""The test files CI's Docker 28 leg leaves out (tests/tiers.py SAME_ON_EVERY_SESSION_ENGINE) never ask
for the session world's engines, which are all that $DNLAB_ENGINE changes: no test or fixture takes the
session world (`world`, `lab_world`) except where named below with what it is used for, none calls
`lab()`, and each `up()` names its engines or runs with $DNLAB_ENGINE removed. A file that starts to
meet the session's engines fails here until it leaves the table (and runs on the Docker 28 leg again);
.ci/run passes the table's --ignore options."""
from __future__ import annotations

import ast
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


def test_ci_leaves_them_out_of_the_docker_28_leg_only():
    run = (ROOT / ".ci" / "run").read_text()
    start = run.index("DNLAB_ENGINE=28 DNLAB_WORLD=e28 bash scripts/test.sh")
    engine28 = run[start:run.index("| tee", start)]  # the leg's command, its continuation lines included
    assert "$same_everywhere" in engine28, engine28
    assert "from tests.tiers import other_engine_ignores" in run
    assert tiers.other_engine_ignores().split() == [f"--ignore={p}" for p in tiers.SAME_ON_EVERY_SESSION_ENGINE]
    assert "same_everywhere" not in (ROOT / "Makefile").read_text()  # make test-engine28 runs every file
