"""Chapter 0's claims fail on lab worlds where they are false.

A machine whose tcpdump cannot run, a LAN cable pulled off the router's bridge, a shell on another
machine, an engine that already has a network of its own: each is built for real, the chapter's own
demonstration runs on it, and its result goes to the very claim cell of notebooks/00_setup.ipynb.

Where a claim holds, its cell runs in the chapter itself: nbval executes notebooks/00_setup.ipynb on the
session world, and a claim cell raises there if its claim is false (tests/unit/test_claim_coverage.py
checks that every claim runs on the true world somewhere). ch00:fresh-engine's control stays here: the
scratch engine the false world is made from, before its extra network.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.draw.world_map import observe_world
from helpers.lessons import ch00, common
from helpers.world import doctor, scratch_engine
from tests.claimcells import assert_claim_fails, run_claim

ROOT = Path(__file__).resolve().parents[2]


def test_doctor_claim_fails_when_tcpdump_cannot_run(world):
    """The doctor runs in a private mount namespace where tcpdump is covered by /dev/null (not
    executable): what a machine without the tcpdump package looks like to it. Nothing else sees it."""
    tcpdump = shutil.which("tcpdump") or shutil.which("tcpdump", path="/usr/sbin:/usr/bin")
    script = f"mount --bind /dev/null {tcpdump} && exec {sys.executable} -m helpers doctor --json"
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    checks = [doctor.Check(**row) for row in json.loads(result.stdout)]
    assert result.returncode == 1   # `dnlab doctor` says not ready
    assert_claim_fails("ch00:doctor", {"checks": checks, "doctor": doctor}, mentions="tool tcpdump (not found)")


def test_cabling_claim_fails_when_lanpc_is_unplugged_from_lan0(world):
    router = world["router"]
    router.run(["ip", "link", "set", "p-lanpc", "nomaster"])
    try:
        lan_machines = ch00.lan_members(observe_world(world))
    finally:
        router.run(["ip", "link", "set", "p-lanpc", "master", "lan0"])
    assert lan_machines == ["host1", "host2"]
    assert_claim_fails("ch00:cabling", {"lan_machines": lan_machines})


def test_shell_claim_fails_for_a_shell_on_another_machine(world):
    """The claim checks the shell against host1's own engine and address, read independently:
    a shell that landed on host2 (another namespace, another engine) must not pass."""
    elsewhere = ch00.shell_facts(world, "host2")
    assert_claim_fails("ch00:shell", {"on_host1": elsewhere, "world": world},
                       mentions="docker in that shell answers from host1's engine")


def test_fresh_engine_claim_fails_on_an_engine_with_an_extra_network(world):
    with scratch_engine(world.names.world_id) as scratch:
        drivers = common.engine_drivers(scratch.client)
        run_claim("ch00:fresh-engine", networks=common.network_drivers(scratch.client), drivers=drivers)
        scratch.client.networks.create("extra", driver="bridge", labels=world.label)
        networks = common.network_drivers(scratch.client)
    assert_claim_fails("ch00:fresh-engine", {"networks": networks, "drivers": drivers}, mentions="extra")
