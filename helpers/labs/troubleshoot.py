"""Labs 8-13, troubleshooting: each `break_*` builds a working setup, then breaks it in a hidden way.

The learner diagnoses with the tools of a real Docker host (`dnlab shell host1`, then `docker`,
`ip`, `iptables-save`, `tcpdump`) and fixes it. The labs keep their mystery:

- a check first reports the SYMPTOM the learner would observe ("the shop does not answer from the
  internet"), never the cause; each further check (counted in the progress record since the lab's
  start) gives a more precise hint, from where to look to what to run;
- hints are built from what the check observed (a learner's half-fix is named as it is), never
  fixed text that could be false;
- once the symptom is gone, the check tests the fix by its effect (a second internet address, the
  address the internet sees, a rule's counter, the next container's address) and only then names
  the cause, as evidence.
"""
from __future__ import annotations

import ipaddress
import json
import shlex
import time
from pathlib import Path

from helpers.errors import LabError, dnlab_command
from helpers.labs import progress, state
from helpers.labs.common import need_attached, need_container, need_reach
from helpers.labs.model import Checks, Lab
from helpers.lessons import facts
from helpers.world import mtu as link_mtu
from helpers.world import swarm
from helpers.world.guard import ProbeResult, check_target, container_names, probe, world_networks
from helpers.world.manager import command_for
from helpers.world.naming import (
    GOSSIP_WAIT,
    IDLE,
    IMAGE,
    INET_IP,
    LAB13_MTU_RECORD,
    LAB13_PATH_MTU,
    OVERLAY_DEFAULT_UNDERLAY_MTU,
    OVERLAY_MTU_OPTION,
    ROUTER_LAN_IP,
    ROUTER_WAN_IP,
    SERVICE_TCP_PORT,
    VXLAN_OVERHEAD,
)
from helpers.world.service import parse_reply

WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]
def start_hint(world, number: int) -> str:
    """Where a missing piece of a troubleshooting lab's setup comes from: the lab's start."""
    return (f"run the lab's start cell (or `{dnlab_command(f'lab start {number}', world.names.world_id)}`) "
            "to get the broken setup")

# What the symptom's pending items say before the symptom is gone: nothing about the cause.
FIX_LATER = "the fix itself"
# The same tools for every troubleshooting lab, so the list points at no particular fault
# ({dnlab}: the lab's `Lab.tools_markdown` writes the command line for the learner's world).
TOOLS = ("a terminal on a lab machine: `{dnlab} shell host1` (or host2, lanpc, router, inet), "
         "then what you would use on a real Docker host: `docker ps`, `docker inspect`, "
         "`docker exec NAME ...` (the containers have busybox: ping, nc, wget, ip), `ip addr`, `ip route`, "
         "`ip neigh`, `iptables-save`, `tcpdump -ni IFACE`, `conntrack -L`, `bridge fdb`. "
         "The machines themselves have `curl`, `wget` and `busybox nc`, no `ping`.")


# --- shared by the six labs -----------------------------------------------------------------------

def _run(world, host: str, name: str, command=IDLE, **kwargs):
    return world.hosts[host].docker.containers.run(IMAGE, command, name=name, hostname=name, detach=True,
                                                   labels=world.label, **kwargs)


def _network(world, host: str, name: str, **kwargs):
    return world.hosts[host].docker.networks.create(name, labels=world.label, **kwargs)


def _container_or_start(world, c: Checks, host: str, name: str, number: int):
    return need_container(world, c, host, name, hint=start_hint(world, number))


def shell(world, machine: str, command: str = "") -> str:
    """How a learner runs `command` on a lab machine from a terminal (Markdown code)."""
    where = dnlab_command(f"shell {machine}", world.names.world_id)
    return f"`{where} -- {command}`" if command else f"`{where}`"


def _stage(world, number: int) -> int:
    """How many times this lab was checked since its start (1 = the first check)."""
    return progress.count_check(world.prefix, number)


def staged(stage: int, steps: list[str]) -> str:
    """The hint for this check: one step more precise at each further check, the last one kept."""
    hint = steps[min(stage, len(steps)) - 1]
    return hint if stage >= len(steps) else hint + " (check again for a more precise hint)"


def _fresh_start(world, number: int) -> None:
    """A new start gives the first, vaguest hint again, and undoes what another troubleshooting lab
    left broken in host1 itself (its default route, its NAT rule) or on the LAN (lab 13's MTU): a learner
    who leaves lab 11 half done and starts lab 8 would otherwise meet two faults at once."""
    progress.reset_checks(world.prefix, number)
    for other, repair in ((8, repair_route), (11, repair_masquerade), (13, restore_underlay)):
        if other != number:
            repair(world)


def _probe(world, source, target: str, kind: str = "ping", port: int | None = None,
           size: int | None = None) -> ProbeResult:
    """One probe through the guard; a server that refuses right after a restart gets two more tries."""
    result = probe(world, source, target, kind, port, size=size)
    for _ in range(2):
        if result.ok or "refused" not in result.output.lower():
            break
        time.sleep(0.3)
        result = probe(world, source, target, kind, port, size=size)
    return result


def last_line(result: ProbeResult) -> str:
    return (result.output.strip().splitlines() or ["no answer"])[-1][:160] or "no answer"


def _diagnosis(c: Checks, cause: str) -> None:
    """Once everything passes, name the cause (never before: the learner finds it)."""
    if c.all_ok:
        c.expect("what had broken", True, evidence=cause)


# --- 8. no way out --------------------------------------------------------------------------------

def break_route(world) -> None:
    """lab8-app on host1's default bridge reaches the internet; then host1 loses its default route."""
    _fresh_start(world, 8)
    _run(world, "host1", "lab8-app")
    world["host1"].run(["ip", "route", "del", "default"])


