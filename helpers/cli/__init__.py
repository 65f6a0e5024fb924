"""The `dnlab` command (also `python -m helpers`). Imports stay lazy so warm calls are fast.

The world's own commands are here; `labs`, `path` (with `map`) and `explorer` are the terminal
faces of those rooms, one module each in this package.
"""
from __future__ import annotations

import argparse
import json
import sys

from helpers.cli import explorer, labs, path, trace  # light: each imports its room inside its commands
from helpers.errors import LabError


def _doctor(args: argparse.Namespace) -> int:
    from helpers.world import doctor

    checks = doctor.run_checks(args.world)
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        print(doctor.table(checks))
        print("\nready" if doctor.ready(checks) else "\nnot ready: run the fix of each MISSING line")
    return 0 if doctor.ready(checks) else 1


def _up(args: argparse.Namespace) -> int:
    from helpers.world import manager

    print(manager.up(args.world))
    return 0


def _status_all(as_json: bool) -> int:
    """Every world on this machine, for an instructor: up or not, and the labs each learner passed."""
    from helpers.labs import progress
    from helpers.world import manager

    rows = [{**row, "labs passed": sorted(progress.passed_numbers(row["prefix"]))} for row in manager.status_all()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no world of the course on this machine; make one with: dnlab --world <id> up")
    for row in rows:
        passed = ", ".join(map(str, row["labs passed"])) or "none"
        print(f"{row['world'] or '(default)':10} {row['prefix']:16} {'up' if row['up'] else 'not up':7} "
              f"labs passed: {passed}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from helpers.world import manager

    if args.all:
        return _status_all(args.json)
    report = manager.status(args.world)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"world {report['prefix']}: {'up' if report['up'] else 'not up'}")
        for role, ns in report["namespaces"].items():
            print(f"  {role:7} {ns['name']:22} {'present' if ns['labelled'] else 'absent'}")
        for host, eng in report["engines"].items():
            state = f"answers, pid {eng['pid']}" if eng["answers"] else "not running"
            print(f"  dockerd {host}: {state}; docker --context {eng['context'] or '(none)'}")
        svc = report["service"]
        print(f"  internet service {svc['address']}: {'running' if svc['pid'] else 'not running'}")
    return 0 if report["up"] else 3


def _down(args: argparse.Namespace) -> int:
    from helpers.world import manager

    removed = manager.down(args.world)
    print("removed: " + ("; ".join(removed) if removed else "nothing (no such world)"))
    return 0


def _clean(args: argparse.Namespace) -> int:
    from helpers.world import manager

    swept = manager.clean()
    if not swept:
        print("nothing of the course was left on this machine")
    for prefix, removed in swept.items():
        print(f"world {prefix}: removed " + ("; ".join(removed) or "leftover state"))
    return 0


def _shell(args: argparse.Namespace) -> int:
    from helpers.world.shell import run_shell

    return run_shell(args.world, args.machine, args.cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnlab", description="Docker Network Lab: a lab world of "
                                     "namespaces and real Docker engines on this machine.")
    parser.add_argument("--world", default=None, help="world id (default: $DNLAB_WORLD or the default world)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("doctor", help="check that this machine can run the lab")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_doctor)
    sub.add_parser("up", help="make the lab world (or reuse / repair it)").set_defaults(func=_up)
    p = sub.add_parser("status", help="what of the world runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="every world on this machine, with the labs passed in each")
    p.set_defaults(func=_status)
    sub.add_parser("down", help="remove the world and all it made").set_defaults(func=_down)
    sub.add_parser("clean", help="sweep leftovers of every crashed world of the course").set_defaults(func=_clean)
    p = sub.add_parser("shell", help="a shell ON a lab machine (its network namespace; docker talks to its engine)",
                       description="dnlab shell HOST opens a shell on HOST; dnlab shell HOST -- CMD ... runs CMD there "
                                   "and returns its exit status.")
    p.add_argument("machine", metavar="HOST", help="host1, host2, lanpc, router or inet")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="a command to run there instead of a shell")
    p.set_defaults(func=_shell)
    for face in (explorer, labs, path, trace):  # each adds its subcommands the same way
        face.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as error:
        print(f"dnlab: {error.problem}", file=sys.stderr)
        if error.fix:
            print(f"  fix: {error.fix}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
