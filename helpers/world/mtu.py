"""The MTU of the world's links: read, set, put back. The one place that changes one (chapter 4's
small underlay and path, lab 13's cloud, bench/gossip_repro.py).

Links are given as {machine: [ifname, ...]}; MTUs come back keyed "machine:ifname", a form that
survives JSON (lab 13 records the MTUs it found in its world's state folder).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from helpers.language import translate

# Docker's overlay driver: the underlay MTU it assumes unless the network says otherwise
# (`swarm.OVERLAY_MTU_OPTION`: it never reads the real underlay), and the bytes VXLAN adds to each
# packet (outer Ethernet, IP, UDP, VXLAN headers).
OVERLAY_DEFAULT_UNDERLAY_MTU = 1500
VXLAN_OVERHEAD = 50
# The hosts' NICs and the router's ports between them: the underlay an overlay is carried on.
UNDERLAY = {"host1": ["eth0"], "host2": ["eth0"], "router": ["p-host1", "p-host2"]}
# The LAN's side of the path between host1 and host2 only (the router's ports: a cloud's network).
PATH_ONLY = {"router": ["p-host1", "p-host2"]}


def read(world, links: dict[str, list[str]]) -> dict[str, int]:
    """{"machine:ifname": mtu} as `ip -j link` reads it now."""
    found = {}
    for machine, names in links.items():
        for name in names:
            (link,) = json.loads(world[machine].run(["ip", "-j", "link", "show", "dev", name]).stdout)
            found[f"{machine}:{name}"] = link["mtu"]
    return found


def lower(world, links: dict[str, list[str]], mtu: int) -> dict[str, int]:
    """Set every link of `links` to `mtu`, one after the other; returns the MTUs they had (for
    `restore`). A link that is not there raises, the links before it already set."""
    before = {}
    for machine, names in links.items():
        for name in names:
            before.update(read(world, {machine: [name]}))
            world[machine].run(["ip", "link", "set", "dev", name, "mtu", str(mtu)])
    return before


def restore(world, before: dict[str, int]) -> list[str]:
    """Put each link of `before` back to its MTU there, where it differs now; says what it changed."""
    done = []
    links: dict[str, list[str]] = {}
    for key in before:
        machine, name = key.split(":")
        links.setdefault(machine, []).append(name)
    for key, now in read(world, links).items():
        if now != before[key]:
            machine, name = key.split(":")
            world[machine].run(["ip", "link", "set", "dev", name, "mtu", str(before[key])])
            done.append(translate("world:reset:mtu", "MTU {mtu} of {name} on {machine} (was {now})", mtu=before[key],
                                  name=name, machine=machine, now=now))
    return done


@contextmanager
def lowered(world, links: dict[str, list[str]], mtu: int) -> Iterator[dict[str, int]]:
    """`lower` for the length of a `with` block, then `restore`, whatever happened inside."""
    before = lower(world, links, mtu)
    try:
        yield before
    finally:
        restore(world, before)
