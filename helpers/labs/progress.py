"""Which labs a learner has passed: a small JSON file that outlives the world.

Kept in ``$DNLAB_PROGRESS_DIR`` or ``$XDG_DATA_HOME/dnlab`` (default ``~/.local/share/dnlab``), one
file per world prefix (``labs-<prefix>.json``), so two learners' worlds on one workshop machine
keep separate records, and `dnlab down` does not wipe a learner's record. The same file counts the
checks of each troubleshooting lab since its start (their hints grow more precise with each check).
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


def _read(prefix: str) -> dict:
    try:
        data = json.loads(progress_file(prefix).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(prefix: str, data: dict) -> None:
    path = progress_file(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**data, "prefix": prefix}, indent=2))
    tmp.replace(path)  # atomic: a crash never leaves half a record


def load(prefix: str) -> dict[str, dict]:
    """lab number (as a string) -> {"slug", "title", "passed_at"}."""
    passed = _read(prefix).get("passed", {})
    return passed if isinstance(passed, dict) else {}


def record_pass(prefix: str, lab) -> None:
    data = _read(prefix)
    passed = load(prefix)
    passed[str(lab.number)] = {"slug": lab.slug, "title": lab.title, "passed_at": time.time()}
    _write(prefix, {**data, "passed": passed})


def passed_numbers(prefix: str) -> set[int]:
    return {int(number) for number in load(prefix)}


# --- how often a lab was checked since its start ------------------------------------------------
# The troubleshooting labs give a more precise hint at each further check (from where to look to
# what to run), so the record counts the checks since the lab's last `start`.

def count_check(prefix: str, number: int) -> int:
    """Count one more check of lab `number`; return how many there were since its start (1 = first)."""
    data = _read(prefix)
    checks = data.get("checks") if isinstance(data.get("checks"), dict) else {}
    checks[str(number)] = int(checks.get(str(number), 0)) + 1
    _write(prefix, {**data, "checks": checks})
    return checks[str(number)]


def reset_checks(prefix: str, number: int) -> None:
    """Forget the checks of lab `number` (a fresh start gives the first hint again)."""
    data = _read(prefix)
    checks = data.get("checks") if isinstance(data.get("checks"), dict) else {}
    if checks.pop(str(number), None) is not None:
        _write(prefix, {**data, "checks": checks})
