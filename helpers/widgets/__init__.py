"""Widgets for the notebooks: the driver explorer (`from helpers.widgets import Explorer`).

Attributes load lazily: `dnlab explorer` (helpers/cli/explorer.py) must not pay for ipywidgets.
The explorer notebook ships here as package data (explorer.ipynb; notebooks/explorer.ipynb links to it).
"""
from __future__ import annotations

import importlib

__all__ = ["Explorer", "DRIVERS", "PROBES", "VIEWS"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("helpers.widgets.explorer"), name)
    raise AttributeError(name)
