"""The key facts the driver explorer shows for one scenario and probe, read live, and their diff.

Facts come from the running engines and kernel, never from what a scenario *meant* to make, and
they are read by the observation room (`helpers.observe`): addresses and routes inside the
container's own network namespace and the nat table of its Docker host's namespace (`ip -j`,
`iptables-save -c`, both read at once by `read_all`), the network summary from what the engine
lists (`docker_networks`). This module only chooses and words them. A `Facts` is plain data, so the
explorer can cache it and diff two drivers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import zip_longest

from helpers.errors import LabError
from helpers.language import translate
from helpers.observe import (
    Interface,
    NetworkInfo,
    Route,
    Rule,
    Target,
    docker_networks,
    machine_targets,
    network_info,
    read_all,
)
from helpers.scenarios.endpoint import Endpoint

# Fact categories, in the order the explorer shows them (and diffs them).
CATEGORIES = ("addresses", "routes", "networks", "nat", "reachability")
TITLES = {
    "addresses": "Container addresses",
    "routes": "Container routes",
    "networks": "Network (docker network inspect)",
    "nat": "NAT rules involved (iptables-save -t nat)",
    "reachability": "Reachability",
}


def title(category: str) -> str:
    """A category's title (TITLES) in the language in force."""
    return {"addresses": translate("widgets:facts:addresses", "Container addresses"),
            "routes": translate("widgets:facts:routes", "Container routes"),
            "networks": translate("widgets:facts:networks", "Network (docker network inspect)"),
            "nat": translate("widgets:facts:nat", "NAT rules involved (iptables-save -t nat)"),
            "reachability": translate("widgets:facts:reachability", "Reachability")}[category]


@dataclass
class Facts:
    """What is true, right now, about one scenario's container and the probe's result."""

    scenario: str
    driver: str
    host: str = "host1"
    container: str | None = None
    addresses: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    nat: list[str] = field(default_factory=list)
    reachability: list[str] = field(default_factory=list)
    reached: bool | None = None
    expected: bool | None = None
    # The probe's effect on the nat rules, from the counters the tracer read before and after it:
    # rule (as in `nat`) -> how many packets it counted during the probe on this host; and rules
    # hit in other namespaces (the router, the other host), as "<namespace>: <rule> (+n)".
    nat_hits: dict[str, int] | None = None
    nat_elsewhere: list[str] = field(default_factory=list)
    proxied: bool = False          # docker-proxy (userland) carried the probe: no NAT rule needed

    def items(self) -> dict[str, list[str]]:
        return {category: list(getattr(self, category)) for category in CATEGORIES}


# --- resolving the container a probe is about ---------------------------------------------------

def _container_ref(end: Endpoint, default_host: str) -> tuple[str, str] | None:
    """("role", "host") of a container endpoint, else None (a machine, an address or a name)."""
    return (end.name, end.on(default_host)) if end.is_container else None


def focus_container(scenario, spec=None):
    """(host, Container) the facts are about: the probe's source container, else its target
    container, else the one publishing the probe's port, else the scenario's first container (by
    role) on any host; None if the scenario has no container."""
    refs = []
    if spec is not None:
        refs = [_container_ref(spec.source_end, spec.source_host), _container_ref(spec.target_end, spec.source_host)]
    for ref in refs:
        if ref is None:
            continue
        role, host = ref
        found = scenario.containers(host).get(role)
        if found is not None:
            return host, found
    if spec is not None and spec.port:
        # A probe to a published port is about the container that publishes it.
        for host in scenario.world.hosts:
            for _role, container in sorted(scenario.containers(host).items()):
                bindings = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
                if any(str(b.get("HostPort")) == str(spec.port) for bs in bindings.values() for b in bs or []):
                    return host, container
    for host in scenario.world.hosts:
        containers = scenario.containers(host)
        if containers:
            return host, containers[sorted(containers)[0]]
    return None


# --- wording what observe read ----------------------------------------------------------------

def format_addresses(interfaces: list[Interface]) -> list[str]:
    """One line per IPv4 address, e.g. 'eth0 172.17.0.2/16 (mac 02:42:..)'; lo included."""
    lines = []
    for iface in interfaces:
        suffix = f" (mac {iface.mac})" if iface.mac and iface.kind != "loopback" else ""
        if not iface.ipv4:
            lines.append(f"{iface.name} no IPv4 address{suffix}")
        lines.extend(f"{iface.name} {address.cidr}{suffix}" for address in iface.ipv4)
    return lines


