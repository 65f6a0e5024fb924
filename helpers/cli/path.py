"""`dnlab path SCENARIO PROBE` and `dnlab map`: the packet path and the host map, as text, JSON or PNG."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from helpers.world.naming import HOSTS


def _world(world_id: str | None):
    from helpers.world import lab

    return lab(world_id)


def _path(args: argparse.Namespace) -> int:
    started = time.monotonic()
    from helpers.errors import LabError
    from helpers.path import rebuild, trace

    if args.from_dir:
        # A saved run (from --keep, or shared by an instructor): rebuilt offline, no world or root needed.
        if not os.path.isfile(os.path.join(args.from_dir, "run.json")):
            raise LabError(f"{args.from_dir} holds no saved run (no run.json in it)",
                           f"dnlab path user-bridge egress --keep {args.from_dir}")
        path = rebuild(args.from_dir)
    elif args.scenario and args.probe:
        path = trace(_world(args.world), args.scenario, args.probe, keep=args.keep)
    else:
        raise LabError("dnlab path needs a SCENARIO and a PROBE (or --from DIR of a saved run)",
                       "dnlab path user-bridge egress")
    if args.png:
        from helpers.draw import draw_path

        draw_path(path, view=args.view).savefig(args.png, dpi=110)
    if args.json:
        print(path.dumps())
    else:
        print(path.summary())
        print(f"({'rebuilt' if args.from_dir else 'traced'} in {time.monotonic() - started:.2f} s)", file=sys.stderr)
    if args.keep and not args.from_dir:
        print(f"saved: {args.keep}/pcaps/*.pcap (one per interface; Wireshark opens them) and "
              f"{args.keep}/run.json; redraw with `dnlab path --from {args.keep}`", file=sys.stderr)
    return 0 if path.as_expected else 1


def _map(args: argparse.Namespace) -> int:
    from helpers.observe.topology import host_map

    world = _world(args.world)
    found = host_map(world, args.host)
    if args.png:
        from helpers.draw.host_figure import draw_host_map

        draw_host_map(found).savefig(args.png, dpi=110)
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
    p.set_defaults(func=_path)
    p = sub.add_parser("map", help="a Docker host's namespaces, bridges, veth pairs and containers, read live")
    p.add_argument("--host", default=HOSTS[0], choices=HOSTS)
    p.add_argument("--json", action="store_true")
    p.add_argument("--png", metavar="FILE", help="also draw the map into FILE")
    p.set_defaults(func=_map)
