"""Chapter 8's claim cells, run on lab worlds where each claim is false.

The false worlds are made with the commands a learner could type on host1: a network created with
its own bridge name and subnet, a container run without `--network`, a `network connect` on a stopped
container, an address changed inside a container behind Docker's back (nsenter). The chapter's own
readers (`ch08.created_network`, `attachment`, `connect_disconnect`, `inspect_vs_kernel`) read
them, and the very cells the learner runs must fail, naming the broken condition.

Where a claim holds, its cell runs in the chapter itself: nbval executes
notebooks/08_managing_networks.ipynb on the session world, and a claim cell raises there if its claim is
false (tests/unit/test_claim_coverage.py checks that every claim runs on the true world somewhere).
"""
from __future__ import annotations

import ipaddress

import pytest

from helpers.lessons import ch08, facts
from helpers.world.naming import IMAGE
from tests.claimcells import assert_claim_fails


@pytest.fixture
def lesson(world):
    """The chapter's two networks and its container, made by the chapter's commands (labelled)."""
    ch08.Lesson(world, "ch08").reset()  # what a half-run chapter 8 left would clash by name
    lesson = ch08.Lesson(world, "ch08t").reset()
    labels = " ".join(f"--label {key}={value}" for key, value in lesson.labels.items())
    facts.sh(world, "host1", f"docker network create --driver bridge {labels} my_bridge_network")
    facts.sh(world, "host1", "docker network create --subnet 10.123.2.0/24 --gateway 10.123.2.1 "
                             f"{labels} my_web_network")
    facts.sh(world, "host1", f"docker run -d --name my_container --network my_bridge_network {labels} "
                             f"{IMAGE} httpd -f -p 80 -h /www")
    lesson.shell_labels = labels
    yield lesson
    lesson.stop()


def test_create_claim_fails_for_a_named_bridge_with_its_own_subnet(world, lesson):
    """`-o com.docker.network.bridge.name=...` and `--subnet` outside the pools: no br-<id>, no pool subnet."""
    facts.sh(world, "host1", f"docker network create -o com.docker.network.bridge.name=ch08t0 "
                             f"--subnet 10.124.0.0/24 {lesson.shell_labels} my_odd_network")
    created = ch08.created_network(world, "my_odd_network")
    assert not created["bridge on host"] and created["bridge option"] == "ch08t0"
    message = assert_claim_fails("ch08:create", {"created": created}, mentions="host1 has a bridge named br-<id>")
    assert "the subnet comes from Docker's default pools" in message


def test_run_claim_fails_for_a_container_run_without_network(world, lesson):
    """`docker run` without `--network`: the container is on the default bridge instead."""
    facts.sh(world, "host1", f"docker run -d --name my_other {lesson.shell_labels} {IMAGE} sleep 3600")
    other = world.host1.docker.containers.get("my_other")
    attached = ch08.attachment(world, other, "my_bridge_network")
    assert attached["addresses inside"]  # it has an address, just not in that subnet
    assert_claim_fails("ch08:run", {"attached": attached},
                       mentions="an address inside the container lies in my_bridge_network's subnet")


def test_connect_claim_fails_on_a_stopped_container(world, lesson):
    """Connecting a stopped container only records it: no interface appears until it starts."""
    facts.sh(world, "host1", "docker stop -t 1 my_container")
    stopped = world.host1.docker.containers.get("my_container")
    moved = ch08.connect_disconnect(world, stopped, "my_web_network")
    assert not moved["running"]
    assert_claim_fails("ch08:connect", {"moved": moved},
                       mentions="after connect it had a new interface with an address in my_web_network's subnet")


def test_inspect_claim_fails_after_an_address_change_behind_dockers_back(world, lesson):
    """`nsenter -t <pid> -n ip addr ...` on host1 moves my_container's address; Docker's record stays."""
    mine = world.host1.docker.containers.get("my_container")
    old = facts.ipv4(world, mine, "eth0")[0]
    new = ipaddress.ip_interface(old).network.network_address + 200
    prefix = ipaddress.ip_interface(old).network.prefixlen
    pid = "$(docker inspect -f '{{.State.Pid}}' my_container)"
    facts.sh(world, "host1", f"nsenter -t {pid} -n ip addr del {old} dev eth0 && "
                             f"nsenter -t {pid} -n ip addr add {new}/{prefix} dev eth0")
    record = ch08.inspect_vs_kernel(world, "my_bridge_network")
    assert not record[0]["agree"] and old in record[0]["inspect"]
    assert_claim_fails("ch08:inspect", {"record": record}, mentions="my_container: inspect's address and MAC")
