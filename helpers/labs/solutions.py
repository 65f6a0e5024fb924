"""Reference solutions: each lab's own `solution` (helpers/labs/labNN.py, `Lab.solution`).

`apply(number, world)` runs one (pytest does). The bodies are also the code cells of
labs/solutions/NN_*.ipynb (`helpers.labs.notebooks` writes them): a line `# %% text` starts a new
cell, with `text` as its explanation (continued on `# %%+ text` lines). The docstring is the same
solution with the docker CLI. Keep the names the tasks ask for; read addresses from the world.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def solutions() -> dict[int, Callable[[Any], None]]:
    """number -> reference solution of every lab that has one."""
    from helpers import labs

    return {lab.number: lab.solution for lab in labs.all_labs() if lab.solution is not None}


def why() -> dict[int, str]:
    """number -> why the troubleshooting lab broke (the solution notebook shows it after the fix)."""
    from helpers import labs

    return {lab.number: lab.why for lab in labs.all_labs() if lab.why}


def apply(number: int, world) -> None:
    """Run the reference solution of lab `number` on `world`."""
    solutions()[number](world)


def __getattr__(name: str):
    if name == "SOLUTIONS":
        return solutions()
    if name == "WHY":
        return why()
    raise AttributeError(name)
