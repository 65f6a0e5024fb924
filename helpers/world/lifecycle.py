"""One engine lifecycle for every dockerd the course runs, and the one sweep of what crashed owners left.

Three kinds of engine, one type. A world's Docker hosts (host1, host2), a lesson's scratch engine
(`manager.scratch_engine`) and a throwaway engine outside any world (helpers/hosting/sandbox.py) are
each an `EngineSite`: a network namespace whose `lo` carries its owner's marker, the engine's folders
(`HostPaths`: state with socket, pidfile and exec-root; data-root), and a cgroup parent:

    site         namespace = cgroup parent  folders (under RUN_ROOT, DATA_ROOT)  marker on its lo
    world host   <prefix>-host1             <prefix>/host1                       dnlab-world=<prefix>
    scratch      <prefix>-scratch           <prefix>/scratch                     dnlab-world=<prefix>
    throwaway    dnlab-sbx-<name>           dnlab-sbx-<name>                     dnlab-sandbox=dnlab-sbx-<name>

`start` launches dockerd there (`engine.start`: its own mount and UTS namespaces) and waits until it
answers; `stop` ends it and everything below it (containerd, shims, containers); `remove` also
deletes the namespace (only if it carries the site's marker: a same-named namespace of a learner
is never touched), unmounts what lies below the folders, removes them and the cgroups. That removal
is `remove_marked`, the one code path that does it, also for what a world no command accepts left
(helpers/world/leftovers.py: its sites built from its raw prefix). `leftovers` lists what of a site
still exists (a test's proof that `remove` left nothing).

The sweep (`sweep`, run by `dnlab clean` through `manager.clean`): what the course left is found by
its marks (`find_marked`): a namespace whose `lo` carries `dnlab-world=<prefix>` (and whose name is
that world's) or `dnlab-sandbox=<full name>` (and is named so), and the folders of RUN_ROOT and
DATA_ROOT named as a world or a sandbox; and `Stray`s, the marked namespaces and folders of a world
whose prefix holds a control character (helpers/world/leftovers.py). Each owner found is swept unless
it is busy: a world whose lock is held or whose engine lives (the manager says), a sandbox whose owner
holds its lock (`naming.SANDBOX_OWNER`, flock, while the owning process lives); a stray never is.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import LabError, UsageError
from helpers.world import engine, netns
from helpers.world.naming import (
    DATA_ROOT,
    MARKER_PREFIX,
    RUN_ROOT,
    SANDBOX_MARKER_PREFIX,
    SANDBOX_NAME,
    SANDBOX_OWNER,
    SANDBOX_PREFIX,
    HostPaths,
    NamingError,
    WorldNames,
    malformed_prefix,
    parse_namespace,
    parse_prefix,
    plain,
)
from helpers.world.proc import lock_held


@dataclass(frozen=True)
class EngineSite:
    """Where one engine of the course lives and whose mark it carries (see the module docstring)."""

    namespace: str
    paths: HostPaths
    cgroup_parent: str
    marker: str

    def owns_namespace(self) -> bool:
        """True if the site's namespace exists and carries the site's marker."""
        return netns.exists(self.namespace) and netns.marker_of(self.namespace) == self.marker

    def make_namespace(self) -> None:
        """A bare namespace (loopback only) with the site's marker: for an engine that is in no world's
        topology (scratch, throwaway); a world's hosts get theirs from the world's topology."""
        netns.create(self.namespace, self.marker)

    def start(self, *, hostname: str | None = None, extra_config: dict | None = None, lab_dns: bool = True,
              binaries: Path | None = None, fix: str | None = None) -> subprocess.Popen:
        """Start dockerd in the site's namespace (`engine.start`: the same launch for every engine) and wait
        until it answers. If it does not come up, the LabError's fix is `fix` when given (the command
        that repairs THIS owner: a world names its own `down && up`, never `clean`)."""
        process = engine.start(self.namespace, self.paths, self.cgroup_parent, hostname=hostname,
                               extra_config=extra_config, lab_dns=lab_dns, binaries=binaries)
        self.wait_ready(process, fix)
        return process

    def wait_ready(self, process: subprocess.Popen | None, fix: str | None = None) -> None:
        """`engine.wait_ready`, its LabError's fix replaced by `fix` when given."""
        try:
            engine.wait_ready(self.paths, process)
        except LabError as failed:
            if fix is None:
                raise
            raise LabError(failed.problem, fix) from None

    def running(self) -> bool:
        """True if any process of the engine lives (dockerd, containerd, shims, containers)."""
        return bool(engine.processes_of(self.paths))

    def stop(self, grace: float = 0.0) -> bool:
        """End the engine and everything below it (`engine.stop`; `grace` seconds for dockerd after
        SIGTERM). True if anything of it was running."""
        was_running = self.running()
        if was_running:
            engine.stop(self.paths, grace=grace)
        return was_running

    def remove(self, *, stopped: bool = False) -> list[str]:
        """Remove every trace of the engine: its processes, its namespace (only if marked as the site's),
        mounts below its folders, the folders, its cgroups (`remove_marked`). What was removed.
        `stopped`: the caller has just found the engine stopped (`stop_all`), so it is not looked for again."""
        return remove_marked({self.marker}, [self.namespace], [self.paths.state, self.paths.data_root], [self],
                             stopped=stopped)

    def leftovers(self) -> list[str]:
        """What of the site still exists: processes, the namespace, folders, mounts below them, cgroups."""
        left = [f"process {pid}" for pid in engine.processes_of(self.paths)]
        if netns.exists(self.namespace):
            left.append(f"namespace {self.namespace}")
        for directory in (self.paths.state, self.paths.data_root):
            if directory.exists():
                left.append(f"directory {directory}")
        left += [f"mount {point}" for point in engine.mounts_below(self.paths.state, self.paths.data_root)]
        left += [f"cgroup {c}" for c in engine.cgroup_dirs(self.cgroup_parent)]
        return left


