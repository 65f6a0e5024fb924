"""Files the course writes where a user asked (`--png FILE`, `--keep DIR`): checked, then written
without ever following a link.

`dnlab` runs as root, and the folder a learner names is often /tmp, where any user can plant a name.
This machine (like many) has `fs.protected_symlinks=0`, so the kernel does not stop root writing
through another user's link: before this module, `ln -s /tmp/decoy /tmp/map.png` by user nobody made
root's `dnlab map --png /tmp/map.png` overwrite the decoy (issue 23.1). So:

- `check_file` / `check_dir` refuse (UsageError, exit 2) a target under /proc, /sys or /dev, an
  existing name that is a link or not a regular file (or folder), an existing name of another user in
  a sticky world-writable folder, a path through a link another user planted in such a folder, and
  for `--png` an existing file that is not a PNG (`--png /etc/passwd` would have replaced it);
- `write_file` writes a temporary file in the target's folder (O_CREAT|O_EXCL|O_NOFOLLOW, through the
  folder's descriptor) and renames it over the name: a link planted meanwhile is replaced, never
  followed; `OutputDir` does the same for each file of a saved run inside a folder opened O_NOFOLLOW.
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

from helpers.errors import LabError, UsageError

KERNEL_ROOTS = ("/proc", "/sys", "/dev")   # never a user's file: the kernel's views and devices
FILE_MODE = 0o644                           # a figure or a saved run is the learner's to share


def _under_kernel_root(path: str) -> str | None:
    for candidate in {path, os.path.realpath(path)}:
        for root in KERNEL_ROOTS:
            if candidate == root or candidate.startswith(root + "/"):
                return root
    return None


def _sticky_public(folder: os.stat_result) -> bool:
    return bool(folder.st_mode & stat.S_ISVTX) and bool(folder.st_mode & stat.S_IWOTH)


def _planted_on_the_way(path: str, option: str) -> None:
    """A link in the path, in a sticky world-writable folder, owned by neither us nor that folder's
    owner: the rule of `fs.protected_symlinks=1`, applied whatever the machine's setting."""
    parts = Path(os.path.abspath(path)).parts
    current = Path(parts[0])
    for part in parts[1:-1]:
        parent, current = current, current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(info.st_mode):
            owner = os.stat(parent)
            if _sticky_public(owner) and info.st_uid not in (os.geteuid(), owner.st_uid):
                raise UsageError(f"{option} {path}: {current} is a link of another user (uid {info.st_uid}) "
                                 f"in the shared folder {parent}; the course does not write through it",
                                 f"{option} {os.path.join(os.path.expanduser('~'), os.path.basename(path))}")
            current = Path(os.path.realpath(current))


def _check_existing(path: str, option: str, want_dir: bool) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    what = "folder" if want_dir else "regular file"
    elsewhere = os.path.join(os.path.expanduser("~"), os.path.basename(path.rstrip("/")) or "out")
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{option} {path}: that name is a symbolic link (to {os.readlink(path)}); the course "
                         "never writes through a link", f"{option} {elsewhere}   # or remove the link: rm {path}")
    if (want_dir and not stat.S_ISDIR(info.st_mode)) or (not want_dir and not stat.S_ISREG(info.st_mode)):
        if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
            return  # a folder given for a file or the other way round: the caller's message names its fix
        raise UsageError(f"{option} {path}: it exists and is not a {what}", f"{option} {elsewhere}")
    folder = os.lstat(os.path.dirname(os.path.abspath(path)))
    if info.st_uid != os.geteuid() and _sticky_public(folder):
        raise UsageError(f"{option} {path}: it belongs to another user (uid {info.st_uid}) in the shared "
                         f"folder {os.path.dirname(os.path.abspath(path))}", f"{option} {elsewhere}")
    if option == "--png" and not want_dir and info.st_size and not _is_png(path):
        # A typo or a tab completion (`--png /etc/passwd`) must not replace a file that is not a figure.
        raise UsageError(f"{option} {path}: it exists and is not a PNG image; the course replaces only a PNG "
                         "(a figure of an earlier run)", f"{option} {elsewhere}")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.read(fd, len(PNG_SIGNATURE)) == PNG_SIGNATURE
    finally:
        os.close(fd)


