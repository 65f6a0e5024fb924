"""The world's lock: one `up`, `down` or `clean` of a world at a time, that no other user can take.

An flock on `RUN_ROOT/<prefix>.lock`. Before issue 23.2 the file was 0644 in a 0755 folder, so any
user could `flock -x` it and freeze `up`, `down`, traces and the explorer of any world; and `down`
deleted it *after* releasing it, so a command already waiting held the lock of a deleted file while
a new one made a fresh file and took that: two `up`s ran at once. Now:

- RUN_ROOT is root's alone (0700), the lock file 0600, opened without following a link;
- the file is removed only by the holder, while it holds it (the end of `down`); whoever then wakes up
  on the removed file sees that the name no longer leads to it and takes the lock again on the name;
- the holder writes "<verb> <pid>" into it, so a command that waits more than `SAY_AFTER` seconds
  says what it waits for: "waiting for another `up` of world dnlab-w2, pid 1234".
"""
from __future__ import annotations

import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.world.naming import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, RUN_ROOT

SAY_AFTER = 2.0   # seconds of waiting before a command says what it waits for


def lock_path(prefix: str, root: Path = RUN_ROOT) -> Path:
    return root / f"{prefix}.lock"


def _private_root(root: Path) -> None:
    root.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    root.chmod(PRIVATE_DIR_MODE)


def _open(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)  # a file made before this rule was 0644
    return fd


def _still_named(fd: int, path: Path) -> bool:
    """The name still leads to the file `fd` locked (a `down` may have removed it meanwhile)."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def holder(path: Path) -> str:
    """Who holds the lock, as its file says ("up 1234"), else the pid /proc/locks names."""
    try:
        text = path.read_text().split()
    except OSError:
        text = []
    if len(text) == 2 and text[1].isdigit():
        return f"another `{text[0]}`|{text[1]}"
    try:
        inode = os.stat(path).st_ino
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" not in fields and len(fields) >= 6 and fields[5].endswith(f":{inode}"):
                return f"another process|{fields[4]}"
    except OSError:
        pass
    return "another process|?"


def _say_waiting(path: Path, subject: str, stop: threading.Event) -> None:
    if not stop.wait(SAY_AFTER):
        who, pid = holder(path).split("|")
        print(f"dnlab: waiting for {who} of world {subject}, pid {pid} (its lock {path})", file=sys.stderr,
              flush=True)


class Held:
    """A lock taken: `remove()` deletes its file while still holding it (the end of a `down`)."""

    def __init__(self, fd: int, path: Path):
        self.fd, self.path = fd, path

    def remove(self) -> None:
        if _still_named(self.fd, self.path):
            self.path.unlink(missing_ok=True)


@contextmanager
def locked(prefix: str, verb: str, wait: bool = True, root: Path = RUN_ROOT) -> Iterator[Held | None]:
    """Hold world `prefix`'s lock for `verb` (up, down, clean); None without waiting if it is held.
    `root` is RUN_ROOT (a test's pretend machine passes its own)."""
    _private_root(root)
    path = lock_path(prefix, root)
    stop = threading.Event()
    if wait:
        threading.Thread(target=_say_waiting, args=(path, prefix, stop), daemon=True).start()
    try:
        while True:
            fd = _open(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                yield None
                return
            if _still_named(fd, path):
                break
            os.close(fd)  # taken on a file a `down` removed: take it again on the name
    finally:
        stop.set()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{verb} {os.getpid()}\n".encode(), 0)
        yield Held(fd, path)
    finally:
        os.close(fd)