def stop_all(sites: Sequence[EngineSite]) -> list[EngineSite]:
    """Stop the engines of `sites`, side by side, until one walk of /proc finds none of their processes
    (a site's `stop` walks it twice; nothing running, as before a new world, costs one walk in all).
    The sites that were running."""
    stopped: list[EngineSite] = []
    for _ in range(3):  # a process forked while its engine was being killed is found by the next walk
        running = [site for site, pids in zip(sites, engine.processes_of_each([s.paths for s in sites]),
                                              strict=True) if pids]
        if not running:
            break
        with ThreadPoolExecutor(max_workers=len(running)) as pool:
            list(pool.map(lambda site: engine.stop(site.paths), running))
        stopped += [site for site in running if site not in stopped]
    return stopped


def _shown(name: str | Path) -> str:
    """A name or path as a report line shows it: quoted if a control or blank character is in it."""
    return str(name) if plain(str(name)) == str(name) else repr(str(name))


def remove_marked(markers: Collection[str], namespaces: Iterable[str], folders: Iterable[Path],
                  sites: Iterable[EngineSite] = (), *, stopped: bool = False) -> list[str]:
    """The one removal of what an owner of the course left (an engine's site, a world no command accepts):
    stop the engines of `sites` (unless the caller has, `stopped`), delete each of `namespaces` that carries
    one of the owner's `markers` (a same-named namespace without one is never touched), unmount what lies
    below `folders`, remove them (a file: unlink), remove the sites' cgroups. What was removed, one line each."""
    sites, folders = list(sites), list(folders)
    removed = [] if stopped else [f"dockerd of {_shown(site.namespace)}" for site in sites if site.stop()]
    for name in namespaces:
        if netns.exists(name) and netns.marker_of(name) in markers:
            netns.delete(name)
            removed.append(f"namespace {_shown(name)}")
    # Below an engine's state folder: the exec-root's own shared bind (engine.share_exec_root), the
    # namespaces dockerd mounted in it; below its data-root: containers' overlay mounts.
    engine.unmount_below(*folders)
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"directory {_shown(folder)}")
        elif os.path.lexists(folder):
            folder.unlink(missing_ok=True)
            removed.append(f"{'lock' if folder.name.endswith('.lock') else 'file'} {_shown(folder)}")
    for site in sites:
        removed += [f"cgroup {_shown(c)}" for c in engine.remove_cgroups(site.cgroup_parent)]
    return removed


