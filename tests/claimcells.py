"""Run a notebook's own claim cell against evidence from a lab world where the claim is false.

Claim cells are tagged ``claim:<chapter>:<name>`` (``notebooks/src/nb.py:claim``). A failing-world
test builds that world (removes the MASQUERADE rule, publishes nothing, shrinks the underlay MTU,
...), runs the chapter's own demonstration on it, and hands the variables the cell reads to
``assert_claim_fails``: the *same source* the learner runs must then raise ``ClaimFailed``, and its
message must name what broke. ``run_claim`` runs the cell where the claim is true.

The unit test ``tests/unit/test_claim_coverage.py`` checks that every claim cell of every chapter
has such a test (it looks for ``assert_claim_fails("chNN:name"`` in tests/).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def claim_tags(notebook: Path) -> dict[str, str]:
    """{tag: source} of every claim cell of one notebook."""
    nb = nbformat.read(notebook, as_version=4)
    found = {}
    for cell in nb.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith("claim:"):
                found[tag.removeprefix("claim:")] = cell.source
    return found


def all_claim_tags() -> dict[str, str]:
    found: dict[str, str] = {}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        found.update(claim_tags(notebook))
    return found


def claim_source(tag: str) -> str:
    chapter = tag.split(":", 1)[0]
    (notebook,) = NOTEBOOKS.glob(f"{chapter.removeprefix('ch')}_*.ipynb")
    sources = claim_tags(notebook)
    if tag not in sources:
        raise KeyError(f"no claim cell tagged claim:{tag} in {notebook.name} (tags: {sorted(sources)})")
    return sources[tag]


def run_claim(tag: str, **names: Any) -> Any:
    """Execute the claim cell `tag` with `names` bound (plus `claims`, `facts`, `probes` and the
    chapter's own `chNN` as its setup cell imports them); return the value of its last expression."""
    import importlib

    from helpers.lessons import claims, facts, probes

    chapter = tag.split(":", 1)[0]
    tree = ast.parse(claim_source(tag))
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    scope = {"claims": claims, "facts": facts, "probes": probes,
             chapter: importlib.import_module(f"helpers.lessons.{chapter}"), **names}
    exec(compile(tree, f"<claim {tag}>", "exec"), scope)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), f"<claim {tag}>", "eval"), scope)


def assert_claim_fails(tag: str, names: dict[str, Any], mentions: str = "") -> str:
    """The claim cell `tag` must raise ClaimFailed on this evidence; return its message, which
    must contain `mentions` (the condition that broke) when given."""
    from helpers.lessons.claims import ClaimFailed

    try:
        result = run_claim(tag, **names)
    except ClaimFailed as failure:
        message = str(failure)
        assert mentions in message, f"claim {tag} failed, but its message does not name {mentions!r}:\n{message}"
        return message
    raise AssertionError(f"claim {tag} held on a world where it is false: {result!r}")
