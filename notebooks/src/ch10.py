"""Chapter 10: glossary."""
from nb import code, md, notebook

FILENAME = "10_glossary.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 10 — Glossary / 用語集
        The terms of the course, in Japanese and English, what they mean, and the chapter that shows
        each one live. The **source** column says where a term comes from: *the article* (then the
        next column gives its exact spelling there) or *added by the course*, a standard term the
        article does not use (ネットワーク名前空間, UTS名前空間, サブネット, ポート公開,
        コネクショントラッキング, Pod). The list lives in `helpers/lessons/ch10.py`, and a test
        checks every "article" spelling against the article's text.

        Three of the article's words need a note:
        * **IP range** — 「IP rangeは0.0.0.0/0」 is the destination range of the route to the
          internet: every address, i.e. the default route. It is not a network's subnet.
        * **ネットワーク層** — the article calls it 第4層; the network layer is layer 3 (第3層).
        * **マックベラン** — the article's own katakana for macvlan; Japanese documentation writes
          macvlan (or マックブイラン). The article also writes *default gateway* in English, where
          Japanese texts usually write デフォルトゲートウェイ.
        """, id="chapter-10-glossary"),
        code("""
        import helpers
        from helpers.lessons import ch10, facts
        facts.table(ch10.rows())
        """),
    ])
