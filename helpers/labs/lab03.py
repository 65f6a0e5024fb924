"""Lab 3: Isolate containers: none and --internal.

`--network none` and an `--internal` network. The check, its hints and the reference solution, all
in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs import state
from helpers.labs.common import cli, in_shell, need_attached, need_container, need_network, need_reach, need_reaches
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE, INET_IP, SERVICE_TCP_PORT

MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"


def not_internal_problem(net) -> str:
    """Why a plain bridge is not cut off, from the network's own settings (gateway, masquerade)."""
    pools = (net.attrs.get("IPAM") or {}).get("Config") or []
    gateways = [pool.get("Gateway") for pool in pools if pool.get("Gateway")]
    gateway = f" ({', '.join(gateways)})" if gateways else ""
    text = translate("labs:lab03:not-internal", "{name} is not internal: Docker gave it a gateway{gateway} on host1, "
                     "and host1 routes its containers' packets out", name=net.name, gateway=gateway)
    if (net.attrs.get("Options") or {}).get(MASQUERADE_OPTION) == "false":
        text += translate("labs:lab03:masquerade-off", "; `{option}=false` only stops the source rewrite: the "
                          "packets still leave host1, with their private source address, and no answer finds its "
                          "way back", option=MASQUERADE_OPTION)
    return text


def outside_hint(world, container_obj, network: str) -> str:
    """What lets `container_obj` out, as seen: another network it is on, or its default route."""
    extra = sorted(set(state.networks_of(container_obj)) - {network})
    if extra:
        return translate("labs:lab03:also-on", "{name} is also on {networks}, which has a way out "
                         "(`{docker} network disconnect {first} {name}`)", name=container_obj.name,
                         networks=", ".join(extra), docker=cli(world, "host1"), first=extra[0])
    route = facts.default_route(world, container_obj)
    if route:
        # An internal network's containers keep a default route on some engines: what stops their
        # packets is host1's filter rules for the bridge, so that is where to look.
        return translate("labs:lab03:default-route", "{name}'s packets leave through its default route via {via}, "
                         "and nothing on host1 drops them: {shell} shows the rules Docker made for {network}",
                         name=container_obj.name, via=route["via"],
                         shell=in_shell(world, "host1", "iptables-save -t filter"), network=network)
    return translate("labs:lab03:inspect", "`{docker} network inspect {network}` shows how it is set up",
                     docker=cli(world, "host1"), network=network)


def check_isolation(world, c: Checks) -> None:
    alone = need_container(world, c, "host1", "lab3-alone")
    if alone:
        attached = sorted(state.networks_of(alone))
        c.expect(translate("labs:lab03:alone-on-none", "lab3-alone is on the none network and nothing else"),
                 attached == ["none"],
                 translate("labs:lab03:alone-is-on", "lab3-alone is on {networks}", networks=", ".join(attached)
                           or translate("labs:common:no-network-at-all", "no network")),
                 translate("labs:lab03:alone-hint", "`--network none` when it starts; or `docker network disconnect` "
                           "it from each network, then `docker network connect none lab3-alone` (Docker refuses "
                           "`none` beside another network)"),
                 evidence=translate("labs:lab03:network-mode", "network mode {mode}",
                                    mode=alone.attrs["HostConfig"]["NetworkMode"]))
        names = sorted(facts.interfaces(world, alone))
        c.expect(translate("labs:lab03:only-loopback", "lab3-alone has no interface but loopback"), names == ["lo"],
                 translate("labs:lab03:interfaces", "it has the interfaces {names}", names=", ".join(names)),
                 translate("labs:lab03:interfaces-hint", "a container's interfaces come from its networks: "
                           "`docker inspect lab3-alone` lists them"),
                 evidence=", ".join(names))
        need_reach(world, c, translate("labs:lab03:alone-cut-off", "lab3-alone cannot reach the internet service"),
                   alone, str(INET_IP), "tcp", SERVICE_TCP_PORT, expect=False, hint=outside_hint(world, alone, "none"))
    net = need_network(world, c, "host1", "lab3-internal", "bridge")
    if net:
        c.expect(translate("labs:lab03:is-internal", "lab3-internal is internal (no way out of the host)"),
                 bool(net.attrs.get("Internal")), not_internal_problem(net),
                 translate("labs:lab03:internal-hint", "`docker network create --help` lists the option that keeps "
                           "a network's traffic inside the host"),
                 evidence="Internal: true")
    a = need_container(world, c, "host1", "lab3-a")
    b = need_container(world, c, "host1", "lab3-b")
    for container in (a, b):
        if container and net:
            need_attached(c, container, "lab3-internal")
    by_name = translate("labs:lab03:a-reaches-b", "lab3-a reaches lab3-b by name")
    cut_off = translate("labs:lab03:a-cut-off", "lab3-a cannot reach the internet service")
    if not (a and b and net) or not c.all_ok:
        return c.pending(by_name, cut_off)
    # Both at once: the probe that must not get out waits its whole timeout for no answer.
    need_reaches(world, c, dict(what=by_name, source=a, target="lab3-b"),
                 dict(what=cut_off, source=a, target=str(INET_IP), kind="tcp", port=SERVICE_TCP_PORT,
                      expect=False, hint=outside_hint(world, a, "lab3-internal")))


