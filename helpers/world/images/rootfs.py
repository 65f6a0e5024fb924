"""A root filesystem written straight into a tar archive (a Docker image layer), nothing on disk.

Entries are deterministic (no timestamps, owner root), so the same inputs give the same bytes and
the same layer digest: two engines, or two builds, share one layer.
"""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path


class RootfsTar:
    """Write directories, files, links and host files into an in-memory tar, each path once."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        # Open across calls (entries come one method at a time); `getvalue` closes it.
        self._tar = tarfile.open(fileobj=self._buffer, mode="w", format=tarfile.GNU_FORMAT)  # noqa: SIM115
        self._names: set[str] = set()

    def _add(self, info: tarfile.TarInfo, data: bytes | None = None) -> None:
        # The first writer of a path wins: a layer may hold each path once.
        if info.name in self._names:
            return
        self._names.add(info.name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        self._tar.addfile(info, io.BytesIO(data) if data is not None else None)

    def has(self, name: str) -> bool:
        """Whether the archive holds `name` (a path without the leading slash)."""
        return name.strip("/") in self._names

    def directory(self, name: str, mode: int = 0o755) -> None:
        """A directory, with its parents."""
        parts = name.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            info = tarfile.TarInfo("/".join(parts[:depth]))
            info.type, info.mode = tarfile.DIRTYPE, mode if depth == len(parts) else 0o755
            self._add(info)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        """A regular file (its directory made if missing)."""
        name = name.strip("/")
        if "/" in name:
            self.directory(name.rsplit("/", 1)[0])
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        self._add(info, data)

    def symlink(self, name: str, target: str) -> None:
        """A symbolic link `name` -> `target` (target as written, relative or absolute)."""
        name = name.strip("/")
        if "/" in name:
            self.directory(name.rsplit("/", 1)[0])
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        self._add(info)

    def host_file(self, path: Path, name: str | None = None) -> None:
        """Copy a file of this machine, keeping its mode; a symlink is kept as a link and its
        target copied too, so sonames (libfoo.so.1 -> libfoo.so.1.2.3) stay as Debian has them."""
        path = canonical(path)
        name = name or str(path)
        if path.is_symlink():
            target = os.readlink(path)
            self.symlink(name, target)
            self.host_file(path.parent / target)
            return
        self.file(name, path.read_bytes(), path.stat().st_mode & 0o7777)

    def getvalue(self) -> bytes:
        """The finished archive (no more entries after this)."""
        self._tar.close()
        return self._buffer.getvalue()


def canonical(path: Path) -> Path:
    """`path` with its directory resolved but not the file itself.

    Merged-/usr Debian has /bin -> usr/bin and /lib -> usr/lib: the image keeps one real copy under
    /usr, and a library symlink stays a link (its target is copied separately).
    """
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name
