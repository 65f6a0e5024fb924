"""Chapter 2 (bridge): the Linux bridge and its FDB, name resolution on the default and a user
bridge, the isolation rules between bridges, an internal network.

One call, one idea, evidence as a dict; the chapter's claim cells decide (helpers/lessons/common.py).
"""
from __future__ import annotations

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import ip_forward, on_this_engine, probe_summary, rows_of, rule_trace, same_rule, show_path
from helpers.lessons.lesson import Lesson
from helpers.scenarios.endpoint import pick_address, sdk_networks
from helpers.world.guard import probe
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

# What the chapter's notebook calls (as ch02.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "bridge_device", "crossing", "daemon_dns", "drops_between", "filter_rules", "internal_egress",
    "isolation_rules", "learned_port", "Lesson", "name_resolution", "network_subnet",
    "on_this_engine", "rows_of", "rule_trace", "same_rule", "show_path"
]


@measured
def bridge_device(world, host: str, name: str) -> dict:
    """Kind, state and MTU of a Linux bridge device (`ip -d -j link show`)."""
    link = facts.ip_json(world, host, "-d", "link", "show", "dev", name)[0]
    return {"name": link["ifname"], "kind": link.get("linkinfo", {}).get("info_kind"),
            "state": link.get("operstate"), "mtu": link["mtu"], "mac": link["address"]}


@measured
def learned_port(world, host: str, bridge: str, container) -> dict:
    """Which bridge port the FDB maps the container's MAC to, and which port its veth really is."""
    mac = facts.mac_of(world, container)
    peer = facts.veth_peer(world, host, container)
    learned = [e["port"] for e in facts.bridge_fdb(world, host, bridge) if e["mac"] == mac]
    return {"container": container.name, "mac": mac, "fdb_port": learned, "veth_host_end": peer["host_ifname"]}


@measured
def filter_rules(world, host: str, fragment: str) -> list[str]:
    """Lines of the filter table (`iptables-save -t filter`) that mention `fragment`."""
    return [str(r) for r in facts.matching(facts.iptables(world, host, "filter"), fragment)]


@measured
def network_subnet(network) -> str:
    network.reload()
    return network.attrs["IPAM"]["Config"][0]["Subnet"]


@measured
def daemon_dns(world, host: str = "host1") -> list[str]:
    """The `dns` setting of a host's dockerd (its daemon.json): what default-bridge containers get."""
    import json

    return json.loads(world.names.host(host).config.read_text()).get("dns", [])


@measured
def name_resolution(world, container, other: str) -> dict:
    """How `container` resolves the name of container `other`: its resolv.conf, the daemon's dns
    setting, whether its namespace DNATs 127.0.0.11 to the engine's embedded DNS, its /etc/hosts,
    and the lookup itself (nslookup, inside the lab), beside the address docker inspect gives `other`."""
    container.reload()
    network = next(iter(container.attrs["NetworkSettings"]["Networks"]))
    target = container.client.containers.get(other)
    other_ip = target.attrs["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress") or None
    nat = facts.run_in(world, container, ["iptables-save", "-t", "nat"], check=False).stdout
    _, hosts = container.exec_run(["cat", "/etc/hosts"])
    ok, text = facts.lookup(container, other)
    answer = text.split("Name:")[-1] if ok else ""
    resolved = next((line.split()[-1] for line in answer.splitlines() if line.startswith("Address")), None)
    return {"container": container.name, "network": network, "nameservers": facts.resolv_nameservers(container),
            "daemon_dns": daemon_dns(world),
            "embedded_dns_rules": [rule for rule in nat.splitlines() if "127.0.0.11" in rule and "DNAT" in rule],
            "hosts_entry": [entry for entry in hosts.decode().splitlines() if other in entry.split()[1:]],
            "lookup": f"Name: {other}  Address: {resolved}" if resolved
            else "\n".join(line for line in text.splitlines() if line.strip()),
            "resolved": resolved, "other_address": other_ip,
            **{f"lookup {k}": v or "(none)" for k, v in facts.lookup_outcome(text, other).items()}}


@measured
def isolation_rules(world, host: str = "host1") -> dict:
    """The filter chains that keep Docker bridges apart, named for the running engine's version
    (the engine table's `filter_chains`), which of them exist, and their rules (those naming docker0
    apart)."""
    from helpers.world.engine_facts import filter_chains

    expected = filter_chains(world.hosts[host].docker.version()["Version"])
    rules = facts.state(world, host, "rules").rules
    chains = {r.chain for r in rules if r.table == "filter"}
    mine = [str(r) for r in rules if r.table == "filter" and r.chain in expected and not r.is_policy]
    return {"engine": world.hosts[host].docker.version()["Version"], "expected_chains": list(expected),
            "chains_present": [c for c in expected if c in chains], "rules": mine,
            "docker0_rules": [r for r in mine if "docker0" in r.split()],
            "drop_rules": [r for r in mine if r.endswith("-j DROP")]}


