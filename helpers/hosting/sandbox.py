"""A throwaway Docker engine of the course's own kind, outside any lab world.

`ThrowawayEngine(name)` makes a network namespace and starts a dockerd in it (the same launch as a
world's engines: `engine.start`, with its own mount and UTS namespaces), with its own data-root,
exec-root and socket. The course image's test (`make test-course-image`) and the classroom load and
run images in it; nothing of it reaches the machine's own Docker engine or network: its namespace has
a loopback and nothing else, so a published port is reached from inside it (`run(["curl", ...])`).

Every name is `naming.SANDBOX_PREFIX + name` (namespace, state and data folders, cgroup parent), the
namespace is labelled, and the owner holds a lock while it lives: `dnlab clean` (`sweep`) removes a
sandbox whose owner is gone, and never one in use. `stop()` removes everything it made. Its
lifecycle (start, stop, remove), names and sweep are helpers/world/lifecycle.py's `EngineSite` and
`sweep`, shared with the world's engines (the world's `clean` needs them; hosting it does not).
"""
from __future__ import annotations

import fcntl
import shlex
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from helpers.errors import LabError
from helpers.hosting import runc_caps
from helpers.world import engine, engines, image
from helpers.world.lifecycle import (  # noqa: F401 - the sandbox's names and removal, for its users
    full_name,
    in_use,
    leftovers,
    marker_of,
    remove,
    sandbox_site,
)
from helpers.world.naming import (
    PRIVATE_DIR_MODE,
    SANDBOX_OWNER,
    HostPaths,
)
from helpers.world.proc import NETNS_DIR, require_root, which

# Its runtime on a machine that withholds capabilities (runc through helpers/hosting/runc_caps.py).
SANDBOX_RUNTIME = "dnlab-runc"


class ThrowawayEngine:
    """A dockerd in a namespace of its own; a context manager (`with ThrowawayEngine("x") as sbx:`)."""

    def __init__(self, name: str, engine: str = "system"):
        """`engine`: the machine's dockerd (`system`) or a fetched release (`28`, helpers/world/engines.py):
        the machine's 20.10 ignores `docker import --platform` (its imports say amd64), 28 honours it."""
        self.name = name
        self.engine = engine
        self.netns = full_name(name)
        self.site = sandbox_site(self.netns)   # the one engine lifecycle (helpers/world/lifecycle.py)
        self.paths = self.site.paths
        self._owner = None
        self._client = None
        self.seeded = False

    @property
    def dockerd(self) -> Path:
        """The dockerd binary this engine runs (the machine's, or a fetched release's)."""
        binaries = engines.bin_dir(self.engine)
        return binaries / "dockerd" if binaries else Path(which("dockerd"))

    # --- life ---------------------------------------------------------------------------------

    def start(self, seed: Path | None = None) -> ThrowawayEngine:
        """Make the namespace, start dockerd, wait until it answers. A leftover of the same name whose
        owner is gone is removed first; one still in use is an error. `seed`: an image store an engine
        of the same dockerd kept (`keep_seed`); if it exists, the engine starts holding its images
        (`seeded` says whether it did), with no import."""
        require_root()
        for tool in ("ip", "nsenter", "unshare", "dockerd", "containerd", "runc"):
            which(tool)
        self._take_owner()
        try:
            remove(self.netns)  # a crashed earlier owner's leftovers (the lock said it is gone)
            self._take_owner()   # remove() took the state dir, lock file included: take it again
            self.site.make_namespace()
            if seed is not None:
                self.seeded = image.copy_store(seed if seed.is_dir() else None, self.paths.data_root)
            # lab_dns=False: no world here, so its containers get the machine's resolver as on any Docker.
            self.site.start(hostname=self.netns, extra_config=runtime_config(self.paths), lab_dns=False,
                            binaries=engines.bin_dir(self.engine))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[str]:
        """Remove everything: processes, namespace, mounts, folders, cgroups. What was removed."""
        if self._client is not None:
            with suppress(Exception):
                self._client.close()
            self._client = None
        removed = remove(self.netns)
        if self._owner is not None:
            self._owner.close()
            self._owner = None
        return removed

    def __enter__(self) -> ThrowawayEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _take_owner(self) -> None:
        """Hold the sandbox's owner lock (flock) for as long as this object lives."""
        if self._owner is not None:
            self._owner.close()
        self.paths.state.mkdir(parents=True, exist_ok=True)
        self.paths.state.chmod(PRIVATE_DIR_MODE)
        owner = open(self.paths.state / SANDBOX_OWNER, "a")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner.close()
            raise LabError(f"throwaway engine {self.name} is in use by another process",
                           "choose another name, or wait for it to end") from None
        self._owner = owner

    # --- use ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.paths.base_url

    @property
    def client(self):
        """A docker SDK client of this engine (made on first use, closed by `stop`)."""
        if self._client is None:
            self._client = engine.client(self.paths)
        return self._client

    def run(self, argv: Sequence[str], *, timeout: float = 60, check: bool = False,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run a machine command inside the engine's network namespace (its loopback, its ports)."""
        full = [which("nsenter"), f"--net={NETNS_DIR}/{self.netns}", which(argv[0]), *argv[1:]]
        return subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=check, input=input)

    def docker(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """The real docker CLI against this engine (`engine.run_docker`)."""
        return engine.run_docker(list(args), base_url=self.base_url, timeout=timeout, check=check)

    def load(self, archive: Path) -> list[str]:
        """`docker load` of a docker-save tar (streamed from the file). The tags loaded (an untagged
        image's id)."""
        with open(archive, "rb") as data:
            images = self.client.images.load(data)
        return [name for image in images for name in (image.tags or [image.id])]

    def keep_seed(self, seed: Path) -> bool:
        """Keep this engine's image store as `seed` for the next engine started from it (`start(seed)`):
        right after an import, before any container exists. Its layers are hard links to this engine's
        files, so removing this engine frees none of their blocks: on this machine's disk, deleting a
        2 GB unpacked image file by file took 10-30 s. True if this call made it."""
        return image.keep_store(self.paths.data_root, seed)

    def import_rootfs(self, tar: Path, tag: str, changes: list[str]) -> str:
        """`docker import` of a root filesystem tar with Dockerfile `changes` (CMD, ENV, ...). Its id."""
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        return self.docker(*args, str(tar), tag).stdout.strip()


def runtime_config(paths: HostPaths) -> dict:
    """daemon.json settings for the engine's runtime: none on a machine with every capability; on one
    that withholds some, runc through helpers/hosting/runc_caps.py (see there), so `--privileged` runs."""
    if not runc_caps.machine_withholds():
        return {}
    wrapper = paths.state / SANDBOX_RUNTIME
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(runc_caps.__file__)} "
                       f"{shlex.quote(which('runc'))} \"$@\"\n")
    wrapper.chmod(0o700)
    return {"runtimes": {SANDBOX_RUNTIME: {"path": str(wrapper)}}, "default-runtime": SANDBOX_RUNTIME}
