"""Lab 9: Troubleshooting: a name that does not resolve.

Troubleshooting: a container cannot reach another one by its name. The check, the broken start, the
staged hints, the reference solution and why it broke, all in this module (listed in
helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.errors import LabError
from helpers.labs import state
from helpers.labs.common import need_attached
from helpers.labs.model import Checks, Lab
from helpers.labs.trouble import (
    TOOLS,
    container_or_start,
    fix_later,
    fresh_start,
    last_line,
    make_network,
    name_the_cause,
    rule_verdict,
    run_box,
    shell,
    stage_of,
    staged,
    start_task,
    traced_probe,
)
from helpers.language import translate
from helpers.lessons import facts
from helpers.world.guard import ProbeResult, check_target, container_names, world_networks

# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = "lab9-web reaches lab9-api by name"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["default bridge", "embedded dns answers", "network connect"]


def break_network(world) -> None:
    """lab9-web on lab9-net should reach lab9-api by name; lab9-api was started on the default bridge."""
    fresh_start(world, 9)
    make_network(world, "host1", "lab9-net")
    run_box(world, "host1", "lab9-web", network="lab9-net")
    run_box(world, "host1", "lab9-api")


def check_network(world, c: Checks) -> None:
    stage = stage_of(world, 9)
    symptom = LAB.say("symptom")
    web = container_or_start(world, c, "host1", "lab9-web", 9)
    api = container_or_start(world, c, "host1", "lab9-api", 9)
    if not (web and api):
        return c.pending(symptom, fix_later())
    reached = _ping_by_name(world, web, "lab9-api")
    c.expect(symptom, reached.ok, f"lab9-web: {last_line(reached)}",
             "" if reached.ok else _name_hint(world, web, api, stage), evidence=last_line(reached))
    if not reached.ok:
        return c.pending(fix_later())
    need_attached(c, api, "lab9-net", translate("labs:lab09:asks-dns", "lab9-web asks Docker's DNS on lab9-net"))
    name_the_cause(c, translate("labs:lab09:cause", "lab9-api had been started on the default bridge: Docker's "
                                "embedded DNS (127.0.0.11) answers a container only with the names of containers on "
                                "the same user-defined network, so lab9-web's question for lab9-api got `bad "
                                "address`. Now both are on lab9-net"))


def _name_hint(world, web, api, stage: int) -> str:
    """Why lab9-web does not reach lab9-api by name, from what is there: an /etc/hosts line for the
    name (read before any DNS server; a learner's `--add-host`, `--link` or edit, left after the fix)
    that is not lab9-api's address on lab9-net; else, once both are on lab9-net, Docker's DNS asked
    directly; else the staged hints, from where to look to what to compare."""
    on_net = state.address_on(api, "lab9-net")
    stale = [address for address in state.hosts_entries(web, "lab9-api") if address != on_net]
    if stale:
        return translate("labs:lab09:hosts-line", "lab9-web's /etc/hosts maps lab9-api to {stale} ({shell}), and that "
                         "file is read before any DNS server is asked; lab9-api's address on lab9-net is {on_net}. An "
                         "edited line goes at `docker restart lab9-web` (Docker writes the file again); one that "
                         "`--add-host` or `--link` wrote stays until lab9-web is started afresh without it",
                         stale=", ".join(stale), shell=shell(world, "host1", "docker exec lab9-web cat /etc/hosts"),
                         on_net=on_net or translate("labs:lab09:not-on-it", "none (it is not on it)"))
    if on_net and state.address_on(web, "lab9-net"):
        return translate("labs:lab09:ask-dns", "both are on lab9-net: ask Docker's DNS what it answers for lab9-api "
                         "({shell}) and compare it with lab9-api's address there, {on_net}",
                         shell=shell(world, "host1", "docker exec lab9-web nslookup lab9-api 127.0.0.11"),
                         on_net=on_net)
    inspect = "docker inspect -f '{{json .NetworkSettings.Networks}}' lab9-web lab9-api"
    return staged(stage, [
        translate("labs:lab09:hint1", "a name is answered by a DNS server: which one does lab9-web ask, and what "
                  "does that server know?"),
        translate("labs:lab09:hint2", "{shell}: 127.0.0.11 is Docker's embedded DNS; which containers' names does it "
                  "answer, and for whom?", shell=shell(world, "host1", "docker exec lab9-web cat /etc/resolv.conf")),
        translate("labs:lab09:hint3", "compare where the two containers are attached: {shell}",
                  shell=shell(world, "host1", inspect))
        + (_by_address(world, web, api) if stage >= 3 else "")])


def _by_address(world, web, api) -> str:
    """The last hint's evidence: lab9-web pinging lab9-api by an address of it (the first Docker
    lists), with the kernel's trace of that ping: where it died and by which rule, as observed."""
    address = next((a for a in (state.address_on(api, n) for n in sorted(state.networks_of(api))) if a), None)
    if address is None:
        return ""
    try:
        traced = traced_probe(world, web.name, address)
    except LabError as error:  # the hint stays; the trace's own error says what was wrong
        return translate("labs:lab09:trace-failed", ". (The kernel's trace of lab9-web's ping to {address} could not "
                         "run: {error})", address=address, error=error)
    said = rule_verdict(world, traced, web.name, address)
    if traced.reached:
        return translate("labs:lab09:by-address-through", ". And by its address {address}: lab9-web's ping gets "
                         "through; {said}", address=address, said=said)
    return translate("labs:lab09:by-address-silent", ". And by its address {address}: lab9-web's ping gets no "
                     "answer; {said}", address=address, said=said)


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


