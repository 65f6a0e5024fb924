"""The traffic guard refuses every target the world does not own (no root needed)."""
import ipaddress

import pytest

from helpers.errors import TrafficGuardError
from helpers.world.guard import _command, check_target
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
