"""`dnlab explorer`'s server, for real on 127.0.0.1 (no root, no world: nothing may start a kernel):
without the token it serves nothing and starts no kernel; with it, it lets the caller in."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from helpers.cli import explorer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (a started kernel would be one)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@pytest.fixture
def server(tmp_path):
    """The voila server exactly as `dnlab explorer` execs it, with a known token."""
    port, token = _free_port(), explorer.new_token()
    log = tmp_path / "voila.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(explorer.voila_command(port), env=explorer.voila_env("zz", token), cwd=tmp_path,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
        yield port, token, process, log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_without_the_token_the_explorer_serves_nothing_and_starts_no_kernel(server):
    port, token, process, log = server
    fake_kernel = f"/api/kernels/{uuid.uuid4()}"
    for path in ("/", "/?token=wrong", f"/?token={token[:-1]}"):
        page = _get(port, path)
        # Voilà 0.5 on jupyter_server 2: a page request without the token is sent to the login form.
        assert page.status == 302 and page.getheader("Location").startswith("/login"), (path, page.status)
    assert _get(port, "/api/kernels", "POST").status == 403   # start a kernel: refused
    assert _get(port, fake_kernel).status == 403               # a kernel's API: refused
    assert _get(port, f"{fake_kernel}?token=wrong").status == 403
    assert _get(port, f"{fake_kernel}?token={token}").status == 404  # with the token: let in (no such kernel)
    assert _children(process.pid) == [], "a kernel was started"
    assert "Kernel started" not in log.read_text()
