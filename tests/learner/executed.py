"""The notebooks nbval executed in this pytest session, kept with their outputs, so the learner tier
reads the same run instead of executing every chapter a second time (about two minutes a leg).

nbval runs each notebook in a fresh kernel in the notebook's own folder, cell by cell, and keeps
what the kernel sent for each cell (`IPyNbCell.test_outputs`: streams, display data, results,
errors), which is what a front end shows. The root conftest records those outputs after each cell;
`notebook(path)` gives the executed notebook only when every code cell of it ran in this session.
What nbval does not keep (comm messages, i.e. widget state) is not here: a notebook that needs it
(the explorer) is executed by the learner test itself.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

# notebook path -> {code cell ordinal (nbval's `cell_num`, counting code cells only): outputs}
_outputs: dict[Path, dict[int, list]] = {}
_sources: dict[Path, object] = {}


def record(item) -> None:
    """Keep one nbval cell's outputs (called after the cell ran, passed or failed)."""
    outputs = getattr(item, "test_outputs", None)
    parent = getattr(item, "parent", None)
    notebook = getattr(parent, "nb", None)
    if outputs is None or notebook is None or not hasattr(item, "cell_num"):
        return
    path = Path(str(parent.fspath)).resolve()
    _sources[path] = notebook
    _outputs.setdefault(path, {})[item.cell_num] = [nbformat.from_dict(dict(o)) for o in outputs]


def notebook(path: Path):
    """The notebook at `path` as nbval executed it in this session, or None when it did not run
    every code cell of it (nbval not asked for it, deselected cells, or a run that stopped early)."""
    path = Path(path).resolve()
    source, outputs = _sources.get(path), _outputs.get(path, {})
    if source is None:
        return None
    nb = copy.deepcopy(source)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    if any(n not in outputs for n in range(len(code))):
        return None
    for n, i in enumerate(code):
        nb.cells[i].outputs = outputs[n]
    return nb
