"""Chapter 10: glossary."""
from nb import code, md, notebook

FILENAME = "10_glossary.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 10 — Glossary / 用語集
        The article's terms (Japanese as the article writes them), their English names, what they
        mean, and the chapter that shows each one live. The list lives in `helpers/lessons/glossary.py`.
        """),
        code("""
        from helpers.lessons import facts, glossary
        facts.table(glossary.rows())
        """),
    ])
