"""`dnlab path SCENARIO PROBE` and `dnlab map`: the packet path and the host map, as text, JSON or PNG."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from helpers.world.naming import HOSTS

RULES_HELP = ("also trace every netfilter rule the probe met, in each namespace (the kernel's own account, "
              "xtables-monitor): printed after the path, and in --json as netfilter and each hop's rules_met")


def _world(world_id: str | None):
    from helpers.world import lab

    return lab(world_id)


def _with(option: str, value: str) -> str:
    """The command line this run was given, with `option`'s value replaced: an error's fix."""
    argv = ["dnlab", *sys.argv[1:]]
    if option in argv[:-1]:
        argv[argv.index(option) + 1] = value
    elif any(a.startswith(f"{option}=") for a in argv):
        argv = [f"{option}={value}" if a.startswith(f"{option}=") else a for a in argv]
    else:
        return f"{option} {value}"
    return " ".join(argv)


def check_output_file(file: str | None, option: str = "--png", name: str = "path.png") -> None:
    """Before any tracing: FILE can be written (its folder exists and is writable; FILE is not a
    folder). A LabError names what is wrong and the command that fixes it."""
    from helpers.errors import LabError
    from helpers.world import userfile

    if not file:
        return
    userfile.check_file(file, option)  # /proc, /sys, /dev, a planted link, another user's name: exit 2
    folder = os.path.dirname(os.path.abspath(file))
    if os.path.isdir(file):
        raise LabError(f"{option} {file}: that is a folder, not a file", _with(option, os.path.join(file, name)))
    if not os.path.isdir(folder):
        raise LabError(f"{option} {file}: the folder {folder} does not exist", f"mkdir -p {folder}")
    if not os.access(folder, os.W_OK):
        raise LabError(f"{option} {file}: the folder {folder} is not writable", f"chmod u+w {folder}")


def check_output_dir(directory: str | None, option: str = "--keep") -> None:
    """Before any tracing: DIR is a writable folder, or can be made in a writable folder."""
    from helpers.errors import LabError
    from helpers.world import userfile

    if not directory:
        return
    userfile.check_dir(directory, option)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise LabError(f"{option} {directory}: that is a file, not a folder", _with(option, f"{directory}.d"))
    existing = directory if os.path.isdir(directory) else os.path.dirname(os.path.abspath(directory))
    if not os.path.isdir(existing):
        raise LabError(f"{option} {directory}: the folder {existing} does not exist", f"mkdir -p {existing}")
    if not os.access(existing, os.W_OK):
        raise LabError(f"{option} {directory}: the folder {existing} is not writable", f"chmod u+w {existing}")


def save_figure(drawing, file: str, option: str = "--png") -> None:
    """Draw into FILE without following a link (`userfile.write_file`); its suffix picks the format."""
    import io

    from helpers.world import userfile

    suffix = os.path.splitext(file)[1].lower().lstrip(".")
    buffer = io.BytesIO()
    drawing.savefig(buffer, format=suffix if suffix in ("png", "svg", "pdf") else "png", dpi=110)
    userfile.write_file(file, buffer.getvalue(), option)


def show(path, args: argparse.Namespace, started: float, verb: str = "traced") -> int:
    """Print a Path (summary or --json), draw it into --png, say what --keep saved; the exit code:
    0 when the probe did what it was expected to, 1 otherwise. `dnlab path` and `dnlab trace` share it."""
    if args.png:
        from helpers.draw import draw_path

        save_figure(draw_path(path, view=args.view), args.png)
    if args.json:
        print(path.dumps())
    else:
        print(path.summary())
        if getattr(args, "rules", False):
            print("\n".join(path.rules_lines()))
        print(f"({verb} in {time.monotonic() - started:.2f} s)", file=sys.stderr)
    if getattr(args, "keep", None) and verb == "traced":
        print(f"saved: {args.keep}/pcaps/*.pcap (one per interface; Wireshark opens them) and "
              f"{args.keep}/run.json; redraw with `dnlab path --from {args.keep}`", file=sys.stderr)
    return 0 if path.as_expected else 1


def _path(args: argparse.Namespace) -> int:
    started = time.monotonic()
    from helpers.errors import UsageError

    check_output_file(args.png)
    check_output_dir(None if args.from_dir else args.keep)
    from helpers.path import rebuild, trace

    if args.from_dir:
        # A saved run (from --keep, or shared by an instructor): rebuilt offline, no world or root needed.
        if not os.path.isfile(os.path.join(args.from_dir, "run.json")):
            raise UsageError(f"{args.from_dir} holds no saved run (no run.json in it)",
                             f"dnlab path user-bridge egress --keep {args.from_dir}")
        try:
            path = rebuild(args.from_dir)
        except Exception as broken:  # noqa: BLE001 - a file handed to us: any failure to read it is one line
            raise UsageError(f"{args.from_dir} is not a readable saved run ({type(broken).__name__}: "
                             f"{str(broken).splitlines()[0] if str(broken) else 'no detail'})",
                             f"dnlab path user-bridge egress --keep {args.from_dir}   # saves a new one") from None
    elif args.scenario and args.probe:
        path = trace(_world(args.world), args.scenario, args.probe, keep=args.keep, rules=args.rules)
    else:
        raise UsageError("dnlab path needs a SCENARIO and a PROBE (or --from DIR of a saved run)",
                         "dnlab path user-bridge egress")
    return show(path, args, started, "rebuilt" if args.from_dir else "traced")


def _map(args: argparse.Namespace) -> int:
    from helpers.observe.topology import host_map

    check_output_file(args.png, name="map.png")
    world = _world(args.world)
    found = host_map(world, args.host)
    if args.png:
        from helpers.draw.host_figure import draw_host_map

        save_figure(draw_host_map(found), args.png)
    print(json.dumps(found.to_json(), indent=2) if args.json else found.summary())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `path` and `map` to the `dnlab` parser."""
    p = sub.add_parser("path", help="trace a scenario's probe hop by hop (captured, not drawn from a book)")
    p.add_argument("scenario", nargs="?", help="e.g. user-bridge, default-bridge")
    p.add_argument("probe", nargs="?", help="e.g. c2c, egress, publish, loopback, isolation")
    p.add_argument("--keep", metavar="DIR", help="save the run into DIR: a pcap per interface, the tool outputs")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="rebuild a run saved with --keep instead of tracing (no world needed)")
    p.add_argument("--json", action="store_true", help="the Path as JSON (hops with namespace, interface, "
                   "action, src, dst, src_mac, dst_mac, changes)")
    p.add_argument("--png", metavar="FILE", help="also draw the path figure into FILE")
    p.add_argument("--view", choices=("L2", "L3", "NAT"), default="NAT", help="the view drawn by --png")
    p.add_argument("--rules", action="store_true", help=RULES_HELP)
    p.set_defaults(func=_path)
    p = sub.add_parser("map", help="a Docker host's namespaces, bridges, veth pairs and containers, read live")
    p.add_argument("--host", default=HOSTS[0], choices=HOSTS)
    p.add_argument("--json", action="store_true")
    p.add_argument("--png", metavar="FILE", help="also draw the map into FILE")
    p.set_defaults(func=_map)