def solution(world):
    """docker --context $P-host1 run -d --name lab3-alone --network none dnlab/box:latest sleep 1000000
    docker --context $P-host1 network create --internal lab3-internal
    docker --context $P-host1 run -d --name lab3-a --network lab3-internal dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab3-b --network lab3-internal dnlab/box:latest sleep 1000000
    sudo .venv/bin/dnlab shell host1     # then: iptables-save -t filter | grep br-
    """
    # %% A container with the `none` network: its namespace holds only loopback, so nothing can leave it.
    # %%+ (A running container can get there too: `docker network disconnect` it from every network, then
    # %%+ `docker network connect none` it; the engine refuses `none` beside another network. The way back
    # %%+ works too: `docker network disconnect none` it, then connect it to a network; chapter 6.)
    client = world.host1.docker
    alone = client.containers.run(IMAGE, IDLE, name="lab3-alone", network_mode="none", detach=True,
                                  labels=world.label)
    # %% An internal network. **Why `--internal` and not merely no NAT:** with masquerading off
    # %%+ (`enable_ip_masquerade=false`) host1 still routes the containers' packets out, only with their
    # %%+ private source address, so they leave and get no answer. An internal network gets no MASQUERADE
    # %%+ rule, and host1's filter table drops whatever the bridge sends anywhere but back into itself.
    client.networks.create("lab3-internal", internal=True, labels=world.label)
    a = client.containers.run(IMAGE, IDLE, name="lab3-a", network="lab3-internal", detach=True, labels=world.label)
    client.containers.run(IMAGE, IDLE, name="lab3-b", network="lab3-internal", detach=True, labels=world.label)
    # %% The rules that keep it in, on this engine (its version is printed first). [[engine:chains]] The
    # %%+ grep by bridge name finds this network's rules whichever chain holds them. [[engine:nftables]]
    # %%+ (Docker docs: "Packet filtering and firewalls".)
    print("engine", client.version()["Version"])
    bridge = "br-" + client.networks.get("lab3-internal").id[:12]
    facts.sh(world, "host1", f"iptables-save -t filter | grep -- '{bridge}'")
    # %% Inside: reachable by name. Outside: unreachable, from both.
    print(probe(world, a, "lab3-b"))
    print(probe(world, a, str(INET_IP), "tcp", 9000))
    print(probe(world, alone, str(INET_IP), "tcp", 9000))


LAB = Lab(3, "isolation", "Isolate containers: none and --internal",
    "One container with no network at all, and two that talk to each other but not to the outside.",
    ["On host1, start `lab3-alone` with the `none` network (`--network none`; Docker does not connect "
     "`none` beside another network).",
     "Make a bridge network `lab3-internal` that has no way out of the host.",
     "Start `lab3-a` and `lab3-b` on it.",
     "Show that `lab3-a` reaches `lab3-b` by name, and that neither `lab3-a` nor `lab3-alone` reaches "
     "the internet service (203.0.113.10, TCP 9000)."],
    check_isolation, containers=[("host1", "lab3-alone"), ("host1", "lab3-a"), ("host1", "lab3-b")],
    networks=[("host1", "lab3-internal")],
    tools="`docker network inspect lab3-internal`; `docker exec lab3-a ip route`.",
    summary="`--network none` and an `--internal` network",
    solution=solution)
