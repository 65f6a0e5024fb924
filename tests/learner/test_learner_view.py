"""Every chapter (and the explorer) executed as a learner runs it, its outputs read as JupyterLab
shows them: figures are images, never `<Figure size ...>` text; markdown is prose, not an indented
code block; tables hold readable text, not Python reprs; no cell ends in an error.

Each notebook runs in a fresh kernel with DNLAB_WORLD set to the session's test world
(tests/conftest.py's `world` fixture): when nbval ran the chapter in this session (`make test` runs
these tests after the notebooks), its run is the one read (tests/learner/executed.py: nbval keeps
every output the kernel sent); otherwise, and always for the explorer (whose figure lives in widget
state, which nbval does not keep), the test executes the notebook itself with nbclient. The
detectors live in tests/learner/view.py and are proven to fire by tests/learner/test_detectors.py.
The executed notebooks are kept in $DNLAB_LEARNER_OUT (default: pytest's tmp dir) for a look at
what failed.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from tests.learner import executed, view
from tests.worlds import japanese_chapters_here

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("0*_*.ipynb")) + [NOTEBOOKS / "10_glossary.ipynb"]
# The Japanese edition's chapters (issue 22), on the leg that runs them under nbval (tests/worlds.py).
JA_CHAPTERS = ([NOTEBOOKS / "ja" / c.name for c in CHAPTERS if (NOTEBOOKS / "ja" / c.name).exists()]
               if japanese_chapters_here() else [])
EXPLORER = NOTEBOOKS / "explorer.ipynb"
# The chapters whose lessons are figures (audit §1): each must draw at least one.
DRAWING_CHAPTERS = ("00_", "01_", "02_", "03_", "04_", "05_", "06_", "07_")
# The chapters that teach by demonstration: each shows at least two real commands with their output.
COMMAND_CHAPTERS = DRAWING_CHAPTERS + ("08_", "09_")
TIMES: dict[str, float] = {}


def test_the_figure_cells_are_found():
    """The check cannot pass vacuously: every drawing chapter has figure cells, by its source."""
    found = {nb.name: view.figure_cells(nbformat.read(str(nb), as_version=4)) for nb in CHAPTERS}
    for nb, cells in found.items():
        if nb.startswith(DRAWING_CHAPTERS):
            assert cells, f"{nb}: no figure cell found (show_path/draw_path/draw_map/draw_world/ch07.plot)"
    assert sum(len(c) for c in found.values()) >= len(DRAWING_CHAPTERS)


def _name(notebook: Path) -> str:
    """notebooks/01_basics_nat.ipynb -> 01_basics_nat.ipynb; the Japanese one -> ja/01_basics_nat.ipynb."""
    return str(notebook.relative_to(NOTEBOOKS))


@pytest.mark.parametrize("notebook", CHAPTERS + JA_CHAPTERS + [EXPLORER], ids=lambda p: _name(p).removesuffix(".ipynb"))
def test_learner_sees_figures_prose_and_tables(world, notebook, tmp_path):
    assert os.environ.get("DNLAB_WORLD") == world.names.world_id  # the kernel inherits it
    started = time.monotonic()
    nb = executed.notebook(notebook) if notebook != EXPLORER else None
    source = "nbval's run in this session"
    if nb is None:
        nb, source = view.execute(notebook), "executed here (nbclient)"
    name = _name(notebook)
    TIMES[name] = time.monotonic() - started
    kept = Path(os.environ.get("DNLAB_LEARNER_OUT") or tmp_path) / name
    kept.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(kept))
    print(f"{name}: {source}, read in {TIMES[name]:.1f} s, {len(view.figure_cells(nb))} figure cells; kept in {kept}")
    problems = view.problems(nb)
    assert not problems, f"{name} (executed copy: {kept}):\n" + "\n".join(map(str, problems))
    if notebook.name.startswith(COMMAND_CHAPTERS):
        commands = view.shown_commands(nb)
        assert len(set(commands)) >= 2, \
            f"{notebook.name} shows {len(set(commands))} real commands with output: {commands}"
    if notebook == EXPLORER:
        _explorer_drew(nb)


def _explorer_drew(nb) -> None:
    """The explorer draws into a widget, not a cell output: its saved widget state must hold the
    figure (an SVG) and the NAT panel's explanation of which rules the probe hit."""
    state = str(nb.metadata.get("widgets", {}))
    assert "<svg" in state, "the explorer showed no figure"
    assert "Counters read before and after the probe" in state, "the NAT panel does not say what it marks"
