"""`dnlab explorer`: the driver explorer alone on a page, served by Voilà on 127.0.0.1 only."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explorer.ipynb"
DEFAULT_PORT = 8866


def voila_command(port: int = DEFAULT_PORT, notebook: Path = NOTEBOOK) -> list[str]:
    """The voila argv: loopback only, no browser, no tracebacks on the page (the widget explains)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False"]


def voila_env(world_id: str | None) -> dict[str, str]:
    """The server's environment: the kernel it starts inherits DNLAB_WORLD from it."""
    env = dict(os.environ)
    if world_id:
        env["DNLAB_WORLD"] = world_id
    return env


def _explorer(args: argparse.Namespace) -> int:
    from helpers.errors import LabError
    from helpers.world.naming import validate_world_id

    world_id = validate_world_id(args.world or os.environ.get("DNLAB_WORLD") or None)
    if not NOTEBOOK.exists():
        raise LabError(f"{NOTEBOOK} is missing", "git checkout notebooks/explorer.ipynb")
    argv = voila_command(args.port)
    if args.print_command:
        print(" ".join(argv))
        return 0
    print(f"driver explorer: http://127.0.0.1:{args.port}/  (world {world_id or 'default'}; Ctrl-C stops it)",
          flush=True)
    os.execvpe(argv[0], argv, voila_env(world_id))
    return 0  # not reached


def add_subcommand(sub) -> None:
    parser = sub.add_parser("explorer", help="serve the driver explorer with Voilà on 127.0.0.1 (classroom projector)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--print-command", action="store_true", help="print the voila command instead of running it")
    parser.set_defaults(func=_explorer)
