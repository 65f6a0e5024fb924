"""The doctor's lines that read saved outputs: the machine's own network against the lab plan, IPVS."""
import copy
import json
from pathlib import Path

import pytest

from helpers.world import doctor
from helpers.world.naming import INTERNET, LAN

DATA = Path(__file__).parent / "data"
# `ip -j addr` of this workplace's own namespace (its real NIC is on 192.0.2.0/24, beside the plan).
ROOT_ADDR = json.loads((DATA / "doctor_root_ip_addr.json").read_text())
# modules.dep lines as Debian 12 (.ko) and Debian 13 (.ko.xz) kernels ship them.
MODULES_DEP_12 = ("kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko kernel/lib/libcrc32c.ko\n"
                  "kernel/net/8021q/8021q.ko: kernel/net/802/garp.ko kernel/net/802/mrp.ko\n")
MODULES_DEP_13 = "kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n"
MODULES_DEP_NO_IPVS = "kernel/net/8021q/8021q.ko: kernel/net/802/garp.ko\nkernel/net/netfilter/ipvs/ip_vs_rr.ko:\n"


def with_address(links: list[dict], ifname: str, local: str, prefixlen: int) -> list[dict]:
    """The saved output with one more IPv4 address on `ifname` (as `ip addr add` would show it)."""
    changed = copy.deepcopy(links)
    link = next(item for item in changed if item["ifname"] == ifname)
    link["addr_info"].append({"family": "inet", "local": local, "prefixlen": prefixlen})
    return changed


def test_this_machines_real_network_does_not_overlap_the_plan():
    check = doctor.plan_overlap(ROOT_ADDR, ["10.255.255.53"])
    assert check.ok and not check.required
    assert str(LAN) in check.detail and str(INTERNET) in check.detail


def test_an_address_in_the_lab_lan_or_a_wider_network_around_it_is_named():
    lan_host = str(LAN.network_address + 5)
    check = doctor.plan_overlap(with_address(ROOT_ADDR, "eth0", lan_host, 24), [])
    assert not check.ok and not check.required
    assert f"eth0 {lan_host}/24 overlaps the lab LAN {LAN}" in check.detail
    assert "nothing to fix" in check.fix and "lab shell" in check.fix
    wide = doctor.plan_overlap(with_address(ROOT_ADDR, "eth0", "203.0.0.1", 16), [])
    assert not wide.ok and f"overlaps the lab internet {INTERNET}" in wide.detail


def test_a_dns_server_inside_the_lab_internet_is_named():
    server = str(INTERNET.network_address + 53)
    check = doctor.plan_overlap(ROOT_ADDR, ["127.0.0.53", server, "not-an-address"])
    assert not check.ok and check.detail == f"DNS server {server} is in the lab internet {INTERNET}"


def test_ipvs_present_loadable_or_missing_with_what_breaks():
    assert doctor.ipvs_check(True, None).ok
    assert doctor.ipvs_check(False, MODULES_DEP_12).ok and "loaded on first use" in doctor.ipvs_check(
        False, MODULES_DEP_12).detail
    assert doctor.ipvs_check(False, MODULES_DEP_13).ok
    for missing in (doctor.ipvs_check(False, MODULES_DEP_NO_IPVS), doctor.ipvs_check(False, None)):
        assert not missing.ok and not missing.required and missing.verdict == "optional"
        assert "routing mesh" in missing.fix and "published ports do not answer" in missing.fix
    assert "no modules" in doctor.ipvs_check(False, None).detail


def test_vlan_is_an_optional_link_type_that_names_macvlan_trunk_mode():
    spec, required = doctor.LINK_TYPES["vlan"]
    assert "type vlan" in spec and not required
    assert "trunk mode" in doctor.WITHOUT["vlan"] and "eth0.10" in doctor.WITHOUT["vlan"]
    assert set(doctor.WITHOUT) >= {kind for kind, (_, req) in doctor.LINK_TYPES.items() if not req}


def test_an_unknown_optional_feature_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown optional feature .ipv7.: one of .*ipvs"):
        doctor.optional_feature("ipv7")


def test_the_engine_section_reads_the_version_and_says_what_holds_on_it():
    from helpers.world import doctor

    assert doctor.engine_major("Docker version 20.10.24+dfsg1, build 5d6db84") == 20
    assert doctor.engine_major("Docker version 26.1.5+dfsg1, build a72d7cd") == 26
    assert doctor.engine_major("not installed") is None
    assert doctor.engine_version("Docker version 28.5.2+dfsg1, build ecc6942") == "28.5.2"
    assert doctor.engine_version("not installed") is None
    old, new = doctor.version_notes("20.10.24"), doctor.version_notes("29.0.0")
    chains = next(line for line in old if "keep Docker bridges apart" in line)
    assert chains.startswith("ch02 §2.4, ch07, lab 3:") and chains.endswith("DOCKER-ISOLATION-STAGE-2")
    assert "DOCKER-INTERNAL" in next(line for line in new if "keep Docker bridges apart" in line)
    # 28.5 keeps the isolation chains beside the new ones (moby's generated tables).
    mid = next(line for line in doctor.version_notes("28.5.2") if "keep Docker bridges apart" in line)
    assert "kept beside the new DOCKER-FORWARD" in mid
    # Measured pairs (20.10 vs 26.1) claim no release in between.
    mode = next(line for line in doctor.version_notes("26.1.5") if "NetworkMode" in line)
    assert mode.startswith("lab 3:") and mode.endswith('"bridge"')
    assert doctor.version_notes(None) == ["(no dockerd: which statements hold cannot be told)"]


def test_the_engine_section_names_this_machines_dockerd():
    import shutil

    from helpers.world import doctor

    report = doctor.engine_report()
    if shutil.which("dockerd"):
        assert "dockerd: Docker version" in report and "this machine's is Docker " in report
    else:
        assert "dockerd: not installed" in report
    assert "distribution: " in report
