"""`dnlab lab list|show|start|check|reset N`: the labs from a terminal, for workshops."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.language import current, translate

ROOT = Path(__file__).resolve().parents[2]   # the course folder: labs/ and labs/ja/


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
    lines = [translate("cli:lab:list-head", "labs of world {prefix} (progress in {file}):",
                       prefix=prefix, file=progress.progress_file(prefix))]
    for lab in labs.all_labs():
        state = (translate("cli:lab:list-passed", "passed ") if str(lab.number) in passed
                 else translate("cli:lab:list-not-yet", "not yet"))
        lines.append(f"  {lab.number:2d}  {state}  {lab.say('title')}  [{lab.slug}]")
    lines.append(translate("cli:lab:list-tail", "{passed} of {total} passed", passed=len(passed), total=len(labs.LABS)))
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
    emit(lab.describe(world) + "\n\n" + translate("cli:lab:notebook", "notebook: {path}", path=_notebook(lab)))
    return 0


def _notebook(lab) -> str:
    """The learner's notebook in the language in force (the English one where no Japanese is written)."""
    path = lab.notebook_in(current())
    return path if (ROOT / path).exists() else lab.notebook


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
    emit(translate("cli:lab:reset", "reset: {done}",
                   done="; ".join(done) if done
                   else translate("cli:lab:reset-nothing", "nothing of this lab was there")))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `lab` and its subcommands to the `dnlab` parser."""
    parser = sub.add_parser("lab", help=translate("cli:lab:help", "hands-on labs: list, show, start, check, reset"))
    labsub = parser.add_subparsers(dest="lab_command", required=True)
    labsub.add_parser("list", help=translate("cli:lab:help-list", "every lab, and which ones you passed")
                      ).set_defaults(func=_list)
    for name, func, text in (
            ("show", _show, translate("cli:lab:help-show", "goal and tasks of lab N")),
            ("start", _start, translate("cli:lab:help-start",
                                        "fresh start of lab N (troubleshooting: the broken setup)")),
            ("check", _check, translate("cli:lab:help-check", "check lab N against the real world (exit 0 if passed)")),
            ("reset", _reset, translate("cli:lab:help-reset", "remove what lab N made, repair what it broke"))):
        p = labsub.add_parser(name, help=text)
        p.add_argument("number", help=translate("cli:lab:help-number", "lab number or slug (see `dnlab lab list`)"))
        p.set_defaults(func=func)
