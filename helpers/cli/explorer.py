"""`dnlab explorer`: the driver explorer alone on a page, served by Voilà on 127.0.0.1 only."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.errors import LabError
from helpers.world.naming import WORLD_ENV, validate_world_id, world_id_from_env

# Package data of helpers.widgets, so an installed (non-editable) dnlab finds it too;
# notebooks/explorer.ipynb is a link to it for learners in JupyterLab.
NOTEBOOK = Path(__file__).resolve().parents[1] / "widgets" / "explorer.ipynb"
DEFAULT_PORT = 8866


def voila_command(port: int = DEFAULT_PORT, notebook: Path = NOTEBOOK) -> list[str]:
    """The voila argv: loopback only, no browser, no tracebacks on the page (the widget explains)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False"]


def voila_env(world_id: str | None) -> dict[str, str]:
    """The server's environment: the kernel it starts inherits DNLAB_WORLD from it."""
    env = dict(os.environ)
    if world_id:
        env[WORLD_ENV] = world_id
    return env


def _explorer(args: argparse.Namespace) -> int:
    world_id = validate_world_id(args.world) or world_id_from_env()
    if not NOTEBOOK.exists():
        raise LabError(f"{NOTEBOOK} is missing: this dnlab installation is incomplete",
                       "bash scripts/install.sh   # reinstalls the dnlab package")
    argv = voila_command(args.port)
    if args.print_command:
        print(" ".join(argv))
        return 0
    print(f"driver explorer: http://127.0.0.1:{args.port}/  (world {world_id or 'default'}; Ctrl-C stops it)",
          flush=True)
    os.execvpe(argv[0], argv, voila_env(world_id))
    return 0  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    """Add `explorer` to the `dnlab` parser."""
    parser = sub.add_parser("explorer", help="serve the driver explorer with Voilà on 127.0.0.1 (classroom projector)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--print-command", action="store_true", help="print the voila command instead of running it")
    parser.set_defaults(func=_explorer)