def world_site(names: WorldNames, host: str) -> EngineSite:
    """The site of a world's Docker host (`host1`, `host2`) or of its scratch engine (`naming.SCRATCH`)."""
    return EngineSite(names.namespace(host), names.host(host), f"/{names.prefix}-{host}", names.marker)


# --- throwaway engines' names (helpers/hosting/sandbox.py runs them) -----------------------------

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


def sandbox_site(full: str) -> EngineSite:
    """The site of throwaway engine `full` (`dnlab-sbx-<name>`)."""
    return EngineSite(full, paths_of(full), "/" + full, marker_of(full))


def in_use(full: str) -> bool:
    """True if a live owner holds sandbox `full`'s lock."""
    lock = paths_of(full).state / SANDBOX_OWNER
    return lock.exists() and lock_held(lock)


def remove(full: str) -> list[str]:
    """Remove every trace of sandbox `full` (`EngineSite.remove`), then the course's roots if they are
    left empty. What was removed."""
    removed = sandbox_site(full).remove()
    remove_empty_roots()  # the last user of the engines' mount points the course made
    return removed


def leftovers(full: str) -> list[str]:
    """What of sandbox `full` still exists (a test's proof that `stop` removed everything)."""
    return sandbox_site(full).leftovers()


def remove_empty_roots(roots: tuple[Path, ...] = (RUN_ROOT, DATA_ROOT)) -> None:
    """Once the last world or sandbox is gone: release the mount points the course made for engines,
    and remove the course's root folders if they are empty. A mount point stays (the course image's
    VOLUME /var/lib/dnlab: rmdir there says "Device or resource busy")."""
    engine.release_mountpoints()
    for root in roots:
        if root.is_dir() and not root.is_mount() and not any(root.iterdir()):
            with suppress(OSError):  # something was made there meanwhile: it is someone's
                root.rmdir()


# --- the sweep -----------------------------------------------------------------------------------

def _is_prefix(name: str) -> bool:
    try:
        parse_prefix(name)
    except NamingError:
        return False
    return True


def _is_sandbox(name: str) -> bool:
    return name.startswith(SANDBOX_PREFIX) and bool(SANDBOX_NAME.fullmatch(name.removeprefix(SANDBOX_PREFIX)))


@dataclass
class Stray:
    """What a world whose prefix no command accepts left (helpers/world/leftovers.py): its raw prefix,
    its namespaces and the markers they carry, its folders and lock file."""

    prefix: str
    namespaces: list[str] = field(default_factory=list)
    markers: set[str] = field(default_factory=set)
    folders: list[Path] = field(default_factory=list)


@dataclass
class Marked:
    """What the course left on the machine, by owner: world prefixes, sandboxes' full names, and the
    leftovers of worlds no command accepts (`Stray`s, by raw prefix)."""

    worlds: set[str] = field(default_factory=set)
    sandboxes: set[str] = field(default_factory=set)
    strays: dict[str, Stray] = field(default_factory=dict)

    def stray(self, prefix: str) -> Stray:
        return self.strays.setdefault(prefix, Stray(prefix))


def _manifest_names(folder: Path, name: str) -> bool:
    """True if `folder` holds a world's manifest naming `name` as its prefix."""
    with suppress(OSError, ValueError, TypeError, AttributeError):
        return json.loads((folder / "manifest.json").read_text()).get("prefix") == name
    return False


