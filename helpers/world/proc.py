"""Running commands, on the root namespace or inside one of the world's namespaces."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from helpers.errors import LabError, MissingToolError, NotRootError

NETNS_DIR = "/run/netns"

# Debian package that brings each tool, for the "fix" line of an error.
PACKAGE_OF = {
    "ip": "iproute2", "bridge": "iproute2", "nsenter": "util-linux", "unshare": "util-linux",
    "mount": "mount", "umount": "mount", "dockerd": "docker.io",
    "containerd": "docker.io", "runc": "docker.io", "docker-proxy": "docker.io",
    "docker": "docker.io", "iptables": "iptables", "iptables-save": "iptables",
    "tcpdump": "tcpdump", "conntrack": "conntrack", "busybox": "busybox-static",
    "setpriv": "util-linux", "sh": "dash",
}

# Run by `sh` after setpriv has set the parent-death signal: if the owner is already gone ($PPID is no
# longer its pid, given as $0), the kernel will never send that signal, so the command must not start.
_OWNER_ALIVE = '[ "$PPID" = "$0" ] || exit 70; exec "$@"'


def dying_with_owner(argv: Sequence[str]) -> list[str]:
    """`argv` (absolute paths) as a child the kernel kills (SIGKILL) when the thread that starts it
    ends, even by SIGKILL: `setpriv --pdeathsig KILL`. setpriv alone has a race: an owner killed
    between the fork and setpriv's prctl leaves the command running forever (18 of 40 children of
    owners that exited at once, measured): so `sh` checks, once the signal is set, that its parent is
    still the owner, then execs `argv` (same pid: setpriv, sh, then argv)."""
    return [which("setpriv"), "--pdeathsig", "KILL", which("sh"), "-c", _OWNER_ALIVE, str(os.getpid()), *argv]


def require_root() -> None:
    if os.geteuid() != 0:
        raise NotRootError()


def which(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not path:
        package = PACKAGE_OF.get(tool, tool)
        raise MissingToolError(f"`{tool}` is not installed", f"sudo apt-get install -y {package}")
    return path


def in_netns(namespace: str | None, argv: Sequence[str]) -> list[str]:
    """argv run inside `namespace`: nsenter, not `ip netns exec`, which remounts /sys."""
    argv = [which(argv[0]), *argv[1:]]
    if namespace is None:
        return argv
    return [which("nsenter"), f"--net={NETNS_DIR}/{namespace}", *argv]


def run(argv: Sequence[str], namespace: str | None = None, *, check: bool = True,
        input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run argv (inside `namespace` if given); LabError with its stderr if it fails."""
    full = in_netns(namespace, argv)
    result = subprocess.run(full, input=input, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        where = f" in {namespace}" if namespace else ""
        raise LabError(f"`{' '.join(argv)}`{where} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def output(argv: Sequence[str], namespace: str | None = None, **kwargs) -> str:
    return run(argv, namespace, **kwargs).stdout


def lock_held(path: Path) -> bool:
    """Whether another process holds an flock on `path` now: one try, no wait (made if missing)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


def end_all(processes: Sequence[subprocess.Popen], signal_number: int, timeout: float = 5.0) -> None:
    """Send `signal_number` to each process still running, then wait for each; one that has not ended
    `timeout` s after is killed (tcpdump's captures, xtables-monitor's traces: SIGINT/SIGTERM flush them)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal_number)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
