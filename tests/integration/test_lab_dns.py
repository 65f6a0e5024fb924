"""The lab's DNS server in `inet`, seen from containers of the session world: lab names, the wildcard
internet, NXDOMAIN for single labels, and the query log. Every answer is compared with addresses read
from the world now (`ip -j addr`), never with the address plan."""
from __future__ import annotations

import ipaddress
import subprocess
import sys
import time

import pytest
from docker.types import IPAMConfig, IPAMPool

from helpers.errors import TrafficGuardError
from helpers.world.dns import NAME_INTERFACE, read_log
from helpers.world.guard import probe, world_networks
from helpers.world.naming import DNS_PORT, IDLE, IMAGE, LAB_DOMAIN, LABEL_SCENARIO, ROLES, SERVICE_TCP_PORT, TOOLS_IMAGE
from helpers.world.service import parse_reply

SCENARIO = "test-lab-dns"


def _addresses(text: str) -> list[str]:
    """The answer's addresses in busybox nslookup's output (the lines after the first `Name:`)."""
    answer = text.split("Name:", 1)[1] if "Name:" in text else ""
    return [line.split()[-1] for line in answer.splitlines() if line.startswith("Address")]


@pytest.fixture(scope="module")
def clients(world):
    """One container on host1's default bridge, one on a user-defined network (its resolver is the
    engine's embedded DNS, which forwards what it does not know to the lab's)."""
    docker = world.host1.docker
    labels = {**world.label, LABEL_SCENARIO: SCENARIO}
    for old in docker.containers.list(all=True, filters={"label": f"{LABEL_SCENARIO}={SCENARIO}"}):
        old.remove(force=True)
    for old in docker.networks.list(filters={"label": f"{LABEL_SCENARIO}={SCENARIO}"}):
        old.remove()
    network = docker.networks.create(f"{SCENARIO}-net", labels=labels)
    default = docker.containers.run(IMAGE, IDLE, name=f"{SCENARIO}-default", labels=labels, detach=True)
    user = docker.containers.run(IMAGE, IDLE, name=f"{SCENARIO}-user", labels=labels, detach=True,
                                 network=network.name)
    # What a learner controls, turned against the guard (issue 12.7): a name busybox reads as 8.8.8.8,
    # an /etc/hosts entry sending another container's name outside, a resolver outside the lab.
    tricky = docker.containers.run(IMAGE, IDLE, name="134744072", labels=labels, detach=True,
                                   extra_hosts={user.name: "8.8.8.8"}, dns=["8.8.8.8"])
    yield {"default": default, "user": user, "tricky": tricky}
    for container in (default, user, tricky):
        container.remove(force=True)
    network.remove()


def lookup(container, name: str) -> tuple[int, str]:
    code, out = container.exec_run(["nslookup", "-type=a", name])
    return code, out.decode(errors="replace")


@pytest.mark.parametrize("side", ["default", "user"])
def test_any_dotted_name_is_the_lab_internet_and_answers_http(world, clients, side):
    container = clients[side]
    inet = world["inet"].read_address()
    code, text = lookup(container, "example.com")
    assert code == 0 and _addresses(text) == [inet], text
    code, out = container.exec_run(["timeout", "5", "wget", "-qO-", "http://example.com/"])
    assert code == 0, out
    seen, _ = parse_reply(out.decode())
    assert seen == world["host1"].read_address()  # the internet saw host1 (MASQUERADE), by that name


@pytest.mark.parametrize("side", ["default", "user"])
def test_single_label_that_is_no_machine_does_not_exist(clients, side):
    started = time.monotonic()
    code, text = lookup(clients[side], "web")
    assert code != 0 and "NXDOMAIN" in text, text
    assert time.monotonic() - started < 5  # answered, not timed out
    code, out = clients[side].exec_run(["ping", "-c", "1", "-W", "1", "web"])
    assert code != 0 and b"bad address" in out


def test_lab_machines_resolve_bare_and_under_the_lab_domain(world, clients):
    container = clients["default"]
    for role in ROLES:
        address = world[role].read_address(NAME_INTERFACE.get(role, "eth0"))
        for name in (role, f"{role}.{LAB_DOMAIN}"):
            code, text = lookup(container, name)
            assert code == 0 and _addresses(text) == [address], (name, text)
    code, text = lookup(container, f"nothing.{LAB_DOMAIN}")
    assert code != 0 and "NXDOMAIN" in text


def test_dns_over_tcp_and_reverse_names_with_the_toolbox(world):
    """dig (the course's toolbox image) over TCP, and a reverse question for a machine's address."""
    host2 = world["host2"].read_address()
    out = world.host1.docker.containers.run(TOOLS_IMAGE, ["sh", "-c", f"dig +tcp +short example.com; "
                                                         f"dig +short -x {host2}"], remove=True, labels=world.label)
    assert out.decode().split() == [world["inet"].read_address(), f"host2.{LAB_DOMAIN}."]


