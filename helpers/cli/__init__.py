"""The `dnlab` command (also `python -m helpers`). Imports stay lazy so warm calls are fast.

The world's own commands are here; `labs`, `path` (with `map`) and `explorer` are the terminal
faces of those rooms, one module each in this package.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

# light: each imports its room inside its commands
from helpers.cli import classroom, engines, explorer, labs, path, trace
from helpers.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_LAB_ERROR,
    EXIT_NOT_UP,
    EXIT_USAGE,
    LabError,
    UsageError,
    dnlab_command,
)
from helpers.world.naming import (
    WORLD_ENV,
    NamingError,
    validate_world_id,
)


def _doctor(args: argparse.Namespace) -> int:
    from helpers.world import doctor

    checks = doctor.run_checks(args.world)
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        print(doctor.table(checks))
        print("\n" + doctor.engine_report(args.world))
        print("\nready" if doctor.ready(checks) else "\nnot ready: run the fix of each MISSING line")
    return 0 if doctor.ready(checks) else 1


def _up(args: argparse.Namespace) -> int:
    from helpers.world import manager

    print(manager.up(args.world, args.engine))
    return 0


def _status_all(as_json: bool) -> int:
    """Every world on this machine, for an instructor: up or not, and the labs each learner passed."""
    from helpers.labs import progress
    from helpers.world import manager

    warnings: list[str] = []
    rows = [{**row, "labs passed": sorted(progress.passed_numbers(row["prefix"]))}
            for row in manager.status_all(warnings)]
    for warning in warnings:
        print(f"dnlab: warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no world of the course on this machine; make one with: {dnlab_command('up', '<id>')}")
    for row in rows:
        passed = ", ".join(map(str, row["labs passed"])) or "none"
        state = "unreadable" if row.get("error") else "up" if row["up"] else "not up"
        print(f"{row['world'] or '(default)':10} {row['prefix']:16} {state:10} labs passed: {passed}")
        for problem in _problems(row):
            print(f"{'':28}{problem}")
    return 0


def _problems(row: dict) -> list[str]:
    """What `status --all` prints under a world that is not up: each missing part, or one line for a
    world of which only leftovers remain."""
    if row.get("error"):
        return [row["error"]]
    if row["up"] or row["engines answering"]:
        return row["missing"]
    down, clean = dnlab_command("down", row["world"]), dnlab_command("clean", row["world"])
    return [f"no engine answers: leftovers of a crashed world (`{clean}` or `{down}` removes them)"]


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
            if eng["answers"]:
                state += ", course images loaded" if eng["image"] else f", LACKS {', '.join(eng['images lacking'])}"
            if eng["answers"]:
                state += f", Docker {eng['version']} (engine {eng['engine']})"
            print(f"  dockerd {host}: {state}; docker --context {eng['context'] or '(none)'}")
        svc = report["service"]
        print(f"  internet service {svc['address']}: {'running' if svc['pid'] else 'not running'}")
        if report["missing"]:
            print("missing: " + "; ".join(report["missing"]))
            names = manager.WorldNames.from_prefix(report["prefix"])
            print(f"  fix: {manager.command_for(names, 'up')}   # repairs them")
    return 0 if report["up"] else EXIT_NOT_UP


def _down(args: argparse.Namespace) -> int:
    from helpers.world import manager

    removed = manager.down(args.world)
    print("removed: " + ("; ".join(removed) if removed else "nothing (no such world)"))
    return 0


def _clean(args: argparse.Namespace) -> int:
    from helpers.observe import nftrace
    from helpers.world import manager

    # An explicit --world sweeps that world alone; $DNLAB_WORLD does not narrow it: `clean` is the
    # machine's sweep, and it spares running worlds anyway.
    only = {manager.WorldNames(args.world).prefix} if args.world else None
    # A killed rule trace's TRACE rules, in running worlds too (the rest of a crashed world goes below).
    traces = {}
    for prefix in manager.discover():
        if only is None or prefix in only:
            removed = nftrace.sweep_world(manager.WorldNames.from_prefix(prefix))
            if removed:
                traces[prefix] = removed
    report = manager.clean(only)
    for prefix, removed in traces.items():
        print(f"world {prefix}: removed {sum(removed.values())} TRACE rules a killed rule trace left "
              f"(in {', '.join(sorted(removed))})")
    for warning in report.warnings:
        print(f"dnlab: warning: {warning}", file=sys.stderr)
    if not (report.swept or report.running or report.failed or report.sandboxes or report.sandboxes_in_use
            or traces):
        print("nothing of the course was left on this machine")
    for full, removed in report.sandboxes.items():
        print(f"throwaway engine {full} (its owner is gone): removed " + "; ".join(removed))
    for full in report.sandboxes_in_use:
        print(f"throwaway engine {full} is in use (its owner runs): left alone")
    for prefix, removed in report.swept.items():
        print(f"world {prefix}: removed " + ("; ".join(removed) or "leftover state"))
    for prefix, reason in report.running.items():
        down = manager.command_for(manager.WorldNames.from_prefix(prefix), "down")
        print(f"world {prefix} is running ({reason}): left alone; to remove it: {down}")
    for prefix, problem in report.failed.items():
        print(f"dnlab: world {prefix}: could not sweep it: {problem}", file=sys.stderr)
    return EXIT_LAB_ERROR if report.failed else 0


def _shell(args: argparse.Namespace) -> int:
    from helpers.world.shell import run_shell

    return run_shell(args.world, args.machine, args.cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnlab", description="Docker Network Lab: a lab world of "
                                     "namespaces and real Docker engines on this machine.")
    parser.add_argument("--world", default=None, help="world id (default: $DNLAB_WORLD or the default world)")
    parser.epilog = ("exit status: 0 done; 1 a check said no; 2 usage error (the command line or $DNLAB_WORLD); "
                     "3 status: the world is not up; 4 lab error (its message names the fix); 141 output closed early")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("doctor", help="check that this machine can run the lab")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_doctor)
    p = sub.add_parser("up", help="make the lab world (or reuse / repair it)")
    p.add_argument("--engine", default=None, metavar="SPEC",
                   help="which Docker engine each host runs: `28` (both hosts), `host2=28` (host2 only), "
                        "`host1=system,host2=28`; `system` is this machine's dockerd (default: $DNLAB_ENGINE, "
                        "else what the running world has, else system). `dnlab engines` lists them.")
    p.set_defaults(func=_up)
    p = sub.add_parser("status", help="what of the world runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="every world on this machine, with the labs passed in each")
    p.set_defaults(func=_status)
    sub.add_parser("down", help="remove the world and all it made").set_defaults(func=_down)
    clean_help = ("sweep leftovers of crashed worlds of the course (with --world: that world alone); running "
                  "worlds (an engine answers, or an up/down is under way) are left alone and named, with the "
                  "`dnlab --world X down` that removes one")
    sub.add_parser("clean", help=clean_help, description=clean_help).set_defaults(func=_clean)
    p = sub.add_parser("shell", help="a shell ON a lab machine (its network namespace; docker talks to its engine)",
                       description="dnlab shell HOST opens a shell on HOST; dnlab shell HOST -- CMD ... runs CMD there "
                                   "and returns its exit status.")
    p.add_argument("machine", metavar="HOST", help="host1, host2, lanpc, router or inet")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="a command to run there instead of a shell")
    p.set_defaults(func=_shell)
    for face in (classroom, engines, explorer, labs, path, trace):  # each adds its subcommands the same way
        face.register(sub)
    return parser


def _check_world(args: argparse.Namespace) -> None:
    """The world id, from --world or $DNLAB_WORLD, checked before any command acts: an empty one is
    an error (never the default world, which may be someone else's), a malformed one too."""
    if args.world == "":
        raise UsageError("the world id is empty (--world ''): name a world, or leave --world out for "
                         f"${WORLD_ENV} or the default world", dnlab_command("...", "w2"))
    if args.world is None and os.environ.get(WORLD_ENV) == "":
        raise UsageError(f"the world id is empty ({WORLD_ENV}=''): name a world, or unset it for the default "
                         "world", f"unset {WORLD_ENV}   # or: export {WORLD_ENV}=w2")
    validate_world_id(args.world if args.world is not None else os.environ.get(WORLD_ENV))


def _quiet_stdout() -> None:
    """Stdout was closed by its reader (`dnlab status | head -1`): send the rest nowhere, so the
    interpreter's own flush at exit prints no traceback either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run one `dnlab` command; its exit status is one of helpers.errors' EXIT_* (README "The dnlab command")."""
    args = build_parser().parse_args(argv)  # argparse's own usage errors exit 2 (EXIT_USAGE) here
    try:
        _check_world(args)
        _sweep_rule_traces(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, where it can be caught
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        # One line, no traceback: what a half-done command left is what `up` repairs and `status` names.
        print(f"\ndnlab: {args.command or 'dnlab'} interrupted (Ctrl-C)", file=sys.stderr)
        world = args.world or os.environ.get(WORLD_ENV) or None
        print(f"  see what is left: {dnlab_command('status', world)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LabError as error:
        return _report(error)
    except Exception as error:  # noqa: BLE001 - no traceback reaches the learner (issue 23.5): one line, a fix
        from helpers.world import failures

        if failures.show_traceback():
            raise
        return _report(failures.explain(error, args.world, args.command))


def _sweep_rule_traces(args: argparse.Namespace) -> None:
    """What a rule trace killed with SIGKILL left in this command's world (its ledger names it: one
    look at a folder when there is none), removed before the command runs."""
    if os.geteuid() != 0:
        return
    from helpers.world.naming import LEDGER_DIR, WorldNames, world_id_from_env

    names = WorldNames(args.world if args.world is not None else world_id_from_env())
    if (names.state_dir / LEDGER_DIR).is_dir():
        from helpers.observe.nftrace import sweep_ledgers  # the tracer (20 ms of imports) only when needed

        sweep_ledgers(names.state_dir / LEDGER_DIR)


def _report(error: LabError) -> int:
    print(f"dnlab: {error.problem}", file=sys.stderr)
    if error.fix:
        print(f"  fix: {error.fix}", file=sys.stderr)
    return EXIT_USAGE if isinstance(error, UsageError | NamingError) else EXIT_LAB_ERROR


if __name__ == "__main__":
    sys.exit(main())
