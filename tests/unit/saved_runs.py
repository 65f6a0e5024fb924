"""The saved real runs (tests/unit/data/paths), each rebuilt once per session, and their path
figures, each drawn once: two files check the same figures (test_draw_figures: the notebook's width,
no text over another; test_path_figure_rules: rules legible, column heads apart), test_japanese_figures
rebuilds the same runs, and rebuilding a run (its pcaps through scapy), drawing and rendering it to PNG
cost far more than their checks. Read only: no test changes a rebuilt Path or a Drawing (the figures'
tests render and measure them, as a notebook would). tests/unit/conftest.py forgets them after the last
unit test, so a whole `make test` does not keep them through its slow tiers."""
from __future__ import annotations

import functools
from pathlib import Path

from helpers import language
from helpers.draw import draw_path
from helpers.draw.display import Drawing
from helpers.path import model, rebuild

DATA = Path(__file__).parent / "data" / "paths"
RUNS = sorted(p.name for p in DATA.iterdir())


@functools.cache
def saved(run: str) -> model.Path:
    """The Path of the saved run `run`, rebuilt once."""
    return rebuild(DATA / run)


@functools.cache
def _figure(run: str, view: str, language_in_force: str) -> Drawing:
    return draw_path(saved(run), view=view)


def shared_figure(run: str, view: str) -> Drawing:
    """The path figure of `run` in `view`, drawn once per language in force (English in these tests;
    test_japanese_figures draws its own, reading matplotlib's warnings as each renders)."""
    return _figure(run, view, language.current())


def forget() -> None:
    saved.cache_clear()
    _figure.cache_clear()
