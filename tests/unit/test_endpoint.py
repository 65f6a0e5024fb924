"""The probe notation, parsed once (`helpers.scenarios.endpoint`), and the one address rule.

Also the other "one shape" pieces it comes with: the one reader of a machine's address (fed a saved
`ip -j` output), the one "you are ADDR:PORT" format and parser, the one docker CLI runner and its
error (run against a stand-in `docker` script, so no engine is needed).
"""
from __future__ import annotations

import subprocess
from types import SimpleNamespace
from typing import ClassVar

import pytest

from helpers.errors import DockerCliError, EndpointError, LabError, UnresolvedEndpoint
from helpers.scenarios.base import ProbeSpec
from helpers.scenarios.endpoint import (
    ADDRESS,
    CONTAINER,
    MACHINE,
    NAME,
    Endpoint,
    parse,
    pick_address,
)
from helpers.scenarios.webapp import WHO_CGI, web_command, who_sees
from helpers.world import engine
from helpers.world.model import Machine
from helpers.world.service import parse_reply, reply_line

# --- parsing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, name, host", [
    ("container:a", CONTAINER, "a", None),
    ("container:b@host2", CONTAINER, "b", "host2"),
    ("container:app@host1", CONTAINER, "app", "host1"),
    ("machine:inet", MACHINE, "inet", None),
    ("machine:host1", MACHINE, "host1", None),
    ("203.0.113.10", ADDRESS, "203.0.113.10", None),
    ("127.0.0.1", ADDRESS, "127.0.0.1", None),
    ("::1", ADDRESS, "::1", None),
    ("overlay-a", NAME, "overlay-a", None),
    ("  container:a  ", CONTAINER, "a", None),
])
def test_parse_every_notation(text, kind, name, host):
    end = parse(text)
    assert (end.kind, end.name, end.host) == (kind, name, host)
    assert str(end) == text.strip()  # the notation round-trips
    assert Endpoint.parse(str(end)) == end


@pytest.mark.parametrize("text, says", [
    ("", "empty"),
    ("container:", "names no container role"),
    ("container:@host1", "names no container role"),
    ("container:a@", "is not a Docker host"),
    ("container:a@lanpc", "'lanpc' is not a Docker host"),
    ("machine:moon", "names no machine"),
    ("machine:", "names no machine"),
    ("box:a", "unknown kind 'box'"),
])
def test_parse_errors_say_what_is_wrong(text, says):
    with pytest.raises(EndpointError, match=says) as raised:
        parse(text)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, LabError)
    assert raised.value.fix  # and how to write it instead


@pytest.mark.parametrize("text, kind, name, host", [
    ("container:a", CONTAINER, "a", None),
    ("container:b@host2", CONTAINER, "b", "host2"),
    ("inet", MACHINE, "inet", None),
    ("host1", MACHINE, "host1", None),
    ("machine:lanpc", MACHINE, "lanpc", None),
])
def test_parse_source(text, kind, name, host):
    end = Endpoint.parse_source(text)
    assert (end.kind, end.name, end.host) == (kind, name, host)


@pytest.mark.parametrize("text", ["203.0.113.10", "someone", "container:", ""])
def test_a_source_is_a_container_or_a_machine(text):
    with pytest.raises(EndpointError):
        Endpoint.parse_source(text)


def test_probe_spec_reads_its_ends_as_endpoints():
    spec = ProbeSpec("c2c-ip", "container:b", "container:a@host1", source_host="host2")
    assert spec.source_end == Endpoint(CONTAINER, "b")
    assert spec.source_container_host == "host2"
    assert spec.target_end.on(spec.source_host) == "host1"  # @host wins over the source host
    assert ProbeSpec("c2c", "container:a", "container:b", source_host="host2").target_end.on("host2") == "host2"
    assert ProbeSpec("publish", "inet", "machine:host1").source_end == Endpoint(MACHINE, "inet")


# --- the address rule ----------------------------------------------------------------------------

