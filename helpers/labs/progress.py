"""Which labs a learner has passed: a small JSON file that outlives the world.

Kept in ``$DNLAB_PROGRESS_DIR`` or ``$XDG_DATA_HOME/dnlab`` (default ``~/.local/share/dnlab``), one
file per world prefix (``labs-<prefix>.json``), so two learners' worlds on one workshop machine
keep separate records, and `dnlab down` does not wipe a learner's record.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

PROGRESS_ENV = "DNLAB_PROGRESS_DIR"


def progress_dir() -> Path:
    if os.environ.get(PROGRESS_ENV):
        return Path(os.environ[PROGRESS_ENV])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dnlab"


def progress_file(prefix: str) -> Path:
    return progress_dir() / f"labs-{prefix}.json"


def load(prefix: str) -> dict[str, dict]:
    """lab number (as a string) -> {"slug", "title", "passed_at"}."""
    try:
        data = json.loads(progress_file(prefix).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data.get("passed", {}) if isinstance(data, dict) else {}


def record_pass(prefix: str, lab) -> None:
    passed = load(prefix)
    passed[str(lab.number)] = {"slug": lab.slug, "title": lab.title, "passed_at": time.time()}
    path = progress_file(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"prefix": prefix, "passed": passed}, indent=2))
    tmp.replace(path)  # atomic: a crash never leaves half a record


def passed_numbers(prefix: str) -> set[int]:
    return {int(number) for number in load(prefix)}
