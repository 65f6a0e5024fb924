"""Lab 1: A user-defined bridge with name resolution.

A user-defined bridge; two containers reach each other by name. The check, its hints and the
reference solution, all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs import state
from helpers.labs.common import cli, need_attached, need_container, need_network, need_reach
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE

EMBEDDED_DNS = "127.0.0.11"  # Docker's resolver inside every container on a user-defined network


def need_embedded_dns(world, c: Checks, client, name: str, target, network: str) -> bool:
    """Item: `client` finds `name` through Docker's embedded DNS, and that answer is the target's
    address on `network`. The problem names what was seen instead: an /etc/hosts entry (written by
    `--link` or `--add-host`, read before any DNS), another resolver, or a wrong answer."""
    expected = state.address_on(target, network)
    hosts = state.hosts_entries(client, name)
    servers = facts.resolv_nameservers(client)
    answers = state.dns_answers(client, name, EMBEDDED_DNS) if EMBEDDED_DNS in servers else []
    what = translate("labs:lab01:finds-by-dns", "{client} finds {name} through Docker's embedded DNS ({dns})",
                     client=client.name, name=name, dns=EMBEDDED_DNS)
    if hosts:
        return c.expect(
            what, False,
            translate("labs:lab01:hosts-entry", "{client}'s /etc/hosts maps {name} to {addresses}: an entry written "
                      "by `--link` (or `--add-host`), which is read before any DNS server is asked",
                      client=client.name, name=name, addresses=", ".join(hosts)),
            translate("labs:lab01:no-link", "`--link` is the default bridge's old way to name containers; on "
                      "{network} the embedded DNS does it. Start {client} again on {network} without `--link` "
                      "(`{docker} rm -f {client}`, then `... run --network {network} ...`)",
                      network=network, client=client.name, docker=cli(world, "host1")))
    if EMBEDDED_DNS not in servers:
        return c.expect(what, False,
                        translate("labs:lab01:resolv-conf", "{client}'s /etc/resolv.conf names {servers}",
                                  client=client.name,
                                  servers=", ".join(servers) or translate("labs:lab01:no-server", "no server")),
                        translate("labs:lab01:only-user-defined", "only containers on a user-defined network get "
                                  "{dns} as their resolver", dns=EMBEDDED_DNS))
    return c.expect(what, expected in answers,
                    translate("labs:lab01:dns-answer", "{dns} answers {name} with {answers}; {name}'s address on "
                              "{network} is {expected}", dns=EMBEDDED_DNS, name=name,
                              answers=", ".join(answers) or translate("labs:lab01:nothing", "nothing"),
                              network=network, expected=expected),
                    translate("labs:lab01:dns-shared", "the embedded DNS answers with the address on the network both "
                              "containers share (`{docker} exec {client} nslookup {name}`)",
                              docker=cli(world, "host1"), client=client.name, name=name),
                    evidence=translate("labs:lab01:dns-evidence", "{dns} answers {name} = {expected}",
                                       dns=EMBEDDED_DNS, name=name, expected=expected))


def check_user_bridge(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab1-net", "bridge")
    web = need_container(world, c, "host1", "lab1-web")
    client = need_container(world, c, "host1", "lab1-client")
    for container in (web, client):
        if container and net:
            need_attached(c, container, "lab1-net", translate(
                "labs:lab01:attach", "`--network` when the container starts, or `docker network connect` afterwards"))
    by_name = translate("labs:lab01:reaches-by-name", "lab1-client reaches lab1-web by its name")
    if not c.all_ok:
        return c.pending(translate("labs:lab01:finds-by-dns", "{client} finds {name} through Docker's embedded DNS "
                                   "({dns})", client="lab1-client", name="lab1-web", dns=EMBEDDED_DNS), by_name)
    if not need_embedded_dns(world, c, client, "lab1-web", web, "lab1-net"):
        return c.pending(by_name)
    need_reach(world, c, by_name, client, "lab1-web",
               hint=translate("labs:lab01:ping-hint", "the name resolves; does lab1-web answer pings? (`{docker} exec "
                              "lab1-client ping -c 1 lab1-web`)", docker=cli(world, "host1")))


def solution(world):
    """docker --context $P-host1 network create lab1-net
    docker --context $P-host1 run -d --name lab1-web --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab1-client --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 exec lab1-client cat /etc/resolv.conf       # nameserver 127.0.0.11
    docker --context $P-host1 exec lab1-client nslookup lab1-web 127.0.0.11
    docker --context $P-host1 exec lab1-client ping -c 1 lab1-web
    """
    # %% A network of our own on host1 (the bridge driver is the default). **Why a network of our own:**
    # %%+ only user-defined networks have Docker's embedded DNS. On the default bridge (`docker0`) a
    # %%+ container gets the daemon's `dns` setting as its resolver (this lab sets one; chapter 2, section 2.3
    # %%+ says what happens without it), and nobody there knows container names; the old
    # %%+ `--link` worked around that by writing /etc/hosts entries, which go stale when a container moves.
    client = world.host1.docker
    client.networks.create("lab1-net", driver="bridge", labels=world.label)
    facts.sh(world, "host1", "docker network ls --filter name=lab1")
    # %% Two containers on it. Each gets `nameserver 127.0.0.11` in its /etc/resolv.conf: the engine itself
    # %%+ answers there, with the addresses of the containers on the networks the asker shares with them.
    for name in ("lab1-web", "lab1-client"):
        client.containers.run(IMAGE, IDLE, name=name, network="lab1-net", detach=True, labels=world.label)
    facts.sh(world, "host1", "docker exec lab1-client cat /etc/resolv.conf")
    # %% The evidence: the embedded DNS answers lab1-web's address on lab1-net, and the ping goes there.
    print(facts.sh(world, "host1", "docker exec lab1-client nslookup lab1-web 127.0.0.11"))
    print(probe(world, client.containers.get("lab1-client"), "lab1-web"))


LAB = Lab(1, "user-bridge", "A user-defined bridge with name resolution",
    "Two containers on a network of your own find each other by name.",
    ["On host1, make a bridge network called `lab1-net`.",
     "Start two containers from `dnlab/box:latest` on it, called `lab1-web` and `lab1-client` "
     "(a command that keeps running, e.g. `sleep 1000000`).",
     "Show that `lab1-client` reaches `lab1-web` by its name, which Docker's DNS on `lab1-net` resolves."],
    check_user_bridge, containers=[("host1", "lab1-web"), ("host1", "lab1-client")],
    networks=[("host1", "lab1-net")],
    tools="`docker --context <prefix>-host1 ...` in a terminal, or `world.host1.docker` here; "
          "`docker exec lab1-client ping -c 1 lab1-web`.",
    summary="a user-defined bridge; two containers reach each other by name",
    solution=solution)
