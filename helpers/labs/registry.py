"""Every lab, in order: one module each (`helpers/labs/labNN.py`), whose `LAB` holds its metadata,
start (the break, for troubleshooting), check and hints, reference solution, and for troubleshooting
labs why it broke, the symptom and the words that name the cause.

Adding a lab is one new module and one line below. Everything else follows from its `LAB`: `labs.get`
and `dnlab lab ...`, the learner's and the solution notebook (`python -m helpers.labs.notebooks`, which
also writes labs/README.md's table), `solutions.apply`, and the tests' symptoms and cause words.
"""
from __future__ import annotations

import importlib

LAB_MODULES = [
    "helpers.labs.lab01",
    "helpers.labs.lab02",
    "helpers.labs.lab03",
    "helpers.labs.lab04",
    "helpers.labs.lab05",
    "helpers.labs.lab06",
    "helpers.labs.lab07",
    "helpers.labs.lab08",
    "helpers.labs.lab09",
    "helpers.labs.lab10",
    "helpers.labs.lab11",
    "helpers.labs.lab12",
    "helpers.labs.lab13",
]


def load(modules: list[str] | None = None) -> dict:
    """number -> Lab of every module listed (each must define `LAB`; numbers are unique)."""
    labs = {}
    for name in LAB_MODULES if modules is None else modules:
        lab = importlib.import_module(name).LAB
        if lab.number in labs:
            raise RuntimeError(f"two labs have the number {lab.number}: {name} and {labs[lab.number]!r}")
        labs[lab.number] = lab
    return labs