def format_routes(routes: list[Route]) -> list[str]:
    """`ip route`-like lines: 'default via 172.17.0.1 dev eth0', '172.17.0.0/16 dev eth0 src ..'."""
    return [str(route) for route in routes]


def network_summary(net: NetworkInfo) -> str:
    """One line of `docker network inspect`: name, driver, scope, subnet, gateway, key options."""
    parts = [f"{net.name}: driver {net.driver}, scope {net.scope}"]
    for subnet, gateway in zip_longest(net.subnets, net.gateways):
        parts.extend(f"{label} {value}" for label, value in (("subnet", subnet), ("gateway", gateway)) if value)
    for key, label in (("parent", "parent"), ("com.docker.network.bridge.name", "bridge")):
        if net.options.get(key):
            parts.append(f"{label} {net.options[key]}")
    parts.extend(flag for flag, on in (("internal", net.internal), ("attachable", net.attachable)) if on)
    return ", ".join(parts)


def _mentions(rule: Rule, needle: str) -> bool:
    """True if a word of the rule is `needle` (a /32 counts as the bare address) or `needle:port`."""
    words = str(rule).replace("/32", " ").split()
    return needle in words or any(word.startswith(needle + ":") for word in words)


def nat_rules(rules: list[Rule], needles: list[str]) -> list[str]:
    """The nat table's rules (`-A CHAIN ...` lines) that mention one of `needles`."""
    needles = [n for n in needles if n]
    nat = [rule for rule in rules if rule.table == "nat" and not rule.is_policy]
    if not needles:
        return []
    involved = [rule for rule in nat if any(_mentions(rule, needle) for needle in needles)]
    # A rule in a custom chain (Docker's DNAT rules live in chain DOCKER) is only reached through
    # the jumps to that chain: they are involved too, so show them first.
    chains = {rule.chain for rule in involved} - {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}
    jumps = [rule for rule in nat if rule not in involved and rule.target in chains]
    return [str(rule) for rule in jumps + involved]


# --- reading ------------------------------------------------------------------------------------

def _attached(client, info: dict, host_networks: list[NetworkInfo]) -> list[tuple[NetworkInfo, str]]:
    """(network, the container's address on it) for each network the container is attached to."""
    by_id = {net.id: net for net in host_networks}
    attached = []
    for name, endpoint in (info["NetworkSettings"]["Networks"] or {}).items():
        network_id = endpoint.get("NetworkID") or name
        net = by_id.get(network_id) or network_info(client.api.inspect_network(network_id))
        attached.append((net, endpoint.get("IPAddress")))
    return attached


def read_facts(world, scenario, spec=None) -> Facts:
    """The live facts of `scenario` (started) for probe `spec` (a ProbeSpec, or None)."""
    facts = Facts(scenario=scenario.name, driver=scenario.driver)
    focus = focus_container(scenario, spec)
    if focus is None:
        facts.addresses = [translate("widgets:facts:no-container", "(the scenario has no container)")]
        return facts
    host, container = focus
    client = world.hosts[host].docker
    info = client.api.inspect_container(container.id)
    facts.host, facts.container = host, info["Name"].lstrip("/")
    pid = info["State"]["Pid"]
    if not pid:
        raise LabError(f"container {facts.container} on {host} is not running",
                       "press “Re-run probe” (it restarts the scenario)")
    # The container's namespace and its Docker host's, read at once.
    inside = Target(facts.container, "container", f"/proc/{pid}/ns/net", parts=("links", "routes"))
    docker_host = replace(machine_targets(world, [host])[0], parts=("rules",))
    seen = read_all([inside, docker_host])
    if not seen[inside.name].interfaces:  # every namespace has lo: nothing read means it is gone
        raise LabError(f"could not read the network namespace of {facts.container} on {host}",
                       "press “Re-run probe” (it restarts the scenario)")
    facts.addresses = format_addresses(seen[inside.name].interfaces)
    facts.routes = format_routes(seen[inside.name].routes) or [translate("widgets:facts:no-routes", "(no IPv4 routes)")]

    networks = docker_networks(world, host)
    needles: list[str] = []
    attached = _attached(client, info, networks)
    for net, address in attached:
        facts.networks.append(network_summary(net))
        needles.extend([address, *net.subnets, net.bridge])
    if any(net.driver == "overlay" for net, _ in attached):
        # An overlay container's second leg (eth1) is on docker_gwbridge, which inspect does not
        # list among its networks: its egress is NATed there, so it belongs to the facts.
        for net in (n for n in networks if n.name == "docker_gwbridge"):
            facts.networks.append(network_summary(net) + translate("widgets:facts:gwbridge",
                                                                   " (the overlay's way out: eth1)"))
            needles.extend([*net.subnets, net.bridge])
    if not facts.networks:
        facts.networks = [translate("widgets:facts:no-network", "(attached to no network)")]
    rules = seen[docker_host.name].rules
    facts.nat = nat_rules(rules, needles) or [_no_rule(rules, scenario.driver)]
    return facts


