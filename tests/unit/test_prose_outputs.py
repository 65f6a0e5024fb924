"""The prose-against-output check (tests/learner/view.py `prose_against_outputs`): a sentence that
states what a cell prints is tied to that cell (`md(states=...)`, `code(output=...)` in
notebooks/src/nb.py), and its key words must be in the cell's live output.

The saved output is the real one of chapter 02's name-lookup table (world tc, Docker 20.10.24):
the lab DNS answered NXDOMAIN. Chapter 02's old sentence said "connection refused" beside it; the
check must catch that, and pass the sentence the chapter says now."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.learner import view

DATA = Path(__file__).parent / "data" / "prose" / "ch02_lookup_cell.json"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

# Chapter 02's sentence before this check existed (git 11f2a1d), with the key words it states.
OLD_SENTENCE = ('The default-bridge lookup fails twice over: the only resolver it knows, `203.0.113.10`, is the\n'
                'lab\'s "internet" and runs no DNS server (hence *connection refused*); and a real DNS server\n'
                'out there would not know a container\'s name either (it would answer NXDOMAIN).')


def _chapter02_statement() -> nbformat.NotebookNode:
    """The markdown cell of notebooks/02_bridge.ipynb that states the lookup cell's output."""
    nb = nbformat.read(str(NOTEBOOKS / "02_bridge.ipynb"), as_version=4)
    (cell,) = [c for c in nb.cells if "ch02:lookup" in c.get("metadata", {}).get("states", {})]
    return cell


def _notebook(statement: nbformat.NotebookNode) -> nbformat.NotebookNode:
    saved = json.loads(DATA.read_text())
    lookup = nbformat.v4.new_code_cell(saved["source"], outputs=[nbformat.from_dict(o) for o in saved["outputs"]])
    lookup.metadata["tags"] = ["output:ch02:lookup"]
    return nbformat.v4.new_notebook(cells=[lookup, statement])


def test_the_old_chapter02_sentence_is_caught_against_its_real_output():
    old = nbformat.v4.new_markdown_cell(OLD_SENTENCE)
    old.metadata["states"] = {"ch02:lookup": ["connection refused"]}
    nb = _notebook(old)
    problems = view.prose_against_outputs(nb)
    assert [(p.cell, p.kind) for p in problems] == [(1, "prose against output")]
    assert "'connection refused'" in problems[0].detail
    # what the output said instead: the lab DNS answered
    assert "nxdomain" in view._plain("".join(t for o in nb.cells[0].outputs for t in view._texts(o)))


def test_chapter02s_sentence_now_agrees_with_the_same_output():
    statement = _chapter02_statement()
    assert "NXDOMAIN" in statement.metadata["states"]["ch02:lookup"]
    assert "connection refused" not in statement.source.lower()
    assert view.prose_against_outputs(_notebook(statement)) == []


def test_a_key_word_the_prose_does_not_say_is_a_problem():
    """The marker describes the sentence: a key word absent from the prose is not a statement."""
    cell = nbformat.v4.new_markdown_cell("The lookup fails.")
    cell.metadata["states"] = {"ch02:lookup": ["NXDOMAIN"]}
    (problem,) = view.prose_against_outputs(_notebook(cell))
    assert problem.kind == "stated output" and "not in this cell's prose" in problem.detail


def test_a_statement_about_an_untagged_cell_is_a_problem():
    cell = nbformat.v4.new_markdown_cell("It answered NXDOMAIN.")
    cell.metadata["states"] = {"ch02:nowhere": ["NXDOMAIN"]}
    (problem,) = view.prose_against_outputs(_notebook(cell))
    assert problem.kind == "stated output" and "ch02:nowhere" in problem.detail


def test_the_check_is_among_the_learner_detectors():
    assert view.prose_against_outputs in view.DETECTORS


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_each_statement_names_a_tagged_cell_and_says_its_key_words(notebook):
    """In the generated chapters (no outputs): every `states` names a cell tagged `output:` in the
    same notebook, and its key words are in the sentence (the outputs are checked after nbval
    runs the chapter, by tests/learner/test_learner_view.py)."""
    nb = nbformat.read(str(notebook), as_version=4)
    cells = view.output_cells(nb)
    for i, cell in enumerate(nb.cells):
        for tag, words in cell.get("metadata", {}).get("states", {}).items():
            assert tag in cells, f"{notebook.name} cell {i}: states {tag!r}, which no cell is tagged"
            assert words, f"{notebook.name} cell {i}: states {tag!r} with no key word"
            # Prose follows the output it states, except an exercise: its answer (a solution cell) is below it.
            answer = "solution" in nb.cells[cells[tag]].get("metadata", {}).get("tags", [])
            assert cells[tag] < i or answer, f"{notebook.name} cell {i}: states {tag!r}, a cell that runs after it"
            missing = [w for w in words if view._plain(w) not in view._plain(cell.source)]
            assert not missing, f"{notebook.name} cell {i}: key words not in its prose: {missing}"


def test_chapter02_ties_its_lookup_sentence():
    """Not vacuous: chapter 02 has the statement this check was made for."""
    assert _chapter02_statement().metadata["states"]["ch02:lookup"]
