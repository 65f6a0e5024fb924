"""`dnlab lab list|show|start|check|reset N`: the labs from a terminal, for workshops."""
from __future__ import annotations

import argparse
import os
import sys


def emit(text: object) -> bool:
    """Print `text`; False if the reader went away (`dnlab lab check 8 | head -1`).

    A closed pipe is not an error of the lab: stdout is pointed at /dev/null so the interpreter's
    final flush does not raise again, and the command ends quietly with its own exit status."""
    try:
        print(text)
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return False


def _world(args: argparse.Namespace):
    from helpers.world import lab as world_lab

    return world_lab(args.world)


def _prefix(args: argparse.Namespace) -> str:
    from helpers.world.naming import prefix_for, world_id_from_env

    return prefix_for(args.world if args.world is not None else world_id_from_env())


def listing(prefix: str) -> str:
    """One line per lab: number, passed or not yet, title (reads only the progress file)."""
    from helpers import labs
    from helpers.labs import progress

    passed = progress.load(prefix)
    lines = [f"labs of world {prefix} (progress in {progress.progress_file(prefix)}):"]
    for lab in labs.all_labs():
        state = "passed " if str(lab.number) in passed else "not yet"
        lines.append(f"  {lab.number:2d}  {state}  {lab.title}  [{lab.slug}]")
    lines.append(f"{len(passed)} of {len(labs.LABS)} passed")
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    emit(listing(_prefix(args)))
    return 0


def _show(args: argparse.Namespace) -> int:
    from helpers import labs
    from helpers.world.naming import WorldNames, world_id_from_env

    lab = labs.get(args.number)
    names = WorldNames(args.world if args.world is not None else world_id_from_env())
    world = argparse.Namespace(names=names, prefix=names.prefix)  # no world needed to show a lab's text
    emit(f"{lab.describe(world)}\n\nnotebook: {lab.notebook}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from helpers import labs

    lab, world = labs.get(args.number), _world(args)
    emit(f"{lab.start(world)}\n\n{lab.describe(world)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from helpers import labs

    result = labs.get(args.number).check(_world(args))
    emit(result)
    return 0 if result.passed else 1


def _reset(args: argparse.Namespace) -> int:
    from helpers import labs

    done = labs.get(args.number).reset(_world(args))
    emit("reset: " + ("; ".join(done) if done else "nothing of this lab was there"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `lab` and its subcommands to the `dnlab` parser."""
    parser = sub.add_parser("lab", help="hands-on labs: list, show, start, check, reset")
    labsub = parser.add_subparsers(dest="lab_command", required=True)
    labsub.add_parser("list", help="every lab, and which ones you passed").set_defaults(func=_list)
    for name, func, text in (("show", _show, "goal and tasks of lab N"),
                             ("start", _start, "fresh start of lab N (troubleshooting: the broken setup)"),
                             ("check", _check, "check lab N against the real world (exit 0 if passed)"),
                             ("reset", _reset, "remove what lab N made, repair what it broke")):
        p = labsub.add_parser(name, help=text)
        p.add_argument("number", help="lab number or slug (see `dnlab lab list`)")
        p.set_defaults(func=func)
