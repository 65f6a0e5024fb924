"""Lab 10: Troubleshooting: the shop is closed.

Troubleshooting: a web shop runs, but customers on the internet cannot reach it. The check, the
broken start, the staged hints, the reference solution and why it broke, all in this module (listed
in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs.common import WEB
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
from helpers.world import engine_facts, swarm
from helpers.world.naming import IMAGE

SHOP_PORT = 9081
# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = f"the internet machine reaches the shop at host1:{SHOP_PORT}"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["publish", f"-p {SHOP_PORT}", "dnat", "docker-proxy"]


def break_publish(world) -> None:
    """lab10-shop serves HTTP on port 80 and should be reachable at host1:9081; nothing is published."""
    fresh_start(world, 10)
    run_box(world, "host1", "lab10-shop", WEB)


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
            return translate("labs:lab10:wrong-container-port", "host1's port {port} leads to lab10-shop's port {to}, "
                             "but inside lab10-shop the server listens on {listening}", port=SHOP_PORT, to=to[0],
                             listening=", ".join(map(str, listening))
                             or translate("labs:lab10:no-tcp-port", "no TCP port"))
    return staged(stage, [
        translate("labs:lab10:hint1", "split the path in two: does the shop answer inside host1, at the container's "
                  "own address? then, what leads from host1's port {port} to it?", port=SHOP_PORT),
        translate("labs:lab10:hint2", "{curl} (the address from `docker inspect lab10-shop`), then {port} and {nat}",
                  curl=shell(world, "host1", "curl -sS -m 2 http://CONTAINER-ADDRESS/"),
                  port=shell(world, "host1", "docker port lab10-shop"),
                  nat=shell(world, "host1", "iptables-save -t nat")),
        translate("labs:lab10:hint3", "how does a port of a Docker host come to lead into a container, and when is "
                  "that decided? (`docker port lab10-shop` lists what host1 forwards to it: {published})",
                  published=_published(shop) or translate("labs:lab01:nothing", "nothing"))])


def check_publish_fix(world, c: Checks) -> None:
    stage = stage_of(world, 10)
    symptom = LAB.say("symptom")
    host1_ip = swarm.eth0_address(world, "host1")
    shop = container_or_start(world, c, "host1", "lab10-shop", 10)
    if not shop:
        return c.pending(symptom, fix_later())
    reached = probe_again(world, "inet", host1_ip, "http", SHOP_PORT)
    c.expect(symptom, reached.ok, translate("labs:lab10:from-inet", "from inet, http://{ip}:{port}/ gets: {output}",
                                            ip=host1_ip, port=SHOP_PORT, output=last_line(reached)),
             "" if reached.ok else _shop_hint(world, shop, stage), evidence=last_line(reached))
    if not reached.ok:
        return c.pending(fix_later())
    how = _shop_route(world, c, shop)
    name_the_cause(c, translate("labs:lab10:cause", "lab10-shop had been started without `-p`: nothing led from "
                                "host1's port 9081 into it (no DNAT rule, no docker-proxy), and a container's "
                                "published ports are fixed when it is created. Now: {how}", how=how))


def _shop_route(world, c: Checks, shop) -> str:
    """The answer at host1:9081 comes from lab10-shop: a published port, or the shop on host1's own
    network (`--network host`, a valid route: the shop then shares host1's network namespace)."""
    published = _published(shop)
    if any(b.endswith(f":{SHOP_PORT}") for bindings in published.values() for b in bindings):
        c.expect(translate("labs:lab10:leads", "host1's port {port} leads to lab10-shop", port=SHOP_PORT), True,
                 evidence=published)
        return translate("labs:lab10:publishes", "lab10-shop publishes {published}", published=published)
    mode = shop.attrs["HostConfig"].get("NetworkMode")
    owner = facts.sh(world, "host1", f"ss -Hlntp 'sport = :{SHOP_PORT}'", check=False).output
    pid = shop.attrs["State"]["Pid"]
    ours = mode == "host" and f"pid={pid}," in owner
    c.expect(translate("labs:lab10:leads", "host1's port {port} leads to lab10-shop", port=SHOP_PORT), ours,
             translate("labs:lab10:other-answer", "host1:{port} answers, but not from lab10-shop (network mode "
                       "{mode}; the listener there: {owner})", port=SHOP_PORT, mode=mode,
                       owner=owner.strip() or translate("labs:lab10:none-seen", "none seen")),
             translate("labs:lab10:from-shop", "the answer must come from lab10-shop itself"),
             evidence=translate("labs:lab10:host-evidence", "--network host: lab10-shop's process (pid {pid}) listens "
                                "on host1's port {port}", pid=pid, port=SHOP_PORT))
    return translate("labs:lab10:host-network", "lab10-shop runs with `--network host`: it listens on host1's own "
                     "port, no NAT and no isolation of its network (it shares host1's namespace)")


def solution(world):
    r"""sudo .venv/bin/dnlab shell inet -- curl -sS -m 2 http://<host1>:9081/   # connection refused
    sudo .venv/bin/dnlab shell host1 -- docker inspect -f '{{.NetworkSettings.IPAddress}}' lab10-shop
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://<that address>/   # the shop itself answers
    sudo .venv/bin/dnlab shell host1 -- docker port lab10-shop                  # nothing published
    sudo .venv/bin/dnlab shell host1 -- docker rm -f lab10-shop
    sudo .venv/bin/dnlab shell host1 -- docker run -d --name lab10-shop -p 9081:80 dnlab/box:latest \
        httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell inet -- curl -sS -m 2 --retry 5 --retry-connrefused --retry-delay 1 \
        http://<host1>:9081/   # the shop answers from the internet
    """
    # %% The symptom, as a customer sees it: host1 refuses port 9081.
    host1 = facts.address(world, "host1")
    facts.sh(world, "inet", f"curl -sS -m 2 http://{host1}:9081/", check=False)
    # %% Split the path: inside host1, the shop answers at its own address. So the server is fine; the way in
    # %%+ is missing.
    shop = facts.sh(world, "host1", "docker inspect -f '{{.NetworkSettings.IPAddress}}' lab10-shop").output
    print(facts.sh(world, "host1", f"curl -sS -m 2 http://{shop}/"))
    # %% Nothing leads from host1's port 9081 into the container: no published port, no DNAT rule for it.
    print(facts.sh(world, "host1", "docker port lab10-shop"))
    facts.sh(world, "host1", "iptables-save -t nat | grep -e DNAT -e ':DOCKER' || true")
    # %% Ports are published when a container is created: make it again, with the port.
    print(facts.sh(world, "host1", "docker rm -f lab10-shop"))
    labels = " ".join(f"--label {key}={value}" for key, value in world.label.items())
    print(facts.sh(world, "host1", f"docker run -d --name lab10-shop {labels} -p 9081:80 {IMAGE} "
                                   "httpd -f -p 80 -h /www"))
    # %% From the internet again. `docker run -d` returns before httpd listens: on a busy machine the first
    # %%+ try can still be refused, so curl tries again on a refusal (--retry-connrefused), a second apart.
    facts.sh(world, "inet", f"curl -sS -m 2 --retry 5 --retry-connrefused --retry-delay 1 http://{host1}:9081/")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** A container's port is reachable from outside its host only if it is *published*
(`-p 9081:80`): Docker then adds a DNAT rule (and a docker-proxy) that leads host1's port 9081 to the
container's port 80. lab10-shop was started without `-p`, so nothing listens on host1:9081 and the
customer gets `Connection refused`, while the web server inside works (host1 reaches it at the
container's own address). Published ports are part of the container's configuration: a running
container cannot gain one, so it is created again.

**Where a real one comes from.** A forgotten `-p`, a Compose file with `expose:` instead of `ports:`,
`-p 127.0.0.1:9081:80` (meant for the host alone), or a mapping to the wrong container port.
""" + engine_facts.say("loopback-publish") + """

**The evidence.** `docker port lab10-shop` (empty), `iptables-save -t nat` (no DNAT for 9081), and
the shop answering at its own address from host1. `--network host` is another valid route (the shop
then listens on host1's own port, without NAT and without a network namespace of its own)."""

LAB = Lab(10, "trouble-shop-closed", "Troubleshooting: the shop is closed",
    "The web server in `lab10-shop` runs, but customers on the internet cannot reach it at "
    f"host1's address, port {SHOP_PORT}.",
    [start_task(10),
     f"Find out why `inet` gets no answer from host1:{SHOP_PORT}.",
     f"Fix it: the shop (a container called `lab10-shop`) must answer at host1:{SHOP_PORT}."],
    check_publish_fix, containers=[("host1", "lab10-shop")], setup_fn=break_publish, kind="troubleshoot",
    tools=TOOLS,
    summary="troubleshooting: a web shop runs, but customers on the internet cannot reach it",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS)