def find_marked(roots: tuple[Path, Path] = (RUN_ROOT, DATA_ROOT)) -> Marked:
    """Every world and sandbox that left a namespace carrying its marker, or a folder (or a world's lock
    file) in `roots` named as it. A namespace without the right marker is never counted, whatever its name;
    a name outside the scheme is not even read. Strays: a namespace `<raw>-<role>` whose name reads as a
    world's once its control characters go, marked `dnlab-world=<raw>` (or its plain prefix: the kernel
    cut the alias at the newline); a folder (or lock) named as such a prefix, or a folder of the run root
    whose manifest names it."""
    found = Marked()
    for root in roots:
        if root.is_dir():
            for entry in root.iterdir():
                name = entry.name.removesuffix(".lock")
                if _is_prefix(name):
                    found.worlds.add(name)
                elif _is_sandbox(entry.name):
                    found.sandboxes.add(entry.name)
                elif malformed_prefix(name) or (root == roots[0] and _manifest_names(entry, name)):
                    found.stray(name).folders.append(entry)
    for name in netns.list_names():
        parsed = parse_namespace(name)
        reads_as = None if parsed else parse_namespace(plain(name))
        if parsed or reads_as or _is_sandbox(name):  # only names of the scheme are asked for their marker
            marker = netns.marker_of(name) or ""
            marked_as = marker.removeprefix(MARKER_PREFIX) if marker.startswith(MARKER_PREFIX) else None
            if parsed and marked_as == parsed[0]:
                found.worlds.add(parsed[0])
            elif reads_as and marked_as is not None and plain(marked_as) == reads_as[0] \
                    and name.endswith(f"-{reads_as[1]}"):
                # The kernel keeps an alias up to its first newline, so the marker may read as the plain
                # prefix: the stray is the one the namespace's own name gives.
                stray = found.stray(name.removesuffix(f"-{reads_as[1]}"))
                stray.namespaces.append(name)
                stray.markers.add(marker)
            elif _is_sandbox(name) and marker == marker_of(name):
                found.sandboxes.add(name)
    return found


@dataclass
class Owner:
    """One owner the sweep may remove: its `claim` yields None when it is free (and keeps it claimed,
    e.g. its lock held, until the block ends) or why it is busy; `remove` removes it."""

    name: str
    claim: Callable[[], AbstractContextManager[str | None]]
    remove: Callable[[], list[str]]


@dataclass
class Swept:
    """What `sweep` did: removed per owner, busy owners with why, owners whose removal failed."""

    removed: dict[str, list[str]] = field(default_factory=dict)
    busy: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def sweep(owners: Iterable[Owner]) -> Swept:
    """Remove every owner that is free; leave busy ones alone; one failure never stops the others."""
    done = Swept()
    for owner in owners:
        try:
            with owner.claim() as busy:
                if busy:
                    done.busy[owner.name] = busy
                    continue
                done.removed[owner.name] = owner.remove()
        except Exception as error:  # noqa: BLE001 - report it, sweep the others
            done.failed[owner.name] = f"{type(error).__name__}: {error}"
    return done


class _SandboxClaim:
    """A sandbox is busy while a live owner holds its lock."""

    def __init__(self, full: str):
        self.full = full

    def __enter__(self) -> str | None:
        return "its owner holds its lock" if in_use(self.full) else None

    def __exit__(self, *exc) -> None:
        return None


def sandbox_owner(full: str) -> Owner:
    """Sandbox `full` as the sweep sees it (its removal leaves the roots in place: the sweep's caller
    removes empty roots once, at the end)."""
    return Owner(full, lambda: _SandboxClaim(full), lambda: sandbox_site(full).remove())


def sandboxes(ids: set[str] | None = None, marked: Marked | None = None) -> Iterator[Owner]:
    """The sandboxes `find_marked` finds, as owners to sweep; with `ids` (world ids), those named `<id>`
    or `<id>-...` alone (a developer's or CI run's sandboxes take its world id as their name or prefix)."""
    marked = marked if marked is not None else find_marked()
    for full in sorted(marked.sandboxes):
        name = full.removeprefix(SANDBOX_PREFIX)
        if ids is not None and not any(name == i or name.startswith(f"{i}-") for i in ids if i):
            continue
        yield sandbox_owner(full)
