"""Leftovers of the course whose names fit no world, swept as any other owner.

Before world ids were matched whole (`naming.validate_world_id`), `--world $'w\\n'` passed the check
(`re.match` with `$` matches before a final newline) and made namespaces and folders named
`dnlab-w\\n-router`, `/run/dnlab/dnlab-w\\n`: no command could name them again, so `down`, `clean`
and the fix `status --all` printed all left them (issue 23.3). The one sweep finds them by the course's
marks (`lifecycle.find_marked`'s `Stray`s: a namespace named `<raw prefix>-<role>` and marked
`dnlab-world=<raw prefix>` (the kernel keeps an alias up to its first newline, so the marker may read
as the plain prefix), a folder named as a world prefix with control or blank characters in it, or
whose manifest names it), and removes each with the one lifecycle (`lifecycle.remove_marked`): the
engines of its folders are stopped as `EngineSite`s built from its raw prefix, its marked namespaces,
folders and the engines' cgroups removed. `dnlab clean` sweeps them all; `down` and `clean --world W`
those that read as W's once the control characters are dropped.
"""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path

from helpers.world import lifecycle
from helpers.world.naming import DATA_ROOT, HOSTS, MARKER_PREFIX, RUN_ROOT, SCRATCH, HostPaths, plain


def sites(prefix: str, roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> list[lifecycle.EngineSite]:
    """The engine sites a world of raw prefix `prefix` had (its hosts' and scratch engine's), as its
    folders and marker say: `lifecycle.world_site`'s layout, for a prefix no `WorldNames` accepts."""
    state, data = roots[0] / prefix, roots[1] / prefix
    return [lifecycle.EngineSite(f"{prefix}-{host}", HostPaths(state=state / host, data_root=data / host),
                                 f"/{prefix}-{host}", MARKER_PREFIX + prefix) for host in HOSTS + (SCRATCH,)]


def owner(stray: lifecycle.Stray, roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> lifecycle.Owner:
    """Stray `stray` as the sweep sees it, named by its quoted raw prefix. Never busy: no command can
    start, stop or lock a world of that prefix."""
    return lifecycle.Owner(repr(stray.prefix), lambda: nullcontext(None), lambda: lifecycle.remove_marked(
        stray.markers, stray.namespaces, stray.folders, sites(stray.prefix, roots)))


def owners(prefixes: Iterable[str] | None = None, marked: lifecycle.Marked | None = None,
           roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> list[lifecycle.Owner]:
    """The strays `marked` holds (found afresh in `roots` if not given), as owners for `lifecycle.sweep`;
    with `prefixes`, those that read as one of them once their control characters go."""
    marked = marked if marked is not None else lifecycle.find_marked(roots)
    wanted = None if prefixes is None else set(prefixes)
    return [owner(stray, roots) for raw, stray in sorted(marked.strays.items())
            if wanted is None or plain(raw) in wanted]
