"""Errors the course shows to a learner: what is wrong, and the one command that fixes it
(`dnlab_command`: a `dnlab` command line as it runs, for a fix line or a hint)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

# The repository `scripts/install.sh` installs into: the course's venv is its `.venv`, and `make
# start` serves the repository as JupyterLab's root, so a JupyterLab terminal opens there.
REPO = Path(__file__).resolve().parents[1]
VENV_DNLAB = REPO / ".venv" / "bin" / "dnlab"
WORLD_ENV = "DNLAB_WORLD"   # the same name as helpers.world.naming's (this module imports no room)

# `dnlab` exit statuses (README "The dnlab command"): 1 a check said no (doctor not ready, a path
# not as expected, a lab not passed); 2 the command line (or $DNLAB_WORLD) is wrong; 3 `status`: the
# world is not up; 4 the lab cannot do it now (its message names the one command that fixes it);
# 130 interrupted (Ctrl-C), as a shell reports a SIGINT; 141 stdout was closed early
# (`dnlab status | head -1`), as a shell reports a SIGPIPE.
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_UP = 3
EXIT_LAB_ERROR = 4
EXIT_INTERRUPTED = 130  # Ctrl-C: what a shell gives SIGINT
EXIT_BROKEN_PIPE = 141


def dnlab_program() -> str:
    """How a learner's shell runs `dnlab`: `dnlab` is not on root's PATH (`sudo` keeps its own), it is
    the venv's. `.venv/bin/dnlab` where the course documents running it: from the repository (a
    terminal at the repository's root; a notebook's kernel, whose JupyterLab terminals open there);
    from anywhere else the venv's full path. A `pip install .` elsewhere: that environment's dnlab."""
    if VENV_DNLAB.exists():
        cwd = Path.cwd().resolve()
        in_kernel = "ipykernel" in Path(sys.argv[0] if sys.argv else "").name and REPO in cwd.parents
        return ".venv/bin/dnlab" if cwd == REPO or in_kernel else str(VENV_DNLAB)
    installed = Path(sys.prefix) / "bin" / "dnlab"
    return str(installed) if installed.exists() else f"{sys.executable} -m helpers"


def env_world() -> str | None:
    """The world $DNLAB_WORLD names (None: the default world), for a fix written before a world is known."""
    return os.environ.get(WORLD_ENV) or None


# What a text written ahead of time (a generated notebook) says: the README's form, from the repository.
DOCUMENTED = ".venv/bin/dnlab"


def as_root() -> str:
    """What makes a command run as root for the learner: `sudo ` unless they are root already. Root
    without $SUDO_USER (a root shell, the course image, a JupyterLab run as root) types no `sudo`,
    which such a machine may not even have; a process run through `sudo` (`make start` by a user)
    or not as root writes it."""
    return "" if os.geteuid() == 0 and not os.environ.get("SUDO_USER") else "sudo "


def dnlab_command(words: str, world_id: str | None = None, program: str | None = None) -> str:
    """The command line that runs `dnlab WORDS` on world `world_id` (None: the default world), printed
    so that it runs as printed: as root (`as_root`); with the venv's dnlab (`program`, else
    `dnlab_program()`), which is on no PATH; naming a world other than the default one with `--world`
    (`sudo` drops $DNLAB_WORLD, and a new terminal has none). `program` given (a text written ahead
    of time, for any reader): the README's `sudo` form."""
    world = f" --world {world_id}" if world_id else ""
    root = "sudo " if program else as_root()
    return f"{root}{program or dnlab_program()}{world} {words}".rstrip()


def with_env(command: str, setting: str) -> str:
    """`command` with one environment `setting` (`VAR=value`) that reaches it: after `sudo`, which
    drops the caller's environment (`VAR=value sudo cmd` would lose it), else before the command."""
    if command.startswith("sudo "):
        return f"sudo {setting} {command.removeprefix('sudo ')}"
    return f"{setting} {command}"


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
            dnlab_command("up", env_world()) + "   # or run JupyterLab through `make start`",
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
