"""`dnlab engines` (the Docker engines a world's hosts can run, and which are fetched) and
`dnlab engines fetch 28` (fetch one ahead of time: `scripts/install.sh --engine 28` runs it).

The engines themselves are helpers/world/engines.py's; `dnlab up --engine SPEC` chooses among them.
"""
from __future__ import annotations

import argparse
import json
import time


def _list(args: argparse.Namespace) -> int:
    from helpers.world import doctor, engines

    shown = engines.available()
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    print(f"{engines.SYSTEM:7} this machine's dockerd: {doctor.engine_versions()['dockerd']}")
    for key, found in shown.items():
        if key == engines.SYSTEM:
            continue
        state = (f"fetched: Docker {found['dockerd']} (docker.io {found['packages'].get('docker.io')}, "
                 f"containerd {found['packages'].get('containerd')}; runc: {found['runc']})"
                 if found else f"not fetched (fetch it: {engines.fetch_command(key)})")
        print(f"{key:7} Debian's docker.io {key}.x from {'/'.join(engines.RELEASES[key].suites)}: {state}")
    print("\nchoose with: dnlab up --engine 28   (or --engine host2=28; $DNLAB_ENGINE has the same syntax)")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from helpers.world import engines

    engines.parse_spec(args.version)  # an unknown version exits 2, naming the ones there are
    if args.version == engines.SYSTEM:
        print("system is this machine's own dockerd: nothing to fetch")
        return 0
    started = time.monotonic()
    was = engines.cached(args.version)
    folder = engines.fetch(args.version)
    found = engines.manifest(folder)
    verb = "already fetched" if was else f"fetched in {time.monotonic() - started:.1f} s"
    print(f"Docker {found['dockerd']} {verb}: {folder} (runc: {found['runc']})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `dnlab engines [list|fetch VERSION]`."""
    p = sub.add_parser("engines", help="the Docker engines a world's hosts can run (dnlab up --engine), "
                                        "and fetching one ahead of time")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_list)
    verbs = p.add_subparsers(dest="verb")
    listing = verbs.add_parser("list", help="each engine and whether it is fetched")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    f = verbs.add_parser("fetch", help="fetch an engine from Debian's archive into the cache (once per machine)")
    f.add_argument("version", help="28")
    f.set_defaults(func=_fetch)
