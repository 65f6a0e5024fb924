"""Independent reads of what a world left on the machine (not through the manager's own view)."""
from __future__ import annotations

from helpers.world import engine, netns
from helpers.world.naming import WorldNames


def leftovers(world_id: str) -> list[str]:
    """Everything of a world still on the machine, read independently of the manager."""
    names = WorldNames(world_id)
    found = [n for n in netns.list_names() if n in names.namespaces.values()]
    found += [f"process {p}" for h in ("host1", "host2") for p in engine.processes_of(names.host(h))]
    found += [f"mount under {d}" for d in (names.state_dir, names.data_dir) if engine.mounts_below(d)]
    found += [str(d) for d in (names.state_dir, names.data_dir) if d.exists()]
    found += [c for c in engine.contexts() if c.startswith(names.prefix + "-host")]
    return found
