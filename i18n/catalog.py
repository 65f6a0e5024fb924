"""The catalog format: TOML (read with the standard library's tomllib, written here), one file per
chapter, one `[[text]]` table per text, in the order of the chapter:

    [[text]]
    id = "ch01:summary"
    en_sha = "3f2a9c0b1d2e"     # sha256 of `en`, first 12 hex digits
    reviewed = false            # true once a second reader checked the Japanese against the English
    en = '''
    ## Summary
    ...'''
    ja = '''
    ## まとめ
    ...'''

`en` is the English the Japanese translates (as it stood when the Japanese was written or last
reviewed), `en_sha` its hash: the check compares it with the hash of today's English, so a changed
sentence makes the id stale until its Japanese is revised and accepted (`python -m i18n accept
ID`). Texts are multi-line literal strings (no escapes: a diff shows the text as written); the newline
after the opening quotes is not part of the text (TOML's rule); a text that contains three single quotes
is written as a basic string with escapes.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path


def sha(text: str) -> str:
    """The hash stored beside a translation: of the English text, as the source writes it."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Entry:
    id: str
    en: str
    ja: str = ""
    en_sha: str = ""
    reviewed: bool = False

    def __post_init__(self):
        if not self.en_sha:
            self.en_sha = sha(self.en)


def _string(text: str) -> str:
    if "'''" in text or any(ord(c) < 32 and c not in "\t\n" for c in text) or "\r" in text:
        return json.dumps(text, ensure_ascii=False)   # a TOML basic string: JSON's escapes are TOML's
    return "'''\n" + text + "'''"


def dumps(entries: list[Entry], header: str = "") -> str:
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    for e in entries:
        out += ["", "[[text]]", f"id = {json.dumps(e.id)}", f"en_sha = {json.dumps(e.en_sha)}",
                f"reviewed = {'true' if e.reviewed else 'false'}", f"en = {_string(e.en)}", f"ja = {_string(e.ja)}"]
    return "\n".join(out).lstrip("\n") + "\n"


def loads(text: str) -> list[Entry]:
    data = tomllib.loads(text)
    return [Entry(id=t["id"], en=t["en"], ja=t.get("ja", ""), en_sha=t["en_sha"], reviewed=t.get("reviewed", False))
            for t in data.get("text", [])]


def load(path: Path) -> list[Entry]:
    return loads(path.read_text(encoding="utf-8")) if path.exists() else []


def save(path: Path, entries: list[Entry], header: str = "") -> None:
    text = dumps(entries, header)
    assert [vars(e) for e in loads(text)] == [vars(e) for e in entries], f"{path}: catalog does not round-trip"
    path.write_text(text, encoding="utf-8")


def load_dir(folder: Path) -> dict[str, dict[str, Entry]]:
    """Every catalog of a folder: {catalog name (file stem): {id: entry}}."""
    out = {}
    for path in sorted(folder.glob("*.toml")):
        if path.stem in ("edition", "terms"):
            continue
        entries = load(path)
        ids = [e.id for e in entries]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"{path}: ids written twice: {', '.join(dup)}")
        out[path.stem] = {e.id: e for e in entries}
    return out


def catalog_of(text_id: str) -> str:
    """The catalog file (stem) an id lives in: `ch01:summary` -> ch01, `common:setup` -> common."""
    return text_id.split(":", 1)[0]


def translated(folder: Path) -> list[str]:
    """The chapters declared translated (edition.toml): the check fails only on these."""
    path = folder / "edition.toml"
    return list(tomllib.loads(path.read_text(encoding="utf-8")).get("translated", [])) if path.exists() else []
