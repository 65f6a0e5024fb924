"""Claims a notebook proves: each states a fact, shows the evidence, and fails loudly if untrue.

A chapter writes one claim per fact::

    claims.holds("a fresh engine has bridge, host and none", observed == expected, evidence=observed)

or, where one statement rests on several observations, names each so a failure says which broke::

    claims.all_of("host1 masqueraded the connection", {
        "the source on docker0 is the container": before["src"] == container_ip,
        "the source on eth0 is host1's address": after["src"] == host1_ip,
    }, evidence=...)

nbval then fails CI the day the fact stops being true. Claim cells are tagged ``claim:<chapter>:<name>``
in the notebooks (``notebooks/src/nb.py:claim``) so that tests can run the very same cell on a lab world
where the claim is false and see it fail (``tests/claimcells.py``).

A claim also shows the code that measured its evidence, folded under it, as a book shows the code it
calls: the helpers marked `@measured` (the chapters' `chNN`, `common`, `facts`, `probes`) that a cell
called since the previous claim (the previous claim's, when none was).
"""
from __future__ import annotations

import functools
import inspect
import pprint
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from helpers.language import translate


class _Measuring:
    """The measuring helpers called since the last claim (outermost calls only: a helper that calls
    another is the one shown), and those the last claim showed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.since: list[Callable] = []
        self.last: list[Callable] = []

    def taken(self) -> list[Callable]:
        with self.lock:
            if self.since:
                # the chapter's own demonstrations first, then the shared helpers, each in call order
                chapter_first = sorted(self.since, key=lambda fn: not fn.__module__.startswith("helpers.lessons.ch"))
                self.last, self.since = chapter_first, []
            return list(self.last)


_MEASURING = _Measuring()


def measured(fn: Callable) -> Callable:
    """Mark `fn` as code that measures what a claim states: a claim made after it ran offers its
    source (`inspect.getsource`), folded under the evidence."""
    @functools.wraps(fn)
    def measuring(*args, **kwargs):
        with _MEASURING.lock:
            if _MEASURING.depth == 0 and fn not in _MEASURING.since:
                _MEASURING.since.append(fn)
            _MEASURING.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _MEASURING.lock:
                _MEASURING.depth -= 1

    measuring.measures = fn
    return measuring


def code_name(fn: Callable) -> str:
    """How a notebook calls a measuring helper: `ch01.egress_snat`, `facts.sh`."""
    return f"{fn.__module__.removeprefix('helpers.lessons.')}.{fn.__qualname__}"


def code_file(fn: Callable) -> str:
    """The file that holds a measuring helper, from the repository's root (helpers/lessons/ch01.py)."""
    from pathlib import Path

    path = Path(inspect.getsourcefile(inspect.unwrap(fn)) or "?").resolve()
    root = Path(__file__).resolve().parents[2]
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def code_of(fn: Callable) -> str:
    """The source of a measuring helper, as its module holds it (decorator included)."""
    return inspect.getsource(fn)


class ClaimFailed(AssertionError):
    pass