def test_each_question_is_logged_with_its_client_and_answer(world, clients):
    name = f"log-{time.time_ns()}.example.org"
    code, _ = lookup(clients["default"], name)
    assert code == 0
    entries = [e for e in read_log(world.names.dns_log) if e["name"] == name and e["type"] == "A"]
    assert entries, f"no entry for {name} in {world.names.dns_log}"
    assert entries[-1]["rcode"] == "NOERROR"
    assert entries[-1]["answers"] == [world["inet"].read_address()]
    assert entries[-1]["client"] == world["host1"].read_address()


# --- the guard resolves names in the lab (issue 12.7) ------------------------------------------------

def test_guard_probes_dotted_names_through_the_lab(world, clients):
    reply = probe(world, clients["user"], "example.com", "http", timeout=3)
    assert reply.ok and parse_reply(reply.output)[0] == world["host1"].read_address(), reply
    # a machine asks the lab's DNS server, never the real machine's resolver, and sends to the answer
    reply = probe(world, "lanpc", "example.com", "http", timeout=3)
    assert reply.ok and parse_reply(reply.output)[0] == world["lanpc"].read_address(), reply
    unknown = probe(world, "lanpc", "web")
    assert not unknown.ok and "bad address" in unknown.output


def test_guard_refuses_a_container_name_that_is_a_foreign_address(world, clients):
    with pytest.raises(TrafficGuardError, match="8.8.8.8"):
        probe(world, clients["default"], clients["tricky"].name)


def test_guard_refuses_a_hosts_entry_or_resolver_outside_the_lab(world, clients):
    tricky = clients["tricky"]
    with pytest.raises(TrafficGuardError, match="8.8.8.8"):  # --add-host <a container's name>:8.8.8.8
        probe(world, tricky, clients["user"].name)
    with pytest.raises(TrafficGuardError, match="nameserver 8.8.8.8"):  # --dns 8.8.8.8
        probe(world, tricky, "example.com")


def test_guard_owns_no_learner_subnet_outside_the_engines_pools(world, clients):
    """A learner's network on 192.0.2.0/24 (this machine's real NIC range) owns nothing."""
    docker = world.host1.docker
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet="192.0.2.0/24", gateway="192.0.2.1")])
    network = docker.networks.create(f"{SCENARIO}-doc", ipam=ipam,
                                     labels={**world.label, LABEL_SCENARIO: SCENARIO})
    try:
        assert ipaddress.ip_network("192.0.2.0/24") not in world_networks(world)
        with pytest.raises(TrafficGuardError, match="192.0.2.1"):
            probe(world, clients["default"], "192.0.2.1")
        bridge = next(n for n in docker.api.networks() if n["Name"] == "bridge")
        assert ipaddress.ip_network(bridge["IPAM"]["Config"][0]["Subnet"]) in world_networks(world)
    finally:
        network.remove()


def test_up_replaces_a_service_that_serves_no_dns(world, clients):
    """A world brought up before the DNS server existed keeps its old service; the next `up` sees
    nothing on the DNS port and starts the service again (with its DNS)."""
    from helpers.world import manager, netns

    names = world.names
    netns.kill_all(netns.pids_inside(names.namespace("inet")))
    # The old service's shape: its command line names helpers.world.service, it listens on TCP only.
    old = ("import asyncio\nasync def main():\n    s = await asyncio.start_server(lambda r, w: w.close(), "
           f"'0.0.0.0', {SERVICE_TCP_PORT})\n    await s.serve_forever()\nasyncio.run(main())")
    process = subprocess.Popen(["nsenter", f"--net=/run/netns/{names.namespace('inet')}", sys.executable, "-c",
                                old, "helpers.world.service"], start_new_session=True)
    try:
        names.service_pidfile.write_text(str(process.pid))
        manager.wait_service(names)
        dns_sockets = ["ss", "-H", "-l", "-u", "-n", f"sport = :{DNS_PORT}"]
        assert not world["inet"].run(dns_sockets).stdout.strip()  # nothing serves DNS in inet
        report = manager.up(names.world_id)
        assert any("internet service" in made for made in report.made), report
        assert process.wait(timeout=5) is not None
        assert world["inet"].run(dns_sockets).stdout.strip()
        code, text = lookup(clients["default"], "example.com")
        assert code == 0 and _addresses(text) == [world["inet"].read_address()], text
    finally:
        if process.poll() is None:
            process.kill()
        manager.up(names.world_id)


def test_the_docs_first_command_runs_as_typed_on_host1(world, capfd):
    """Docker's tutorials start with `docker run --rm alpine ping -c1 google.com`: typed in `dnlab shell
    host1`, the stand-in alpine resolves the name through the lab's DNS and the lab internet answers."""
    from helpers import cli
    from helpers.world.naming import INET_IP

    argv = ["shell", "host1", "--", "docker run --rm alpine ping -c1 -W2 google.com"]
    code = cli.main(["--world", world.names.world_id, *argv] if world.names.world_id else argv)
    out = capfd.readouterr().out
    assert code == 0, out
    assert f"PING google.com ({INET_IP})" in out and "1 packets received" in out, out
