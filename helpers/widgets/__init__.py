"""Widgets for the notebooks: the driver explorer (`from helpers.widgets import Explorer`).

Attributes load lazily: the CLI imports `helpers.widgets.cli` and must not pay for ipywidgets.
"""
from __future__ import annotations

import importlib

__all__ = ["Explorer", "DRIVERS", "PROBES", "VIEWS"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("helpers.widgets.explorer"), name)
    raise AttributeError(name)
