"""The "internet" service: tells every client the address it sees the client come from.

It runs inside the world's `inet` namespace (started by `dnlab up`), on TCP port 9000 (one line)
and HTTP port 80 (a plain text body), with the lab's DNS server on port 53 (`helpers.world.dns`), and
appends what it saw to a JSON-lines log that the course reads as independent evidence of NAT::

    $ wget -qO- http://203.0.113.10/
    you are 198.51.100.11:40312
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

# The one "you are ADDR:PORT" answer of the course: this service writes it with `reply_line`, the
# lab containers' web server (helpers.scenarios.webapp) prints it from its CGI with the same
# function, and `parse_reply` is the one reader of either.
REPLY_PREFIX = "you are "


def reply_line(address: str, port: int | str) -> str:
    """The answer line: `you are ADDR:PORT` (a CGI passes "$REMOTE_ADDR", "$REMOTE_PORT")."""
    return f"{REPLY_PREFIX}{address}:{port}\n"


def parse_reply(text: str) -> tuple[str, int]:
    """(address, port) from a "you are ADDR:PORT" answer, of this service or of a lab container's
    web server; an IPv6 listener's "[::ffff:1.2.3.4]:5678" gives ("1.2.3.4", 5678). ValueError if
    the text holds no such line."""
    for line in text.splitlines():
        if line.startswith(REPLY_PREFIX):
            address, _, port = line[len(REPLY_PREFIX):].strip().rpartition(":")
            if port.isdigit() and address:
                return address.strip("[]").removeprefix("::ffff:"), int(port)
    raise ValueError(f"not a \"{REPLY_PREFIX}ADDR:PORT\" answer: {text!r}")


class Service:
    def __init__(self, log_path: Path):
        self.log_path = log_path

    def record(self, kind: str, peer: tuple) -> str:
        address, port = peer[0], peer[1]
        with open(self.log_path, "a") as log:
            log.write(json.dumps({"time": time.time(), "kind": kind, "client": address, "port": port}) + "\n")
        return reply_line(address, port)

    async def tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(self.record("tcp", writer.get_extra_info("peername")).encode())
        await writer.drain()
        writer.close()

    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        body = self.record("http", writer.get_extra_info("peername")).encode()
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()


async def serve(host: str, tcp_port: int, http_port: int, log_path: Path) -> None:
    """Serve TCP and HTTP, and the lab's DNS (`helpers.world.dns`) first: `up` waits for the TCP
    port, so once it listens every name resolves. The log's folder is the world's state folder."""
    from helpers.world import dns
    from helpers.world.naming import DNS_PORT, WorldNames

    dns.start(WorldNames.from_prefix(log_path.parent.name), host, DNS_PORT)
    service = Service(log_path)
    tcp = await asyncio.start_server(service.tcp, host, tcp_port)
    http = await asyncio.start_server(service.http, host, http_port)
    async with tcp, http:
        await asyncio.gather(tcp.serve_forever(), http.serve_forever())


def main(argv: list[str] | None = None) -> None:
    host, tcp_port, http_port, log_path = (argv or sys.argv[1:])[:4]
    asyncio.run(serve(host, int(tcp_port), int(http_port), Path(log_path)))


if __name__ == "__main__":
    main()
