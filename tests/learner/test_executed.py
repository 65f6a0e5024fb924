"""tests/learner/executed.py: nbval's cell outputs become the executed notebook the learner tier
reads, only when every code cell ran; what a learner would see wrong is still found in it."""
from __future__ import annotations

from types import SimpleNamespace

import nbformat

from tests.learner import executed, view


def _notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("print('host1# ip -br link')"),
        nbformat.v4.new_markdown_cell("Then it fails."),
        nbformat.v4.new_code_cell("1 / 0"),
    ])
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, str(path))
    return path, nbformat.read(str(path), as_version=4)


def _cell(path, nb, cell_num, outputs):
    """What nbval's IPyNbCell holds after it ran: `cell_num` counts code cells only."""
    parent = SimpleNamespace(fspath=str(path), nb=nb)
    return SimpleNamespace(parent=parent, cell_num=cell_num, test_outputs=outputs)


def test_a_notebook_is_given_only_when_every_code_cell_ran(tmp_path):
    path, nb = _notebook(tmp_path)
    executed.record(_cell(path, nb, 0, [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]))
    assert executed.notebook(path) is None
    error = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
             "traceback": ["ZeroDivisionError: division by zero"]}
    executed.record(_cell(path, nb, 1, [error]))
    ran = executed.notebook(path)
    assert ran is not None
    assert [c.get("outputs", None) for c in ran.cells if c.cell_type == "markdown"] == [None, None]
    assert ran.cells[1].outputs[0].text == "hi\n"
    assert ran.cells[3].outputs[0].ename == "ZeroDivisionError"
    # The error nbval recorded is one a learner would see: the detectors find it in the cell it was.
    assert [(p.cell, p.kind) for p in view.errors(ran)] == [(3, "error")]
    # The source notebook is left without outputs (a copy is filled).
    assert not nb.cells[1].get("outputs")


def test_a_notebook_nbval_never_ran_is_not_given(tmp_path):
    assert executed.notebook(tmp_path / "never.ipynb") is None
