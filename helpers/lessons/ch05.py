"""Chapter 5 (macvlan): a macvlan network on a LAN parent, the container's own MAC and address on
the LAN, who reaches it, what it hears.

Every function takes what makes its claim true (e.g. a parent on another link), so a test can
call the *same* function where the claim is false.
"""
from __future__ import annotations

import ipaddress

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import docker_addresses, host_egress, rows_of, short, show_path
from helpers.lessons.lesson import Lesson, who_sees
from helpers.world.guard import probe

# What the chapter's notebook calls (as ch05.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "host_egress", "lan_chatter_heard", "Lesson", "macvlan_create_cli", "macvlan_fit",
    "macvlan_identity", "macvlan_reach", "rows_of", "show_path"
]


@measured
def macvlan_create_cli(world, scenario, name: str = "macvlan-net", parent: str = "eth0") -> facts.Shown:
    """`docker network create -d macvlan --subnet --gateway --ip-range -o parent=` typed on host1,
    with the LAN's values read live (host1's eth0 prefix and default gateway) and the scenario's
    labels, so the scenario adopts the network."""
    from helpers.scenarios.macvlan import IP_RANGE

    lan = str(ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network)
    gateway = facts.default_route(world, "host1")["via"]
    labels = " ".join(f"--label {k}={v}" for k, v in scenario.labels.items())
    return facts.sh(world, "host1", f"docker network create -d macvlan --subnet {lan} --gateway {gateway} "
                                    f"--ip-range {IP_RANGE} -o parent={parent} {labels} {name}")


@measured
def macvlan_fit(world, network) -> dict:
    """Does a macvlan network's IPAM fit the LAN it sits on? Its subnet, gateway and ip-range next
    to the LAN read live: host1's eth0 prefix, its default gateway, every LAN machine's address."""
    network.reload()
    ipam = network.attrs["IPAM"]["Config"][0]
    taken = {m: facts.address(world, m) for m in ("host1", "host2", "lanpc")}
    taken["router (gateway)"] = facts.default_route(world, "host1")["via"]
    ip_range = ipam.get("IPRange") or ipam["Subnet"]
    return {"network": network.name, "parent": network.attrs["Options"].get("parent"),
            "subnet": ipam["Subnet"], "gateway": ipam.get("Gateway"), "ip-range": ip_range,
            "ip-range inside the subnet":
                ipaddress.ip_network(ip_range).subnet_of(ipaddress.ip_network(ipam["Subnet"])),
            "LAN (host1 eth0)": str(ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network),
            "LAN machines": taken,
            "LAN machines inside the ip-range": sorted(m for m, a in taken.items()
                                                       if ipaddress.ip_address(a) in ipaddress.ip_network(ip_range))}


@measured
def macvlan_identity(world, scenario) -> dict:
    """The container's MAC next to host1's, and where the LAN switch (lan0 on the router) learned it,
    after a ping from lanpc (so the switch has seen the container's frames)."""
    from helpers.lessons.probes import run_spec

    app = scenario.containers()["app"]
    mac = facts.mac_of(world, app)
    # The switch forgets first, so what it knows afterwards was learned from this ping (Docker derives
    # a macvlan MAC from the address, so an entry from an earlier run would carry the same MAC).
    world["router"].run(["ip", "link", "set", "dev", "lan0", "type", "bridge", "fdb_flush"])
    run_spec(scenario, "lan")
    fdb = facts.sh(world, "router", f"bridge fdb show br lan0 | grep -i {mac} || true")
    return {"container MAC": mac, "host1 eth0 MAC": facts.mac_of(world, "host1"),
            "lan0 ports that learned it": [e["port"] for e in facts.bridge_fdb(world, "router", "lan0")
                                           if e["mac"] == mac],
            "bridge fdb": fdb}


@measured
def macvlan_reach(world, scenario) -> dict:
    """lanpc -> the container (ping and http), host1 -> the container, the container -> internet."""
    from helpers.lessons.probes import run_specs

    v = run_specs(scenario, ("lan", "lan-http", "host", "egress"))  # side by side: each sends on its own
    app = scenario.containers()["app"]
    return {"rows": [{**x.row(), "output": short(x.result.output if x.result else x.error)} for x in v.values()],
            "reached": {k: x.ok for k, x in v.items()},
            "server saw": who_sees(v["lan-http"].result.output) if v["lan-http"].ok else None,
            "internet saw": who_sees(v["egress"].result.output) if v["egress"].ok else None,
            "lanpc": facts.address(world, "lanpc"), "container": docker_addresses(app)}


@measured
def lan_chatter_heard(world, listener, host: str = "host2") -> dict:
    """What a container's eth0 hears while lanpc talks to `host` (not to the container): lanpc first
    forgets its neighbours, so it broadcasts an ARP question, then pings `host` (unicast).

    The macvlan container sits on the LAN itself, so broadcasts reach it; unicast between two other
    machines does not (the switch sends a frame only where its MAC was learned)."""
    target = facts.address(world, host)
    lanpc = facts.address(world, "lanpc")
    facts.forget_neighbours(world, "lanpc")
    ok, (frames,) = facts.capture(world, [(listener, "eth0")],
                                  lambda: probe(world, "lanpc", target, "ping").ok)
    arp = [f"who-has {f.arp['pdst']} tell {f.arp['psrc']}" for f in frames
           if f.arp and f.arp["op"] == 1 and f.arp["psrc"] == lanpc and f.arp["pdst"] == target]
    unicast = [f.summary() for f in frames if f.proto == "icmp" and {f.src, f.dst} == {lanpc, target}]
    return {"listener": listener.name, "lanpc pinged": f"{host} ({target})", "ping ok": ok,
            "ARP broadcasts heard": arp, "lanpc<->host unicast heard": unicast, "frames heard": len(frames)}
