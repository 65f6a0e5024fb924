"""The naming and address scheme (no root needed)."""
import ipaddress

import pytest

from helpers.world import naming
from helpers.world.naming import NamingError, WorldNames


def test_default_world_names():
    names = WorldNames()
    assert names.prefix == "dnlab"
    assert names.namespace("host1") == "dnlab-host1"
    assert names.context("host2") == "dnlab-host2"
    assert str(names.host("host1").socket) == "/run/dnlab/dnlab/host1/docker.sock"
    assert names.marker == "dnlab-world=dnlab"


def test_second_world_names_do_not_collide_with_the_first():
    first, second = WorldNames(), WorldNames("w2")
    assert second.prefix == "dnlab-w2"
    assert set(first.namespaces.values()).isdisjoint(second.namespaces.values())
    assert first.host("host1").data_root != second.host("host1").data_root
    assert first.context("host1") != second.context("host1")


@pytest.mark.parametrize("bad", ["W2", "2w", "w-2", "toolongid", "../x", "a b"])
def test_bad_world_ids_are_refused_with_a_fix(bad):
    with pytest.raises(NamingError, match="DNLAB_WORLD=w2"):
        WorldNames(bad)


def test_namespace_names_parse_back():
    assert naming.parse_namespace("dnlab-w2-router") == ("dnlab-w2", "router")
    assert naming.parse_namespace("dnlab-host1") == ("dnlab", "host1")
    # A learner's namespace that only looks similar is not the course's.
    assert naming.parse_namespace("dnlab-host3") is None
    assert naming.parse_namespace("mylab-host1") is None
    assert naming.parse_namespace("dnlab-w2-host1-x") is None


def test_interface_names_fit_the_kernel_limit():
    for machine in naming.MACHINES:
        assert len(f"p-{machine}") <= 15


def test_address_plan_uses_documentation_ranges_only():
    documentation = [ipaddress.ip_network(n) for n in ("198.51.100.0/24", "203.0.113.0/24")]
    forbidden = ipaddress.ip_network("192.0.2.0/24")  # some machines' real NIC
    addresses = [*naming.MACHINE_IPS.values(), naming.ROUTER_LAN_IP, naming.ROUTER_WAN_IP, naming.INET_IP]
    for address in addresses:
        assert any(address in net for net in documentation), address
        assert address not in forbidden
    assert len(set(addresses)) == len(addresses)
    for address in naming.MACHINE_IPS.values():
        assert address in naming.LAN


def test_unknown_roles_are_refused():
    with pytest.raises(NamingError, match="unknown"):
        WorldNames().namespace("host9")
    with pytest.raises(NamingError, match="unknown Docker host"):
        WorldNames().host("lanpc")