def test_address_rule_prefers_a_network_shared_with_the_sender():
    attached = {"zeta-net": "172.19.0.2", "alpha-net": "172.18.0.2"}
    assert pick_address(attached, prefer=["zeta-net"]) == "172.19.0.2"
    assert pick_address(attached, prefer={"zeta-net", "alpha-net"}) == "172.18.0.2"  # first by name


def test_address_rule_else_first_network_by_name():
    attached = {"zeta-net": "172.19.0.2", "alpha-net": "172.18.0.2"}
    assert pick_address(attached) == "172.18.0.2"
    assert pick_address(attached, prefer=["bridge"]) == "172.18.0.2"  # a network it is not on


def test_address_rule_skips_networks_without_an_address():
    assert pick_address({"alpha": "", "beta": "10.0.1.5"}) == "10.0.1.5"
    assert pick_address({"host": ""}) is None
    assert pick_address({"none": None}) is None
    assert pick_address({}) is None


# --- resolving (a scenario and a world as plain stand-ins) ---------------------------------------

class _Machine:
    def __init__(self, address: str):
        self.address = address

    def read_address(self, ifname: str = "eth0") -> str:
        return self.address


class _World(dict):
    """role -> machine, with the Docker hosts' names as `hosts`."""

    hosts: ClassVar[dict] = {"host1": None, "host2": None}


def _scenario():
    world = _World(host1=_Machine("198.51.100.11"), inet=_Machine("203.0.113.10"))
    sc = SimpleNamespace(name="user-bridge", world=world)
    sc.container_name = lambda role: f"{sc.name}-{role}"
    return sc


RUNNING = {
    ("user-bridge-b", "host1"): {"user-bridge-net2": "172.20.0.3", "user-bridge-net": "172.19.0.3"},
    ("user-bridge-box", "host1"): {"none": ""},
    ("overlay-a", "host1"): {"overlay-net": "10.0.9.2"},
}


def _addresses(name, host):
    return RUNNING.get((name, host))


def test_resolve_container_on_two_networks_by_the_rule():
    sc = _scenario()
    end = parse("container:b")
    assert end.resolve(sc, addresses=_addresses) == "172.19.0.3"  # first by name
    assert end.resolve(sc, addresses=_addresses, prefer=["user-bridge-net2"]) == "172.20.0.3"  # shared


def test_resolve_machine_reads_its_address():
    assert parse("machine:inet").resolve(_scenario(), addresses=_addresses) == "203.0.113.10"


def test_resolve_address_and_name_as_is_unless_names_asked():
    sc = _scenario()
    assert parse("127.0.0.1").resolve(sc, addresses=_addresses) == "127.0.0.1"
    assert parse("overlay-a").resolve(sc, addresses=_addresses) == "overlay-a"
    # The tracer matches frames by address: a container's name becomes its address, on any host.
    assert parse("overlay-a").resolve(sc, addresses=_addresses, names=True, default_host="host2") == "10.0.9.2"
    assert parse("example").resolve(sc, addresses=_addresses, names=True) == "example"


def test_resolve_missing_container_or_no_address_is_a_lookup_error():
    sc = _scenario()
    with pytest.raises(UnresolvedEndpoint, match="no container user-bridge-b runs on host2"):
        parse("container:b@host2").resolve(sc, addresses=_addresses)
    with pytest.raises(LookupError, match="user-bridge-box on host1 has no address.*networks: none"):
        parse("container:box").resolve(sc, addresses=_addresses)


# --- one reader of a machine's address --------------------------------------------------------

# `ip -j -4 addr show dev eth0` in a lab world's host1, saved as it printed.
IP_J_ETH0 = ('[{"ifindex":2,"link_index":4,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],'
             '"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_netnsid":0,'
             '"addr_info":[{"family":"inet","local":"198.51.100.11","prefixlen":24,"scope":"global",'
             '"label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]')


def test_machine_reads_its_address_from_ip_j(monkeypatch):
    seen = []

    def run(self, argv, **kwargs):
        seen.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, IP_J_ETH0 if argv[-1] == "eth0" else "[]", "")

    monkeypatch.setattr(Machine, "run", run)
    machine = Machine("host1", "dnlab-zz-host1")
    assert machine.read_address() == "198.51.100.11"
    assert seen == [["ip", "-j", "-4", "addr", "show", "dev", "eth0"]]
    with pytest.raises(LookupError, match="docker0 of host1 has no IPv4 address"):
        machine.read_address("docker0")