def check_route(world, c: Checks) -> None:
    stage = _stage(world, 8)
    symptom = "lab8-app reaches the internet service"
    app = _container_or_start(world, c, "host1", "lab8-app", 8)
    if not app:
        return c.pending(symptom, FIX_LATER)
    target = f"{INET_IP}:{SERVICE_TCP_PORT}"
    reached = _probe(world, app, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    c.expect(symptom, reached.ok, f"lab8-app gets no answer from {target}: {last_line(reached)}",
             staged(stage, [
                 "follow the packets outwards: does host1 itself reach the internet service? does lanpc, "
                 "its neighbour on the same LAN?",
                 f"try {shell(world, 'host1', f'curl -sS -m 2 http://{INET_IP}/')} and the same on lanpc; "
                 "where one machine gets through and the other does not, compare how each decides "
                 "where to send a packet",
                 f"compare the routing tables: {shell(world, 'host1', 'ip route')} and "
                 f"{shell(world, 'lanpc', 'ip route')}"]),
             evidence=last_line(reached))
    if not reached.ok:
        return c.pending(FIX_LATER)
    _check_way_out(world, c)
    default = facts.default_route(world, "host1") or {}
    _diagnosis(c, f"host1 had lost its default route: a packet for anything beyond the LAN had no route "
                  f"in host1, so lab8-app's connections died there. Now: default via {default.get('via')} "
                  f"dev {default.get('dev')}")


def _check_way_out(world, c: Checks) -> None:
    """host1 reaches beyond the LAN in general, not only the one address the learner tried."""
    from helpers.path.build import lookup_route  # the path room's longest-prefix match (loads scapy)

    routes = facts.state(world, "host1", "routes").routes
    default = next((route for route in routes if route.dst == "default"), None)
    other = str(ROUTER_WAN_IP)  # another internet address, which no learner's /32 route covers
    elsewhere = _probe(world, "host1", other)
    if default is None:
        used = lookup_route(routes, str(INET_IP))
        problem = (f"host1 has no default route: only `{used}` leads out, so every other address beyond "
                   f"the LAN is still unreachable (host1 → {other}, another internet address: "
                   f"{last_line(elsewhere)})")
        hint = "a route for one address fixes one destination; what does lanpc have that covers them all?"
    else:
        problem = f"host1's default route `{default}` does not lead out: host1 → {other}: {last_line(elsewhere)}"
        hint = "the default gateway must be the LAN's router; lanpc's routing table names it"
    c.expect("host1 reaches any address beyond the LAN, not only the internet service",
             default is not None and elsewhere.ok, problem, hint,
             evidence=f"default route `{default}`; host1 → {other}: {last_line(elsewhere)}")


def repair_route(world) -> list[str]:
    """host1's default route via the router again (missing, or a learner's via another machine)."""
    if (facts.default_route(world, "host1") or {}).get("via") != str(ROUTER_LAN_IP):
        world["host1"].run(["ip", "route", "replace", "default", "via", str(ROUTER_LAN_IP)])
        return ["default route of host1"]
    return []


# --- 9. a name that does not resolve --------------------------------------------------------------

def break_network(world) -> None:
    """lab9-web on lab9-net should reach lab9-api by name; lab9-api was started on the default bridge."""
    _fresh_start(world, 9)
    _network(world, "host1", "lab9-net")
    _run(world, "host1", "lab9-web", network="lab9-net")
    _run(world, "host1", "lab9-api")


def check_network(world, c: Checks) -> None:
    stage = _stage(world, 9)
    symptom = "lab9-web reaches lab9-api by name"
    web = _container_or_start(world, c, "host1", "lab9-web", 9)
    api = _container_or_start(world, c, "host1", "lab9-api", 9)
    if not (web and api):
        return c.pending(symptom, FIX_LATER)
    reached = _ping_by_name(world, web, "lab9-api")
    c.expect(symptom, reached.ok, f"lab9-web: {last_line(reached)}",
             "" if reached.ok else _name_hint(world, web, api, stage), evidence=last_line(reached))
    if not reached.ok:
        return c.pending(FIX_LATER)
    need_attached(c, api, "lab9-net", "lab9-web asks Docker's DNS on lab9-net")
    _diagnosis(c, "lab9-api had been started on the default bridge: Docker's embedded DNS (127.0.0.11) "
                  "answers a container only with the names of containers on the same user-defined network, "
                  "so lab9-web's question for lab9-api got `bad address`. Now both are on lab9-net")


def _name_hint(world, web, api, stage: int) -> str:
    """Why lab9-web does not reach lab9-api by name, from what is there: an /etc/hosts line for the
    name (read before any DNS server; a learner's `--add-host`, `--link` or edit, left after the fix)
    that is not lab9-api's address on lab9-net; else, once both are on lab9-net, Docker's DNS asked
    directly; else the staged hints, from where to look to what to compare."""
    on_net = state.address_on(api, "lab9-net")
    stale = [address for address in state.hosts_entries(web, "lab9-api") if address != on_net]
    if stale:
        return (f"lab9-web's /etc/hosts maps lab9-api to {', '.join(stale)} "
                f"({shell(world, 'host1', 'docker exec lab9-web cat /etc/hosts')}), and that file is read before "
                f"any DNS server is asked; lab9-api's address on lab9-net is {on_net or 'none (it is not on it)'}. "
                "An edited line goes at `docker restart lab9-web` (Docker writes the file again); one that "
                "`--add-host` or `--link` wrote stays until lab9-web is started afresh without it")
    if on_net and state.address_on(web, "lab9-net"):
        return (f"both are on lab9-net: ask Docker's DNS what it answers for lab9-api "
                f"({shell(world, 'host1', 'docker exec lab9-web nslookup lab9-api 127.0.0.11')}) and compare it "
                f"with lab9-api's address there, {on_net}")
    inspect = "docker inspect -f '{{json .NetworkSettings.Networks}}' lab9-web lab9-api"
    return staged(stage, [
        "a name is answered by a DNS server: which one does lab9-web ask, and what does that server know?",
        f"{shell(world, 'host1', 'docker exec lab9-web cat /etc/resolv.conf')}: 127.0.0.11 is Docker's "
        "embedded DNS; which containers' names does it answer, and for whom?",
        f"compare where the two containers are attached: {shell(world, 'host1', inspect)}"])


def _ping_by_name(world, source, name: str, limit: int = 3) -> ProbeResult:
    """A ping by name, bounded: an unknown name makes busybox wait ~10 s for the embedded DNS before
    `bad address`; after `limit` seconds the check reports it unresolved. The name goes through the
    traffic guard first, as every probe's target does."""
    check_target(name, world_networks(world), container_names(world))
    code, raw = source.exec_run(["timeout", str(limit), "ping", "-c", "1", "-W", "2", name])
    text = raw.decode(errors="replace")
    if code == 143 or not text.strip():  # killed by `timeout`: still waiting for the name
        text = f"ping {name}: the name is still unresolved after {limit} s (ping waits ~10 s, then says bad address)"
    return ProbeResult(source.name, name, "ping", code == 0, text, code)


# --- 10. the shop does not answer -------------------------------------------------------------------

SHOP_PORT = 9081


def break_publish(world) -> None:
    """lab10-shop serves HTTP on port 80 and should be reachable at host1:9081; nothing is published."""
    _fresh_start(world, 10)
    _run(world, "host1", "lab10-shop", WEB)


def _published(shop) -> dict[str, list[str]]:
    ports = shop.attrs["NetworkSettings"].get("Ports") or {}
    return {port: [f"{b.get('HostIp')}:{b.get('HostPort')}" for b in bindings]
            for port, bindings in ports.items() if bindings}


def _shop_hint(world, shop, stage: int) -> str:
    """Observed first: a port 9081 published to a container port where nothing listens."""
    to = [port for port, bindings in _published(shop).items() if any(b.endswith(f":{SHOP_PORT}") for b in bindings)]
    if to and shop.attrs["HostConfig"].get("NetworkMode") != "host":
        listening = sorted({row["port"] for row in facts.listening(world, shop) if row["proto"] == "tcp"})
        if int(to[0].split("/")[0]) not in listening:
            return (f"host1's port {SHOP_PORT} leads to lab10-shop's port {to[0]}, but inside lab10-shop the "
                    f"server listens on {', '.join(map(str, listening)) or 'no TCP port'}")
    return staged(stage, [
        "split the path in two: does the shop answer inside host1, at the container's own address? "
        f"then, what leads from host1's port {SHOP_PORT} to it?",
        f"{shell(world, 'host1', 'curl -sS -m 2 http://CONTAINER-ADDRESS/')} (the address from "
        f"`docker inspect lab10-shop`), then {shell(world, 'host1', 'docker port lab10-shop')} and "
        f"{shell(world, 'host1', 'iptables-save -t nat')}",
        "how does a port of a Docker host come to lead into a container, and when is that decided? "
        f"(`docker port lab10-shop` lists what host1 forwards to it: {_published(shop) or 'nothing'})"])


def check_publish_fix(world, c: Checks) -> None:
    stage = _stage(world, 10)
    symptom = f"the internet machine reaches the shop at host1:{SHOP_PORT}"
    host1_ip = swarm.eth0_address(world, "host1")
    shop = _container_or_start(world, c, "host1", "lab10-shop", 10)
    if not shop:
        return c.pending(symptom, FIX_LATER)
    reached = _probe(world, "inet", host1_ip, "http", SHOP_PORT)
    c.expect(symptom, reached.ok, f"from inet, http://{host1_ip}:{SHOP_PORT}/ gets: {last_line(reached)}",
             "" if reached.ok else _shop_hint(world, shop, stage), evidence=last_line(reached))
    if not reached.ok:
        return c.pending(FIX_LATER)
    how = _shop_route(world, c, shop)
    _diagnosis(c, "lab10-shop had been started without `-p`: nothing led from host1's port 9081 into it "
                  "(no DNAT rule, no docker-proxy), and a container's published ports are fixed when it is "
                  f"created. Now: {how}")


def _shop_route(world, c: Checks, shop) -> str:
    """The answer at host1:9081 comes from lab10-shop: a published port, or the shop on host1's own
    network (`--network host`, a valid route: the shop then shares host1's network namespace)."""
    published = _published(shop)
    if any(b.endswith(f":{SHOP_PORT}") for bindings in published.values() for b in bindings):
        c.expect(f"host1's port {SHOP_PORT} leads to lab10-shop", True, evidence=published)
        return f"lab10-shop publishes {published}"
    mode = shop.attrs["HostConfig"].get("NetworkMode")
    owner = facts.sh(world, "host1", f"ss -Hlntp 'sport = :{SHOP_PORT}'", check=False).output
    pid = shop.attrs["State"]["Pid"]
    ours = mode == "host" and f"pid={pid}," in owner
    c.expect(f"host1's port {SHOP_PORT} leads to lab10-shop", ours,
             f"host1:{SHOP_PORT} answers, but not from lab10-shop (network mode {mode}; the listener there: "
             f"{owner.strip() or 'none seen'})",
             "the answer must come from lab10-shop itself", evidence=f"--network host: lab10-shop's process "
             f"(pid {pid}) listens on host1's port {SHOP_PORT}")
    return ("lab10-shop runs with `--network host`: it listens on host1's own port, no NAT and no isolation "
            "of its network (it shares host1's namespace)")


# --- 11. no answer from the internet --------------------------------------------------------------

def _bridge_subnet(world) -> str:
    return str(state.subnets(state.network(world.host1.docker, "bridge"))[0])


def _docker_rule(subnet: str) -> list[str]:
    return ["POSTROUTING", "-s", subnet, "!", "-o", "docker0", "-j", "MASQUERADE"]


def break_masquerade(world) -> None:
    """lab11-app on the default bridge reaches the internet; then host1's MASQUERADE rule goes (as
    when a firewall manager reloads its own ruleset over Docker's)."""
    _fresh_start(world, 11)
    _run(world, "host1", "lab11-app")
    world["host1"].run(["iptables", "-t", "nat", "-D", *_docker_rule(_bridge_subnet(world))])


def _rewriting(rules) -> list:
    """host1's nat rules that rewrite a source address (in POSTROUTING or a learner's own chain)."""
    return [rule for rule in rules if rule.table == "nat" and not rule.is_policy
            and rule.target in ("MASQUERADE", "SNAT")]


def _counted(before, after) -> list[tuple[object, int]]:
    """(rule, packets counted between two snapshots) for every source-rewriting rule that counted."""
    old = {rule.key: rule.packets for rule in _rewriting(before)}
    return [(rule, rule.packets - old.get(rule.key, 0)) for rule in _rewriting(after)
            if rule.packets > old.get(rule.key, 0)]


def _why_not_matched(rule, source: str, way_out: str | None) -> str:
    """Which of the rule's matches the probe's packets (from `source`, leaving by `way_out`) miss."""
    reasons = []
    if rule.src:
        inside = ipaddress.ip_address(source) in ipaddress.ip_network(rule.src, strict=False)
        if inside == ("src" in rule.negated):
            reasons.append(f"its source match `{'! ' if 'src' in rule.negated else ''}-s {rule.src}` "
                           f"does not take lab11-app's {source}")
    if rule.out_if and way_out:
        name = rule.out_if  # iptables: a trailing "+" matches every interface with that prefix
        same = way_out.startswith(name[:-1]) if name.endswith("+") else way_out == name
        if same == ("out_if" in rule.negated):  # the match, after its "!", fails
            reasons.append(f"its out-interface match `{'! ' if 'out_if' in rule.negated else ''}-o "
                           f"{rule.out_if}` does not take the way out, {way_out}")
    return "; ".join(reasons) or "an earlier rule of the chain took them"


def check_masquerade(world, c: Checks) -> None:
    stage = _stage(world, 11)
    symptom = "lab11-app reaches the internet service"
    app = _container_or_start(world, c, "host1", "lab11-app", 11)
    if not app:
        return c.pending(symptom, FIX_LATER)
    source = state.address_on(app, "bridge") or "?"
    # The rules' counters are read around the probe: a rule that rewrote it counted its first packet.
    before = facts.state(world, "host1", "rules").rules
    reached = _probe(world, app, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    after = facts.state(world, "host1", "rules").rules
    counted = _counted(before, after)
    if not reached.ok:
        itself = _probe(world, "host1", str(INET_IP), "tcp", SERVICE_TCP_PORT)
        problem = (f"lab11-app gets no answer from {INET_IP}:{SERVICE_TCP_PORT} ({last_line(reached)}); "
                   f"host1 itself {'does' if itself.ok else 'gets none either'}")
        problem += _unmatched_rules(world, after, counted, source)
        c.expect(symptom, False, problem, staged(stage, [
            "follow one connection: what leaves host1 towards the internet, and what does the internet "
            "service receive?",
            f"capture on the internet machine while lab11-app connects: "
            f"{shell(world, 'inet', f'tcpdump -ni eth0 tcp port {SERVICE_TCP_PORT}')}; which source address "
            "arrives, and could the internet answer it?",
            f"compare what host1 and host2 do to their containers' outgoing packets: "
            f"{shell(world, 'host1', 'iptables-save -t nat')} and the same on host2"]))
        return c.pending(FIX_LATER)
    c.expect(symptom, True, evidence=last_line(reached))
    seen = _seen_as(reached)
    host1_ip = swarm.eth0_address(world, "host1")
    c.expect("host1 rewrites lab11-app's source on the way out", bool(counted),
             f"no source-rewriting rule of host1's nat table counted the probe's packets: the internet saw "
             f"{seen}, lab11-app's own address{_route_back(world, seen)}",
             "the real internet has no route back to private addresses (172.16.0.0/12 is RFC 1918): host1 "
             "must send lab11-app's packets out with its own address, as Docker does for every bridge",
             evidence="; ".join(f"`{rule}` counted {n} packet(s) of the probe" for rule, n in counted))
    c.expect("the internet sees lab11-app as host1", seen == host1_ip,
             f"the internet service saw the connection come from {seen}, not from host1 ({host1_ip})",
             "a masquerade takes the address of the interface the packet leaves by; an SNAT takes the "
             "address you give it", evidence=seen)
    _diagnosis(c, "host1 had lost the MASQUERADE rule Docker adds for the default bridge "
                  f"(`-A {' '.join(_docker_rule(_bridge_subnet(world)))}`): lab11-app's packets left with "
                  f"its private address {source}, to which no answer can find its way back. Now: "
                  + "; ".join(f"`{rule}`" for rule, _ in counted))


def _seen_as(reached: ProbeResult) -> str:
    """The service answers with the address it saw the client come from: independent evidence."""
    try:
        return parse_reply(reached.output)[0]
    except ValueError:
        return reached.output.strip()


def _route_back(world, seen: str) -> str:
    """Why the answer came back anyway: a route to the container's subnet on the router (observed)."""
    from helpers.path.build import lookup_route

    try:
        route = lookup_route(facts.state(world, "router", "routes").routes, seen)
    except ValueError:
        return ""
    if route is None or route.dst == "default":
        return ""
    return f"; the answer came back only because the router has the route `{route}`, which no internet router has"


def _unmatched_rules(world, rules, counted, source: str) -> str:
    """Observed: a learner's source-rewriting rule that counted none of the probe says which of its
    matches missed; one that did count says so (then the fault is elsewhere)."""
    from helpers.path.build import lookup_route

    hit = dict((rule.key, n) for rule, n in counted)
    way = lookup_route(facts.state(world, "host1", "routes").routes, str(INET_IP))
    docker_made = _docker_masquerades(world)  # Docker's rules for the other bridges miss by design
    notes = []
    for rule in _rewriting(rules):
        if rule.key in hit:
            notes.append(f"; host1's rule `{rule}` did rewrite its packets ({hit[rule.key]} counted), "
                         "yet no answer came back: which address did it give them?")
        elif not _docker_made(rule, docker_made):
            notes.append(f"; host1's rule `{rule}` counted none of its packets: "
                         f"{_why_not_matched(rule, source, way.dev if way else None)}")
    return "".join(notes)


def repair_masquerade(world) -> list[str]:
    """Put back Docker's own rule and remove the learner's source-rewriting rules (a wide one left
    behind would make the next start of this lab not broken at all)."""
    subnet = _bridge_subnet(world)
    done = []
    docker_made = _docker_masquerades(world)
    for rule in _rewriting(facts.state(world, "host1", "rules").rules):
        if not _docker_made(rule, docker_made):
            world["host1"].run(["iptables", "-t", "nat", "-D", rule.chain, *shlex.split(rule.spec)], check=False)
            done.append(f"your nat rule `{rule}` of host1")
    if world["host1"].run(["iptables", "-t", "nat", "-C", *_docker_rule(subnet)], check=False).returncode != 0:
        world["host1"].run(["iptables", "-t", "nat", "-A", *_docker_rule(subnet)])
        done.append("MASQUERADE rule of host1")
    return done


def _docker_masquerades(world) -> set[str]:
    """The specs of the MASQUERADE rules Docker makes on host1 for its bridges:
    `-s <subnet> ! -o <its bridge> -j MASQUERADE`, one per bridge network (`helpers.observe` reads them)."""
    from helpers.observe.collect import docker_networks

    return {f"-s {subnet} ! -o {net.bridge} -j MASQUERADE"
            for net in docker_networks(world, "host1") if net.bridge for subnet in net.subnets}


def _docker_made(rule, docker_specs: set[str]) -> bool:
    """Docker's own: a bridge's masquerade, or the hairpin rule of a published port, which
    masquerades a container's packets to itself (`-s X/32 -d X/32 ... --dport P -j MASQUERADE`)."""
    return rule.spec in docker_specs or (rule.src is not None and rule.src == rule.dst)


# --- 12. everyone but its own host ----------------------------------------------------------------

SHIM = "lab12-fix"  # neutral: the name must not tell what to add


def _lan_plan(world) -> dict:
    """Subnet, gateway, a range for the containers and an address kept free for a host shim."""
    lan = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0]).network
    hosts = list(lan.hosts())
    ip_range = ipaddress.ip_network(f"{hosts[95]}/28", strict=False)  # .96/28: far from the machines
    return {"subnet": str(lan), "gateway": (facts.default_route(world, "host1") or {}).get("via"),
            "ip_range": str(ip_range), "aux": {"host1-shim": str(ip_range[-2])}}


