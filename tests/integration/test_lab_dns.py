"""The lab's DNS server in `inet`, seen from containers of the session world: lab names, the wildcard
internet, NXDOMAIN for single labels, and the query log. Every answer is compared with addresses read
from the world now (`ip -j addr`), never with the address plan."""
from __future__ import annotations

import time

import pytest

from helpers.world.dns import read_log
from helpers.world.naming import IDLE, IMAGE, LAB_DOMAIN, LABEL_SCENARIO, NAME_INTERFACE, ROLES
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
    yield {"default": default, "user": user}
    for container in (default, user):
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


def test_each_question_is_logged_with_its_client_and_answer(world, clients):
    name = f"log-{time.time_ns()}.example.org"
    code, _ = lookup(clients["default"], name)
    assert code == 0
    entries = [e for e in read_log(world.names.dns_log) if e["name"] == name and e["type"] == "A"]
    assert entries, f"no entry for {name} in {world.names.dns_log}"
    assert entries[-1]["rcode"] == "NOERROR"
    assert entries[-1]["answers"] == [world["inet"].read_address()]
    assert entries[-1]["client"] == world["host1"].read_address()