def check_file(path: str, option: str = "--png") -> None:
    """Refuse (UsageError) a FILE the course must not write; see the module's docstring."""
    root = _under_kernel_root(os.path.abspath(path))
    if root:
        raise UsageError(f"{option} {path}: {root} is the kernel's, not a place for files",
                         f"{option} {os.path.join(os.path.expanduser('~'), os.path.basename(path) or 'out.png')}")
    _planted_on_the_way(path, option)
    _check_existing(path, option, want_dir=False)


def check_dir(path: str, option: str = "--keep") -> None:
    """Refuse (UsageError) a DIR the course must not write into; see the module's docstring."""
    root = _under_kernel_root(os.path.abspath(path))
    if root:
        raise UsageError(f"{option} {path}: {root} is the kernel's, not a place for files",
                         f"{option} {os.path.join(os.path.expanduser('~'), 'run')}")
    _planted_on_the_way(os.path.join(path, "x"), option)
    _check_existing(path, option, want_dir=True)


def _failed(path: str | os.PathLike, option: str, error: OSError) -> LabError:
    """One line for a write that failed: a full disk is the machine's (exit 4), the rest the path's (2)."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return LabError(f"{option} {path}: the disk is full ({error.strerror})",
                        f"df -h {os.path.dirname(str(path)) or '.'}   # free space, or name a file on another disk")
    if error.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link (O_DIRECTORY says ENOTDIR)
        return UsageError(f"{option} {path}: a link (or a file) appeared on the way; the course never writes "
                          "through a link",
                          f"ls -l {os.path.dirname(str(path)) or '.'}")
    return UsageError(f"{option} {path}: cannot write it ({error.strerror})",
                      f"{option} {os.path.join(os.path.expanduser('~'), os.path.basename(str(path)) or 'out')}")


def _open_folder(folder: str) -> int:
    return os.open(folder or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _write_at(folder_fd: int, name: str, data: bytes) -> None:
    """Write `name` in the folder `folder_fd` as a temporary file renamed over it (never followed)."""
    temporary = f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE,
                 dir_fd=folder_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.rename(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        os.unlink(temporary, dir_fd=folder_fd)
        raise


def write_file(path: str, data: bytes, option: str = "--png") -> None:
    """Write `data` to the user's FILE: checked (`check_file`), then a temp file renamed over it."""
    check_file(path, option)
    folder, name = os.path.split(os.path.abspath(path))
    try:
        folder_fd = _open_folder(folder)
        try:
            _write_at(folder_fd, name, data)
        finally:
            os.close(folder_fd)
    except OSError as error:
        raise _failed(path, option, error) from None


class OutputDir:
    """A folder the user named (`--keep DIR`), made if missing and opened without following a link;
    every file is written through its descriptor (`_write_at`), sub-folders likewise."""

    def __init__(self, path: str | os.PathLike, option: str = "--keep", _fd: int | None = None):
        self.path, self.option = str(path), option
        if _fd is not None:
            self.fd = _fd
            return
        check_dir(self.path, option)
        try:
            with_parent = _open_folder(os.path.dirname(os.path.abspath(self.path)))
            try:
                self.fd = self._enter(with_parent, os.path.basename(os.path.abspath(self.path)))
            finally:
                os.close(with_parent)
        except OSError as error:
            raise _failed(self.path, option, error) from None

    @staticmethod
    def _enter(parent_fd: int, name: str) -> int:
        with suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=parent_fd)
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent_fd)

    def sub(self, name: str) -> OutputDir:
        try:
            return OutputDir(os.path.join(self.path, name), self.option, _fd=self._enter(self.fd, name))
        except OSError as error:
            raise _failed(os.path.join(self.path, name), self.option, error) from None

    def write(self, name: str, data: bytes) -> None:
        try:
            _write_at(self.fd, name, data)
        except OSError as error:
            raise _failed(os.path.join(self.path, name), self.option, error) from None

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
