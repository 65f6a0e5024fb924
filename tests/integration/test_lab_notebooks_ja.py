"""The Japanese lab notebooks (labs/ja/NN_*.ipynb, issue 22) run as a learner opens them, once each, on
the session world: every code cell in one kernel (the setup cell puts Japanese in force, the start cell
makes the lab, and for troubleshooting labs breaks it, the check cell reads the world), then the lab's
reset. The start cell must show the task in Japanese and the check must answer in Japanese.

The cheapest honest run, chosen for the suite's budget: the learner notebooks only, on one leg. Their
code cells are the English notebook's plus the language line; the Japanese solution notebooks are the
English solutions' code with Japanese comments (`i18n.check.same_code`, tests/unit/test_labs_japanese.py)
and the English ones run in full in tests/integration/test_lab_journeys.py, so they are not run a
second time here (`--nbval-lax labs/ja/solutions` runs them by hand). One leg runs this file, the one
that runs the Japanese chapters (tests/worlds.py `japanese_chapters_here` says which and why): the
Japanese text is the same on every engine.
"""
from __future__ import annotations

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.labs import notebooks
from tests.integration.lab_journey import CELL_TIMEOUT, ROOT, baseline, names_left
from tests.worlds import japanese_chapters_here

pytestmark = pytest.mark.skipif(not japanese_chapters_here(),
                                reason="the Japanese edition runs on one leg, Debian 13's (tests/worlds.py)")

KANA = re.compile(r"[\u3040-\u30ff]")


def _shown(cell) -> str:
    """What a cell showed: its Markdown result (the start, the check), else its text."""
    out = []
    for o in cell.outputs:
        data = o.get("data", {})
        out.append(data.get("text/markdown") or data.get("text/plain") or o.get("text", ""))
    return "\n".join(out)


@pytest.mark.parametrize("lab", notebooks.japanese_labs(), ids=lambda lab: lab.slug)
def test_japanese_learner_notebook_runs_and_speaks_japanese(lab_world, lab):
    world = lab_world
    path = ROOT / lab.notebook_in("ja")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    before = baseline(world)
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
                    raise AssertionError(f"{path.relative_to(ROOT)}, cell {index} failed:\n{plain}") from None
    finally:
        lab.reset(world)
    code = {c.source: c for c in nb.cells if c.cell_type == "code"}
    started, checked = _shown(code["lab.start(world)"]), _shown(code["lab.check(world)"])
    assert f"ラボ {lab.number} " in started and "**目標.**" in started, started
    assert checked.startswith(f"<b style='color:#cf222e'>ラボ {lab.number}（"), checked   # not passed yet
    assert "まだ" in checked and KANA.search(checked.split("</b>", 1)[1]), checked
    assert names_left(world, lab) == []
    assert baseline(world) == before, "the reset did not restore the world around the lab"


def test_dnlab_lab_check_answers_in_japanese(lab_world):
    """`DNLAB_LANG=ja dnlab lab check 1` on the session world, from a terminal: the result, what is still
    wrong and its hint in Japanese (lab 1 reset: its network is missing), exit status 1."""
    import subprocess
    import sys

    from helpers import labs

    labs.get(1).reset(lab_world)
    env = {**os.environ, "DNLAB_LANG": "ja", "DNLAB_WORLD": lab_world.names.world_id}
    done = subprocess.run([sys.executable, "-m", "helpers", "lab", "check", "1"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ラボ 1（名前解決のできるユーザー定義ブリッジ）: まだ、"), done.stdout
    assert "  ✘ ネットワーク lab1-net（bridge）が host1 にある" in lines
    assert "      違う点: host1 のエンジンに lab1-net というネットワークがありません" in lines
    assert any(line.startswith("      ヒント: ネットワークは `docker --context ") for line in lines), done.stdout
