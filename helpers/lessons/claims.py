"""Claims a notebook proves: each states a fact, shows the evidence, and fails loudly if untrue.

A chapter writes ``claims.holds("a fresh engine has bridge, host and none", observed == expected,
evidence=observed)``; nbval then fails CI the day the fact stops being true.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ClaimFailed(AssertionError):
    pass


@dataclass
class Claim:
    statement: str
    evidence: Any

    def __repr__(self) -> str:
        return f"PROVEN: {self.statement}\n  evidence: {self.evidence}"

    def _repr_markdown_(self) -> str:
        return f"**✔ proven live:** {self.statement}  \n<small>evidence: `{self.evidence}`</small>"


def holds(statement: str, condition: bool, evidence: Any = None) -> Claim:
    """Assert `condition`; return a Claim that displays as a proven statement."""
    if not condition:
        raise ClaimFailed(f"NOT TRUE on this lab world: {statement}\n  evidence: {evidence!r}")
    return Claim(statement, evidence)


def equals(statement: str, observed: Any, expected: Any) -> Claim:
    if observed != expected:
        raise ClaimFailed(f"NOT TRUE on this lab world: {statement}\n  observed: {observed!r}\n"
                          f"  expected: {expected!r}")
    return Claim(statement, observed)


def article_vs_reality(article_says: str, reality: str, proof: Claim) -> Claim:
    """The fact-check pattern: what the article says, what is true, and the live proof."""
    return Claim(f"The article says: {article_says} — in reality: {reality}. ({proof.statement})",
                 proof.evidence)