def _docker_own_chain(chain: str) -> bool:
    """A chain Docker writes itself (DOCKER-USER is the administrator's, left for their rules)."""
    return chain.startswith("DOCKER") and chain != "DOCKER-USER"


def _direct_access_drop(rule, bridge: str, address: str | None) -> bool:
    """Docker 28's raw-table filter of one container: `-A PREROUTING -d ADDR/32 ! -i BRIDGE -j DROP`
    (what reaches its address from outside its bridge dies before routing; engine fact
    "direct-access")."""
    return (rule.table == "raw" and rule.chain == "PREROUTING" and rule.target == "DROP"
            and rule.in_if == bridge and "in_if" in rule.negated
            and address is not None and rule.dst in (address, f"{address}/32"))


@measured
def drops_between(before: list, after: list, bridges: tuple[str, str], target_address: str | None = None) -> dict:
    """Which rules (typed, any table) counted packets between two readings (`iptables-save -c`), and
    which of them are Docker's own DROP rules for the request's way across, from bridge
    `bridges[0]` into `bridges[1]`: in Docker's filter chains, `-o` the target bridge or `-i` the
    source one (the isolation chains, 20.10 to 28), or the raw-table filter of the target container
    (`-d target_address ! -i` its bridge, Docker 28+). A DROP of the reply (`-o` the source bridge)
    does not count: the request got through; nor does a rule of the administrator's (DOCKER-USER,
    FORWARD). Pure."""
    source, target = bridges
    old = {r.key: r.packets for r in before}
    rose = [(r, r.packets - old.get(r.key, 0)) for r in after if r.packets > old.get(r.key, 0)]

    def on_the_way_across(rule) -> bool:
        if rule.target != "DROP":
            return False
        if _direct_access_drop(rule, target, target_address):
            return True
        return rule.table == "filter" and _docker_own_chain(rule.chain) and (
            (rule.out_if == target and "out_if" not in rule.negated)
            or (rule.in_if == source and "in_if" not in rule.negated))

    return {"bridges": list(bridges),
            "counted": [f"{r} (+{n} packets)" + ("" if r.table == "filter" else f" [{r.table}]") for r, n in rose],
            "dropped_by": [str(r) + ("" if r.table == "filter" else f" [{r.table}]")
                           for r, _ in rose if on_the_way_across(r)]}


@measured
def crossing(world, source, target, host: str = "host1") -> dict:
    """`source` pings container `target` on another bridge of `host`; host1's rule counters (every
    table) are read before and after, so the DROP rule that stopped it is named by its counter, and
    ip_forward is read (with forwarding off nothing crosses, whatever the rules say)."""
    bridges = (facts.veth_peer(world, host, source)["master"], facts.veth_peer(world, host, target)["master"])
    target.reload()
    address = pick_address(sdk_networks(target))
    before = _all_rules(world, host)
    result = probe(world, source, address, "ping")
    after = _all_rules(world, host)
    return {"from": f"{source.name} ({bridges[0]})", "to": f"{target.name} {address} ({bridges[1]})",
            "reached": result.ok, "output": probe_summary(result)["output"], "ip_forward": ip_forward(world, host),
            **drops_between(before, after, bridges, address)}


def _all_rules(world, host: str) -> list:
    """Every rule of every table of `host` (`iptables-save -c`), chain policies left out."""
    return [r for r in facts.state(world, host, "rules").rules if not r.is_policy]


@measured
def internal_egress(world, lesson: Lesson, internal: bool = True) -> dict:
    """A container on a new bridge network (`--internal` by default) tries the internet service."""
    name = "internal" if internal else "not-internal"
    network = lesson.network(name, driver="bridge", internal=internal)
    inside = lesson.box(f"in-{name}", network=network.name)
    out = probe(world, inside, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    subnet = network_subnet(network)
    return {"network": network.name, "internal": network.attrs["Internal"], "subnet": subnet,
            "container": inside.name, "default_route": facts.default_route(world, inside),
            "probe": probe_summary(out), "masquerade_rule": facts.masquerade_rule(world, "host1", subnet),
            "drop_rules": [str(r) for r in facts.state(world, "host1", "rules").rules
                           if r.table == "filter" and r.target == "DROP" and subnet in str(r)]}
