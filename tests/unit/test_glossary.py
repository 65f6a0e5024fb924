"""The glossary says which terms are the article's and which the course adds: checked against the
article's own text.

tests/unit/data/article.ja.txt is a copy of the source article (the course's seed,
/work/shared/seed/article.ja.txt), kept beside the other saved real inputs so the check needs
nothing outside the repository.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.lessons import ch10

ARTICLE = (Path(__file__).parent / "data" / "article.ja.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("term", ch10.article_terms(), ids=lambda t: t.ja)
def test_an_article_term_is_written_so_in_the_article(term):
    for form in ch10.forms(term):
        assert form in ARTICLE, f"{term.ja}: the article does not write {form!r}"


@pytest.mark.parametrize("term", ch10.course_terms(), ids=lambda t: t.ja)
def test_a_course_term_is_not_in_the_article(term):
    """A term marked as the course's own must not be one the article uses after all."""
    head = term.ja.split(" (")[0]
    assert head not in ARTICLE, f"{term.ja} is in the article: mark it as the article's"


def test_the_audited_terms_are_marked_as_the_course_s():
    """The seven terms the audit found missing from the article (lesson-audit §4), each listed
    under its own or a fuller name, and none claimed for the article."""
    course = " ".join(t.ja for t in ch10.course_terms())
    for word in ("ネットワーク名前空間", "サブネット", "ポート公開", "コネクショントラッキング", "Pod"):
        assert word in course
    by_article_form = {t.article: t for t in ch10.article_terms()}
    # the article writes "default gateway" and "ネットワーク層" (as 第4層);
    # デフォルトゲートウェイ and 第3層 are the course's words
    assert "デフォルトゲートウェイ" not in ARTICLE and "default gateway" in by_article_form
    assert "第3層" not in ARTICLE and "ネットワーク層" in by_article_form


def test_ip_range_is_read_as_the_default_route_not_a_subnet():
    term = next(t for t in ch10.TERMS if t.article == "IP range")
    assert "IP rangeは0.0.0.0/0" in ARTICLE
    assert "default route" in term.meaning and "サブネット" not in term.ja


def test_macvlan_katakana_is_the_article_s_own():
    term = next(t for t in ch10.TERMS if t.en == "macvlan")
    assert term.article == "マックベラン" and "マックブイラン" in term.meaning


def test_rows_say_where_each_term_comes_from():
    rows = ch10.rows()
    assert len(rows) == len(ch10.TERMS)
    assert {r["source"] for r in rows} == {ch10.ARTICLE, ch10.COURSE}
    assert all((r["as the article writes it"] == "—") == (r["source"] == ch10.COURSE) for r in rows)
