"""Network namespaces of a world: make them, label them, find them, remove them."""
from __future__ import annotations

import json
import os
import signal
import time
from contextlib import suppress
from pathlib import Path

from helpers.world.proc import NETNS_DIR, output, run


def exists(name: str) -> bool:
    return os.path.exists(f"{NETNS_DIR}/{name}")


def list_names() -> list[str]:
    """Every named network namespace on the machine (not only the course's)."""
    raw = output(["ip", "-j", "netns", "list"]).strip()
    return sorted(entry["name"] for entry in json.loads(raw or "[]"))


def create(name: str, marker: str) -> None:
    """Make a namespace and label it (the alias of its `lo`), so cleanup can recognise it."""
    run(["ip", "netns", "add", name])
    batch(name, [f"link set lo alias {marker}", "link set lo up"])


def marker_of(name: str) -> str | None:
    """The label of a namespace (alias of its `lo`), None if it has none or is gone."""
    result = run(["ip", "-n", name, "-j", "link", "show", "lo"], check=False)
    if result.returncode != 0:
        return None
    links = json.loads(result.stdout or "[]")
    return links[0].get("ifalias") if links else None


def batch(name: str | None, commands: list[str]) -> None:
    """Run several `ip` commands in one process (`ip -batch`), inside namespace `name`."""
    argv = ["ip", "-batch", "-"] if name is None else ["ip", "-n", name, "-batch", "-"]
    run(argv, input="\n".join(commands) + "\n")


def sysctl(name: str, key: str, value: str) -> None:
    run(["sysctl", "-q", "-w", f"{key}={value}"], name)


def inode(name: str) -> int | None:
    try:
        return os.stat(f"{NETNS_DIR}/{name}").st_ino
    except FileNotFoundError:
        return None


def pids_inside(name: str) -> list[int]:
    """Processes whose network namespace is `name` (dockerd, services, host-network containers)."""
    target = inode(name)
    if target is None:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == target:
                found.append(int(entry))
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    return found


def kill_all(pids: list[int], wait: float = 2.0) -> None:
    """SIGKILL every pid and wait until they are gone."""
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    """Running, not a zombie (a killed child of another process stays in /proc until reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def delete(name: str) -> None:
    """Kill what still runs inside, then remove the namespace."""
    kill_all(pids_inside(name))
    run(["ip", "netns", "delete", name], check=False)
