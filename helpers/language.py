"""The language a learner reads (issue 22): English, or the Japanese edition.

Owns which language is in force, and the Japanese of the texts the library itself shows: figure
labels and legends, the explorer's labels, labs' checks and hints, the CLI's messages. Each such text
is written in the code as English beside a stable id::

    translate("draw:legend:nat", "address rewritten (NAT)")
    translate("labs:lab01:hint1", "Is {name} on the network you think?", name=container)

returns the English as written, or, with Japanese in force, its Japanese from the catalog
`i18n/ja/<room>.toml` (`<room>` is the id's first part: `lessons` (claim boxes, what chapter helpers
print), `draw`, `widgets`, `labs`, `cli`, `world` (what a reset undid, a probe's summary), `scenarios`
(each probe's description, a path figure's italic subtitle: a saved path keeps its English, and
`helpers.scenarios.probe_description` writes it again in the language in force)). `{field}`s
are filled with `str.format` in either language. `python -m i18n check` reads every `translate(...)`
call under helpers/ (their arguments must be string literals) and fails on one whose Japanese is
missing or stale once its room is declared translated (i18n/ja/edition.toml), as for the chapters.

A lab's texts that are data, not calls (helpers/labs/labNN.py's `LAB`: title, goal, tasks, tools,
summary, symptom, why, and its reference solution's cell texts and comments), are read by the same
check from the lab registry itself (`i18n.sources.lab_texts`), each with a stable id
`labs:labNN:<field>` (`title`, `goal`, `task1`..., `tools`, `summary`, `symptom`, `why`, and per
solution cell `stepK` (its explanation), `codeK` (its code, comments in Japanese: the same code) and
`terminal` (the docstring's shell form)); the lab shows them through `data_text(id, english)`, which
is `translate` without fields and without the literal rule. One mechanism for every lab: checks' and
hints' sentences are `translate("labs:labNN:...", ...)` calls; the `LAB`'s fields are data ids.
A room may be declared translated a part at a time (edition.toml `"labs:lab01"`, `"cli:lab"`): the
check then fails on that part's ids and on the room's shared ids (`labs:model:...`, `labs:common:...`).

In force, first match wins: `use("ja")` (the first code cell of every Japanese notebook calls it, and
it sets $DNLAB_LANG so the `dnlab` commands a cell runs answer in the same language); else $DNLAB_LANG
(`ja` or `en`); else the $DNLAB_LANG of the `sudo` that started this process (`DNLAB_LANG=ja sudo make
start`: sudo's default env_reset drops the variable, but the sudo process still holds the learner's
environment); else a Japanese locale ($LC_ALL, $LC_MESSAGES, $LANG starting with `ja`); else English.

A base module like `errors`: every room may import it; it imports nothing of the course.
"""
from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LANGUAGES = ("en", "ja")
ENV = "DNLAB_LANG"
CATALOGS = Path(__file__).resolve().parents[1] / "i18n" / "ja"   # beside the chapters' catalogs

_chosen: str | None = None


SUDO_DEPTH = 8     # parents looked at for the sudo that started us (sudo, its pty monitor, make, bash ...)


def _parent(pid: int) -> int:
    # /proc/PID/stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def from_sudo(pid: int | None = None) -> str:
    """$DNLAB_LANG as the learner set it before `sudo`: read from the environment of the nearest `sudo`
    among this process's parents ("" if none, or it had none). Only under sudo ($SUDO_USER set), where
    the variable was dropped; root reads any process's environment."""
    if not os.environ.get("SUDO_USER"):
        return ""
    return _sudo_language(pid or os.getpid())


@functools.cache
def _sudo_language(pid: int) -> str:
    # Cached: a process's sudo ancestor does not change, and `current()` runs for every translated text.
    try:
        pid = _parent(pid)
        for _ in range(SUDO_DEPTH):
            if pid <= 1:
                return ""
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sudo":
                for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    if entry.startswith(ENV.encode() + b"="):
                        return entry.split(b"=", 1)[1].decode(errors="replace")
                return ""
            pid = _parent(pid)
    except (OSError, ValueError, IndexError):
        return ""
    return ""


def _from_environment() -> str:
    chosen = (os.environ.get(ENV, "") or from_sudo()).strip().lower()
    if chosen:
        return "ja" if chosen.startswith("ja") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def current() -> str:
    """The language in force: "en" or "ja"."""
    return _chosen or _from_environment()


def use(language: str) -> str:
    """Put `language` ("en" or "ja") in force for this process and the commands it starts."""
    if language not in LANGUAGES:
        from helpers.errors import LabError  # noqa: PLC0415

        raise LabError(f"no {language!r} edition of the course: the languages are {', '.join(LANGUAGES)}",
                       fix='helpers.use_language("ja")')
    global _chosen
    _chosen = language
    os.environ[ENV] = language
    return language


@functools.cache
def _catalog(room: str) -> dict[str, str]:
    path = CATALOGS / f"{room}.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {t["id"]: t.get("ja", "") for t in data.get("text", [])}


@contextmanager
def speaking(language: str) -> Iterator[str]:
    """`language` in force inside the block only (the notebook generator writes both editions)."""
    global _chosen
    saved = _chosen
    _chosen = language
    try:
        yield language
    finally:
        _chosen = saved


def japanese(text_id: str) -> str | None:
    """The catalog's Japanese of `text_id`, or None where it has none yet."""
    return _catalog(text_id.split(":", 1)[0]).get(text_id) or None


def translate(text_id: str, english: str, **fields: object) -> str:
    """`english` (with its `{field}`s filled), or its Japanese when Japanese is in force and the
    catalog has it. Ids and English must be literals: the translation check reads them from the code."""
    text = english
    if current() == "ja":
        text = japanese(text_id) or english
    return text.format(**fields) if fields else text


def data_text(text_id: str, english: str) -> str:
    """A text held as data (a lab's title, goal, tasks...: `i18n.sources.lab_texts` gives each its id):
    `english`, or its Japanese when Japanese is in force and the catalog has it. No `{field}`s."""
    if current() == "ja":
        return japanese(text_id) or english
    return english
