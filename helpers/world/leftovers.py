"""Leftovers of the course whose names fit no world, and their sweep.

Before world ids were matched whole (`naming.validate_world_id`), `--world $'w\\n'` passed the check
(`re.match` with `$` matches before a final newline) and made namespaces and folders named
`dnlab-w\\n-router`, `/run/dnlab/dnlab-w\\n`: no command could name them again, so `down`, `clean`
and the fix `status --all` printed all left them (issue 23.3). They are found here by the course's
marks, never by a name that fits: a namespace whose `lo` alias is `MARKER_PREFIX<something>`, a
folder of RUN_ROOT or DATA_ROOT whose name is a world prefix with control or blank characters in it
(or whose manifest names it). `dnlab clean` sweeps them all; `down` and `clean --world W` those that
read as W's once the control characters are dropped.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from helpers.world import engine, netns
from helpers.world.naming import (
    DATA_ROOT,
    HOSTS,
    MARKER_PREFIX,
    RUN_ROOT,
    SCRATCH,
    HostPaths,
    NamingError,
    parse_namespace,
    parse_prefix,
)


def plain(name: str) -> str:
    """`name` without control or blank characters: what a terminal shows of it."""
    return "".join(c for c in name if c.isprintable() and not c.isspace())


def _is_prefix(name: str) -> bool:
    try:
        parse_prefix(name)
    except NamingError:
        return False
    return True


def malformed(name: str) -> bool:
    """A prefix no command accepts but which is a world's once its control characters go."""
    return name != plain(name) and _is_prefix(plain(name))


@dataclass
class Leftover:
    """What one malformed world (its raw prefix) left: labelled namespaces and folders."""

    prefix: str
    namespaces: list[str] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)


def _manifest_names(folder: Path, name: str) -> bool:
    with suppress(OSError, ValueError, TypeError, AttributeError):
        return json.loads((folder / "manifest.json").read_text()).get("prefix") == name
    return False


def find(prefix: str | None = None, roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> dict[str, Leftover]:
    """Every malformed world's leftovers, by raw prefix; with `prefix`, those that read as it. `roots` are
    RUN_ROOT and DATA_ROOT (a test's pretend machine passes its own)."""
    found: dict[str, Leftover] = {}
    for name in netns.list_names():
        if parse_namespace(name) is not None:
            continue  # a name of the scheme: `discover` and `down` judge it by its marker already
        marker = netns.marker_of(name) or ""
        if marker.startswith(MARKER_PREFIX):  # the course's mark on a name no command accepts
            raw = marker[len(MARKER_PREFIX):]
            found.setdefault(raw, Leftover(raw)).namespaces.append(name)
    for root in roots:
        if not root.is_dir():
            continue
        for entry in root.iterdir():
            name = entry.name.removesuffix(".lock")
            if _is_prefix(name) or not (malformed(name) or (root == roots[0] and _manifest_names(entry, name))):
                continue
            found.setdefault(name, Leftover(name)).folders.append(entry)
    return {raw: left for raw, left in found.items() if prefix is None or plain(raw) == prefix}


def _unmount_below(folder: Path) -> None:
    """Unmount what lies below `folder`, deepest first (mountinfo escapes a newline as \\012)."""
    mark = str(folder).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if (point + "/").startswith(mark):
            points.append(point)
    for point in sorted(set(points), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def remove(left: Leftover, roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> list[str]:
    """Stop the engines of a malformed world's folders, delete its namespaces and folders."""
    removed = []
    state, data = roots[0] / left.prefix, roots[1] / left.prefix
    for host in HOSTS + (SCRATCH,):
        engine.stop(HostPaths(state=state / host, data_root=data / host))
    for name in left.namespaces:
        netns.delete(name)
        removed.append(f"namespace {name!r}")
    for folder in left.folders:
        if folder.is_dir() and not folder.is_symlink():
            _unmount_below(folder)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)
        removed.append(f"{'folder' if not folder.name.endswith('.lock') else 'lock'} {str(folder)!r}")
    return removed


def sweep(prefix: str | None = None, roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> dict[str, list[str]]:
    """Remove every malformed world's leftovers (or those reading as `prefix`): raw prefix -> removed."""
    return {raw: remove(left, roots) for raw, left in find(prefix, roots).items()}
