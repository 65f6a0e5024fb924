"""The Japanese edition (issue 22): catalogs of Japanese text beside the English sources, and the
notebooks generated from them.

    python -m i18n check        # make check-translations: stale, missing, orphan ids; same code
    python -m i18n build        # notebooks/ja/NN_*.ipynb from notebooks/src and i18n/ja
    python -m i18n sync         # add an empty entry for each new English text of every chapter
    python -m i18n accept ID..  # after editing the Japanese of a stale ID: it now translates
                                        # today's English (stores that English and its hash)

Every learner-facing text of a chapter has a stable id, written in the source: `md(..., id="summary")`
is `ch01:summary`, `code(..., id=...)` and `solution(..., id=...)` are ids of code cells with comments
a learner reads, a claim cell's id is its tag (`claim("ch01:snat", ...)` is `ch01:claim:snat`), and
text shared by every chapter is `common:...` (the setup cell; `common:engine:<fact>` is the Japanese of
an engine fact's sentence, `[[engine:<fact>]]` in the English). Catalogs (`i18n/ja/<chapter>.toml`,
`i18n/ja/common.toml`; `i18n/catalog.py` says the format) hold, per id, the Japanese, the
English it translates and that English's hash, and a reviewed flag. `i18n/ja/edition.toml` lists the
chapters declared translated: only those fail the check; the others are reported "not yet translated".

The library's texts (helpers/language.py) are checked the same way: each `translate("room:...")` call
under helpers/, and the labs' data texts (each `LAB`'s title, goal, tasks, ..., its solution cells:
`labs:labNN:<field>`, read from the lab registry by `sources.lab_texts`), in i18n/ja/<room>.toml. A room
is declared whole (`"labs"`) or a part at a time (`"cli:lab"`, `"labs:lab01"`). The Japanese lab
notebooks (labs/ja/) are written by `python -m helpers.labs.notebooks`, not by `build`.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"                  # the library: its translate(...) texts (helpers/language.py)
SOURCES = ROOT / "notebooks" / "src"        # the English chapter sources (chNN.py, nb.py)
CATALOGS = ROOT / "i18n" / "ja"             # the Japanese catalogs, edition.toml and terms.toml
OUTPUT = ROOT / "notebooks" / "ja"          # the generated Japanese chapters
