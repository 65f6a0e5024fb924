"""Errors the course shows to a learner: what is wrong, and the one command that fixes it."""
from __future__ import annotations


class LabError(RuntimeError):
    """Something the learner can fix; `fix` is the command that fixes it."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if not fix else f"{problem}\n  Fix: {fix}")


class UsageError(LabError):
    """The command line (or the environment it reads, like $DNLAB_WORLD) is wrong, not the lab:
    `dnlab` exits with status 2 for it, as for argparse's own usage errors."""


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


class EndpointError(UsageError, ValueError):
    """A probe endpoint written in a notation the course does not read (see
    `helpers.scenarios.endpoint`: "container:<role>[@host]", "machine:<role>", an address, a name).
    A usage error: `dnlab` exits 2 for it."""


class UnresolvedEndpoint(LabError, LookupError):
    """A probe endpoint that names nothing running, or a container with no address to send to.
    A LookupError too, so a reachability table can show it as that probe's answer."""


class DockerCliError(LabError):
    """The docker CLI failed, or is not installed: the command as the learner would type it, its exit
    status and what it printed. The one error of `helpers.world.engine.run_docker`."""

    def __init__(self, command: str, returncode: int | None, output: str, fix: str | None = None):
        self.command = command
        self.returncode = returncode
        self.output = output
        status = "could not run" if returncode is None else f"failed (exit status {returncode})"
        super().__init__(f"`{command}` {status}: {output.strip() or '(no output)'}", fix)
