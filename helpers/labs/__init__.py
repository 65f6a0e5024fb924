"""Hands-on labs checked against the real lab world.

    from helpers import labs
    lab = labs.get(1)            # goal and tasks (shows as Markdown in a notebook)
    lab.start(world)             # a fresh start (troubleshooting labs: the broken setup)
    lab.check(world)             # what still is wrong, with hints; records a pass
    lab.reset(world)             # removes what the lab's names made, repairs what it broke

Each lab is one module, `helpers/labs/labNN.py`, listed in `helpers/labs/registry.py`. Reference
solutions are each lab's `solution` (run by `helpers.labs.solutions.apply`, shown in
labs/solutions/*.ipynb), never in the learner's notebook. `dnlab lab list|show|start|check|reset`
does the same from a terminal.
"""
from __future__ import annotations

from helpers.errors import LabError, dnlab_command, env_world
from helpers.labs.model import CheckResult, Checks, Item, Lab, LabCheckFailed

_LABS: dict[int, Lab] | None = None


def _labs() -> dict[int, Lab]:
    # Built on first use: the lab modules import the docker SDK, which `dnlab up` should not pay for.
    global _LABS
    if _LABS is None:
        from helpers.labs import registry

        _LABS = registry.load()
    return _LABS


def reload() -> None:
    """Read the registry again on next use (a test that lists a lab of its own)."""
    global _LABS
    _LABS = None


def __getattr__(name: str):
    if name == "LABS":
        return _labs()
    raise AttributeError(name)


def get(number: int | str) -> Lab:
    """A lab by number (1, "1") or slug ("user-bridge")."""
    for lab in _labs().values():
        if str(number) in (str(lab.number), lab.slug):
            return lab
    from helpers.language import translate

    raise LabError(translate("labs:model:no-such-lab", "there is no lab {number}; the labs are {labs}",
                             number=repr(number), labs=", ".join(map(str, _labs()))),
                   dnlab_command("lab list", env_world()))


def all_labs() -> list[Lab]:
    return [_labs()[n] for n in sorted(_labs())]


__all__ = ["Lab", "LABS", "get", "all_labs", "CheckResult", "Checks", "Item", "LabCheckFailed"]
