"""The lab world: namespaces, engines, the lab image and the internet service (see `naming`).

Its entry points (`up`, `lab`, `World`, ...) load on first use (PEP 562 `__getattr__`): a process that
needs one module of the world alone (the internet service, which a cold `up` starts beside the
engines; anything that reads `helpers.world.naming`) does not import the manager, the engines' code
and the image builder with it.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.world.manager import clean, discover, down, lab, scratch_engine, status, up
    from helpers.world.model import DockerHost, Machine, World
    from helpers.world.naming import IMAGE, WorldNames

# Each entry point, and the module of the world that holds it.
_HOMES = {"up": "manager", "down": "manager", "clean": "manager", "status": "manager", "discover": "manager",
          "lab": "manager", "scratch_engine": "manager", "World": "model", "Machine": "model",
          "DockerHost": "model", "IMAGE": "naming", "WorldNames": "naming"}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # the next look-up is an ordinary attribute
    return value


__all__ = ["World", "Machine", "DockerHost", "WorldNames", "IMAGE", "up", "down", "clean", "status",
           "discover", "lab", "scratch_engine"]
