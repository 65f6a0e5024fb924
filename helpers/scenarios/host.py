"""The `host` driver: a container in host1's own network namespace.

Makes `host-app` (network_mode host, a web server on port 8090 — `APP_PORT` — with no `-p`: a
host-network container listens on host1's own addresses, and chapter 3 shows the engine discarding a
`-p` asked for on one), `host-bridged` (a default-bridge container, for contrast) and a *host1
service bound to 127.0.0.1:7070* (a busybox httpd run in host1's namespace, outside Docker): the
loopback-only service a host-network container can reach and a bridge container cannot) and
*host1's admin socket*, an abstract UNIX socket `@dnlab-host1-admin` held by a plain process in
host1's namespace (abstract sockets belong to the network namespace: a host-network container
lists it, a bridge container does not).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario, register
from helpers.scenarios.webapp import wait_listening, web_command
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT
from helpers.world.proc import which

APP_PORT = 8090        # the host-network container's server (8080/8081 are the bridge scenarios' published ports)
LOOPBACK_PORT = 7070   # host1's loopback-only service
# host1's abstract UNIX socket (no file: `@dnlab-host1-admin` in /proc/net/unix). The chapter cannot
# rely on the engine's own: Docker 20.10's dockerd holds one (kernel-named, like `@d4eef`), 26.1's none.
ADMIN_SOCKET = "dnlab-host1-admin"
# What holds it: a listener that only waits (as a daemon's API socket would, CVE-2020-15257).
_ADMIN_LISTENER = ("import signal, socket, sys; s = socket.socket(socket.AF_UNIX); "
                   "s.bind('\\0' + sys.argv[1]); s.listen(); signal.pause()")


@register
class HostScenario(Scenario):
    name = "host"
    driver = "host"
    title = "host network: the container uses host1's own stack"
    probes = ("egress", "inbound", "loopback", "isolation", "bridge-loopback")

    @property
    def _pidfile(self):
        return self.world.names.state_dir / "host-loopback-service.pid"

    @property
    def _admin_pidfile(self):
        return self.world.names.state_dir / "host-admin-socket.pid"

    def _make(self) -> None:
        self.run_container("app", network_mode="host", command=web_command(APP_PORT))
        self.run_container("bridged")
        self.start_loopback_service()
        self.start_admin_socket()
        wait_listening(self.containers()["app"], APP_PORT)

    # --- host1's loopback-only service (a plain process in host1's namespace, not a container) ---
    def loopback_service_pid(self) -> int | None:
        return _live_pid(self._pidfile, b"httpd")

    def start_loopback_service(self) -> int:
        pid = self.loopback_service_pid()
        if pid:
            return pid
        root = self.world.names.state_dir / "host-loopback-www"
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_text("host1 admin page: bound to 127.0.0.1 only\n")
        argv = [which("nsenter"), f"--net=/run/netns/{self.world.host1.namespace}", which("busybox"),
                "httpd", "-f", "-p", f"127.0.0.1:{LOOPBACK_PORT}", "-h", str(root)]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self._pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + 5
        port = f"0100007F:{LOOPBACK_PORT:04X}"
        while time.monotonic() < deadline:
            if port in Path(f"/proc/{proc.pid}/net/tcp").read_text():
                break
            time.sleep(0.02)
        return proc.pid

    # --- host1's admin socket (abstract UNIX, a plain process in host1's namespace) ---
    def admin_socket_pid(self) -> int | None:
        """The listener's pid while it runs (its pidfile names a live process holding the socket)."""
        return _live_pid(self._admin_pidfile, ADMIN_SOCKET.encode())

    def start_admin_socket(self) -> int:
        """Bind `@ADMIN_SOCKET` in host1's namespace (once); returns when /proc/net/unix lists it."""
        pid = self.admin_socket_pid()
        if pid:
            return pid
        argv = [which("nsenter"), f"--net=/run/netns/{self.world.host1.namespace}", sys.executable,
                "-c", _ADMIN_LISTENER, ADMIN_SOCKET]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self._admin_pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if f"@{ADMIN_SOCKET}" in Path(f"/proc/{proc.pid}/net/unix").read_text():
                break
            time.sleep(0.02)
        return proc.pid

    def stop_admin_socket(self) -> None:
        pid = self.admin_socket_pid()
        if pid:
            _end(pid)
        self._admin_pidfile.unlink(missing_ok=True)

    def probe_specs(self) -> dict[str, ProbeSpec]:
        specs = [
            ProbeSpec("egress", "container:app", str(INET_IP), "tcp", SERVICE_TCP_PORT,
                      description=translate("scenarios:host:egress",
                                            "out to the internet with host1's own address: no NAT rule involved")),
            ProbeSpec("inbound", "lanpc", "machine:host1", "http", APP_PORT,
                      description=translate("scenarios:host:inbound",
                                            "the LAN reaches the container's server on host1's address, no DNAT")),
            ProbeSpec("loopback", "container:app", "127.0.0.1", "http", LOOPBACK_PORT,
                      description=translate("scenarios:host:loopback",
                                            "host1's 127.0.0.1-only service, reached from the host-network container")),
            ProbeSpec("isolation", "container:bridged", "127.0.0.1", "http", LOOPBACK_PORT, expect=False,
                      description=translate("scenarios:host:isolation",
                                            "a bridge container's 127.0.0.1 is its own: host1's service is not there")),
            ProbeSpec("bridge-loopback", "container:bridged", "machine:host1", "http", LOOPBACK_PORT,
                      expect=False, description=translate("scenarios:host:bridge-loopback",
                                                          "nor is it on host1's LAN address: it is bound to loopback")),
        ]
        return {s.name: s for s in specs}

    def stop(self) -> None:
        pid = self.loopback_service_pid()
        if pid:
            _end(pid)
        self._pidfile.unlink(missing_ok=True)
        self.stop_admin_socket()
        super().stop()


def _end(pid: int) -> None:
    """SIGTERM a service of ours and wait (up to 2 s) until it is gone (reaped if it is our child)."""
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        with suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)


def _live_pid(pidfile: Path, mark: bytes) -> int | None:
    """The pid a pidfile names, if that process still runs with `mark` in its command line."""
    try:
        pid = int(pidfile.read_text())
        if mark in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass
    return None
