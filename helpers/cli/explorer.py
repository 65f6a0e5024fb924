"""`dnlab explorer`: the driver explorer alone on a page, served by Voilà on 127.0.0.1 only.

The server wants a token: every page and API call without it is refused (pages redirect to the
login form, API calls get 403), so another user of a shared classroom machine can neither open the
page nor start a kernel, which runs as root in the learner's world. The token is new on every start
and reaches Voilà through its environment (`JUPYTER_TOKEN`), never its command line, which any
user can read with `ps`.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from helpers.errors import LabError
from helpers.world.naming import WORLD_ENV, validate_world_id, world_id_from_env

# Package data of helpers.widgets, so an installed (non-editable) dnlab finds it too;
# notebooks/explorer.ipynb is a link to it for learners in JupyterLab.
NOTEBOOK = Path(__file__).resolve().parents[1] / "widgets" / "explorer.ipynb"
DEFAULT_PORT = 8866
# jupyter_server's identity provider reads the token from here when Voilà runs with `--token`.
TOKEN_ENV = "JUPYTER_TOKEN"


def port_number(text: str) -> int:
    """argparse type of --port: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def new_token() -> str:
    """A fresh secret for one server's life (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def url(port: int, token: str) -> str:
    """What the learner opens: the page, with the token that lets them in."""
    return f"http://127.0.0.1:{port}/?token={token}"


def voila_command(port: int = DEFAULT_PORT, notebook: Path = NOTEBOOK) -> list[str]:
    """The voila argv: loopback only, no browser, no tracebacks on the page (the widget explains),
    and `--token`: authentication on, the token itself taken from the environment (`voila_env`)."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False",
            "--token"]


def voila_env(world_id: str | None, token: str) -> dict[str, str]:
    """The server's environment: the token, and DNLAB_WORLD for the kernel it starts."""
    env = dict(os.environ)
    env[TOKEN_ENV] = token
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
    token = new_token()
    print(f"driver explorer: {url(args.port, token)}  (world {world_id or 'default'}; "
          "without the token the server refuses; Ctrl-C stops it)", flush=True)
    os.execvpe(argv[0], argv, voila_env(world_id, token))
    return 0  # not reached


def register(sub: argparse._SubParsersAction) -> None:
    """Add `explorer` to the `dnlab` parser."""
    parser = sub.add_parser("explorer", help="serve the driver explorer with Voilà on 127.0.0.1 (classroom projector); "
                            "it prints the URL with its token")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1, 1 to 65535 (default {DEFAULT_PORT})")
    parser.add_argument("--print-command", action="store_true", help="print the voila command instead of running it")
    parser.set_defaults(func=_explorer)
