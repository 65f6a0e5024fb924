"""`dnlab path SCENARIO PROBE` and `dnlab map`: the packet path and the host map, as text, JSON or PNG."""
from __future__ import annotations

import argparse
import json
import sys
import time


def _world(world_id):
    from helpers.world import lab

    return lab(world_id)


def _path(args: argparse.Namespace) -> int:
    started = time.monotonic()
    from helpers.path import trace

    world = _world(args.world)
    path = trace(world, args.scenario, args.probe)
    if args.png:
        from helpers.draw import draw_path

        draw_path(path, view=args.view).savefig(args.png, dpi=110)
    if args.json:
        print(path.dumps())
    else:
        print(path.summary())
        print(f"(traced in {time.monotonic() - started:.2f} s)", file=sys.stderr)
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


def add_subcommands(sub) -> None:
    p = sub.add_parser("path", help="trace a scenario's probe hop by hop (captured, not drawn from a book)")
    p.add_argument("scenario", help="e.g. user-bridge, default-bridge")
    p.add_argument("probe", help="e.g. c2c, egress, publish, loopback, isolation")
    p.add_argument("--json", action="store_true", help="the Path as JSON (hops with namespace, interface, "
                   "action, src, dst, src_mac, dst_mac, changes)")
    p.add_argument("--png", metavar="FILE", help="also draw the path figure into FILE")
    p.add_argument("--view", choices=("L2", "L3", "NAT"), default="NAT", help="the view drawn by --png")
    p.set_defaults(func=_path)
    p = sub.add_parser("map", help="a Docker host's namespaces, bridges, veth pairs and containers, read live")
    p.add_argument("--host", default="host1", choices=("host1", "host2"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--png", metavar="FILE", help="also draw the map into FILE")
    p.set_defaults(func=_map)
