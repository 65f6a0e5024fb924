"""The traffic guard refuses every target the world does not own (no root needed)."""
import ipaddress

import pytest

from helpers.errors import TrafficGuardError
from helpers.world.guard import (
    ENGINE_DEFAULT_POOLS,
    SWARM_DEFAULT_POOL,
    _command,
    as_address,
    check_target,
    checked_target,
    nameservers,
    owned_subnet,
    parse_hosts,
    parse_nslookup,
)
from helpers.world.naming import INTERNET, LAN

OWNED = [LAN, INTERNET, ipaddress.ip_network("172.17.0.0/16"), ipaddress.ip_network("172.18.0.0/16")]
NAMES = {"web", "user-bridge-a"}


@pytest.mark.parametrize("target", ["203.0.113.10", "198.51.100.11", "172.17.0.2", "172.18.0.3",
                                    "127.0.0.1", "::1", "web", "user-bridge-a"])
def test_world_addresses_and_names_pass(target):
    assert check_target(target, OWNED, NAMES) == target


@pytest.mark.parametrize("target", [
    "8.8.8.8", "1.1.1.1",          # public
    "10.0.0.1", "192.168.1.1",     # private, outside the lab
    "172.19.0.2",                  # a Docker-like range the world has no network for
    "192.0.2.1",                   # some machines' real NIC range
    "example.com", "localhost.example", "web; rm -rf /", "",
])
def test_foreign_targets_are_refused_with_a_fix(target):
    with pytest.raises(TrafficGuardError) as refused:
        check_target(target, OWNED, NAMES)
    assert refused.value.fix and "203.0.113.10" in refused.value.fix


def test_probe_commands_are_bounded_in_time():
    assert _command("ping", "203.0.113.10", None, 2) == ["ping", "-c", "1", "-W", "2", "203.0.113.10"]
    assert _command("ping", "lab13-a", None, 2, size=1422)[-3:] == ["-s", "1422", "lab13-a"]
    assert _command("http", "203.0.113.10", 80, 2)[:2] == ["timeout", "2"]
    assert "nc -w 2" in _command("tcp", "203.0.113.10", 9000, 2)[2]
    with pytest.raises(ValueError, match="unknown probe kind"):
        _command("flood", "203.0.113.10", None, 2)


# --- issue 12.7: the guard trusts nothing the learner controls ---------------------------------

POOLS = [ipaddress.ip_network(p) for p in (*ENGINE_DEFAULT_POOLS, SWARM_DEFAULT_POOL)]
# busybox nslookup's output, saved from a lab container (1.35): the server's lines, then the answer.
NSLOOKUP_OK = "Server:\t\t203.0.113.10\nAddress:\t203.0.113.10:53\n\n\nName:\texample.com\nAddress: 203.0.113.10\n\n"
NSLOOKUP_NX = "Server:\t\t203.0.113.10\nAddress:\t203.0.113.10:53\n\n** server can't find web: NXDOMAIN\n\n"
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n172.17.0.2\tabc123\n8.8.8.8\tevil # --add-host\n"


@pytest.mark.parametrize("name", ["134744072", "0x8080808", "8.8.2056", "010.010.010.010", "8.8.8.8"])
def test_names_a_resolver_reads_as_a_foreign_address_are_refused(name):
    """A container called `134744072` is 8.8.8.8 to busybox: being a container's name is no excuse."""
    assert as_address(name) is not None
    with pytest.raises(TrafficGuardError, match="8.8.8.8|010"):
        check_target(name, OWNED, NAMES | {name})


def test_numeric_forms_of_lab_addresses_pass():
    assert as_address("3405803786") == ipaddress.ip_address("203.0.113.10")
    assert check_target("3405803786", OWNED) == "3405803786"
    assert as_address("web") is None and as_address("example.com") is None


@pytest.mark.parametrize("subnet, owned", [
    ("172.17.0.0/16", True), ("172.30.5.0/24", True), ("192.168.32.0/20", True), ("10.0.1.0/24", True),
    ("198.51.100.0/24", True),                    # macvlan on the lab LAN
    ("192.0.2.0/24", False),                      # the real NIC's range here: a learner's --subnet
    ("172.16.0.0/16", False), ("8.0.0.0/8", False), ("0.0.0.0/0", False), ("fd00::/64", False),
])
def test_docker_subnets_count_only_inside_the_plan_or_the_engines_pools(subnet, owned):
    assert owned_subnet(ipaddress.ip_network(subnet), POOLS) is owned


def test_saved_resolver_outputs_are_read():
    assert parse_nslookup(NSLOOKUP_OK) == ["203.0.113.10"]
    assert parse_nslookup(NSLOOKUP_NX) == []
    assert parse_hosts(HOSTS, "evil") == ["8.8.8.8"]
    assert parse_hosts(HOSTS, "localhost") == ["127.0.0.1", "::1"]
    assert parse_hosts(HOSTS, "add-host") == []  # a comment is no name
    assert nameservers("search x\nnameserver 127.0.0.11\n nameserver 8.8.8.8\noptions ndots:0\n") == \
        ["127.0.0.11", "8.8.8.8"]


class FakeContainer:
    """A docker SDK container whose execs answer from saved texts (hosts + resolv.conf, nslookup)."""

    name = "a"

    def __init__(self, hosts: str, resolv: str, answer: str):
        self.hosts, self.resolv, self.answer, self.calls = hosts, resolv, answer, []

    def exec_run(self, argv):
        self.calls.append(argv)
        if argv[0] == "nslookup":
            return 0, self.answer.encode()
        return 0, f"{self.hosts}--- dnlab: end of /etc/hosts ---\n{self.resolv}".encode()


