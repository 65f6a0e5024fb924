"""Errors the course shows to a learner: what is wrong, and the one command that fixes it."""
from __future__ import annotations


class LabError(RuntimeError):
    """Something the learner can fix; `fix` is the command that fixes it."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if not fix else f"{problem}\n  Fix: {fix}")


class NotRootError(LabError):
    def __init__(self) -> None:
        super().__init__(
            "the lab world needs root (it makes network namespaces and runs dockerd)",
            "sudo -E $(which dnlab) up   # or run JupyterLab through `make start`",
        )


class MissingToolError(LabError):
    pass


class TrafficGuardError(LabError):
    """A probe aimed at an address the lab world does not own."""
