"""python -m i18n check | build [chNN ...] | sync | accept ID ..."""
from __future__ import annotations

import sys

from i18n import CATALOGS, HELPERS, ROOT, SOURCES, build, catalog, check, sources

HEADER = """Japanese of {source} (issue 22). Format: i18n/catalog.py. Edit `ja`; after
revising a stale text, `python -m i18n accept ID` stores the English it now translates."""


def _header(name: str) -> str:
    source = (f"the library's `translate(\"{name}:...\")` texts (helpers/language.py)" if name in sources.RUNTIME_ROOMS
              else f"notebooks/src/{name}.py")
    return HEADER.format(source=source)


def _all_texts() -> list[sources.Text]:
    return [t for ch in sources.chapters(SOURCES) for t in ch.texts] + sources.runtime(HELPERS)[0]


def sync() -> None:
    """Each English text without an entry gets one (empty `ja`), in its chapter's (or room's) order."""
    cats = catalog.load_dir(CATALOGS)
    for t in _all_texts():
        cat = cats.setdefault(catalog.catalog_of(t.id), {})
        if t.id not in cat:
            cat[t.id] = catalog.Entry(t.id, t.en)
    for name, cat in cats.items():
        catalog.save(CATALOGS / f"{name}.toml", list(cat.values()), _header(name))


def accept(ids: list[str]) -> None:
    """The Japanese of each id now translates today's English (its revision is done)."""
    texts = {t.id: t for t in _all_texts()}
    cats = catalog.load_dir(CATALOGS)
    for i in ids:
        cat = cats[catalog.catalog_of(i)]
        cat[i].en, cat[i].en_sha = texts[i].en, catalog.sha(texts[i].en)
    for name in {catalog.catalog_of(i) for i in ids}:
        catalog.save(CATALOGS / f"{name}.toml", list(cats[name].values()), _header(name))


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("check", [])
    if command == "check":
        report = check.run()
        print(report.text())
        return 0 if report.ok else 1
    if command == "build":
        for path in build.main(args or None):
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    if command == "sync":
        sync()
        return 0
    if command == "accept":
        accept(args)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
