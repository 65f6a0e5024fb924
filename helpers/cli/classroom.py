"""`dnlab classroom up|down|status|serve`: a workshop's JupyterHub (helpers/hosting/classroom.py).

`make classroom` runs `up`, `make classroom-down` runs `down`; `status` is the instructor view.
"""
from __future__ import annotations

import argparse
import json
import os

from helpers.hosting.classroom_names import CLASSROOM, CLASSROOM_LISTEN
from helpers.hosting.course_image import course_image_dir

COLUMNS = ("learner", "server", "world", "labs passed")


def _settings(args: argparse.Namespace):
    from helpers.hosting.classroom import Settings

    # Secrets come from the environment, never the command line (`ps` shows command lines to all).
    return Settings(name=args.name, listen=args.listen, code=os.environ.get("DNLAB_CLASSROOM_CODE", ""),
                    admin=args.admin, admin_password=os.environ.get("DNLAB_CLASSROOM_ADMIN_PASSWORD", ""),
                    cpu=args.cpu, mem=args.mem, cull_timeout=args.cull_timeout, image_dir=args.image_dir,
                    language=args.lang)


def _up(args: argparse.Namespace) -> int:
    from helpers.hosting import classroom

    settings = _settings(args)
    if not settings.code or not settings.admin_password:
        from helpers.errors import UsageError

        raise UsageError("a classroom needs a workshop code and an instructor password",
                         "make classroom CODE=<code for learners> ADMIN_PASSWORD=<yours>")
    owner = classroom.up(settings)
    named = "" if settings.name == CLASSROOM else f" --name {settings.name}"
    print(f"classroom {settings.name} is up (owner pid {owner.pid}): {classroom.hub_url(settings.name, '/hub/')}\n"
          f"  learners: any name (a-z, 0-9, - _) and the workshop code; instructor: {settings.admin} "
          f"(admin page /hub/admin, instructor view /services/dnlab-status/)\n"
          f"  instructor view here: dnlab classroom status{named}\n"
          f"  remove it all: make classroom-down{' NAME=' + settings.name if named else ''}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from helpers.hosting import classroom

    return classroom.serve(_settings(args))


def _down(args: argparse.Namespace) -> int:
    from helpers.hosting import classroom

    for line in classroom.down(args.name) or ["nothing of the classroom was left"]:
        print(line)
    return 0


def cells(row: dict) -> list[str]:
    """One learner's row of the instructor view, as the table and the hub's page show it."""
    name = row["learner"] + (" (admin)" if row["admin"] else "")
    server = "ready" if row["server_ready"] else ("starting" if row["container"] else "stopped")
    world = "up" if row["world_up"] else ("down" if row["container"] else "-")
    labs = ", ".join(map(str, row["labs_passed"])) or "none"
    return [name, server, world, labs]


def table(rows: list[dict]) -> str:
    """The instructor view as text: one line per learner."""
    lines = [list(COLUMNS)] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def _status(args: argparse.Namespace) -> int:
    from helpers.hosting import classroom

    rows = classroom.status(args.name)
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default=CLASSROOM, help=f"the classroom's name (default {CLASSROOM})")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `classroom` to the `dnlab` parser."""
    parser = sub.add_parser("classroom", help="a workshop's JupyterHub: one course container per learner")
    verbs = parser.add_subparsers(dest="verb", required=True)
    for verb, func, text in (("up", _up, "start the hub in the background and wait until it answers"),
                             ("serve", _serve, "run the hub in the foreground (what `up` starts)")):
        p = verbs.add_parser(verb, help=text + "; the code and instructor password come from "
                             "$DNLAB_CLASSROOM_CODE and $DNLAB_CLASSROOM_ADMIN_PASSWORD")
        _common(p)
        p.add_argument("--listen", default=CLASSROOM_LISTEN,
                       help=f"HOST:PORT of this machine (default {CLASSROOM_LISTEN})")
        p.add_argument("--admin", default="instructor", help="the instructor's hub name (admin)")
        p.add_argument("--cpu", type=float, default=1.0, help="cores per learner (default 1.0)")
        p.add_argument("--mem", default="1G", help="memory per learner, Docker's notation (default 1G)")
        p.add_argument("--cull-timeout", type=int, default=3600, help="seconds idle before a server is stopped")
        p.add_argument("--image-dir", default=str(course_image_dir()), help="make course-image's output")
        p.add_argument("--lang", choices=("en", "ja"), default="en",
                       help="the edition learners get (ja: the Japanese notebooks, JupyterLab in Japanese)")
        p.set_defaults(func=func)
    p = verbs.add_parser("down", help="stop the hub and every learner's server; remove all the classroom made")
    _common(p)
    p.set_defaults(func=_down)
    p = verbs.add_parser("status", help="the instructor view: learners, server, world, labs passed")
    _common(p)
    p.add_argument("--json", action="store_true", help="the rows as JSON")
    p.set_defaults(func=_status)
