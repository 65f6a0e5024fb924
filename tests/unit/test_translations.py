"""The Japanese edition kept in step with the English (issue 22): `make check-translations` runs the
same `i18n.check.run` as the first test here. The others run it on a copy of the chapter sources
and catalogs, changed the way an author or a translator would, and expect it to fail naming the id."""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from i18n import CATALOGS, OUTPUT, SOURCES, build, catalog, check, sources


def test_translations_are_in_step():
    report = check.run()
    assert report.ok, report.text()


@pytest.fixture
def copy(tmp_path):
    """notebooks/src and i18n/ja, copied: (source folder, catalog folder)."""
    src, cats = tmp_path / "notebooks" / "src", tmp_path / "i18n" / "ja"
    shutil.copytree(SOURCES, src, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(CATALOGS, cats)
    return src, cats


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_one_changed_english_sentence_fails_naming_its_id(copy):
    src, cats = copy
    assert check.run(src, cats).ok
    _edit(src / "ch00.py", "It is idempotent: run it again and it reuses what runs.",
          "It is idempotent: run it again and it reuses whatever already runs.")
    report = check.run(src, cats)
    assert not report.ok
    assert report.failures == ["ch00:bring-world-up: stale: the English changed after its Japanese was last reviewed"]


def test_a_changed_claim_statement_is_stale_too(copy):
    src, cats = copy
    _edit(src / "ch00.py", '"this machine has everything the lab world needs"', '"this machine has all the lab needs"')
    assert [f.split(":")[0:3] for f in check.run(src, cats).failures] == [["ch00", "claim", "doctor"]]


def test_a_new_english_text_without_japanese_fails(copy):
    src, cats = copy
    _edit(src / "ch00.py", '        """, id="summary"),',
          '        """, id="summary"),\n        md("One more paragraph.", id="one-more"),')
    assert check.run(src, cats).failures == ["ch00:one-more: missing: no Japanese for this English text"]


def test_a_renamed_id_fails_both_ways(copy):
    src, cats = copy
    _edit(src / "ch00.py", 'id="bring-world-up"', 'id="up"')
    failures = check.run(src, cats).failures
    assert "ch00:up: missing: no Japanese for this English text" in failures
    assert any(f.startswith("ch00:bring-world-up: unknown id") for f in failures)


def test_an_undeclared_chapter_is_reported_not_failed(copy):
    src, cats = copy
    # Every chapter is declared now: the copy's edition leaves the last one out, as an edition still
    # in progress has a chapter it has not finished.
    undeclared = sources.chapters(src)[-1].name
    declared = [name for name in catalog.translated(cats) if name != undeclared]
    (cats / "edition.toml").write_text(f"translated = {json.dumps(declared)}\n", encoding="utf-8")
    path = src / f"{undeclared}.py"     # its first markdown cell gets a new sentence: still no failure
    english = path.read_text(encoding="utf-8")
    assert 'md("""\n' in english
    path.write_text(english.replace('md("""\n', 'md("""\n        A new sentence.\n', 1), encoding="utf-8")
    report = check.run(src, cats)
    assert report.ok, report.text()
    assert any(line.startswith(f"{undeclared}: not yet translated") for line in report.lines)
    # Declared, the same change fails: the sentence is one the check sees.
    (cats / "edition.toml").write_text(f"translated = {json.dumps(declared + [undeclared])}\n", encoding="utf-8")
    assert not check.run(src, cats).ok


def test_a_translator_reviewing_a_stale_text_makes_it_current(copy):
    src, cats = copy
    _edit(src / "ch00.py", "It is idempotent: run it again and it reuses what runs.",
          "It is idempotent: run it again and it reuses whatever already runs.")
    path = cats / "ch00.toml"
    entries = catalog.load(path)
    text = next(t for ch in sources.chapters(src) for t in ch.texts if t.id == "ch00:bring-world-up")
    for e in entries:
        if e.id == text.id:
            e.en, e.en_sha = text.en, catalog.sha(text.en)
    catalog.save(path, entries)
    assert check.run(src, cats).ok


def test_every_markdown_cell_has_an_id():
    problems = [p for ch in sources.chapters(SOURCES) for p in ch.problems]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("en", "ja", "ok"), [
    ('holds("the rule is there", x["rule packets"] > 0)', 'holds("ルールがある", x["rule packets"] > 0)', True),
    ('f(x)   # the host', 'f(x)   # ホスト', True),
    ('holds("the rule is there", x["rule packets"] > 0)', 'holds("the rule is there", x["ルール"] > 0)', False),
    ('y = x == "two words"', 'y = x == "二語"', False),
    ('f(x)', 'f(y)', False),
    ('f(f"port {p} seen")', 'f(f"ポート {p} を確認")', True),
    ('f(f"port {p} seen")', 'f(f"ポート {q} を確認")', False),
    ('f("「記事」 quoted")', 'f("「記事」")', False),
])
def test_same_code(en, ja, ok):
    assert (check.same_code(en, ja) == []) is ok


def test_kept_quotes_spans_addresses():
    en = "> 「記事の文。」\nThe `docker0` bridge, 172.17.0.0/16, [[engine:x]]."
    assert check.kept(en, "> 「記事の文。」\n`docker0` ブリッジ、172.17.0.0/16、[[engine:x]]。") == []
    assert len(check.kept(en, "> 「記事の文」\nブリッジ、172.17.0.1/16。")) == 4


@pytest.mark.parametrize("text", ["plain", "ends in a quote'", "ends in two''", "has ''' inside", "tab\tand\nlines",
                                  "日本語の「引用」", "back\\slash"])
def test_catalog_round_trip(text):
    entries = [catalog.Entry("ch00:x", en=text, ja=text, reviewed=True)]
    assert [vars(e) for e in catalog.loads(catalog.dumps(entries))] == [vars(e) for e in entries]


def test_japanese_notebooks_are_generated_from_the_catalogs(tmp_path):
    """notebooks/ja is what `python -m i18n build` writes now, and each Japanese chapter has the
    English chapter's cells, its code cells the same code."""
    written = build.main(out=tmp_path)
    assert written, "no chapter is declared translated"
    for path in written:
        stored = OUTPUT / path.name
        assert stored.exists() and stored.read_bytes() == path.read_bytes(), f"run: python -m i18n build ({stored})"
        ja = nbformat.read(path, as_version=4)
        en = nbformat.read(SOURCES.parent / path.name, as_version=4)
        assert [c.cell_type for c in ja.cells] == [c.cell_type for c in en.cells]
        for a, b in zip(en.cells, ja.cells, strict=True):
            assert a.metadata == b.metadata
            if a.cell_type == "code":
                assert check.same_code(a.source, build.without_language(b.source)) == [], b.source
        setup = next(c.source for c in ja.cells if c.cell_type == "code" and "import helpers" in c.source.split("\n"))
        assert build.LANGUAGE_LINE in setup.split("\n"), f"{path.name}: its setup cell does not put Japanese in force"