class FakeMachine:
    def __init__(self, answer: str):
        self.answer, self.argv = answer, None

    def run(self, argv, check=True, timeout=30):
        self.argv = argv
        return type("Done", (), {"stdout": self.answer, "returncode": 0})()

    def read_address(self, ifname="eth0"):
        return "203.0.113.10"


def test_a_container_name_is_judged_by_what_it_resolves_to():
    good = FakeContainer("", "nameserver 127.0.0.11\n", NSLOOKUP_OK)
    # Sent to the address it resolved to, never the name (the tool would resolve it again: issue 23.4),
    # asked of the nameserver just checked.
    assert checked_target(None, good, "example.com", OWNED) == "203.0.113.10"
    assert good.calls[-1] == ["nslookup", "-type=a", "example.com", "127.0.0.11"]
    unknown = FakeContainer("", "nameserver 203.0.113.10\n", NSLOOKUP_NX)
    assert checked_target(None, unknown, "web", OWNED) is None  # nothing sent: probe says `bad address`
    with pytest.raises(TrafficGuardError, match="8.8.8.8"):  # --add-host evil:8.8.8.8
        checked_target(None, FakeContainer(HOSTS, "nameserver 127.0.0.11\n", NSLOOKUP_OK), "evil", OWNED)
    outside = FakeContainer("", "nameserver 203.0.113.10\n", NSLOOKUP_OK.replace("203.0.113.10\n\n", "1.1.1.1\n"))
    with pytest.raises(TrafficGuardError, match="1.1.1.1"):
        checked_target(None, outside, "example.com", OWNED)


def test_a_container_whose_resolver_is_outside_asks_nothing():
    """`docker run --dns 8.8.8.8`: the question itself would leave the lab; no nslookup is run."""
    leaky = FakeContainer("", "nameserver 8.8.8.8\n", NSLOOKUP_OK)
    with pytest.raises(TrafficGuardError, match="nameserver 8.8.8.8"):
        checked_target(None, leaky, "example.com", OWNED)
    assert not any(argv[0] == "nslookup" for argv in leaky.calls)


def test_a_machine_resolves_through_the_lab_dns_and_sends_to_the_address():
    machine = FakeMachine(NSLOOKUP_OK)
    world = {"lanpc": machine, "inet": machine}
    assert checked_target(world, "lanpc", "example.com", OWNED) == "203.0.113.10"
    assert machine.argv[-2:] == ["example.com", "203.0.113.10"]  # asked the lab's server, by address
    assert checked_target({"lanpc": FakeMachine(NSLOOKUP_NX), "inet": machine}, "lanpc", "web", OWNED) is None


# --- the crafted frame to a lab host's loopback (chapter 7.4, moby#45610) ------------------------------

HOST_MACS = {"host1": "4a:34:8d:1e:8b:50", "host2": "56:d0:eb:4a:c8:f8"}


def test_a_crafted_frame_goes_only_to_a_lab_host_s_mac_and_loopback():
    from helpers.world.guard import check_loopback_frame

    assert check_loopback_frame("4A:34:8D:1E:8B:50", "127.0.0.1", HOST_MACS) == "host1"
    assert check_loopback_frame("56:d0:eb:4a:c8:f8", "127.0.0.5", HOST_MACS) == "host2"
    for address in ("198.51.100.11", "203.0.113.10", "8.8.8.8", "134744072", "localhost", "::1x"):
        with pytest.raises(TrafficGuardError, match="only a lab host's loopback"):
            check_loopback_frame(HOST_MACS["host1"], address, HOST_MACS)
    for mac in ("ff:ff:ff:ff:ff:ff", "3a:cb:cb:b1:f0:e0", "4a:34:8d:1e:8b:51"):
        with pytest.raises(TrafficGuardError, match="not the eth0 of a Docker host of this lab world"):
            check_loopback_frame(mac, "127.0.0.1", HOST_MACS)


class _Machine:
    def __init__(self, role, calls):
        self.role, self.namespace, self.calls = role, f"dnlab-t-{role}", calls

    def run(self, argv, **_):
        import json
        import subprocess

        self.calls.append((self.role, argv))
        mac = HOST_MACS.get(self.role, "3a:cb:cb:b1:f0:e0")
        return subprocess.CompletedProcess(argv, 0, json.dumps([{"address": mac}]), "")


class _World:
    def __init__(self):
        self.calls = []
        self.machines = {r: _Machine(r, self.calls) for r in ("router", "inet", "host1", "host2", "lanpc")}
        self.hosts = {r: self.machines[r] for r in HOST_MACS}

    def __getitem__(self, role):
        return self.machines[role]


def test_send_loopback_syn_refuses_before_anything_is_sent(monkeypatch):
    """A non-loopback target, a host that is no Docker host, or a Docker host as the sender: refused
    after reading the MACs only (no scapy run in any namespace)."""
    from helpers.errors import UsageError
    from helpers.world import guard

    sent = []
    monkeypatch.setattr(guard, "run", lambda argv, *a, **k: sent.append(argv))
    world = _World()
    with pytest.raises(TrafficGuardError, match="only a lab host's loopback"):
        guard.send_loopback_syn(world, "lanpc", "host1", 8081, address="203.0.113.10")
    with pytest.raises(UsageError, match="not a Docker host"):
        guard.send_loopback_syn(world, "lanpc", "router", 8081)
    with pytest.raises(UsageError, match="not a plain machine"):
        guard.send_loopback_syn(world, "host2", "host1", 8081)
    with pytest.raises(UsageError, match="is not a port"):
        guard.send_loopback_syn(world, "lanpc", "host1", 0)
    assert sent == [] and all(argv[:2] == ["ip", "-j"] for _, argv in world.calls)
