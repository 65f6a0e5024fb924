"""A chapter's own containers and networks: labelled like a scenario, removed by `stop()`.

A chapter that needs a few ad-hoc containers besides the driver scenarios makes them through a
Lesson, so re-running it reuses them and its last cell removes exactly them::

    lesson = Lesson(world, "ch01").reset()     # top of the chapter: start clean
    web = lesson.web("web", ports={"80/tcp": 8080})
    ...
    lesson.stop()                               # bottom of the chapter
"""
from __future__ import annotations

from helpers.scenarios.base import Scenario

# A web server that answers /cgi-bin/who with the client address it sees (like the internet
# service), so a chapter can read, from the server's side, who connected after any NAT.
WHO_CGI = ('#!/bin/sh\necho Content-Type: text/plain\necho\n'
           'echo "you are $REMOTE_ADDR:$REMOTE_PORT"\n')


def web_command(port: int = 80, big_mb: int = 0, bind: str = "") -> list[str]:
    """argv of a busybox httpd with the `who` CGI and, optionally, a /big file for throughput."""
    big = f"dd if=/dev/zero of=/www/big bs=1048576 count={big_mb} 2>/dev/null; " if big_mb else ""
    listen = f"{bind}:{port}" if bind else str(port)
    script = (f"mkdir -p /www/cgi-bin && printf '%s' '{WHO_CGI}' > /www/cgi-bin/who && "
              f"chmod +x /www/cgi-bin/who && {big}exec httpd -f -p {listen} -h /www")
    return ["sh", "-c", script]


def who_sees(text: str) -> str:
    """The client address out of a `who` answer ("you are [::ffff:1.2.3.4]:5678" -> 1.2.3.4)."""
    line = next(l for l in text.splitlines() if l.startswith("you are "))
    addr = line[len("you are "):].rsplit(":", 1)[0].strip("[]")
    return addr.removeprefix("::ffff:")


class Lesson(Scenario):
    """Ad-hoc resources of one chapter; not a registered driver scenario."""

    driver = "lesson"

    def __init__(self, world, name: str):
        super().__init__(world)
        self.name = name  # an instance name shadows the class one: labels use it

    def reset(self) -> "Lesson":
        self.stop()
        return self

    def box(self, role: str, host: str = "host1", **kwargs):
        """An idle lab container `<lesson>-<role>`."""
        return self.run_container(role, host, **kwargs)

    def web(self, role: str, host: str = "host1", port: int = 80, big_mb: int = 0, **kwargs):
        """A web server container with the `who` CGI (waits until it listens)."""
        container = self.run_container(role, host, command=web_command(port, big_mb), **kwargs)
        wait_listening(container, port)
        return container

    def network(self, name: str, host: str = "host1", **kwargs):
        return self.make_network(f"{self.name}-{name}", host, **kwargs)


def wait_listening(container, port: int, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, out = container.exec_run(["netstat", "-ltn"])
        if f":{port} " in out.decode():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{container.name} does not listen on {port}")
