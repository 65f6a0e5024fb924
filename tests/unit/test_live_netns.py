"""helpers/observe/collect.live_netns: an engine's netns file whose namespace went is an empty file on its
folder's own device (Docker leaves it; `nsenter` into it fails "Invalid argument", and a rule trace
listed eight of them as untraced namespaces in a full suite run); a live one is nsfs."""
from pathlib import Path

from helpers.observe.collect import live_netns


def test_a_left_behind_empty_file_is_no_namespace(tmp_path):
    stale = tmp_path / "1-j0bvbja9kv"
    stale.touch(mode=0o444)
    assert not live_netns(stale)
    assert not live_netns(tmp_path / "gone")


def test_a_namespace_file_is_one():
    assert live_netns(Path("/proc/self/ns/net"))
