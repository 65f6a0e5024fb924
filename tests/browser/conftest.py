"""Browser tier: a real JupyterLab (and Voilà) on 127.0.0.1, driven by a headless Chromium.

On Debian (and in CI) that is Debian's /usr/bin/chromium: `playwright install` cannot download
browsers there. On Ubuntu, whose `chromium` is a snap, `scripts/install.sh --tests` installs
Playwright's own Chromium, used when /usr/bin/chromium is absent.
The servers run with DNLAB_WORLD of the test world in their environment: the kernels they start
inherit it. JupyterLab gets a fresh settings directory with autosave off, so running the notebook
never writes outputs into the repository's copy (the test also checks that).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.worlds import world_id_for_tests

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(ready: Callable[[], bool], what: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `ready` until it is true; fail with the server's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}; its log ends:\n{log.read_text()[-3000:]}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} in {timeout} s; the server's log ends:\n{log.read_text()[-3000:]}")


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    def answers() -> bool:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200

    _wait(answers, f"server did not answer {url}", process, log, timeout)


def wait_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    def listens() -> bool:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True

    _wait(listens, f"nothing listened on 127.0.0.1:{port}", process, log, timeout)


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM: jupyter server / voila shut their kernels down on it; SIGKILL if they hang."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: started with start_new_session
            process.wait(timeout=5)


def _lab_settings(directory: Path) -> None:
    """User settings of the test's JupyterLab: no autosave, no news or update checks."""
    settings = {
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False},
    }
    for relative, value in settings.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/<session world>/: logs and screenshots of this session's servers and pages. A folder per
    world, because CI's two legs on one machine run from one clone side by side (each `open(log, "wb")`
    would cut the other leg's log, which the Voila fixture reads its URL from)."""
    folder = ARTIFACTS / world_id_for_tests()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _serve_lab(home: Path, log: Path, *options: str):
    """(base_url, token) of a JupyterLab serving the repository with its settings in `home`, stopped
    when the generator is closed."""
    port, token = free_port(), secrets.token_hex(16)
    _lab_settings(home / "settings")
    env = dict(os.environ, PYTHONPATH=str(REPO), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    argv = [sys.executable, "-m", "jupyter", "lab", "--ip", "127.0.0.1", "--port", str(port), "--no-browser",
            "--allow-root", f"--ServerApp.token={token}", f"--ServerApp.root_dir={REPO}",
            "--ServerApp.port_retries=0", f"--LabApp.user_settings_dir={home / 'settings'}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}", *options]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, cwd=REPO, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/status?token={token}", process, log)
        yield base, token
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def jupyter_lab(world, artifacts, tmp_path_factory):
    """(base_url, token) of a JupyterLab serving the repository, stopped after the session; its
    kernels inherit DNLAB_WORLD of the session's world (the world fixture set it)."""
    yield from _serve_lab(tmp_path_factory.mktemp("jupyterlab"), artifacts / "jupyterlab.log")


@pytest.fixture
def japanese_lab(artifacts, tmp_path):
    """(base_url, token, first notebook) of a JupyterLab started with the settings `make start` writes
    for DNLAB_LANG=ja (helpers/hosting/jupyterlab.py), in a settings folder of its own
    (`--LabApp.app_settings_dir`): never the environment's JupyterLab, which other runs share."""
    from helpers.hosting import jupyterlab

    first = jupyterlab.prepare("ja", tmp_path / "app-settings")
    for base, token in _serve_lab(tmp_path, artifacts / "jupyterlab-ja.log",
                                  f"--LabApp.app_settings_dir={tmp_path / 'app-settings'}"):
        yield base, token, first


@pytest.fixture(scope="session")
def voila_explorer(world, artifacts):
    """The URL `dnlab explorer` prints (Voilà on 127.0.0.1, with its token), stopped after the session."""
    port = free_port()
    log = artifacts / "voila.log"
    argv = [sys.executable, "-m", "helpers", "--world", world.names.world_id, "explorer", "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=REPO, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_port(port, process, log)  # GET / would run the notebook: only wait for the socket
        # The server refuses anyone without the token it was given: open the URL the command printed.
        printed = [word for word in log.read_text().split() if word.startswith(f"{base}/?token=")]
        assert printed, f"`dnlab explorer` printed no URL with a token:\n{log.read_text()[-2000:]}"
        yield printed[0]
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module, closed after its last test: Playwright's sync API keeps an event
    loop running in the main thread while it lives, and a later tier's asyncio.run() (the classroom
    owner's, tests/unit/test_classroom_parts.py) refused to start ("cannot be called from a running
    event loop"). A session-scoped one lived until the end of the run (tests/browser is no package, so
    "package" scope would be the session's too)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = CHROMIUM if os.path.exists(CHROMIUM) else None   # None: Playwright's own build
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
