"""What the hardening tests (test_hardening.py, and test_hardening_no_engine.py for those that meet no
engine) share: `dnlab` run as its own process from this checkout, as a learner's terminal runs it, and a
shared folder like /tmp where user nobody plants links."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def dnlab(*args: str, world: str | None = None, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """`dnlab [--world W] ARGS` from this checkout, as its own process."""
    argv = [sys.executable, "-m", "helpers", *(["--world", world] if world is not None else []), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env, **kwargs)


def dnlab_started(*args: str, world: str | None = None) -> subprocess.Popen:
    """`dnlab [--world W] ARGS` from this checkout, started as its own process; its stderr a text pipe."""
    argv = [sys.executable, "-m", "helpers", *(["--world", world] if world is not None else []), *args]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def as_nobody(*argv: str) -> None:
    subprocess.run([*NOBODY, *argv], check=True, capture_output=True, text=True)


def shared_folder() -> Iterator[Path]:
    """A sticky, world-writable folder like /tmp (its own, so nothing else of /tmp is touched), with
    a root-owned decoy file and decoy folder in it; removed afterwards. A fixture's body: `yield from`."""
    folder = Path(tempfile.mkdtemp(prefix="dnlab-hh-shared-", dir="/tmp"))
    folder.chmod(0o1777)
    (folder / "decoy").write_text("root's own file\n")
    (folder / "decoy-dir").mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
