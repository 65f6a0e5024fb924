"""`dnlab trace SOURCE TARGET` (the packet path between a learner's own containers or machines) and
`dnlab scenario list|stop` (what the course's scenarios left on the engines, and removing it).

`trace` is `dnlab path` for anything the learner made by hand: the same tracer, Path, text, JSON
and figure; the ends are read by `helpers.scenarios.own` (the probe notation of
`helpers.scenarios.endpoint`), and the probe goes through `helpers.world.guard.probe`.
"""
from __future__ import annotations

import argparse
import json
import time

from helpers.cli.path import RULES_HELP, check_output_dir, check_output_file, show
from helpers.world.naming import HOSTS

EXAMPLES = """examples:
  dnlab trace alpine1 alpine2                  ping alpine2's address (read from docker inspect), both on alpine-net
  dnlab trace alpine1 alpine2 --tcp 8080       a TCP connection (something must listen: nc -l -p 8080)
  dnlab trace b2 a1 --host host2               b2 on host2 to a1 on host1, across an overlay both joined
  dnlab trace lanpc 198.51.100.11 --tcp 8080   a machine to host1's published port
  dnlab trace lanpc 198.51.100.11 --tcp 8080 --rules   ... and every netfilter rule it met (DNAT, FORWARD)
  dnlab trace alpine1 inet --json              the Path as JSON, as `dnlab path --json` prints it
"""


def port_number(text: str) -> int:
    """An argparse type: a TCP/UDP port, 1-65535 (0 was taken for "no port" and probed 9000)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: ports run from 1 to 65535")
    return port


def _kind(args: argparse.Namespace) -> tuple[str, int | None]:
    if args.tcp is not None:
        return "tcp", args.tcp
    if args.udp is not None:
        return "udp", args.udp
    return "ping", None


def _trace(args: argparse.Namespace) -> int:
    started = time.monotonic()
    # The output paths are checked before anything is traced: a typo costs no trace.
    check_output_file(args.png)
    check_output_dir(args.keep)
    from helpers.path import trace
    from helpers.scenarios.own import own_trace
    from helpers.world import lab

    world = lab(args.world)
    kind, port = _kind(args)
    scenario = own_trace(world, args.source, args.target, kind, port, args.host)
    path = trace(world, scenario, scenario.probe, keep=args.keep, start=False, rules=args.rules)
    code = show(path, args, started)
    if not path.reached and not args.json:
        instead = scenario.published_instead()
        if instead:
            print(f"hint: {args.target}'s own address is private to its Docker host (the LAN routes no "
                  f"container network); its port {port} is published there: {' or '.join(instead)}")
    return code


def _scenario_list(args: argparse.Namespace) -> int:
    from helpers import scenarios
    from helpers.world import lab

    found = scenarios.running(lab(args.world))
    if args.json:
        print(json.dumps({name: vars(entry) for name, entry in found.items()}, indent=2))
    elif not found:
        print("no scenario of the course has anything on this world's engines")
    for entry in [] if args.json else found.values():
        print(entry.describe())
    return 0


def _scenario_stop(args: argparse.Namespace) -> int:
    from helpers import scenarios
    from helpers.errors import LabError
    from helpers.world import lab

    world = lab(args.world)
    if args.all == bool(args.name):
        raise LabError("dnlab scenario stop needs a NAME or --all (not both)", "dnlab scenario stop --all")
    if args.all:
        stopped = scenarios.stop_all(world)
        print("stopped: " + (", ".join(stopped) or "nothing (no scenario was running)"))
        return 0
    found = scenarios.running(world)
    if args.name not in found:
        listed = ", ".join(found) or "none"
        raise LabError(f"scenario {args.name!r} has nothing on this world's engines (running: {listed})",
                       "dnlab scenario list")
    scenarios.stop(world, args.name)
    print(f"stopped: {args.name}")
    return 0


def _add_trace(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="trace a probe between your own containers or machines, hop by hop",
                       description="Trace one probe from SOURCE to TARGET with captures around it: any network "
                                   "you made (bridge, overlay, macvlan, host), the same path as `dnlab path`.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SOURCE", help="a container (on --host) or a machine: host1, host2, lanpc, "
                   "router, inet; container:NAME@host2 names the host in the argument")
    p.add_argument("target", metavar="TARGET", help="a container (on SOURCE's host first, then any host), "
                   "an address, or a machine")
    p.add_argument("--host", default=HOSTS[0], choices=HOSTS, help="the Docker host of a SOURCE container")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--tcp", type=port_number, metavar="PORT", help="open a TCP connection to PORT (default: ping)")
    kind.add_argument("--udp", type=port_number, metavar="PORT", help="send one UDP datagram to PORT")
    p.add_argument("--json", action="store_true", help="the Path as JSON (the shape of `dnlab path --json`)")
    p.add_argument("--png", metavar="FILE", help="also draw the path figure into FILE")
    p.add_argument("--view", choices=("L2", "L3", "NAT"), default="NAT", help="the view drawn by --png")
    p.add_argument("--keep", metavar="DIR", help="save the run into DIR: a pcap per interface, the tool outputs")
    p.add_argument("--rules", action="store_true", help=RULES_HELP)
    p.set_defaults(func=_trace)


def _add_scenario(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="list or stop the course's scenarios on this world's engines")
    actions = p.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every scenario with containers or networks on the engines")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_scenario_list)
    stop = actions.add_parser("stop", help="remove a scenario's containers and networks (yours stay)")
    stop.add_argument("name", nargs="?", metavar="NAME", help="e.g. user-bridge (see `dnlab scenario list`)")
    stop.add_argument("--all", action="store_true", help="every scenario: the engines keep only what you made")
    stop.set_defaults(func=_scenario_stop)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `trace` and `scenario` to the `dnlab` parser."""
    _add_trace(sub)
    _add_scenario(sub)
