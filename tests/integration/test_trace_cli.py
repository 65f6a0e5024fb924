"""`dnlab trace` on a learner's own containers, made by hand with the docker SDK (not by a scenario):
a user bridge `alpine-net` with two containers on host1, and an overlay pair across host1 and host2.
Expected values are read from `docker inspect`, never written as constants. Also `dnlab scenario
list|stop`: the course's scenarios go, the learner's own containers stay.
"""
from __future__ import annotations

import contextlib
import json
import time

import docker.errors
import pytest

from helpers import cli, scenarios
from helpers.errors import EXIT_LAB_ERROR, dnlab_command
from helpers.world import guard, swarm
from helpers.world.naming import IDLE, IMAGE, LABEL_SCENARIO, LABEL_WORLD
from helpers.world.swarm import GOSSIP_WAIT, OVERLAY_VXLANID_OPTION
from tests.waits import until

PORT = 8080
PUBLISHED = 18088   # alpine2's PORT, published on host1
# alpine2 answers TCP on PORT, as a learner's `nc -l` would (busybox nc serves one connection per run).
LISTEN = ["sh", "-c", f"while true; do nc -l -p {PORT} -e echo hello; done"]
SAVED_RUN = "tests/unit/data/paths/user-bridge-egress"


def remove(client, containers=(), networks=()) -> None:
    for name in containers:
        with contextlib.suppress(docker.errors.NotFound):
            client.containers.get(name).remove(force=True)
    for name in networks:
        for network in client.networks.list(names=[name]):
            network.remove()