# --- one "you are ADDR:PORT" answer --------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    (reply_line("198.51.100.11", 40312), ("198.51.100.11", 40312)),
    ("HTTP/1.0 200 OK\r\n\r\nyou are 172.18.0.1:39468\n", ("172.18.0.1", 39468)),
    ("you are [::ffff:203.0.113.10]:5678\r\n", ("203.0.113.10", 5678)),
    ("you are ::ffff:198.51.100.20:80", ("198.51.100.20", 80)),
])
def test_one_parser_reads_both_servers(text, expected):
    assert parse_reply(text) == expected
    assert who_sees(text) == expected[0]


@pytest.mark.parametrize("text", ["hello", "", "you are nobody", "you are 1.2.3.4:port"])
def test_not_an_answer_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_reply(text)


def test_the_web_container_prints_the_service_line():
    line = reply_line("$REMOTE_ADDR", "$REMOTE_PORT").strip()
    assert f'echo "{line}"' in WHO_CGI
    script = web_command(80, bind="0.0.0.0")[-1]
    assert "httpd -f -p 0.0.0.0:80" in script and line in script


# --- one docker CLI runner, one error ------------------------------------------------------------

@pytest.fixture
def fake_docker(tmp_path, monkeypatch):
    """A stand-in `docker` that prints its argv and the DOCKER_HOST it got, then exits with $CODE."""
    script = tmp_path / "docker"
    script.write_text('#!/bin/sh\necho "args: $*"\necho "DOCKER_HOST=${DOCKER_HOST:-unset}"\n'
                      'echo "complaint" >&2\nexit "${CODE:-0}"\n')
    script.chmod(0o755)
    monkeypatch.setattr(engine, "_docker_cli", lambda: str(script))
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")  # the machine's own engine
    return script


def test_run_docker_talks_to_the_given_engine_only(fake_docker):
    result = engine.run_docker(["ps", "-a"], base_url="unix:///run/x.sock", context="dnlab-zz-host1")
    assert "args: -H unix:///run/x.sock ps -a" in result.stdout
    assert "DOCKER_HOST=unset" in result.stdout
    assert engine.docker_cli("unix:///run/x.sock", "info").startswith("args: -H unix:///run/x.sock info")
    assert "args: --context c1 ps" in engine.run_docker(["ps"], context="c1").stdout


def test_run_docker_failure_is_one_error(fake_docker, monkeypatch):
    monkeypatch.setenv("CODE", "3")
    with pytest.raises(DockerCliError) as raised:
        engine.run_docker(["network", "connect", "none", "x"], base_url="unix:///run/x.sock", context="dnlab-zz-host1")
    error = raised.value
    assert error.returncode == 3 and error.command == "docker --context dnlab-zz-host1 network connect none x"
    assert "failed (exit status 3): complaint" in str(error)
    assert isinstance(error, LabError) and isinstance(error, RuntimeError)
    assert engine.run_docker(["ps"], base_url="unix:///run/x.sock", check=False).returncode == 3


def test_run_docker_without_the_cli_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(engine, "_docker_cli", lambda: None)
    with pytest.raises(DockerCliError, match="could not run: the docker CLI is not installed") as raised:
        engine.run_docker(["ps"], context="dnlab-host1")
    assert "docker-cli" in raised.value.fix
    assert engine.contexts() == {}


def test_the_endpoint_module_stays_in_its_room():
    """world -> scenarios -> observe/capture -> path -> draw/widgets: the resolver every upper room
    uses imports nothing above the scenarios (checked in a fresh interpreter)."""
    import json
    import sys

    code = ("import json, sys, helpers.scenarios.endpoint, helpers.scenarios.webapp\n"
            "print(json.dumps(sorted({m.split('.')[1] for m in sys.modules if m.startswith('helpers.')})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    rooms = set(json.loads(loaded))
    assert rooms <= {"errors", "language", "world", "scenarios"}, rooms   # errors, language: the base rooms
