"""Engines outside a world's hosts: throwaway engines' names, in-use test, removal and sweep.

A throwaway engine (helpers/hosting/sandbox.py) is named `naming.SANDBOX_PREFIX + name` (namespace,
state and data folders, cgroup parent); its namespace's `lo` carries `SANDBOX_MARKER_PREFIX + full`,
and its owner holds `SANDBOX_OWNER` locked in its state folder while it lives. What is here needs no
hosting: `dnlab clean` (helpers/world/manager.py) removes a sandbox whose owner is gone, and never one in use.
"""
from __future__ import annotations

import shutil
from contextlib import suppress
from pathlib import Path

from helpers.errors import UsageError
from helpers.world import engine, netns
from helpers.world.naming import (
    DATA_ROOT,
    RUN_ROOT,
    SANDBOX_MARKER_PREFIX,
    SANDBOX_NAME,
    SANDBOX_OWNER,
    SANDBOX_PREFIX,
    HostPaths,
)
from helpers.world.proc import lock_held


def full_name(name: str) -> str:
    """The namespace (and folder, cgroup) name of sandbox `name`; UsageError if it does not fit."""
    if not SANDBOX_NAME.fullmatch(name):
        raise UsageError(f"throwaway engine name {name!r} is not valid: 1 to 16 of a-z, 0-9 and '-', "
                         "starting with a letter", "ThrowawayEngine('ia-test')")
    return SANDBOX_PREFIX + name


def paths_of(full: str) -> HostPaths:
    """Where sandbox `full` (namespace name) keeps its engine's files."""
    return HostPaths(state=RUN_ROOT / full, data_root=DATA_ROOT / full)


def marker_of(full: str) -> str:
    return SANDBOX_MARKER_PREFIX + full



# --- removal (stop, and `dnlab clean` after a crash) --------------------------------------------

def in_use(full: str) -> bool:
    """True if a live owner holds sandbox `full`'s lock."""
    lock = paths_of(full).state / SANDBOX_OWNER
    return lock.exists() and lock_held(lock)


def remove(full: str) -> list[str]:
    """Remove every trace of sandbox `full`: its engine and what runs below it, its namespace (only if
    it carries the sandbox's label), mounts, folders and cgroups. What was removed."""
    removed = []
    paths = paths_of(full)
    if engine.processes_of(paths):
        engine.stop(paths)
        removed.append(f"dockerd of {full}")
    if netns.exists(full) and netns.marker_of(full) == marker_of(full):
        netns.delete(full)
        removed.append(f"namespace {full}")
    # Below the state folder: the exec-root's own shared bind (engine.share_exec_root), the
    # namespaces dockerd mounted in it; below the data-root: containers' overlay mounts.
    engine.unmount_below(paths.state, paths.data_root)
    for directory in (paths.state, paths.data_root):
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(f"directory {directory}")
    removed += [f"cgroup {c}" for c in engine.remove_cgroups("/" + full)]
    engine.release_mountpoints()  # the last user of the engines' mount points the course made
    for root in (RUN_ROOT, DATA_ROOT):
        with suppress(OSError):
            root.rmdir()  # only if empty: no world nor other sandbox is left
    return removed




def discover() -> list[str]:
    """Full names of every sandbox that left anything: a labelled namespace or a folder."""
    found = set()
    for root in (RUN_ROOT, DATA_ROOT):
        if root.is_dir():
            found.update(e.name for e in root.iterdir() if e.name.startswith(SANDBOX_PREFIX))
    for name in netns.list_names():
        if name.startswith(SANDBOX_PREFIX) and netns.marker_of(name) == marker_of(name):
            found.add(name)
    return sorted(n for n in found if SANDBOX_NAME.fullmatch(n.removeprefix(SANDBOX_PREFIX)))


def sweep() -> tuple[dict[str, list[str]], list[str]]:
    """Remove every sandbox whose owner is gone. (removed per sandbox, sandboxes in use left alone)."""
    swept, busy = {}, []
    for full in discover():
        if in_use(full):
            busy.append(full)
            continue
        swept[full] = remove(full)
    return swept, busy


def leftovers(full: str) -> list[str]:
    """What of sandbox `full` still exists (a test's proof that `stop` removed everything)."""
    paths = paths_of(full)
    left = [f"process {pid}" for pid in engine.processes_of(paths)]
    if netns.exists(full):
        left.append(f"namespace {full}")
    for directory in (paths.state, paths.data_root):
        if directory.exists():
            left.append(f"directory {directory}")
    marks = (str(paths.state), str(paths.data_root))
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point.startswith(marks):
            left.append(f"mount {point}")
    left += [f"cgroup {c}" for c in engine.cgroup_dirs("/" + full)]
    return left