def solution(world):
    """sudo .venv/bin/dnlab shell host1 -- docker exec lab9-web ping -c 1 lab9-api   # bad address
    sudo .venv/bin/dnlab shell host1 -- docker inspect -f '{{json .NetworkSettings.Networks}}' lab9-web lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker network connect lab9-net lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker network disconnect bridge lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker exec lab9-web ping -c 1 lab9-api
    """
    # %% The symptom: lab9-web asks Docker's embedded DNS (127.0.0.11) for lab9-api and gets no answer.
    print(facts.sh(world, "host1", "docker exec lab9-web ping -c 1 -W 2 lab9-api", check=False))
    facts.sh(world, "host1", "docker exec lab9-web cat /etc/resolv.conf")
    # %% Where is each container attached? lab9-web on lab9-net, lab9-api on the default bridge.
    facts.sh(world, "host1", "docker inspect -f "
                             "'{{.Name}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "
                             "lab9-web lab9-api")
    # %% Connect lab9-api to lab9-net, and take it off the default bridge, which it does not need.
    print(facts.sh(world, "host1", "docker network connect lab9-net lab9-api"))
    print(facts.sh(world, "host1", "docker network disconnect bridge lab9-api"))
    facts.sh(world, "host1", "docker exec lab9-web ping -c 1 -W 2 lab9-api")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** Docker's embedded DNS server (127.0.0.11 in every container of a user-defined
network) answers a container's question with the names of the containers on *the same user-defined
network*. lab9-api was started without `--network`, so it landed on the default bridge, where names
are not published at all; the two containers share no network, so the name does not exist for lab9-web
(`bad address`), and even its address would not be reachable.

**Where a real one comes from.** A `docker run` that forgot `--network` (the default is the default
bridge); a Compose project started from another directory, whose network has another name; a
container re-created by a script that did not pass the network along.

**The evidence.** `docker inspect` of both containers (their `NetworkSettings.Networks` differ) and
`cat /etc/resolv.conf` in the client (127.0.0.11: the embedded DNS). `docker network connect` fixes a
running container; `docker run --network lab9-net` fixes it at creation."""

LAB = Lab(9, "trouble-bad-address", "Troubleshooting: a name that does not resolve",
    "`lab9-web` should reach `lab9-api` by name; it gets `bad address`.",
    [start_task(9),
     "Find out why `lab9-web` cannot resolve `lab9-api`.",
     "Fix it so that `lab9-web` reaches `lab9-api` by name."],
    check_network, containers=[("host1", "lab9-web"), ("host1", "lab9-api")],
    networks=[("host1", "lab9-net")], setup_fn=break_network, kind="troubleshoot", tools=TOOLS,
    summary="troubleshooting: a container cannot reach another one by its name",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS)
