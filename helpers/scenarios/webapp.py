"""A tiny web server for lab containers: answers `GET /` with the client address it sees.

Like the internet service, it lets a chapter read, from the server's side, who connected after any
NAT. Kept apart from `helpers.lessons.lesson` so driver scenarios can use it without an import cycle.
"""
from __future__ import annotations

from helpers.world.service import parse_reply, reply_line

# The answer is the internet service's own line (`reply_line`), filled in by busybox httpd's CGI
# variables, so one parser (`parse_reply`) reads both servers.
WHO_CGI = ('#!/bin/sh\necho Content-Type: text/plain\necho\n'
           f'echo "{reply_line("$REMOTE_ADDR", "$REMOTE_PORT").strip()}"\n')


def web_command(port: int = 80, big_mb: int = 0, bind: str = "") -> list[str]:
    """argv of a busybox httpd answering `GET /` with the client address it sees and, optionally, a /big
    file for throughput."""
    big = (f"dd if=/dev/zero of=/www/big bs=1048576 count={big_mb} 2>/dev/null; echo ok > /www/small; "
           if big_mb else "")
    listen = f"{bind}:{port}" if bind else str(port)
    # The CGI is the index too, so a plain `GET /` (what guard.probe's http kind sends) answers.
    script = (f"mkdir -p /www/cgi-bin && printf '%s' '{WHO_CGI}' > /www/cgi-bin/index.cgi && "
              f"chmod +x /www/cgi-bin/index.cgi && rm -f /www/index.html && {big}"
              f"exec httpd -f -p {listen} -h /www")
    return ["sh", "-c", script]


def who_sees(text: str) -> str:
    """The client address out of a "you are" answer ("you are [::ffff:1.2.3.4]:5678" -> 1.2.3.4);
    ValueError if it is not one."""
    return parse_reply(text)[0]


def wait_listening(container, port: int, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status != "running":  # e.g. the port was taken and httpd exited
            raise RuntimeError(f"{container.name} exited: {container.logs().decode(errors='replace')[-300:]}")
        code, out = container.exec_run(["netstat", "-ltn"])
        if f":{port} " in out.decode():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{container.name} does not listen on {port}")
