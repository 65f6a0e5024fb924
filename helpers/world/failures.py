"""What `dnlab` (helpers/cli main) says when a command fails outside the course's own errors: one line
and its fix, never a traceback (issue 23.5: exit 1 is documented as "a check said no", and a traceback read as one).

- the world's engine went away mid-command (`down` in another terminal, dockerd killed): the docker
  SDK's ConnectionError, http.client's RemoteDisconnected, a namespace gone... Whatever was raised,
  if the world is no longer whole afterwards, that is what is said, with `up` as the fix;
- a full disk (ENOSPC) and a file that cannot be written name the folder;
- anything else: one line naming the error, and DNLAB_TRACEBACK=1 to see where it came from.

All exit with helpers.errors.EXIT_LAB_ERROR (4: the lab cannot do it now; the message names the fix).
"""
from __future__ import annotations

import errno
import os

from helpers.errors import LabError, dnlab_command, with_env

TRACEBACK_ENV = "DNLAB_TRACEBACK"   # set to 1: a failure prints its traceback too (for developers)


def _engine_gone(error: BaseException) -> bool:
    """The docker SDK or a socket lost the engine (refused, reset, disconnected): a builtin
    ConnectionError, or requests' own (named so, wrapping urllib3's), anywhere in the chain."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionError) or any(k.__name__ == "ConnectionError" for k in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _world_trouble(world_id: str | None) -> str | None:
    """What is missing of the world now (None if it is whole, or cannot be told)."""
    try:
        from helpers.world import manager

        report = manager.status(world_id)
    except Exception:  # noqa: BLE001 - the status of a broken world may itself fail: then nothing is said
        return None
    if report["up"]:
        return None
    if not any(ns["labelled"] for ns in report["namespaces"].values()):
        return "it was taken down (another terminal ran `dnlab down`?)"
    return "; ".join(report["missing"]) or "it is not whole"


def explain(error: BaseException, world_id: str | None, command: str | None) -> LabError:
    """The one-line LabError for a failure the course did not phrase itself."""
    from helpers.world.manager import WorldNames, command_for

    names = WorldNames(world_id) if world_id is not None else WorldNames(os.environ.get("DNLAB_WORLD") or None)
    up = command_for(names, "up")
    again = f"{up}   # then run the command again"
    world_commands = command not in (None, "doctor", "engines", "classroom", "clean", "down")
    trouble = _world_trouble(names.world_id) if world_commands else None
    if trouble:
        return LabError(f"world {names.prefix} went away while this command ran: {trouble}", again)
    if _engine_gone(error):
        return LabError(f"a Docker engine of world {names.prefix} stopped answering while this command ran "
                        f"({type(error).__name__})", again)
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        where = error.filename or "/run/dnlab"
        return LabError(f"the disk is full: {where} ({error.strerror})", f"df -h {where}   # free some space there")
    if isinstance(error, OSError) and error.filename:
        return LabError(f"{error.filename}: {error.strerror}", f"ls -ld {os.path.dirname(str(error.filename)) or '.'}")
    detail = str(error).splitlines()[0] if str(error) else "no detail"
    return LabError(f"unexpected {type(error).__name__}: {detail}",
                    with_env(dnlab_command(f"{command or ''} ...", names.world_id), f"{TRACEBACK_ENV}=1")
                    + "   # the same command shows where it failed; please report it")


def show_traceback() -> bool:
    return os.environ.get(TRACEBACK_ENV) == "1"
