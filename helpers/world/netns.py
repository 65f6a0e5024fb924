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


# What a lesson depends on, as a fresh machine has it: the kernel's defaults. A new network
# namespace does not start from them: with `net.core.devconf_inherit_init_net=0` (the default) it
# copies the machine's own IPv4 settings (`ip_forward`, `conf/all`, `conf/default`). Any machine that
# runs Docker forwards (Docker Desktop's VM too), so host1 and host2 would start forwarding, dockerd
# would leave the FORWARD policy ACCEPT (it sets DROP only when it turned forwarding on itself) and
# chapter 01's unpublished port would be open to the LAN. Each namespace is set to these values as
# soon as it exists, before anything runs in it; the router then turns forwarding on as a router does.
FRESH_MACHINE_SYSCTLS: dict[str, str] = {
    "net.ipv4.ip_forward": "0",  # also conf/all/forwarding and conf/default/forwarding
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv4.conf.all.accept_local": "0",
    "net.ipv4.conf.default.accept_local": "0",
    "net.ipv4.conf.all.route_localnet": "0",
    "net.ipv4.conf.default.route_localnet": "0",
    "net.ipv4.conf.all.proxy_arp": "0",
    "net.ipv4.conf.default.proxy_arp": "0",
    "net.ipv4.conf.all.arp_ignore": "0",
    "net.ipv4.conf.default.arp_ignore": "0",
    "net.ipv6.conf.all.forwarding": "0",
    "net.ipv6.conf.default.forwarding": "0",
}
# Per namespace only where the kernel has bridge netfilter (br_netfilter loaded): the kernel's
# default in a new namespace is 1, which Docker's bridge filtering (icc=false, isolation) relies on.
BRIDGE_NETFILTER_SYSCTLS: dict[str, str] = {
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
}


def create(name: str, marker: str) -> None:
    """Make a namespace, give it a fresh machine's settings (`FRESH_MACHINE_SYSCTLS`, not the
    machine's inherited ones) and label it (the alias of its `lo`), so cleanup can recognise it."""
    run(["ip", "netns", "add", name])
    set_fresh_sysctls(name)
    batch(name, [f"link set lo alias {marker}", "link set lo up"])


def set_fresh_sysctls(name: str) -> None:
    """Write `FRESH_MACHINE_SYSCTLS` (and the bridge netfilter ones, where the kernel has them) in
    namespace `name`, in one `sysctl` process."""
    settings = dict(FRESH_MACHINE_SYSCTLS)
    if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        settings.update(BRIDGE_NETFILTER_SYSCTLS)
    run(["sysctl", "-q", "-w", *(f"{key}={value}" for key, value in settings.items())], name)


def sysctls(name: str, keys: list[str]) -> dict[str, str]:
    """The values of `keys` inside namespace `name` (`sysctl -n`, in the keys' order)."""
    values = output(["sysctl", "-n", *keys], name).splitlines()
    return dict(zip(keys, values, strict=True))


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
