"""Chapter 9 (a pod, as Kubernetes makes one): two containers in one network namespace, not one UTS
namespace, and what an outsider reaches.

One call, one idea, evidence as a dict; the chapter's claim cells decide (helpers/lessons/common.py).
"""
from __future__ import annotations

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import rows_of
from helpers.lessons.lesson import Lesson
from helpers.world.guard import probe

# What the chapter's notebook calls (as ch09.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "Lesson", "pod_uts", "pod_view", "reach_from_outside", "rows_of"
]


def _ns_inode(container, kind: str) -> int:
    """The kernel's inode of one of a container's namespaces (`readlink /proc/<pid>/ns/<kind>`)."""
    import os

    return os.stat(f"/proc/{facts._pid(container)}/ns/{kind}").st_ino


def _hostname(container) -> str:
    return container.exec_run(["hostname"]).output.decode().strip()


@measured
def pod_view(world, app, sidecar, port: int) -> dict:
    """The 'pod': do two containers share one network namespace (inode, addresses), and does the
    second reach a server the first binds to 127.0.0.1 only (probe through the guard)?"""

    result = probe(world, sidecar, "127.0.0.1", "http", port)
    return {"same network namespace": facts.same_netns(world, app, sidecar),
            "app addresses": facts.ipv4(world, app), "sidecar addresses": facts.ipv4(world, sidecar),
            "sidecar -> 127.0.0.1": {"reached": result.ok, "output": result.output.strip()}}


@measured
def reach_from_outside(world, outsider, app, port: int) -> dict:
    """A container outside the 'pod' tries the app's own address on `port` (through the guard)."""

    target = facts.address(world, app)
    result = probe(world, outsider, target, "http", port)
    return {"from": outsider.name, "to": f"{target}:{port}", "reached": result.ok, "output": result.output.strip()}


@measured
def pod_uts(world, app, sidecar, new_name: str) -> dict:
    """Network namespace shared, UTS namespace not: the two containers' namespace inodes, their
    hostnames at start (Docker copies the app's into the sidecar's config), then app's hostname
    changed inside app's own UTS namespace (`nsenter -u`) and both read again.

    The rename is refused when app's UTS namespace is the machine's own or a Docker host's (a
    container run with `--uts host` shares its engine's): renaming it would rename that machine."""
    import os
    import subprocess

    from helpers.world import engine
    from helpers.world.proc import which

    uts = (_ns_inode(app, "uts"), _ns_inode(sidecar, "uts"))
    view = {"net namespace inodes": (_ns_inode(app, "net"), _ns_inode(sidecar, "net")),
            "uts namespace inodes": uts, "hostnames at start": (_hostname(app), _hostname(sidecar))}
    # `--uts host` is the engine's UTS namespace: its Docker host's own (the lab gives each dockerd one,
    # named after its host) or, for an engine started without one, the machine's.
    hosts = {"the machine's own": os.stat("/proc/self/ns/uts").st_ino}
    for role, host in world.hosts.items():
        dockerd = engine.pid(host.paths)
        if dockerd:
            hosts[f"{role}'s own (its engine's)"] = os.stat(f"/proc/{dockerd}/ns/uts").st_ino
    owner = next((name for name, inode in hosts.items() if inode == uts[0]), None)
    if owner:
        view["rename"] = f"refused: app's UTS namespace is {owner}"
        view["hostnames after"] = view["hostnames at start"]
        return view
    command = [which("nsenter"), "-t", str(facts._pid(app)), "-u", "hostname", new_name]
    subprocess.run(command, check=True, capture_output=True, timeout=10)
    view["rename"] = f"nsenter -t <pid of {app.name}> -u hostname {new_name}"
    view["hostnames after"] = (_hostname(app), _hostname(sidecar))
    return view
