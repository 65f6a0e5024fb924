"""Lab 11: Troubleshooting: the internet does not answer.

Troubleshooting: the internet answers the host, not its container. The check, the broken start, the
staged hints, the reference solution and why it broke, all in this module (listed in
helpers/labs/registry.py).
"""
from __future__ import annotations

import ipaddress
import shlex

from helpers.labs import state
from helpers.labs.model import Checks, Lab
from helpers.labs.trouble import (
    TOOLS,
    container_or_start,
    fix_later,
    fresh_start,
    last_line,
    name_the_cause,
    probe_again,
    run_box,
    shell,
    stage_of,
    staged,
    start_task,
)
from helpers.language import translate
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.guard import ProbeResult
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT
from helpers.world.service import parse_reply

# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = "lab11-app reaches the internet service"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["masquerade", "snat", "nat table", "postrouting"]


def _bridge_subnet(world) -> str:
    return str(state.subnets(state.network(world.host1.docker, "bridge"))[0])


def _docker_rule(subnet: str) -> list[str]:
    return ["POSTROUTING", "-s", subnet, "!", "-o", "docker0", "-j", "MASQUERADE"]


def break_masquerade(world) -> None:
    """lab11-app on the default bridge reaches the internet; then host1's MASQUERADE rule goes (as
    when a firewall manager reloads its own ruleset over Docker's)."""
    fresh_start(world, 11)
    run_box(world, "host1", "lab11-app")
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
            match = f"{'! ' if 'src' in rule.negated else ''}-s {rule.src}"
            reasons.append(translate("labs:lab11:source-miss", "its source match `{match}` does not take "
                                     "lab11-app's {source}", match=match, source=source))
    if rule.out_if and way_out:
        name = rule.out_if  # iptables: a trailing "+" matches every interface with that prefix
        same = way_out.startswith(name[:-1]) if name.endswith("+") else way_out == name
        if same == ("out_if" in rule.negated):  # the match, after its "!", fails
            reasons.append(translate("labs:lab11:out-miss", "its out-interface match `{match}` does not take the "
                                     "way out, {way_out}", match=f"{'! ' if 'out_if' in rule.negated else ''}-o "
                                     f"{rule.out_if}", way_out=way_out))
    return "; ".join(reasons) or translate("labs:lab11:earlier-rule", "an earlier rule of the chain took them")


