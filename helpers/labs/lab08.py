"""Lab 8: Troubleshooting: no way out.

Troubleshooting: a container that reached the internet yesterday gets no answer today. The check,
the broken start, the staged hints, the reference solution and why it broke, all in this module
(listed in helpers/labs/registry.py).
"""
from __future__ import annotations

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
from helpers.world.naming import INET_IP, ROUTER_LAN_IP, ROUTER_WAN_IP, SERVICE_TCP_PORT

# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = "lab8-app reaches the internet service"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["default route", "gateway", "routing table"]


def break_route(world) -> None:
    """lab8-app on host1's default bridge reaches the internet; then host1 loses its default route."""
    fresh_start(world, 8)
    run_box(world, "host1", "lab8-app")
    world["host1"].run(["ip", "route", "del", "default"])


def check_route(world, c: Checks) -> None:
    stage = stage_of(world, 8)
    symptom = LAB.say("symptom")
    app = container_or_start(world, c, "host1", "lab8-app", 8)
    if not app:
        return c.pending(symptom, fix_later())
    target = f"{INET_IP}:{SERVICE_TCP_PORT}"
    reached = probe_again(world, app, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    c.expect(symptom, reached.ok,
             translate("labs:lab08:no-answer", "lab8-app gets no answer from {target}: {output}", target=target,
                       output=last_line(reached)),
             staged(stage, [
                 translate("labs:lab08:hint1", "follow the packets outwards: does host1 itself reach the internet "
                           "service? does lanpc, its neighbour on the same LAN?"),
                 translate("labs:lab08:hint2", "try {curl} and the same on lanpc; where one machine gets through and "
                           "the other does not, compare how each decides where to send a packet",
                           curl=shell(world, "host1", f"curl -sS -m 2 http://{INET_IP}/")),
                 translate("labs:lab08:hint3", "compare the routing tables: {host1} and {lanpc}",
                           host1=shell(world, "host1", "ip route"), lanpc=shell(world, "lanpc", "ip route"))]),
             evidence=last_line(reached))
    if not reached.ok:
        return c.pending(fix_later())
    _check_way_out(world, c)
    default = facts.default_route(world, "host1") or {}
    name_the_cause(c, translate("labs:lab08:cause", "host1 had lost its default route: a packet for anything beyond "
                                "the LAN had no route in host1, so lab8-app's connections died there. Now: default "
                                "via {via} dev {dev}", via=default.get("via"), dev=default.get("dev")))


def _check_way_out(world, c: Checks) -> None:
    """host1 reaches beyond the LAN in general, not only the one address the learner tried."""
    from helpers.path.build import lookup_route  # the path room's longest-prefix match (loads scapy)

    routes = facts.state(world, "host1", "routes").routes
    default = next((route for route in routes if route.dst == "default"), None)
    other = str(ROUTER_WAN_IP)  # another internet address, which no learner's /32 route covers
    elsewhere = probe_again(world, "host1", other)
    if default is None:
        used = lookup_route(routes, str(INET_IP))
        problem = translate("labs:lab08:one-route", "host1 has no default route: only `{used}` leads out, so every "
                            "other address beyond the LAN is still unreachable (host1 → {other}, another internet "
                            "address: {output})", used=used, other=other, output=last_line(elsewhere))
        hint = translate("labs:lab08:one-route-hint", "a route for one address fixes one destination; what does "
                         "lanpc have that covers them all?")
    else:
        problem = translate("labs:lab08:bad-default", "host1's default route `{default}` does not lead out: "
                            "host1 → {other}: {output}", default=default, other=other, output=last_line(elsewhere))
        hint = translate("labs:lab08:bad-default-hint", "the default gateway must be the LAN's router; lanpc's "
                         "routing table names it")
    c.expect(translate("labs:lab08:any-address", "host1 reaches any address beyond the LAN, not only the internet "
                       "service"),
             default is not None and elsewhere.ok, problem, hint,
             evidence=translate("labs:lab08:evidence", "default route `{default}`; host1 → {other}: {output}",
                                default=default, other=other, output=last_line(elsewhere)))


def repair_route(world) -> list[str]:
    """host1's default route via the router again (missing, or a learner's via another machine)."""
    if (facts.default_route(world, "host1") or {}).get("via") != str(ROUTER_LAN_IP):
        world["host1"].run(["ip", "route", "replace", "default", "via", str(ROUTER_LAN_IP)])
        return [translate("labs:lab08:reset-route", "default route of host1")]
    return []


def solution(world):
    """sudo .venv/bin/dnlab shell host1 -- docker exec lab8-app nc -w 2 203.0.113.10 9000   # no answer
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://203.0.113.10/   # host1 itself: unreachable
    sudo .venv/bin/dnlab shell lanpc -- curl -sS -m 2 http://203.0.113.10/   # lanpc: fine
    sudo .venv/bin/dnlab shell host1 -- ip route     # no "default" line
    sudo .venv/bin/dnlab shell lanpc -- ip route     # default via the router
    sudo .venv/bin/dnlab shell host1 -- ip route add default via <the router, from lanpc's table>
    """
    # %% The symptom, then the same from host1 itself and from lanpc, its neighbour on the LAN: the packets
    # %%+ die in host1.
    print(facts.sh(world, "host1", f"docker exec lab8-app nc -w 2 {INET_IP} 9000", check=False))
    print(facts.sh(world, "host1", f"curl -sS -m 2 http://{INET_IP}/", check=False))
    facts.sh(world, "lanpc", f"curl -sS -m 2 http://{INET_IP}/")
    # %% Compare the two routing tables: lanpc has a default route (`default via` the router), host1 has none.
    print(facts.sh(world, "host1", "ip route"))
    facts.sh(world, "lanpc", "ip route")
    # %% Give host1 the same default route as lanpc. A route for 203.0.113.10 alone would fix one destination;
    # %%+ the check tries another one.
    gateway = facts.default_route(world, "lanpc")["via"]
    print(facts.sh(world, "host1", f"ip route add default via {gateway}"))
    facts.sh(world, "host1", f"docker exec lab8-app nc -w 2 {INET_IP} 9000")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** A host sends a packet for an address outside its own networks to its default gateway.
Without a `default` route, host1 has no way to anything beyond the LAN: its own connections fail
at once (`Network is unreachable`), and the packets it forwards for its containers die in it, so the
container only sees a timeout. The container itself was never wrong: its gateway is docker0 in host1.

**Where a real one comes from.** The default route usually comes from DHCP: a lease that is lost or
not renewed (a DHCP client stopped, a cloud metadata service unreachable at boot) removes it; a VPN
client that takes the default route and dies, or a hand-written `ip route del`, netplan or
`/etc/network/interfaces` change, does the same.

**The evidence.** `ip route` on the host (no `default` line), compared with a machine that works; a
connection from the host itself failing at once, not after a timeout. A route to one address only
(`ip route add 203.0.113.10 via ...`) is not a fix: every other destination still fails."""

LAB = Lab(8, "trouble-no-way-out", "Troubleshooting: no way out",
    "`lab8-app` (host1, default bridge) reached the internet service (203.0.113.10, TCP port 9000) "
    "yesterday; today it gets no answer.",
    [start_task(8),
     "Find out where the packets of `lab8-app` towards 203.0.113.10:9000 get lost, and why.",
     "Fix it without touching `lab8-app`."],
    check_route, containers=[("host1", "lab8-app")], setup_fn=break_route, repair_fn=repair_route,
    kind="troubleshoot", tools=TOOLS,
    summary="troubleshooting: a container that reached the internet yesterday gets no answer today",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS,
    host_repair=repair_route)
