"""Docker Network Lab: the Python package the course notebooks call.

Rooms, and the one way data flows between them::

    world (namespaces, engines, image) -> scenarios (one per driver) -> observe / capture
      -> path (the packet-path model) -> draw / widgets;   labs (checks) and cli use them all.

The chapter notebooks' own tools (facts, claims, demonstrations, measurements, glossary) live in
one room on top of these, `helpers.lessons` (``from helpers.lessons import ch01, claims, facts``).

A notebook starts with ``world = helpers.lab()``: the running world, made if needed.
"""
import importlib

from helpers.errors import LabError

__version__ = "0.1.0"

# The rooms, imported on first use (`helpers.path.trace` after a bare `import helpers`): importing
# them all up front would cost a notebook's first cell, and `dnlab up` on a warm world, seconds.
ROOMS = ("world", "scenarios", "observe", "capture", "path", "draw", "widgets", "lessons", "labs", "cli")


def __getattr__(name: str):
    """Load a room on first access (PEP 562)."""
    if name in ROOMS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *ROOMS])


def lab(world_id: str | None = None):
    """The running lab world (started if needed), with a docker SDK client per Docker host."""
    from helpers.world import lab as _lab

    return _lab(world_id)


def use_language(language: str) -> str:
    """Figures, labels, hints and `dnlab` messages in `language` ("en" or "ja") from here on
    (helpers/language.py); the Japanese notebooks' first cell calls it."""
    from helpers import language as _language

    return _language.use(language)


__all__ = ["lab", "use_language", "LabError", "__version__"]