def check_masquerade(world, c: Checks) -> None:
    stage = stage_of(world, 11)
    symptom = LAB.say("symptom")
    app = container_or_start(world, c, "host1", "lab11-app", 11)
    if not app:
        return c.pending(symptom, fix_later())
    source = state.address_on(app, "bridge") or "?"
    # The rules' counters are read around the probe: a rule that rewrote it counted its first packet.
    before = facts.state(world, "host1", "rules").rules
    reached = probe_again(world, app, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    after = facts.state(world, "host1", "rules").rules
    counted = _counted(before, after)
    if not reached.ok:
        itself = probe_again(world, "host1", str(INET_IP), "tcp", SERVICE_TCP_PORT)
        if itself.ok:
            problem = translate("labs:lab11:no-answer-host-ok", "lab11-app gets no answer from {target} ({output}); "
                                "host1 itself does", target=f"{INET_IP}:{SERVICE_TCP_PORT}", output=last_line(reached))
        else:
            problem = translate("labs:lab11:no-answer-both", "lab11-app gets no answer from {target} ({output}); "
                                "host1 itself gets none either", target=f"{INET_IP}:{SERVICE_TCP_PORT}",
                                output=last_line(reached))
        problem += _unmatched_rules(world, after, counted, source)
        c.expect(symptom, False, problem, staged(stage, [
            translate("labs:lab11:hint1", "follow one connection: what leaves host1 towards the internet, and what "
                      "does the internet service receive?"),
            translate("labs:lab11:hint2", "capture on the internet machine while lab11-app connects: {shell}; which "
                      "source address arrives, and could the internet answer it?",
                      shell=shell(world, "inet", f"tcpdump -ni eth0 tcp port {SERVICE_TCP_PORT}")),
            translate("labs:lab11:hint3", "compare what host1 and host2 do to their containers' outgoing packets: "
                      "{shell} and the same on host2", shell=shell(world, "host1", "iptables-save -t nat"))]))
        return c.pending(fix_later())
    c.expect(symptom, True, evidence=last_line(reached))
    seen = _seen_as(reached)
    host1_ip = swarm.eth0_address(world, "host1")
    c.expect(translate("labs:lab11:rewrites", "host1 rewrites lab11-app's source on the way out"), bool(counted),
             translate("labs:lab11:not-rewritten", "no source-rewriting rule of host1's nat table counted the probe's "
                       "packets: the internet saw {seen}, lab11-app's own address{route_back}", seen=seen,
                       route_back=_route_back(world, seen)),
             translate("labs:lab11:rfc1918", "the real internet has no route back to private addresses "
                       "(172.16.0.0/12 is RFC 1918): host1 must send lab11-app's packets out with its own address, "
                       "as Docker does for every bridge"),
             evidence="; ".join(translate("labs:lab11:counted", "`{rule}` counted {n} packet(s) of the probe",
                                          rule=rule, n=n) for rule, n in counted))
    c.expect(translate("labs:lab11:seen-as-host1", "the internet sees lab11-app as host1"), seen == host1_ip,
             translate("labs:lab11:seen-from", "the internet service saw the connection come from {seen}, not from "
                       "host1 ({ip})", seen=seen, ip=host1_ip),
             translate("labs:lab11:masquerade-vs-snat", "a masquerade takes the address of the interface the packet "
                       "leaves by; an SNAT takes the address you give it"), evidence=seen)
    name_the_cause(c, translate("labs:lab11:cause", "host1 had lost the MASQUERADE rule Docker adds for the default "
                                "bridge (`-A {rule}`): lab11-app's packets left with its private address {source}, to "
                                "which no answer can find its way back. Now: {now}",
                                rule=" ".join(_docker_rule(_bridge_subnet(world))), source=source,
                                now="; ".join(f"`{rule}`" for rule, _ in counted)))


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
    return translate("labs:lab11:route-back", "; the answer came back only because the router has the route "
                     "`{route}`, which no internet router has", route=route)


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
            notes.append(translate("labs:lab11:rule-rewrote", "; host1's rule `{rule}` did rewrite its packets ({n} "
                                   "counted), yet no answer came back: which address did it give them?",
                                   rule=rule, n=hit[rule.key]))
        elif not _docker_made(rule, docker_made):
            notes.append(translate("labs:lab11:rule-missed", "; host1's rule `{rule}` counted none of its packets: "
                                   "{why}", rule=rule, why=_why_not_matched(rule, source, way.dev if way else None)))
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
            done.append(translate("labs:lab11:reset-rule", "your nat rule `{rule}` of host1", rule=rule))
    if world["host1"].run(["iptables", "-t", "nat", "-C", *_docker_rule(subnet)], check=False).returncode != 0:
        world["host1"].run(["iptables", "-t", "nat", "-A", *_docker_rule(subnet)])
        done.append(translate("labs:lab11:reset-masquerade", "MASQUERADE rule of host1"))
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


def solution(world):
    r"""sudo .venv/bin/dnlab shell host1 -- docker exec lab11-app nc -w 2 203.0.113.10 9000   # no answer
    sudo .venv/bin/dnlab shell inet -- tcpdump -ni eth0 -c 2 tcp port 9000   # meanwhile: from 172.17.0.x
    sudo .venv/bin/dnlab shell host1 -- iptables-save -t nat   # no MASQUERADE for the bridge's subnet
    sudo .venv/bin/dnlab shell host2 -- iptables-save -t nat   # host2 has it
    sudo .venv/bin/dnlab shell host1 -- \
        iptables -t nat -A POSTROUTING -s <bridge subnet> ! -o docker0 -j MASQUERADE
    """
    # %% The symptom, and what reaches the internet meanwhile: the capture in `inet` shows the container's own
    # %%+ address as the source.
    shown, (arrived,) = facts.capture(world, [("inet", "eth0")], lambda: facts.sh(
        world, "host1", f"docker exec lab11-app nc -w 2 {INET_IP} 9000", check=False),
        keep=lambda frame: frame.proto == "tcp" and frame.dport == 9000)
    print(shown)
    print("arrived in inet:", *[f"{frame.endpoint('src')} -> {frame.endpoint('dst')} [{frame.tcp_flags}]"
                                for frame in arrived], sep="\n  ")
    # %% Compare the nat tables: host2 masquerades its bridge's subnet on the way out; host1 no longer does.
    print(facts.sh(world, "host1", "iptables-save -t nat | grep POSTROUTING"))
    facts.sh(world, "host2", "iptables-save -t nat | grep POSTROUTING")
    # %% Put back the rule Docker made: packets from the bridge leave with host1's address.
    subnet = facts.sh(world, "host1", "docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge").output
    print(facts.sh(world, "host1", f"iptables -t nat -A POSTROUTING -s {subnet} ! -o docker0 -j MASQUERADE"))
    facts.sh(world, "host1", f"docker exec lab11-app nc -w 2 {INET_IP} 9000")
    # %% Which engine wrote that rule, and where? [[engine:nftables]] (Docker docs: "Docker with
    # %%+ nftables".)
    facts.sh(world, "host1", "docker version -f 'Docker {{.Server.Version}}'; "
                             "iptables-save -t nat | grep -c MASQUERADE")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** Containers on a bridge have private addresses (172.17.0.0/16). Docker adds one nat
rule per bridge, `-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`, so packets that leave
host1 get host1's address as their source. Without it, lab11-app's packets still leave host1 and
reach the internet service, but with 172.17.0.2 as source: the answer goes to an address no internet
router knows, and never comes back. host1's own connections are not affected (they already have
host1's address).

**Where a real one comes from.** Something else that owns the firewall replaces the whole ruleset:
`nftables.service` loading an `/etc/nftables.conf` that starts with `flush ruleset`, an
`iptables-restore` (or `netfilter-persistent reload`) of a file saved before Docker ran, `iptables -t nat
-F`, a configuration-management role that flushes the chains. dockerd does not notice, and its rules
come back only when it restarts. firewalld is the exception it listens to: a `firewall-cmd --reload`
removes Docker's rules too, and dockerd re-creates them when firewalld signals the reload (a gap in
what it re-created was CVE-2025-54388).

**The evidence.** A capture where the packet arrives (the internet machine sees 172.17.0.x), and
`iptables-save -t nat` compared with a working host. The rule's packet counter (`iptables-save -c`)
rises with each new connection once it is back. A route back to 172.17.0.0/16 on the router would make
the lab answer, but no router on the real internet has one."""

LAB = Lab(11, "trouble-no-answer", "Troubleshooting: the internet does not answer",
    "`lab11-app` on host1's default bridge gets no answer from the internet service "
    "(203.0.113.10, TCP port 9000), though host1 itself does.",
    [start_task(11),
     "Find out where the conversation between `lab11-app` and the internet service breaks, and why.",
     "Fix it on host1, without touching `lab11-app`, in a way that would work on the real internet too."],
    check_masquerade, containers=[("host1", "lab11-app")], setup_fn=break_masquerade,
    repair_fn=repair_masquerade, kind="troubleshoot", tools=TOOLS,
    summary="troubleshooting: the internet answers the host, not its container",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS,
    host_repair=repair_masquerade)
