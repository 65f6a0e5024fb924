"""Chapter 7 (drivers side by side): one table row per driver read live (way out, NAT by counters,
probes), and the measurement cases. Latency and throughput are in `helpers.lessons.measure`, two
engines side by side in `helpers.lessons.two_engines` (the chapter's other two modules).
"""
from __future__ import annotations

import ipaddress

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.lesson import Lesson
from helpers.world.naming import INET_IP

# What the chapter's notebook calls (as ch07.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "container_row", "engine_firewall_note", "Lesson", "masquerade_for", "measurement_cases",
    "scenario_row", "SIDE_BY_SIDE", "source_nat_for", "way_out"
]


SIDE_BY_SIDE = ("default-bridge", "user-bridge", "host", "none", "macvlan", "overlay")


@measured
def way_out(world, container) -> dict:
    """The interface a container's default route leaves by, and that interface's subnet, read inside
    the container (`ip -j route`, `ip -j addr`). For an overlay container this is eth1 on
    docker_gwbridge: `docker inspect` lists only the overlay network, not the gateway bridge
    endpoint, so NAT must be looked up by what the kernel routes through, not by Docker's list."""

    route = facts.default_route(world, container)
    if not route:
        return {"dev": None, "subnet": None}
    cidrs = facts.ipv4(world, container, route["dev"])
    subnet = str(ipaddress.ip_interface(cidrs[0]).network) if cidrs else None
    return {"dev": route["dev"], "subnet": subnet}


@measured
def source_nat_for(rules: list, subnet: str, exit_dev: str | None, destination: str = str(INET_IP)) -> list:
    """The nat rules (typed) that would rewrite the source of traffic from `subnet` to
    `destination` leaving by `exit_dev`: any MASQUERADE or SNAT whose `-s` takes some of the subnet
    (none, a covering or overlapping one, or a negated one that leaves part of it), whose `-d` takes
    the destination and whose `-o` lets the exit through (none, `-o exit_dev`, or `! -o` another).
    So `-o eth0 -j MASQUERADE` counts, not only Docker's `-s SUBNET ! -o BRIDGE` rule. Pure."""

    net, to = ipaddress.ip_network(subnet, strict=False), ipaddress.ip_address(destination)

    def takes_source(rule) -> bool:
        if not rule.src:
            return True
        src = ipaddress.ip_network(rule.src, strict=False)
        return not net.subnet_of(src) if "src" in rule.negated else net.overlaps(src)

    def takes_destination(rule) -> bool:
        return not rule.dst or ((to in ipaddress.ip_network(rule.dst, strict=False)) != ("dst" in rule.negated))

    def takes_exit(rule) -> bool:
        if not rule.out_if:
            return True
        return (rule.out_if != exit_dev) if "out_if" in rule.negated else rule.out_if == exit_dev

    return [r for r in rules if r.target in ("MASQUERADE", "SNAT")
            and takes_source(r) and takes_destination(r) and takes_exit(r)]


@measured
def masquerade_for(world, subnet: str | None, host: str = "host1") -> list:
    """host1's MASQUERADE/SNAT rules that would apply to traffic from `subnet` on its way to the
    internet service (`source_nat_for`; typed, with packet counters)."""
    if not subnet:
        return []
    exit_dev = (facts.route_to(world, host, str(INET_IP)) or {}).get("dev")
    return source_nat_for(facts.iptables(world, host), subnet, exit_dev)


@measured
def scenario_row(world, scenario) -> dict:
    """One line of the drivers table, read live from the scenario's first container on host1,
    with the scenario's probes run in between the two counter readings."""
    from helpers.lessons.probes import run_all

    role, container = next(iter(sorted(scenario.containers("host1").items())))
    return container_row(world, scenario.name, scenario.driver, container, lambda: run_all(scenario))


@measured
def container_row(world, name: str, driver: str, container, run_probes=None) -> dict:
    """The drivers-table line of one container (`run_probes()` returns probe verdicts, or None).

    NAT is read by the container's *way out* (the subnet of its default route's interface) and by
    counters: host1's MASQUERADE rules for that subnet, and how many packets they counted while the
    probes ran (a nat rule sees only the first packet of each connection)."""
    container.reload()
    addrs = facts.ipv4(world, container)
    out = way_out(world, container)
    before = sum(r.packets for r in masquerade_for(world, out["subnet"]))
    verdicts = run_probes() if run_probes else []
    rules = masquerade_for(world, out["subnet"])
    return {"scenario": name, "driver": driver, "container": container.name,
            "docker networks": sorted(container.attrs["NetworkSettings"]["Networks"]),
            "addresses": ", ".join(addrs) or "(none)",
            "default route": (facts.default_route(world, container) or {}).get("via") or "(none)",
            "way out": f"{out['dev']} ({out['subnet']})" if out["dev"] else "(none)",
            "same netns as host1": facts.same_netns(world, container, "host1"),
            "MASQUERADE rules": [str(r) for r in rules],
            "masqueraded packets": sum(r.packets for r in rules) - before,
            "DNS": ", ".join(facts.resolv_nameservers(container)),
            "probes": " ".join(f"{v.spec.name}:{'ok' if v.ok else 'no'}{'' if v.as_expected else '(!)'}"
                               for v in verdicts) or "(none run)",
            "all as expected": all(v.as_expected for v in verdicts)}


@measured
def engine_firewall_note(world, host: str = "host1") -> str:
    """Which engine the learner is looking at, and what newer engines do with the same NAT."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    return (f"{host}'s engine is Docker {version}: its NAT is iptables rules (`iptables-save -t nat`). "
            + engine_facts.say("nftables") + " " + engine_facts.say("chains")
            + " Docker docs: 'Packet filtering and firewalls', 'Docker with nftables'.")


@measured
def measurement_cases(world, lesson: Lesson) -> list:
    """The same web server (with /small and /big) reached through each driver."""
    from helpers.lessons.measure import BIG_MB, Case
    from helpers.scenarios import get

    lesson.web("web-host", port=18081, big_mb=BIG_MB, network_mode="host")
    lesson.web("web-bridge", big_mb=BIG_MB, ports={"80/tcp": 18080})
    mv = lesson.web("web-macvlan", big_mb=BIG_MB, network="macvlan-net")
    ov = lesson.web("web-overlay", big_mb=BIG_MB, network="overlay-net")
    h1 = facts.address(world, "host1")
    mv.reload(), ov.reload()
    mv_ip = mv.attrs["NetworkSettings"]["Networks"]["macvlan-net"]["IPAddress"]
    ov_ip = ov.attrs["NetworkSettings"]["Networks"]["overlay-net"]["IPAddress"]
    overlay_b = get(world, "overlay").containers("host2")["b"]
    return [
        Case("host (lanpc -> host1:18081)", "lanpc", h1, 18081),
        Case("bridge, published, DNAT (lanpc -> host1:18080)", "lanpc", h1, 18080, "host (lanpc -> host1:18081)"),
        Case("macvlan (lanpc -> container)", "lanpc", mv_ip, 80, "host (lanpc -> host1:18081)"),
        Case("host (host1 -> 127.0.0.1:18081)", "host1", "127.0.0.1", 18081),
        Case("bridge, published, docker-proxy (host1 -> 127.0.0.1:18080)", "host1", "127.0.0.1", 18080,
             "host (host1 -> 127.0.0.1:18081)"),
        Case("host (host2 -> host1:18081)", "host2", h1, 18081),
        Case("overlay (container on host2 -> container on host1)", overlay_b, ov_ip, 80,
             "host (host2 -> host1:18081)"),
    ]
