"""One terminology in the Japanese edition (issue 22): each term of i18n/ja/terms.toml is spelled one
way across every catalog. Article quotes 「...」 are left out: they stay as the article writes them."""
from __future__ import annotations

import re
import tomllib

import pytest

from helpers.lessons import ch10
from i18n import CATALOGS, catalog

TERMS = tomllib.loads((CATALOGS / "terms.toml").read_text(encoding="utf-8"))["term"]
KATAKANA = re.compile(r"[\u30a0-\u30ff]$")


def variants(term: dict) -> list[re.Pattern]:
    """The spellings that must not appear: the term's `avoid`, and its final long vowel dropped or added."""
    ja = term["ja"]
    out = [re.escape(v) for v in term.get("avoid", [])]
    if ja.endswith("ー"):
        out.append(re.escape(ja[:-1]) + "(?!ー)")
    elif KATAKANA.search(ja):
        out.append(re.escape(ja) + "ー")
    return [re.compile(v) for v in out]


def japanese_texts() -> dict[str, str]:
    """Every Japanese text of every catalog, article quotes removed: {id: text}."""
    return {i: re.sub(r"「[^」]*」", "", e.ja) for cat in catalog.load_dir(CATALOGS).values() for i, e in cat.items()}


def glossary_texts() -> dict[str, str]:
    """The glossary's Japanese (helpers/lessons/ch10.py, chapter 10's table): each term's heading and its
    Japanese meaning, article quotes removed: {term: text}. (Its column of the article's own spellings,
    `article`, is left out: like a quote, it stays as the article writes it.)"""
    return {f"glossary:{t.en}": re.sub(r"「[^」]*」", "", f"{t.ja}\n{t.meaning_ja}") for t in ch10.TERMS}


@pytest.mark.parametrize("term", TERMS, ids=[t["ja"] for t in TERMS])
def test_term_is_spelled_one_way(term):
    wrong = [f"{i}: {m.group(0)!r}" for i, text in (japanese_texts() | glossary_texts()).items()
             for v in variants(term) for m in v.finditer(text)]
    assert not wrong, f"write {term['ja']} ({term['en']}):\n" + "\n".join(wrong)


def test_the_check_finds_a_variant():
    driver = next(t for t in TERMS if t["ja"] == "ドライバ")
    assert any(v.search("ネットワークドライバーを使う") for v in variants(driver))
    assert not any(v.search("ネットワークドライバを使う") for v in variants(driver))
    router = next(t for t in TERMS if t["ja"] == "ルーター")
    assert any(v.search("ルータの") for v in variants(router))
    assert not any(v.search("ルーターの") for v in variants(router))


def test_terms_are_used():
    """A term nobody writes yet is fine; a term listed twice is not."""
    spellings = [t["ja"] for t in TERMS]
    assert len(spellings) == len(set(spellings))


def test_the_glossary_is_checked_too():
    """Chapter 10's table is Japanese text the catalogs do not hold: its headings and meanings count."""
    texts = glossary_texts()
    assert len(texts) == len(ch10.TERMS) and all(t.strip() for t in texts.values())
    driver = texts["glossary:network driver"]
    assert "ドライバ" in driver and "ドライバー" not in driver    # the article's ドライバー is its spelling, not ours
