"""A live doctor run on this machine: the optional kernel lines (IPVS, 802.1Q VLAN) and the overlap
line, each compared with what the machine shows independently (/proc, modules.dep, `ip -j addr`)."""
from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from pathlib import Path

from helpers.world import doctor
from helpers.world.naming import INTERNET, LAN


def _module(name: str) -> bool:
    try:
        dep = (doctor.MODULES / os.uname().release / "modules.dep").read_text()
    except OSError:
        return False
    return any(line.split(":", 1)[0].rsplit("/", 1)[-1].split(".ko")[0] == name for line in dep.splitlines())


def test_live_doctor_lists_ipvs_vlan_and_the_plan_overlap(world):
    checks = {check.name: check for check in doctor.run_checks(world.names.world_id)}
    ipvs, vlan = checks["kernel: IPVS (swarm routing mesh)"], checks["kernel: 802.1Q VLAN links"]
    assert ipvs.ok == (Path("/proc/net/ip_vs").exists() or _module("ip_vs"))
    assert vlan.ok == (Path("/proc/net/vlan").exists() or _module("8021q"))
    for check in (ipvs, vlan):
        assert not check.required and (check.ok or "without" in check.fix)
    assert doctor.ready(list(checks.values()))  # optional lines never make the machine "not ready"
    # the one line a chapter prints says the same as the doctor's table
    for kind, check in (("ipvs", ipvs), ("vlan", vlan)):
        line = doctor.feature_line(kind)
        assert ("present" in line) == check.ok and (check.ok or doctor.WITHOUT[kind] in line), line
    links = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout)
    overlapping = [a["local"] for link in links for a in link.get("addr_info", []) if a["family"] == "inet"
                   and any(ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network.overlaps(net)
                           for net in (LAN, INTERNET))]
    overlap = checks["machine's addresses and DNS vs the lab plan"]
    assert all(address in overlap.detail for address in overlapping)
    if overlap.ok:
        assert not overlapping