def _no_rule(rules: list[Rule], driver: str) -> str:
    """Why the NAT list is empty: no rule for this container, or no Docker rule in iptables at all
    (Docker 29 can keep its rules in nftables: `nft list ruleset` shows them there)."""
    if any(rule.chain.startswith("DOCKER") for rule in rules):
        return translate("widgets:facts:no-nat", "(none: Docker installed no NAT rule for this {driver} container)",
                         driver=driver)
    from helpers.world.engine_facts import say

    return ("(none in iptables: this engine keeps no DOCKER chain there. " + say("nftables")
            + " Docker's docs page: \"Packet filtering and firewalls\")")


def mark_hits(facts: Facts, path_rules: list[dict], proxied: bool = False) -> Facts:
    """Record which nat rules the probe hit: those whose packet counter rose while it ran (the
    tracer reads `iptables-save -c` before and after). Rules hit on the facts' own host are
    matched to the listed rules; a hit rule the list lacks is added to it, and hits in other
    namespaces are kept apart; a rule of a namespace where the probe's flow left no conntrack entry
    (path rule "flow": False) counted other traffic and is left out. `proxied`: the traced path went
    through docker-proxy."""
    facts.nat_hits, facts.nat_elsewhere, facts.proxied = {}, [], proxied
    for rule in path_rules or []:
        if rule.get("table") != "nat" or not rule.get("delta") or rule.get("flow") is False:
            continue  # a nat rule in a stack the probe's flow never entered counted other traffic
        where = rule.get("namespace") or rule.get("ns")
        if where == facts.host:
            facts.nat_hits[rule["rule"]] = facts.nat_hits.get(rule["rule"], 0) + rule["delta"]
            if rule["rule"] not in facts.nat:
                facts.nat = [r for r in facts.nat if not r.startswith("(")] + [rule["rule"]]   # a note goes
        else:
            facts.nat_elsewhere.append(f"{where}: {rule['rule']} (+{rule['delta']})")
    return facts


def nat_lines(facts: Facts) -> tuple[str, list[tuple[str, bool, int]]]:
    """(sentence, [(rule, hit, packets)]) for the explorer's NAT panel: says what the marks mean
    and how many of the listed rules the probe actually went through."""
    rules = [r for r in facts.nat if not r.startswith("(")]
    if facts.nat_hits is None:
        return translate("widgets:nat:no-probe", "No probe ran, so no counter was compared: these are the rules "
                         "that name this container."), [(r, False, 0) for r in rules]
    hit = [r for r in rules if facts.nat_hits.get(r)]
    sentence = translate("widgets:nat:counted", "Counters read before and after the probe: {hit} of the {listed} rules "
                         "listed counted its packets (✔); the others name this container or its network but this "
                         "probe did not use them.", hit=len(hit), listed=len(rules))
    if not rules:
        sentence = translate("widgets:nat:none-counted", "Counters read before and after the probe: no nat rule of "
                             "this host counted its packets.")
    if facts.proxied and not hit:
        sentence += translate("widgets:nat:proxied", " The probe went to docker-proxy, a userland relay that opens its "
                              "own connection: no NAT rule needed.")
    return sentence, [(r, bool(facts.nat_hits.get(r)), facts.nat_hits.get(r, 0)) for r in rules]


def diff_facts(previous: Facts | None, current: Facts) -> list[str]:
    """What changed from `previous` to `current`: per category, '- old' and '+ new' lines."""
    if previous is None:
        return []
    lines = []
    old, new = previous.items(), current.items()
    for category in CATEGORIES:
        gone = [item for item in old[category] if item not in new[category]]
        came = [item for item in new[category] if item not in old[category]]
        if not gone and not came:
            lines.append(translate("widgets:diff:unchanged", "{title}: unchanged", title=title(category)))
            continue
        lines.append(f"{title(category)}:")
        lines.extend(f"  - {item}" for item in gone)
        lines.extend(f"  + {item}" for item in came)
    return lines