def break_macvlan_host(world) -> None:
    """lab12-web on a macvlan on host1's eth0: lanpc reaches it, host1 itself cannot (by design)."""
    import docker.types

    _fresh_start(world, 12)
    plan = _lan_plan(world)
    pool = docker.types.IPAMPool(subnet=plan["subnet"], gateway=plan["gateway"], iprange=plan["ip_range"],
                                 aux_addresses=plan["aux"])
    _network(world, "host1", "lab12-lan", driver="macvlan", options={"parent": "eth0"},
             ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    _run(world, "host1", "lab12-web", WEB, network="lab12-lan")


def host_macvlans(world, parent: str = "eth0") -> list[dict]:
    """host1's macvlan links on `parent`, whatever their names: {"name", "mode", "up", "addresses"}."""
    links = facts.ip_json(world, "host1", "-d", "addr", "show", "type", "macvlan")
    return [{"name": link["ifname"], "mode": ((link.get("linkinfo") or {}).get("info_data") or {}).get("mode"),
             "up": "UP" in (link.get("flags") or []),
             "addresses": [a["local"] for a in link.get("addr_info") or [] if a.get("family") == "inet"]}
            for link in links if link.get("link") == parent]


def _shim_problem(world, address: str) -> str:
    """What is wrong with the host's own macvlan links, as observed (empty when there is none)."""
    from helpers.path.build import lookup_route

    route = lookup_route(facts.state(world, "host1", "routes").routes, address)
    notes = []
    for link in host_macvlans(world):
        name = link["name"]
        if link["mode"] != "bridge":
            notes.append(f"host1's macvlan link {name} is in {link['mode']} mode: its frames to lab12-web go "
                         "out through eth0 to the LAN switch, which does not send a frame back out of the port "
                         "it came in on; only in bridge mode do two macvlan links of one parent reach each "
                         "other directly")
        if not link["up"]:
            notes.append(f"host1's macvlan link {name} is down")
        if route is None or route.dev != name:
            notes.append(f"host1's route to {address} is `{route}`: it does not go through {name}")
    return "; ".join(notes)


def check_macvlan_host(world, c: Checks) -> None:
    stage = _stage(world, 12)
    symptom = "host1 reaches lab12-web over HTTP"
    web = _container_or_start(world, c, "host1", "lab12-web", 12)
    address = web and state.address_on(web, "lab12-lan")
    if not address:
        if web:
            c.expect("lab12-web is on lab12-lan", False, "it is not: the setup was changed", start_hint(world, 12))
        return c.pending("lanpc reaches lab12-web over HTTP", symptom, FIX_LATER)
    lanpc = need_reach(world, c, "lanpc reaches lab12-web over HTTP", "lanpc", address, "http", 80,
                       hint="the container must stay where it is, on the macvlan network")
    reached = _probe(world, "host1", address, "http", 80)
    observed = _shim_problem(world, address)
    c.expect(symptom, reached.ok,
             f"host1 gets no answer from lab12-web at {address} ({last_line(reached)})"
             + (", though lanpc on the same LAN does" if lanpc else ""), observed or staged(stage, [
                 "what is different between lanpc and host1, as seen from lab12-web? look at how lab12-web "
                 f"is attached to the LAN: {shell(world, 'host1', 'docker network inspect lab12-lan')}",
                 f"watch host1 ask for lab12-web's MAC address: {shell(world, 'host1', 'ip neigh')} after "
                 f"{shell(world, 'host1', f'curl -sS -m 2 http://{address}/')}; Docker's macvlan page "
                 "explains who may talk to a macvlan container",
                 "host1 needs its own way onto that segment, beside eth0 rather than through it; "
                 "`docker network inspect lab12-lan` shows an address the network keeps free for it"]),
             evidence=last_line(reached))
    if not reached.ok:
        return c.pending(FIX_LATER)
    shim = _check_shim(world, c, web, address)
    _diagnosis(c, "a macvlan parent and its own macvlan children cannot talk: the kernel hands a child's "
                  "frames straight to the wire (or to a sibling), never up to the parent's own stack, and the "
                  f"LAN switch does not send them back. Now host1 has its own macvlan sibling {shim}")


def _check_shim(world, c: Checks, web, address: str) -> str:
    """host1 reaches lab12-web through a link named as the task asks, with an address that Docker
    will not hand to the next container (outside the network's ip-range)."""
    from helpers.path.build import lookup_route

    route = lookup_route(facts.state(world, "host1", "routes").routes, address)
    dev = route.dev if route else None
    c.expect(f"host1's way onto lab12-lan is called {SHIM}", dev == SHIM,
             f"host1 reaches lab12-web through {dev}; the task asks to call what you add on host1 {SHIM}",
             f"rename it (`ip link set {dev} down; ip link set {dev} name {SHIM}; ip link set {SHIM} up`, then "
             "its route again) or make it again with that name", evidence=f"route `{route}`")
    link = next((link for link in host_macvlans(world) if link["name"] == dev), None)
    addresses = link["addresses"] if link else []
    network = state.network(world.host1.docker, "lab12-lan")
    pool = ((network.attrs.get("IPAM") or {}).get("Config") or [{}])[0] if network else {}
    ip_range = ipaddress.ip_network(pool.get("IPRange") or pool.get("Subnet"), strict=False)
    kept = set((pool.get("AuxiliaryAddresses") or {}).values()) | {pool.get("Gateway")}
    # Docker hands containers the addresses of the ip-range, except those it keeps (aux, gateway).
    given = [a for a in addresses if ipaddress.ip_address(a) in ip_range and a not in kept]
    c.expect(f"{dev}'s address is one Docker never gives a container on lab12-lan", bool(addresses) and not given,
             f"{dev} has {', '.join(given)}, inside lab12-lan's ip-range {ip_range} and not kept by the network: "
             "Docker does not know host1 took it and gives it to the next container on lab12-lan, which two "
             "machines then answer for" if given else f"{dev} has no IPv4 address of its own",
             "`docker network inspect lab12-lan` shows an address the network keeps for the host "
             "(AuxiliaryAddresses); a free address of the LAN outside its ip-range does as well",
             evidence=f"{', '.join(addresses)} (ip-range {ip_range}, kept: {', '.join(sorted(filter(None, kept)))})")
    # Outside the range is not enough: the address must not be another machine's (read from each).
    others = {a.split("/")[0]: machine for machine in ("router", "host2", "lanpc") for a in facts.ipv4(world, machine)}
    clash = {a: others[a] for a in addresses if a in others}
    c.expect(f"{dev}'s address belongs to no other machine of the LAN", not clash,
             "; ".join(f"{dev} has {a}, which {machine} already has: two machines now answer for it"
                       for a, machine in clash.items()),
             "use the address lab12-lan keeps for the host (`docker network inspect lab12-lan`)",
             evidence=", ".join(addresses))
    return f"{dev} ({', '.join(addresses) or 'no address'})"


def repair_macvlan_host(world) -> list[str]:
    """Remove every macvlan link on host1's eth0, whatever the learner called it (its routes go with it)."""
    done = []
    for link in host_macvlans(world):
        if world["host1"].run(["ip", "link", "del", link["name"]], check=False).returncode == 0:
            done.append(f"link {link['name']} of host1")
    return done


# --- 13. small packets pass, large ones vanish --------------------------------------------------------
# The fault of a real cloud: the hosts' NICs say 1500 while the provider's network between them
# carries less (here the router's ports, the cloud's "switch", carry LAB13_PATH_MTU). Docker's overlay
# still gives its containers 1500 - 50, so a full-size frame becomes a 1500-byte VXLAN packet that the
# path drops without a word. Measured here: when the hosts' eth0 itself says the smaller MTU, this
# kernel (5.9+) answers the container with ICMP "fragmentation needed" from the VXLAN port and
# fragments the outer packets, so the fault heals after one lost packet: that is not the lab.

def _record_path(world) -> Path:
    return world.names.state_dir / LAB13_MTU_RECORD


def path_mtu(world) -> int:
    """What the LAN between host1 and host2 carries: the smallest MTU of the router's ports on the way."""
    return min(link_mtu.read(world, link_mtu.PATH_ONLY).values())


def break_mtu(world) -> None:
    """lab13-a (host1) and lab13-b (host2) on an overlay made as everyone makes one (no options), in a
    "cloud" whose network between the hosts carries LAB13_PATH_MTU bytes while the hosts' eth0 say
    1500. The MTUs found are recorded first, and put back if anything here fails."""
    _fresh_start(world, 13)
    record = _record_path(world)
    record.write_text(json.dumps(link_mtu.read(world, link_mtu.UNDERLAY)))
    try:
        # The swarm and the overlay first, the cloud's smaller path last: on a path that drops full-size
        # frames the hosts' own TCP (swarm join over TLS, large gossip syncs) stalls too, which would
        # make the start slow and flaky rather than teach anything.
        swarm.ensure(world)
        _network(world, "host1", "lab13-overlay", driver="overlay", attachable=True)
        _run(world, "host1", "lab13-a", network="lab13-overlay")
        b = _run(world, "host2", "lab13-b", network="lab13-overlay")
        if not wait_for_name(world, b, "lab13-a"):
            raise LabError("the swarm's gossip did not carry lab13-a's name to host2, so the lab cannot start "
                           f"(what each engine knew: {swarm.last_diagnosis(world)})",
                           f"{command_for(world.names, 'down')} && {command_for(world.names, 'up')}")
        link_mtu.lower(world, link_mtu.PATH_ONLY, LAB13_PATH_MTU)
    except BaseException:
        restore_underlay(world)
        raise


def wait_for_name(world, source, name: str, limit: float = GOSSIP_WAIT) -> bool:
    """Wait until `source` reaches container `name` by name (small pings). Seen here: a container made
    on host1 is known to host2's embedded DNS only once the swarm's gossip has carried it there, a
    moment after `docker run` returns; the lab's setup must work for small packets when start ends
    (helpers.world.swarm.wait_for_name: it also repairs a table the gossip lost)."""
    check_target(name, world_networks(world), container_names(world))
    return swarm.wait_for_name(world, source, name, limit)


def restore_underlay(world) -> list[str]:
    """Put every link lab 13 may have changed back to the MTU recorded at its start; without a record
    (a world made again, a record lost), to the MTU of the LAN port no lab touches (the router's
    p-lanpc), so nothing in the world stays smaller than the LAN it was made with."""
    record = _record_path(world)
    try:
        before = {key: int(value) for key, value in json.loads(record.read_text()).items()}
    except (FileNotFoundError, ValueError):
        reference = facts.mtu(world, "router", "p-lanpc")
        before = {key: reference for key in link_mtu.read(world, link_mtu.UNDERLAY)}
    now = link_mtu.read(world, link_mtu.UNDERLAY)
    done = link_mtu.restore(world, {key: before.get(key, mtu) for key, mtu in now.items()})
    record.unlink(missing_ok=True)
    return done


def _overlay_interface(world, container, network: str):
    """The container's interface that carries its address on `network` (an observe Interface), or None."""
    address = state.address_on(container, network)
    return next((iface for iface in facts.state(world, container, "links").interfaces
                 if address and any(a.address == address for a in iface.addresses)), None)


def overlay_mtu(network) -> int:
    """The MTU Docker's overlay driver gives the network's containers: the underlay MTU it is told
    (`-o com.docker.network.driver.mtu=N`, else a fixed 1500; it never reads the real underlay)
    minus the 50 bytes of VXLAN headers."""
    option = (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    return int(option or OVERLAY_DEFAULT_UNDERLAY_MTU) - VXLAN_OVERHEAD


def _ends_mtu(world, a, b) -> dict[str, int | None]:
    """Each end's MTU on lab13-overlay, as `ip -j link` in the container reads it."""
    found = {c.name: _overlay_interface(world, c, "lab13-overlay") for c in (a, b)}
    return {name: (iface.mtu if iface else None) for name, iface in found.items()}


def _mtu_hint(world, network, ends: dict[str, int | None], stage: int) -> str:
    """The hint for the lost full-size ping: a learner's half-fix as observed (one end set by hand,
    an mtu option the path does not carry), else the next step of the staged hints."""
    full, option = overlay_mtu(network), (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    if len(set(ends.values())) > 1:
        seen = ", ".join(f"{name}'s eth0 mtu {mtu}" for name, mtu in ends.items())
        return (f"the two ends differ ({seen}): a packet fits on the way out from one end, and the answer "
                "from the other end is as large as before. What gives both ends their size?")
    if option:
        return (f"lab13-overlay was made with `-o {OVERLAY_MTU_OPTION}={option}`: its containers get {full} and "
                f"send VXLAN packets of up to {full + VXLAN_OVERHEAD} bytes; measure what the LAN between "
                "the hosts carries: "
                f"{shell(world, 'host1', 'docker exec lab13-a ping -c 1 -W 1 -s SIZE HOST2-ADDRESS')}")
    return staged(stage, [
        "small packets pass and large ones vanish, with no error: somewhere on the way a packet of that size "
        "does not fit, and nobody tells the sender. Which interfaces and machines does it cross?",
        f"watch where the large ping goes: {shell(world, 'host2', 'tcpdump -ni eth0 udp port 4789')} and the "
        f"same on host1, while you ping; compare {shell(world, 'host2', 'docker exec lab13-b ip link show eth0')} "
        f"with {shell(world, 'host2', 'ip link show eth0')}",
        f"the overlay wraps each frame in 50 bytes of VXLAN: a {full}-byte frame leaves host2 as a "
        f"{full + VXLAN_OVERHEAD}-byte packet. Find the largest packet the LAN between the hosts carries "
        f"({shell(world, 'host1', 'docker exec lab13-a ping -c 1 -W 1 -s SIZE HOST2-ADDRESS')}, packet = SIZE + "
        "28), then read Docker's overlay driver options (`docker network create --help`, Docker docs: "
        "\"Overlay network driver\")"])


def check_mtu(world, c: Checks) -> None:
    stage = _stage(world, 13)
    a = _container_or_start(world, c, "host1", "lab13-a", 13)
    b = _container_or_start(world, c, "host2", "lab13-b", 13)
    network = state.network(world.host1.docker, "lab13-overlay")
    if not (a and b and network):
        if a and b:
            c.expect("network lab13-overlay exists", False, "host1's engine has no network lab13-overlay",
                     start_hint(world, 13))
        return c.pending("lab13-b reaches lab13-a (small packets)", "lab13-b reaches lab13-a with full-size packets",
                         FIX_LATER)
    for container in (a, b):
        need_attached(c, container, "lab13-overlay", start_hint(world, 13))
    if not c.all_ok:
        return c.pending("lab13-b reaches lab13-a (small packets)", "lab13-b reaches lab13-a with full-size packets",
                         FIX_LATER)
    full = overlay_mtu(network)
    if not need_reach(world, c, "lab13-b reaches lab13-a (small packets)", b, "lab13-a",
                      hint="the lab's setup no longer works even for small packets: start it again"):
        return c.pending(f"lab13-b reaches lab13-a with full-size packets ({full} bytes)", FIX_LATER)
    # The proof a learner would give: a packet of the overlay's full MTU gets there and back. A lost one
    # is lost for good (no server to retry), and an answer takes well under a millisecond here: 1 s.
    big = probe(world, b, "lab13-a", size=full - 28, timeout=1)
    c.expect(f"lab13-b reaches lab13-a with full-size packets ({full} bytes)", big.ok,
             f"a {full}-byte ping (payload {full - 28}) from lab13-b gets no answer, though small ones do",
             "" if big.ok else _mtu_hint(world, network, _ends_mtu(world, a, b), stage), evidence=last_line(big))
    if not big.ok:
        return c.pending(FIX_LATER)
    path = _check_cloud(world, c)
    option = (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    c.expect(f"lab13-overlay's full-size packets cross the LAN whole ({full} + {VXLAN_OVERHEAD} ≤ {path})",
             full + VXLAN_OVERHEAD <= path,
             f"lab13-overlay gives its containers {full}, so their full-size frames leave as "
             f"{full + VXLAN_OVERHEAD}-byte VXLAN packets; the LAN between the hosts carries {path}: the ping "
             "passed only because something on the way cut it into fragments",
             f"tell Docker the size of the path: the overlay's `-o {OVERLAY_MTU_OPTION}=...` (it never reads the "
             "underlay itself); the containers on it get that minus 50",
             evidence=f"{OVERLAY_MTU_OPTION}={option or 'unset (1500)'}, containers {full}, LAN {path}")
    for container in (a, b):
        _check_end_mtu(world, c, container, full)
    _diagnosis(c, f"the LAN between host1 and host2 carries only {path} bytes while their eth0 say "
                  f"{facts.mtu(world, 'host1')}; Docker's overlay gave its containers 1500 − 50 = 1450 (it never "
                  f"reads the underlay), so a full-size frame left host2 as a 1500-byte VXLAN packet that the "
                  "cloud's network dropped without a word: no ICMP \"fragmentation needed\" reached lab13-b "
                  f"(a path-MTU black hole). Now lab13-overlay says {OVERLAY_MTU_OPTION}={option}, its "
                  f"containers get {full}")


def _router_ports_evidence(world, made: dict[str, int]) -> str:
    """The router ports' MTUs now, and those the lab made (when recorded): what the cloud check saw."""
    now = ", ".join(f"{k} mtu {v}" for k, v in link_mtu.read(world, link_mtu.PATH_ONLY).items())
    before = ", ".join(f"{k} {v}" for k, v in made.items() if k.startswith("router"))
    return f"router ports {now}" + (f" (before the lab: {before})" if made else "")


def _check_cloud(world, c: Checks) -> int:
    """The cloud's network is the provider's: the lab's fix is Docker's side. Returns the path MTU."""
    path = path_mtu(world)
    try:
        made = {key: int(value) for key, value in json.loads(_record_path(world).read_text()).items()}
    except (FileNotFoundError, ValueError):
        made = {}
    changed = {key: mtu for key, mtu in link_mtu.read(world, link_mtu.PATH_ONLY).items() if mtu != LAB13_PATH_MTU}
    c.expect("the LAN between the hosts (the cloud's network) is as the provider runs it", not changed,
             f"the router's ports were changed ({', '.join(f'{k} mtu {v}' for k, v in changed.items())}): in a "
             "real cloud you cannot change the provider's network, so this fix does not exist there",
             f"put the router's ports back (`{dnlab_command('lab start 13', world.names.world_id)}` makes the lab "
             "again) and make Docker fit the "
             "network instead", evidence=_router_ports_evidence(world, made))
    return path


def _check_end_mtu(world, c: Checks, container, full: int) -> None:
    """Each end's interface has the MTU the network gives it (what it gets again at a restart)."""
    found = _overlay_interface(world, container, "lab13-overlay")
    if found is None:
        c.expect(f"{container.name}'s interface has the overlay's MTU", False, "its overlay interface is gone",
                 start_hint(world, 13))
        return
    mtu, ifname = found.mtu, found.name
    if mtu < full:
        problem = (f"{container.name}'s {ifname} has MTU {mtu}, lab13-overlay gives its containers {full}: the "
                   f"full-size ping passed only because each sender cut its packets into fragments of {mtu}")
    else:
        problem = (f"{container.name}'s {ifname} has MTU {mtu}, more than lab13-overlay carries ({full}): "
                   f"what it sends above {full} bytes is dropped at the overlay's VXLAN port")
    c.expect(f"{container.name}'s {ifname} has the MTU lab13-overlay gives its containers ({full})", mtu == full,
             problem, "an MTU set by hand inside a running container is replaced when it restarts: the network "
             "must give both ends the right size", evidence=f"{ifname} mtu {mtu}")


def repair_mtu(world) -> list[str]:
    """The underlay's MTUs as recorded at the lab's start, then leave the swarm if nothing uses it."""
    return restore_underlay(world) + swarm.leave_if_unused(world)


# --- the catalog ----------------------------------------------------------------------------------

def _start_task(number: int, extra: str = "") -> str:
    return f"Start the lab (the start cell or `{{dnlab}} lab start {number}`{extra})."


LABS = [
    Lab(8, "trouble-no-way-out", "Troubleshooting: no way out",
        "`lab8-app` (host1, default bridge) reached the internet service (203.0.113.10, TCP port 9000) "
        "yesterday; today it gets no answer.",
        [_start_task(8),
         "Find out where the packets of `lab8-app` towards 203.0.113.10:9000 get lost, and why.",
         "Fix it without touching `lab8-app`."],
        check_route, containers=[("host1", "lab8-app")], setup_fn=break_route, repair_fn=repair_route,
        kind="troubleshoot", tools=TOOLS),
    Lab(9, "trouble-bad-address", "Troubleshooting: a name that does not resolve",
        "`lab9-web` should reach `lab9-api` by name; it gets `bad address`.",
        [_start_task(9),
         "Find out why `lab9-web` cannot resolve `lab9-api`.",
         "Fix it so that `lab9-web` reaches `lab9-api` by name."],
        check_network, containers=[("host1", "lab9-web"), ("host1", "lab9-api")],
        networks=[("host1", "lab9-net")], setup_fn=break_network, kind="troubleshoot", tools=TOOLS),
    Lab(10, "trouble-shop-closed", "Troubleshooting: the shop is closed",
        "The web server in `lab10-shop` runs, but customers on the internet cannot reach it at "
        f"host1's address, port {SHOP_PORT}.",
        [_start_task(10),
         f"Find out why `inet` gets no answer from host1:{SHOP_PORT}.",
         f"Fix it: the shop (a container called `lab10-shop`) must answer at host1:{SHOP_PORT}."],
        check_publish_fix, containers=[("host1", "lab10-shop")], setup_fn=break_publish, kind="troubleshoot",
        tools=TOOLS),
    Lab(11, "trouble-no-answer", "Troubleshooting: the internet does not answer",
        "`lab11-app` on host1's default bridge gets no answer from the internet service "
        "(203.0.113.10, TCP port 9000), though host1 itself does.",
        [_start_task(11),
         "Find out where the conversation between `lab11-app` and the internet service breaks, and why.",
         "Fix it on host1, without touching `lab11-app`, in a way that would work on the real internet too."],
        check_masquerade, containers=[("host1", "lab11-app")], setup_fn=break_masquerade,
        repair_fn=repair_masquerade, kind="troubleshoot", tools=TOOLS),
    Lab(12, "trouble-all-but-host1", "Troubleshooting: everyone but its own host",
        "`lab12-web` on a macvlan network answers everyone on the LAN except host1, where it runs.",
        [_start_task(12),
         "Confirm that `lanpc` reaches `lab12-web` and host1 does not, and find out why.",
         f"Make host1 reach `lab12-web` without moving the container. If you add anything on host1 for it, "
         f"call it `{SHIM}` (the check looks for that name)."],
        check_macvlan_host, containers=[("host1", "lab12-web")], networks=[("host1", "lab12-lan")],
        conflicting_scenarios=("macvlan",),
        setup_fn=break_macvlan_host, repair_fn=repair_macvlan_host, kind="troubleshoot", tools=TOOLS),
    Lab(13, "trouble-large-packets", "Troubleshooting: small packets pass, large ones vanish",
        "`lab13-a` (host1) and `lab13-b` (host2), two containers on an overlay across two machines in a "
        "cloud, answer each other's pings; larger packets between them never arrive.",
        [_start_task(13, "; it makes the swarm if needed"),
         "Show the problem: a small ping from `lab13-b` to `lab13-a` passes, a large one (`ping -s 1422`) "
         "gets no answer.",
         "Find out why, and fix it so that it stays fixed when a container restarts (keep the names "
         "`lab13-a`, `lab13-b` and the network `lab13-overlay`). host1 and host2 stand for two virtual "
         "machines you rent in a cloud: they are yours; the network between them (the LAN and its router) "
         "is the cloud provider's, and you cannot change it."],
        check_mtu, containers=[("host1", "lab13-a"), ("host2", "lab13-b")],
        networks=[("host1", "lab13-overlay")], setup_fn=break_mtu, repair_fn=repair_mtu, kind="troubleshoot",
        tools=TOOLS),
]