def dnlab(capsys, world, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--world", world.names.world_id, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def ip_of(world, name: str, host: str = "host1", network: str | None = None) -> str:
    networks = world.hosts[host].docker.api.inspect_container(name)["NetworkSettings"]["Networks"]
    return networks[network or next(iter(networks))]["IPAddress"]


@pytest.fixture(scope="module")
def alpine_net(world):
    """The docs' `alpine-net`: a user bridge and two containers, by hand (the world's label only,
    so `dnlab down` removes them too; no scenario label)."""
    client = world.host1.docker
    remove(client, ("alpine1", "alpine2"), ("alpine-net",))
    client.networks.create("alpine-net", driver="bridge", labels=world.label)
    client.containers.run(IMAGE, IDLE, name="alpine1", network="alpine-net", detach=True, labels=world.label)
    client.containers.run(IMAGE, LISTEN, name="alpine2", network="alpine-net", detach=True, labels=world.label,
                          ports={f"{PORT}/tcp": PUBLISHED})
    yield world
    remove(client, ("alpine1", "alpine2"), ("alpine-net",))


def same_shape(path_json: dict, capsys, world) -> None:
    """The keys of `dnlab path --json` (a saved run, rebuilt) at the top and in every hop."""
    code, out, _ = dnlab(capsys, world, "path", "--from", SAVED_RUN, "--json")
    reference = json.loads(out)
    assert set(path_json) == set(reference)
    assert {key for hop in path_json["hops"] for key in hop} == set(reference["hops"][0])


def test_ping_between_hand_made_containers(alpine_net, capsys):
    world = alpine_net
    code, out, err = dnlab(capsys, world, "trace", "alpine1", "alpine2", "--json")
    assert code == 0, err
    path = json.loads(out)
    same_shape(path, capsys, world)
    a1, a2 = ip_of(world, "alpine1"), ip_of(world, "alpine2")
    network = world.host1.docker.api.inspect_network("alpine-net")
    bridge = f"br-{network['Id'][:12]}"
    assert path["reached"] and path["kind"] == "ping" and path["target"] == a2
    request = [h for h in path["hops"] if h["leg"] == "request"]
    assert request[0]["namespace"] == "alpine1" and request[0]["src"] == a1
    assert request[-1]["namespace"] == "alpine2" and request[-1]["action"] == "delivered"
    assert any(h["interface"] == bridge for h in request)      # through alpine-net's own bridge
    assert any(h["leg"] == "reply" and h["namespace"] == "alpine1" for h in path["hops"])


def test_tcp_between_hand_made_containers(alpine_net, capsys):
    world = alpine_net
    code, out, err = dnlab(capsys, world, "trace", "alpine1", "alpine2", "--tcp", str(PORT))
    assert code == 0, err
    a2 = ip_of(world, "alpine2")
    assert out.splitlines()[0].endswith(f"alpine1 reached {a2}:{PORT} (tcp), as expected")
    code, out, err = dnlab(capsys, world, "trace", "alpine1", "alpine2", "--tcp", str(PORT), "--json")
    path = json.loads(out)
    request = [h for h in path["hops"] if h["leg"] == "request"]
    reply = [h for h in path["hops"] if h["leg"] == "reply"]
    assert request[0]["proto"] == "tcp" and request[0]["dst"] == f"{a2}:{PORT}" and "[S]" in request[0]["info"]
    assert request[-1]["namespace"] == "alpine2" and reply[0]["namespace"] == "alpine2"
    assert reply[0]["src"] == f"{a2}:{PORT}" and reply[-1]["namespace"] == "alpine1"


def test_a_machine_to_a_published_port_reaches_the_container(alpine_net, capsys):
    world = alpine_net
    code, out, err = dnlab(capsys, world, "trace", "lanpc", "host1", "--tcp", str(PUBLISHED), "--json")
    assert code == 0, err
    path = json.loads(out)
    request = [h for h in path["hops"] if h["leg"] == "request" and h["segment"] == 0]
    assert path["target"] == world["host1"].read_address() and request[0]["namespace"] == "lanpc"
    # Past the DNAT (or docker-proxy) to the container behind the port: it was captured too.
    assert any(h["namespace"] == "alpine2" and h["action"] == "delivered" for h in path["hops"])
    assert any(h["action"] in ("dnat", "proxied") for h in path["hops"])


def test_a_containers_own_address_from_the_lan_says_no_route_and_names_the_published_port(alpine_net, capsys):
    """Issue 20.7: it ended in "no rule's counter rose here". The router has no route to a Docker host's
    container network; the hint names the trace that gets through, by the published port."""
    world = alpine_net
    code, out, err = dnlab(capsys, world, "trace", "lanpc", "alpine2", "--tcp", str(PORT))
    a2 = ip_of(world, "alpine2")
    assert code == 1 and "did not reach" in out.splitlines()[0]
    assert f"router has no route to {a2}" in out and "no rule's counter rose here" not in out, out
    host1 = world["host1"].read_address()
    [hint] = [line for line in out.splitlines() if line.startswith("hint:")]
    assert f"trace lanpc {host1} --tcp {PUBLISHED}" in hint and f"--world {world.names.world_id}" in hint, hint
    # the hint runs as printed: it reaches alpine2 through host1's published port
    words = hint.split(": ", 1)[1].split(" trace ", 1)[1].split()
    code, out, err = dnlab(capsys, world, "trace", *words)
    assert code == 0 and "lanpc reached" in out.splitlines()[0], out


def test_udp_datagram_and_the_port_unreachable_answer(alpine_net, capsys):
    world = alpine_net
    code, out, err = dnlab(capsys, world, "trace", "alpine1", "alpine2", "--udp", "5353", "--json")
    path = json.loads(out)
    a2 = ip_of(world, "alpine2")
    assert path["kind"] == "udp" and not path["reached"] and code == 1    # nothing listens on 5353
    request = [h for h in path["hops"] if h["leg"] == "request"]
    reply = [h for h in path["hops"] if h["leg"] == "reply"]
    assert request[0]["proto"] == "udp" and request[0]["dst"] == f"{a2}:5353" and request[-1]["namespace"] == "alpine2"
    assert reply[0]["namespace"] == "alpine2" and reply[0]["proto"] == "icmp" and "type 3" in reply[0]["info"]


def test_unknown_container_is_a_clear_error(alpine_net, capsys):
    code, out, err = dnlab(capsys, alpine_net, "trace", "alpine1", "no-such-box")
    assert code == EXIT_LAB_ERROR and out == ""
    assert "'no-such-box' is no container of host1 or host2" in err and "alpine2" in err
    assert f"fix: {dnlab_command('shell', alpine_net.names.world_id)}" in err and "docker ps -a" in err


def _pair(world):
    """An attachable overlay made by hand on the swarm, one container on each host."""
    h1, h2 = world.host1.docker, world.host2.docker
    network = h1.networks.create("trace-overlay", driver="overlay", attachable=True, labels=world.label)
    h1.containers.run(IMAGE, IDLE, name="trace-ov1", network="trace-overlay", detach=True, labels=world.label)
    for attempt in range(40):   # the worker learns of the network from the manager as it attaches
        try:
            ov2 = h2.containers.run(IMAGE, IDLE, name="trace-ov2", network="trace-overlay", detach=True,
                                    labels=world.label)
            break
        except docker.errors.APIError:
            if attempt == 39:
                raise
            time.sleep(0.25)
    target = ip_of(world, "trace-ov1")
    last = []
    until(lambda: last.append(guard.probe(world, ov2, target, "ping", timeout=1)) or last[-1].ok,
          timeout=GOSSIP_WAIT, every=0.3, seen=lambda: last[-1].output.strip()[-200:],
          reason="trace-ov2 on host2 to reach trace-ov1 by address (gossip tells host2 where trace-ov1 lives)")
    return network


def _unpair(world) -> None:
    remove(world.host1.docker, ("trace-ov1",))
    remove(world.host2.docker, ("trace-ov2",))
    for network in world.host1.docker.networks.list(names=["trace-overlay"]):
        swarm.remove_overlay(world, network)


@pytest.fixture(scope="module")
def overlay_pair(world):
    _unpair(world)
    with swarm.borrowed(world):
        try:
            yield world, _pair(world)
        finally:
            _unpair(world)


def test_overlay_pair_across_hosts(overlay_pair, capsys):
    world, network = overlay_pair
    code, out, err = dnlab(capsys, world, "trace", "trace-ov2", "trace-ov1", "--host", "host2", "--json")
    assert code == 0, err
    path = json.loads(out)
    vni = int(world.host1.docker.api.inspect_network(network.id)["Options"][OVERLAY_VXLANID_OPTION])
    assert path["target"] == ip_of(world, "trace-ov1")
    request = [h for h in path["hops"] if h["leg"] == "request"]
    assert request[0]["namespace"] == "trace-ov2" and request[-1]["namespace"] == "trace-ov1"
    encap = next(h for h in request if h["action"] == "vxlan-encap")
    decap = next(h for h in request if h["action"] == "vxlan-decap")
    assert (encap["namespace"], encap["interface"]) == ("host2", "eth0")
    assert decap["namespace"].startswith("host1:") and encap["outer"]["vni"] == vni
    assert encap["outer"]["dst"].split(":")[0] == world["host1"].read_address()


def test_scenarios_listed_and_stopped_learners_containers_stay(alpine_net, capsys):
    world = alpine_net
    scenarios.get(world, "none").start()
    code, out, _ = dnlab(capsys, world, "scenario", "list", "--json")
    labelled = {c.name for c in world.host1.docker.containers.list(
        all=True, filters={"label": [f"{LABEL_WORLD}={world.prefix}", f"{LABEL_SCENARIO}=none"]})}
    assert code == 0 and set(json.loads(out)["none"]["containers"]["host1"]) == labelled != set()
    assert dnlab(capsys, world, "scenario", "stop", "none")[0] == 0
    assert "none" not in scenarios.running(world)
    code, _, err = dnlab(capsys, world, "scenario", "stop", "none")   # nothing left to stop: says so
    assert code != 0 and "fix: dnlab scenario list" in err
    scenarios.get(world, "none").start()
    code, out, _ = dnlab(capsys, world, "scenario", "stop", "--all")
    assert code == 0 and "none" in out
    left = world.host1.docker.containers.list(all=True, filters={"label": LABEL_SCENARIO})
    assert left == [] and scenarios.running(world) == {}
    assert {c.name for c in world.host1.docker.containers.list()} >= {"alpine1", "alpine2"}
