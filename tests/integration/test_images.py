"""The images Docker's docs name, on the lab engines after `up` (issue 11.3; issue 10: PATH).

Each test replays what a learner following the docs types (alpine, nginx, a netshoot-like toolbox)
and checks it against state read independently: `ip -j` in the machines, `docker inspect`.
"""
from __future__ import annotations

import json
import time

import pytest

from helpers.world import image
from helpers.world.guard import probe
from helpers.world.images.archive import DEFAULT_PATH
from helpers.world.naming import (
    ALPINE_IMAGE,
    IMAGE,
    LABEL_COURSE,
    LABEL_STANDS_IN,
    NGINX_IMAGE,
    TOOLS_IMAGE,
)
from helpers.world.service import parse_reply

PREFIX = "images-test"


@pytest.fixture
def host1(world):
    """host1's engine, with every container and network this test made removed afterwards."""
    client = world.host1.docker
    yield client
    for container in client.containers.list(all=True, filters={"name": PREFIX}):
        container.remove(force=True)
    for network in client.networks.list(names=[f"{PREFIX}-net"]):
        network.remove()


def run(client, world, image_tag, command, **options):
    """`docker run --rm IMAGE COMMAND` (never a pull: the images are local), its output as text."""
    output = client.containers.run(image_tag, command, remove=True, labels=world.label, **options)
    return output.decode(errors="replace")


def test_every_course_image_is_on_both_engines_labelled_with_path_and_a_quick_stop(world):
    for host in world.hosts.values():
        for tag in image.COURSE_TAGS:
            config = host.docker.images.get(tag).attrs["Config"]
            assert config["Labels"][LABEL_COURSE] == "dnlab", (host.role, tag)
            assert f"PATH={DEFAULT_PATH}" in config["Env"], (host.role, tag)
            assert config["StopSignal"] == "SIGKILL", (host.role, tag)
        stands_in = {tag: host.docker.images.get(tag).labels.get(LABEL_STANDS_IN)
                     for tag in (ALPINE_IMAGE, NGINX_IMAGE, IMAGE)}
        assert stands_in == {ALPINE_IMAGE: "alpine", NGINX_IMAGE: "nginx", IMAGE: None}


def test_alpine_pings_the_internet_and_its_wget_T_fetches_through_snat(world, host1):
    inet = world["inet"].read_address()
    assert " 0% packet loss" in run(host1, world, ALPINE_IMAGE, ["ping", "-c1", "-W2", inet])
    # In a shell, as a learner types it: busybox sh runs its own wget applet (Debian 12's crashed on -T).
    reply = run(host1, world, ALPINE_IMAGE, ["sh", "-c", f"wget -T 2 -qO- http://{inet}/"])
    assert parse_reply(reply)[0] == world.host1.read_address()


def test_nginx_published_on_host1_answers_lanpc(world, host1):
    web = host1.containers.run(NGINX_IMAGE, name=f"{PREFIX}-nginx", detach=True, labels=world.label,
                               ports={"80/tcp": None})
    web.reload()
    port = int(web.ports["80/tcp"][0]["HostPort"])
    answer = probe(world, "lanpc", world.host1.read_address(), "http", port, timeout=3)
    assert answer.ok, answer
    assert "Welcome to nginx!" in answer.output and "stand-in" in answer.output


def test_tools_shares_a_container_s_network_and_runs_tcpdump_curl_dig_ss_nc_ip(world, host1):
    network = host1.networks.create(f"{PREFIX}-net", labels=world.label)
    web = host1.containers.run(NGINX_IMAGE, name=f"{PREFIX}-web", detach=True, labels=world.label,
                               network=network.name)
    web.reload()
    web_ip = web.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
    gateway = web.attrs["NetworkSettings"]["Networks"][network.name]["Gateway"]
    script = (
        # tcpdump is ready once it says "listening on"; then one ping out of eth0 is the packet.
        f"tcpdump -c1 -ni eth0 icmp >/tmp/cap 2>/tmp/err & "
        f"until grep -q 'listening on' /tmp/err; do sleep 0.05; done; ping -c1 -W2 {gateway} >/dev/null; "
        f"wait; echo CAPTURE; cat /tmp/cap; "
        f"echo CURL; curl -s http://127.0.0.1/; "
        f"echo DIG; dig +short +time=2 +tries=1 {PREFIX}-web @127.0.0.11; "
        f"echo SS; ss -Hltn; "
        f"echo NC; nc -z -w2 127.0.0.1 80 && echo nc-ok; "
        f"echo IP; ip -j -4 addr show dev eth0"
    )
    output = run(host1, world, TOOLS_IMAGE, ["sh", "-c", script], network_mode=f"container:{web.id}")
    sections = _sections(output)
    assert f"> {gateway}: ICMP echo request" in sections["CAPTURE"]
    assert "Welcome to nginx!" in sections["CURL"]
    assert sections["DIG"].split() == [web_ip]
    assert any(line.split()[3].endswith(":80") for line in sections["SS"].splitlines())
    assert "nc-ok" in sections["NC"]
    addresses = [a["local"] for link in json.loads(sections["IP"]) for a in link["addr_info"]]
    assert addresses == [web_ip]
    rules = run(host1, world, TOOLS_IMAGE, ["iptables", "-S"], network_mode=f"container:{web.id}",
                cap_add=["NET_ADMIN"])
    assert "-P INPUT ACCEPT" in rules


def _sections(output: str) -> dict[str, str]:
    """The script's output split at its MARKER lines."""
    sections, current = {}, None
    for line in output.splitlines():
        if line in ("CAPTURE", "CURL", "DIG", "SS", "NC", "IP"):
            current = line
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


def test_detached_with_no_command_stays_up_execs_with_path_and_stops_at_once(world, host1):
    inet = world["inet"].read_address()
    started = {tag: host1.containers.run(tag, name=f"{PREFIX}-idle-{n}", detach=True, labels=world.label)
               for n, tag in enumerate((ALPINE_IMAGE, TOOLS_IMAGE, IMAGE))}
    time.sleep(1)  # a shell with no stdin would have exited by now
    for tag, container in started.items():
        container.reload()
        assert container.status == "running", (tag, container.logs())
        # `docker exec` of a bare name: Docker 26 finds it only through the image's PATH.
        code, output = container.exec_run(["wget", "-T", "2", "-qO-", f"http://{inet}/"])
        assert code == 0 and parse_reply(output.decode())[0] == world.host1.read_address(), (tag, output)
        began = time.monotonic()
        container.stop()
        took = time.monotonic() - began
        container.reload()
        # The default grace time is 10 s: a PID 1 that ignores SIGTERM would take all of it.
        assert took < 2 and container.attrs["State"]["ExitCode"] == 137, (tag, took)
