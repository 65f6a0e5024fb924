"""Scenarios, one per driver lesson. Importing a driver module registers its scenarios."""
from helpers.scenarios.base import SCENARIOS, ProbeSpec, Scenario, get, register

# Each driver module registers its scenarios on import; add yours here.
DRIVER_MODULES = ("bridge", "host", "none", "macvlan", "overlay")


def _load_all() -> None:
    import importlib
    import importlib.util

    for module in DRIVER_MODULES:
        if importlib.util.find_spec(f"helpers.scenarios.{module}") is not None:
            importlib.import_module(f"helpers.scenarios.{module}")


_load_all()

__all__ = ["SCENARIOS", "Scenario", "ProbeSpec", "get", "register"]
