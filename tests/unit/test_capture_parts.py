"""Unit tests of the capture's pure parts: the world a netns file belongs to, tcpdump's counts (the
lines below are what tcpdump 4.99.3 printed here on SIGUSR1 and at exit), when a tcpdump has caught
up, and which capture folders the sweep removes (an owner holds its lock while it lives)."""
from __future__ import annotations

import fcntl
import os

import pytest

from helpers.capture import tcpdump
from helpers.capture.tcpdump import Point, _Running, last_counts, prefix_in_cgroup, prefix_of_path, world_of
from helpers.errors import LabError
from helpers.world.naming import CAPTURE_OWNER, WorldNames

# /proc/<pid>/cgroup of a container of world hg's host1 engine (cgroup v1, Debian 12), and the same
# under cgroup v2 with the lab nested one level down (a machine that runs the course in a container).
CGROUP_V1 = """9:name=systemd:/dnlab-hg-host1/bf86373ea3d8d313a54f74cddab446bbe8045f32fe991314167b1d133c650288
8:pids:/dnlab-hg-host1/bf86373ea3d8d313a54f74cddab446bbe8045f32fe991314167b1d133c650288
0::/dnlab-hg-host1/bf86373ea3d8d313a54f74cddab446bbe8045f32fe991314167b1d133c650288
"""
CGROUP_V2_NESTED = "0::/ci-runner/dnlab-host2/0123abcd\n"

SIGUSR1_LINES = (b"tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 256 bytes\n"
                 b"tcpdump: 0 packets captured, 6 packets received by filter, 0 packets dropped by kernel\n"
                 b"tcpdump: 6 packets captured, 6 packets received by filter, 0 packets dropped by kernel\n")
EXIT_LINES = b"1 packet captured\n6 packets received by filter\n0 packets dropped by kernel\n"


def test_the_world_of_each_kind_of_namespace_file():
    assert prefix_of_path("/run/netns/dnlab-hg-inet") == "dnlab-hg"
    assert prefix_of_path("/run/netns/dnlab-lanpc") == "dnlab"
    assert prefix_of_path("/run/dnlab/dnlab-w2/host1/exec/netns/1-ab12cd34ef") == "dnlab-w2"
    assert prefix_of_path("/run/netns/someone-else") is None
    assert prefix_of_path("/run/dnlab/not_a_prefix/x") is None
    assert prefix_of_path("/var/run/docker/netns/abc") is None


def test_a_containers_world_is_its_engines_cgroup_parent():
    assert prefix_in_cgroup(CGROUP_V1) == "dnlab-hg"
    assert prefix_in_cgroup(CGROUP_V2_NESTED) == "dnlab"
    assert prefix_in_cgroup("0::/system.slice/docker-0123.scope\n") is None


def test_a_capture_outside_every_world_is_refused_with_a_fix():
    with pytest.raises(LabError) as refused:
        world_of([Point("x", "/run/netns/someone-else", "eth0")])
    assert refused.value.fix and "/run/netns/someone-else" in refused.value.problem
    assert world_of([Point("x", "/run/netns/someone-else", "eth0"),
                     Point("inet", "/run/netns/dnlab-t-inet", "eth0")]).prefix == "dnlab-t"


def test_tcpdumps_counts_are_its_last_report():
    assert last_counts(SIGUSR1_LINES) == (6, 6, 0)
    assert last_counts(SIGUSR1_LINES.rsplit(b"tcpdump: 6", 1)[0]) == (0, 6, 0)
    assert last_counts(b"tcpdump: listening on eth0\n") is None
    assert last_counts(EXIT_LINES) is None  # the exit report is on three lines: not an answer to SIGUSR1


class _Alive:
    def poll(self):
        return None


@pytest.mark.parametrize(("counts", "caught_up"), [
    (None, False), ((0, 6, 0), False), ((5, 6, 0), False), ((6, 6, 0), True), ((4, 6, 2), True)])
def test_a_tcpdump_has_caught_up_when_all_it_received_is_written_or_dropped(tmp_path, counts, caught_up):
    run = _Running(Point("inet", "/run/netns/dnlab-inet", "eth0"), tmp_path / "x.pcap", _Alive(), counts=counts)
    assert run.caught_up() is caught_up


def test_the_sweep_removes_only_folders_whose_owner_is_gone(tmp_path, monkeypatch):
    monkeypatch.setattr(tcpdump, "captures_root", lambda names: tmp_path)
    alive, dead = tmp_path / "1-alive", tmp_path / "2-dead"
    for folder in (alive, dead):
        folder.mkdir()
        (folder / CAPTURE_OWNER).touch()
    held = os.open(alive / CAPTURE_OWNER, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    being_made = tmp_path / "3-being-made"  # no lock file yet: its owner is between two calls
    being_made.mkdir()
    try:
        assert tcpdump.sweep(WorldNames("t")) == [dead]
        assert alive.is_dir() and being_made.is_dir() and not dead.exists()
    finally:
        os.close(held)
