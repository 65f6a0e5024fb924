"""Tiny notebook builder: chapters are written as Python lists of cells, stored without outputs.

    python notebooks/src/build.py            # writes every notebooks/NN_*.ipynb from notebooks/src/chNN.py
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root: helpers/


def engine_sentences(text: str) -> str:
    """`[[engine:ID]]` replaced by the course's one sentence of that engine fact
    (helpers/world/engine_facts.py), so version statements are written in one place only."""
    from helpers.world.engine_facts import render

    return render(text)


# Each learner-facing text of a chapter carries a stable id (`md(..., id=)`, `code(..., id=)`, a claim's
# tag): the Japanese edition's catalogs (i18n/ja/chNN.toml) are keyed by it (i18n/). The id and
# the English text ride in a cell's metadata under this key until `notebook()` removes them, so the
# English notebooks are the same bytes with or without ids; `KEEP_TEXT_IDS` keeps them for the builder.
TEXT_KEY = "dnlab_text"
KEEP_TEXT_IDS = False


def _text(cell, id: str | None, kind: str, text: str):
    cell.metadata[TEXT_KEY] = {"id": id, "kind": kind, "en": text}
    return cell


def md(text: str, states: dict[str, list[str]] | None = None, id: str | None = None):
    """A markdown cell, `id` its text's stable id (unique in its chapter). `states` ties the sentences of this cell that state what a code cell
    prints to that cell: {output tag: [key words]}, the code cell made with `code(..., output=tag)`.
    Each key word must be in this cell's text and in that cell's live output (tests/learner/view.py
    `prose_against_outputs`, run on nbval's run by test_learner_view.py): prose saying "connection
    refused" beside an output saying NXDOMAIN fails."""
    text = textwrap.dedent(text).strip()
    cell = new_markdown_cell(engine_sentences(text))
    if states:
        cell.metadata["states"] = {tag: list(words) for tag, words in states.items()}
    return _text(cell, id, "markdown", text)


def code(text: str, output: str | None = None, id: str | None = None):
    """A code cell; `output` tags it `output:<tag>` so prose can state what it prints (`md(states=)`);
    `id` names it for the catalogs when it has comments a learner reads."""
    if text.startswith(SETUP.split("{chapter}")[0]) and id is None:
        id = "setup"
    cell = new_code_cell(textwrap.dedent(text).strip())
    if output:
        cell.metadata["tags"] = [f"output:{output}"]
    return _text(cell, id, "code", cell.source)


def claim(tag: str, text: str):
    """A claim cell (it calls `claims.holds` / `all_of` / `article_vs_reality`), tagged
    `claim:<tag>` so that a test can run this very cell on a lab world where the claim is false
    (tests/claimcells.py). Tags are `<chapter>:<name>`, e.g. `ch01:snat`."""
    cell = new_code_cell(textwrap.dedent(text).strip())
    cell.metadata["tags"] = ["claim", f"claim:{tag}"]
    return _text(cell, "claim:" + tag.split(":", 1)[1], "claim", cell.source)


def solution(text: str, id: str | None = None, output: str | None = None):
    """A solution cell, collapsed in JupyterLab (the learner clicks to open it); `output` tags it
    `output:<tag>` as `code(output=)` does, so the exercise's prose can state what it prints."""
    cell = new_code_cell(textwrap.dedent(text).strip())
    cell.metadata["jupyter"] = {"source_hidden": True}
    cell.metadata["tags"] = ["solution"] + ([f"output:{output}"] if output else [])
    return _text(cell, id, "solution", cell.source)


SETUP = """
import helpers
from helpers import scenarios
from helpers.lessons import {chapter}, claims, facts, probes
world = helpers.lab()          # the lab world named by $DNLAB_WORLD
world
"""


def setup(chapter: str) -> str:
    """A chapter's first code cell: the world, and the chapter's own helpers as `chNN`
    (helpers/lessons/chNN.py, beside this chapter's source). Its text id is `setup` (i18n/ja/chNN.toml)."""
    return SETUP.format(chapter=chapter)


def notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating a chapter changes only what changed
        if not KEEP_TEXT_IDS:
            cell.metadata.pop(TEXT_KEY, None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb
