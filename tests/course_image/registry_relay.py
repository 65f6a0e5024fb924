"""A forward HTTP proxy for `docker build --network host` in a throwaway engine (tests only).

A throwaway engine's network namespace has a loopback and nothing else, so a build's RUN steps sharing it
(`--network host`) reach no package mirror. This relay listens on that namespace's loopback (its socket
is made by a thread that entered the namespace, then left there) and connects out from the machine's
namespace, as the machine itself does: plain HTTP requests in absolute form (apt) are passed on as they
are, CONNECT (pip over TLS) becomes a byte pipe. The build gets it as its http_proxy/https_proxy
build arguments, which Docker does not keep in the image. Every host it connected to is recorded.
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
from urllib.parse import urlsplit

from helpers.hosting.classroom import pipe

CLONE_NEWNET = 0x40000000


def listen_in_netns(netns_path: str) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (a free port) of the network namespace at `netns_path`."""
    made: dict[str, object] = {}

    def make() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(netns_path, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:   # this thread only; it ends right after
                    raise OSError(ctypes.get_errno(), f"setns into {netns_path}")
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            sock.setblocking(False)
            made["sock"] = sock
        except OSError as error:
            made["error"] = error

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if "error" in made:
        raise made["error"]
    return made["sock"]


class RegistryRelay:
    """`with RegistryRelay(netns_path) as relay:` relay.url is the proxy's URL inside the namespace."""

    def __init__(self, netns_path: str):
        self.sock = listen_in_netns(netns_path)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.reached: dict[str, int] = {}        # host:port -> connections
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
            else:
                url = urlsplit(target)
                host, port = url.hostname or "", str(url.port or 80)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            self.refused.append(f"{error}")
            writer.close()
            return
        self.reached[f"{host}:{port}"] = self.reached.get(f"{host}:{port}", 0) + 1
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            upstream_writer.write(head)   # the request as it came (absolute form: servers accept it)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def __enter__(self) -> RegistryRelay:
        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, sock=self.sock)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        async def close() -> None:
            self._server.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.sock.close()
