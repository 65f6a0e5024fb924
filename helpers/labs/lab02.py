"""Lab 2: Publish a port and reach it from the internet.

A published port reached from the internet machine. The check, its hints and the reference solution,
all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

import ipaddress

from helpers.labs.common import WEB, WEB_CMD, in_shell, need_container, need_reach
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world import swarm
from helpers.world.guard import probe
from helpers.world.naming import IMAGE

PUBLISHED = 9080


def publish_problem(ports: dict, host1_ip: str) -> tuple[str, str]:
    """(problem, hint) for a lab2-web whose port 80 is not reachable as host1:9080, chosen from its
    published ports (`NetworkSettings.Ports`) as the engine reports them."""
    bindings = ports.get("80/tcp") or []
    others = {key: value for key, value in ports.items() if value and key != "80/tcp"}
    shown = ", ".join(f"{b.get('HostIp') or '*'}:{b.get('HostPort')}" for b in bindings)
    order = translate("labs:lab02:port-order",
                      "`-p HOSTPORT:CONTAINERPORT`: host1's port first, the container's second")
    if not bindings and others:
        published = "; ".join(translate("labs:lab02:published-as", "{key} as {ports}", key=key,
                                        ports=", ".join(b.get("HostPort", "") for b in value))
                              for key, value in others.items())
        return (translate("labs:lab02:other-port", "lab2-web publishes its port {published}, not its port 80, where "
                          "the web server listens", published=published), order)
    if not bindings:
        return (translate("labs:lab02:nothing-published", "lab2-web publishes nothing for its port 80/tcp"),
                translate("labs:lab02:publish-at-create", "ports are published when a container is created (`-p`, "
                          "or `ports=` in the SDK): remove lab2-web and run it again with one"))
    on_9080 = [b for b in bindings if b.get("HostPort") == str(PUBLISHED)]
    if not on_9080:
        return (translate("labs:lab02:wrong-host-port", "lab2-web's port 80 is published as {shown}, not as host1's "
                          "port {port}", shown=shown, port=PUBLISHED), order)
    addresses = sorted({b.get("HostIp") or "" for b in on_9080})
    if all(ipaddress.ip_address(a).is_loopback for a in addresses if a):
        return (translate("labs:lab02:loopback", "lab2-web's port 80 is published on {shown}: host1's loopback, "
                          "meant for host1 alone; the internet service cannot reach it", shown=shown),
                translate("labs:lab02:loopback-hint", "an address in `-p ADDRESS:{port}:80` limits where the port "
                          "listens; leave it out (all of host1's addresses) or give host1's eth0 address ({ip})",
                          port=PUBLISHED, ip=host1_ip))
    return (translate("labs:lab02:other-address", "lab2-web's port 80 is published on {shown}, an address that is "
                      "not host1's eth0 ({ip})", shown=shown, ip=host1_ip),
            translate("labs:lab02:other-address-hint", "leave the address out of `-p` (all of host1's addresses) or "
                      "give {ip}", ip=host1_ip))


def check_publish(world, c: Checks) -> None:
    host1_ip = swarm.eth0_address(world, "host1")
    web = need_container(world, c, "host1", "lab2-web")
    serves = translate("labs:lab02:serves", "lab2-web serves HTTP on its port 80")
    leads = translate("labs:lab02:leads", "host1's port 9080 leads to lab2-web's port 80")
    reaches = translate("labs:lab02:reaches", "the internet machine reaches lab2-web through host1:9080")
    if not web:
        return c.pending(serves, leads, reaches)
    need_reach(world, c, serves, web, "127.0.0.1", "http", 80,
               problem=translate("labs:lab02:no-http", "nothing answers HTTP on port 80 inside lab2-web"),
               hint=translate("labs:lab02:httpd", "the lab image's busybox has a web server: `{command}` as the "
                              "container's command", command=WEB_CMD))
    ports = web.attrs["NetworkSettings"].get("Ports") or {}
    bindings = ports.get("80/tcp") or []
    public = [b for b in bindings if b.get("HostPort") == str(PUBLISHED)
              and b.get("HostIp") in ("", "0.0.0.0", "::", host1_ip)]
    problem, hint = ("", "") if public else publish_problem(ports, host1_ip)
    c.expect(leads, bool(public), problem, hint,
             evidence=", ".join(f"{b.get('HostIp')}:{b.get('HostPort')}" for b in bindings))
    if not c.all_ok:
        return c.pending(reaches)
    need_reach(world, c, reaches, "inet", host1_ip, "http", PUBLISHED,
               hint=translate("labs:lab02:dnat-hint", "host1 must forward its port 9080 to lab2-web: {shell} shows the "
                              "DNAT rule", shell=in_shell(world, "host1", f"iptables-save -t nat | grep {PUBLISHED}")))


def solution(world):
    """docker --context $P-host1 run -d --name lab2-web -p 9080:80 dnlab/box:latest httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell host1     # then: iptables-save -t nat | grep 9080
    sudo .venv/bin/dnlab shell inet      # then: wget -qO- http://<host1 eth0>:9080/
    """
    # %% The web server, with its port 80 published as host1's port 9080. **Why publishing:** the server
    # %%+ listens in the container's own network namespace, on an address only host1 can reach. Publishing
    # %%+ makes the engine add a DNAT rule to host1's nat table (chain DOCKER) that sends host1:9080 on to
    # %%+ the container's port 80. It belongs to the container's configuration, so it is set when the
    # %%+ container is created. Without an address, `-p` listens on all of host1's addresses;
    # %%+ `-p 127.0.0.1:9080:80` is meant for host1 alone. [[engine:loopback-publish]]
    client = world.host1.docker
    client.containers.run(IMAGE, WEB, name="lab2-web", ports={"80/tcp": 9080}, detach=True, labels=world.label)
    facts.sh(world, "host1", "iptables-save -t nat | grep 9080")
    # %% host1's address on the LAN, read from host1 itself; then fetch the page from the internet.
    host1 = facts.address(world, "host1")
    print(probe(world, "inet", host1, "http", 9080))


LAB = Lab(2, "publish-port", "Publish a port and reach it from the internet",
    "A web server in a container on host1 answers requests coming from the internet machine.",
    ["On host1, start `lab2-web` from `dnlab/box:latest` with the command `httpd -f -p 80 -h /www`.",
     "Publish its port 80 as port 9080 of host1.",
     "From the internet machine (`inet`), fetch `http://<host1's eth0 address>:9080/`: in a terminal "
     "`{dnlab} shell inet`, then `wget -qO- http://<address>:9080/`; here "
     "`probe(world, 'inet', <address>, 'http', 9080)`."],
    check_publish, containers=[("host1", "lab2-web")],
    tools="`{dnlab} shell host1`, then `ip addr show eth0` gives host1's address; "
          "`docker port lab2-web` shows what is published.",
    summary="a published port reached from the internet machine",
    solution=solution)
