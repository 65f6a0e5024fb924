"""Docker Network Lab: the Python package the course notebooks call.

Rooms, and the one way data flows between them::

    world (namespaces, engines, image) -> scenarios (one per driver) -> observe / capture
      -> path (the packet-path model) -> draw / widgets;   labs (checks) and cli use them all.

The chapter notebooks' own tools (facts, claims, demonstrations, measurements, glossary) live in
one room on top of these, `helpers.lessons` (``from helpers.lessons import chapters, claims, facts``).

A notebook starts with ``world = helpers.lab()``: the running world, made if needed.
"""
from helpers.errors import LabError

__version__ = "0.1.0"


def lab(world_id: str | None = None):
    """The running lab world (started if needed), with a docker SDK client per Docker host."""
    from helpers.world import lab as _lab

    return _lab(world_id)


__all__ = ["lab", "LabError", "__version__"]