def _width(text: str) -> int:
    """Columns `text` takes in a fixed-width font: a Japanese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _evidence_text(evidence: Any) -> str:
    if isinstance(evidence, str):
        return evidence
    return pprint.pformat(evidence, width=100, compact=True, sort_dicts=False)


@dataclass
class Claim:
    statement: str
    evidence: Any
    conditions: list[str] = field(default_factory=list)  # the named observations that all held
    article_says: str | None = None                      # set by article_vs_reality
    reality: str | None = None
    measured_by: list[Callable] = field(default_factory=_MEASURING.taken)  # the code that measured it

    def __repr__(self) -> str:
        lines = []
        if self.article_says is not None:
            lines += [translate("lessons:claim:article-says-plain", "THE ARTICLE SAYS: {text}", text=self.article_says),
                      translate("lessons:claim:reality-plain", "WHAT REALLY HAPPENS: {text}", text=self.reality)]
        lines.append(translate("lessons:claim:proven-plain", "PROVEN: {text}", text=self.statement))
        lines += [f"  ✔ {c}" for c in self.conditions]
        if self.evidence is not None:
            label = translate("lessons:claim:evidence-plain", "  evidence: ")
            lines.append(label + _evidence_text(self.evidence).replace("\n", "\n" + " " * _width(label)))
        if self.measured_by:
            lines.append(translate("lessons:claim:measured-by-plain", "  measured by: {names}",
                                   names=", ".join(code_name(fn) for fn in self.measured_by)))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = []
        if self.article_says is not None:
            says = translate("lessons:claim:article-says", "The article says:")
            happens = translate("lessons:claim:reality", "What really happens:")
            parts.append(
                '<div style="border-left:4px solid #c0392b;padding:2px 8px;margin:4px 0">'
                f"<b>✘ {says}</b> {escape(self.article_says)}</div>"
                '<div style="border-left:4px solid #27ae60;padding:2px 8px;margin:4px 0">'
                f"<b>✔ {happens}</b> {escape(self.reality or '')}</div>")
        proven = translate("lessons:claim:proven", "proven live on this lab world:")
        parts.append(f"<div><b>✔ {proven}</b> {escape(self.statement)}</div>")
        if self.conditions:
            parts.append("<ul style='margin:2px 0'>" + "".join(f"<li>✔ {escape(c)}</li>" for c in self.conditions)
                         + "</ul>")
        if self.evidence is not None:
            summary = translate("lessons:claim:evidence", "evidence (what was observed)")
            parts.append(f"<details><summary>{summary}</summary>"
                         f"<pre>{escape(_evidence_text(self.evidence))}</pre></details>")
        if self.measured_by:
            parts.append(self._code_html())
        return "".join(parts)

    def _code_html(self) -> str:
        """The code that measured the evidence, folded: each helper's name, file and source."""
        names = ", ".join(code_name(fn) for fn in self.measured_by)
        shown = "".join("<p style='margin:4px 0'>" + translate(
                            "lessons:claim:code-in", "{name} in {file}", name=f"<code>{escape(code_name(fn))}</code>",
                            file=f"<code>{escape(code_file(fn))}</code>") + f"</p><pre>{escape(code_of(fn))}</pre>"
                        for fn in self.measured_by)
        summary = translate("lessons:claim:code", "the code that measured it: {names}", names=escape(names))
        return f"<details><summary>{summary}</summary>{shown}</details>"


def _failed(statement: str, detail: str, evidence: Any) -> ClaimFailed:
    return ClaimFailed(translate("lessons:claim:not-true", "NOT TRUE on this lab world: {text}", text=statement)
                       + f"\n{detail}\n" + translate("lessons:claim:evidence-plain", "  evidence: ")
                       + _evidence_text(evidence))


def holds(statement: str, condition: bool, evidence: Any = None) -> Claim:
    """Assert one observation; return a Claim that displays as a proven statement."""
    if not condition:
        raise _failed(statement, translate("lessons:claim:does-not-hold", "  the observation above does not hold"),
                      evidence)
    return Claim(statement, evidence)


def all_of(statement: str, conditions: dict[str, bool], evidence: Any = None) -> Claim:
    """Assert several named observations; a failure names each one that did not hold."""
    broken = [name for name, ok in conditions.items() if not ok]
    if broken:
        raise _failed(statement, "\n".join(f"  ✘ {name}" for name in broken), evidence)
    return Claim(statement, evidence, conditions=list(conditions))


def equals(statement: str, observed: Any, expected: Any) -> Claim:
    if observed != expected:
        raise ClaimFailed(translate("lessons:claim:not-true", "NOT TRUE on this lab world: {text}", text=statement)
                          + "\n" + translate("lessons:claim:observed-expected",
                                              "  observed: {observed}\n  expected: {expected}",
                                              observed=repr(observed), expected=repr(expected)))
    return Claim(statement, observed)


def article_vs_reality(article_says: str, reality: str, proof: Claim) -> Claim:
    """The fact-check pattern: what the article says, what really happens, and the live proof,
    shown as visibly separate parts."""
    return Claim(proof.statement, proof.evidence, conditions=proof.conditions,
                 article_says=article_says, reality=reality, measured_by=proof.measured_by)
