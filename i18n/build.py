"""notebooks/ja/NN_*.ipynb: the chapters declared translated, built from the same sources as the
English with each text's Japanese in place (code cells: the catalog's Japanese of the cell, the same
code by `check.same_code`; a cell without Japanese stays English). The one line of code the Japanese
edition adds: its first cell that imports helpers puts Japanese in force (`LANGUAGE_LINE`, helpers/language.py), so the
figures, hints and `dnlab` messages of the chapter speak Japanese too."""
from __future__ import annotations

from pathlib import Path

import nbformat

from i18n import CATALOGS, OUTPUT, SOURCES, catalog, sources


LANGUAGE_LINE = 'helpers.use_language("ja")   # 図の文字・ヒント・dnlab の表示も日本語に'


def with_language(setup: str) -> str:
    """A code cell with `LANGUAGE_LINE` right after its `import helpers`."""
    lines = setup.split("\n")
    at = lines.index("import helpers") + 1
    return "\n".join(lines[:at] + [LANGUAGE_LINE] + lines[at:])


def without_language(source: str) -> str:
    """A Japanese code cell as the catalog has it (the inverse of `with_language`)."""
    return "\n".join(line for line in source.split("\n") if line != LANGUAGE_LINE)


def render(text: str, entries: dict[str, catalog.Entry]) -> str:
    """`[[engine:ID]]` replaced by the Japanese of that engine fact's sentence (English if it has none)."""
    from helpers.world import engine_facts  # noqa: PLC0415

    def one(m):
        entry = entries.get(f"common:engine:{m.group(1)}")
        return entry.ja if entry and entry.ja.strip() else engine_facts.say(m.group(1))

    return sources.ENGINE.sub(one, text)


def japanese(ch: sources.Chapter, entries: dict[str, catalog.Entry]):
    nb = ch.notebook
    for cell in nb.cells:
        meta = cell.metadata.pop(ch.key, None) or {}
        entry = entries.get(meta.get("full_id", ""))
        if entry and entry.ja.strip():
            cell.source = render(entry.ja, entries) if cell.cell_type == "markdown" else entry.ja
    first = next(c for c in nb.cells if c.cell_type == "code" and "import helpers" in c.source.split("\n"))
    first.source = with_language(first.source)
    nb.metadata["dnlab"] = {"edition": "ja", "english": f"../{ch.filename}"}
    return nb


def main(only: list[str] | None = None, src: Path = SOURCES, catalogs: Path = CATALOGS,
         out: Path = OUTPUT) -> list[Path]:
    entries = {i: e for cat in catalog.load_dir(catalogs).values() for i, e in cat.items()}
    names = only or catalog.translated(catalogs)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ch in sources.chapters(src):
        if ch.name in names:
            target = out / ch.filename
            nbformat.write(japanese(ch, entries), target)
            written.append(target)
    return written
