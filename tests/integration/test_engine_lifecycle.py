"""The one engine lifecycle (helpers/world/lifecycle.py) on real namespaces: `EngineSite.stop` ends the
engine and keeps its site, `remove` leaves nothing and never deletes a same-named namespace that lacks
its marker; the sweep finds only what carries the course's marks, spares a sandbox whose owner lives,
and never touches a foreign namespace."""
from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator

import pytest

from helpers.errors import LabError
from helpers.world import engine, image, lifecycle, netns
from helpers.world.naming import IDLE, IMAGE, PRIVATE_DIR_MODE, SANDBOX_OWNER, WorldNames
from tests.worlds import own_world_id, world_id_for_tests


def _sandbox(suffix: str) -> str:
    return lifecycle.full_name(f"{world_id_for_tests()}-{suffix}")


@pytest.fixture
def site() -> Iterator[lifecycle.EngineSite]:
    full = _sandbox("lc")
    made = lifecycle.sandbox_site(full)
    lifecycle.remove(full)  # a crashed earlier run of this test
    yield made
    lifecycle.remove(full)


def _add_namespace(name: str, alias: str | None) -> None:
    subprocess.run(["ip", "netns", "add", name], check=True)
    if alias is not None:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "alias", alias], check=True)


def _delete_namespace(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def test_stop_ends_the_engine_and_remove_leaves_nothing(site):
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: run them through `make test` (sudo)")
    site.make_namespace()
    assert netns.marker_of(site.namespace) == site.marker
    site.start(hostname=site.namespace, lab_dns=False)
    assert engine.ping(site.paths) and site.running()
    client = engine.client(site.paths)
    try:
        image.load_into(client)
        client.containers.run(IMAGE, IDLE, detach=True)
    finally:
        client.close()
    assert engine.cgroup_dirs(site.cgroup_parent)  # the container's cgroup lies below the site's parent
    assert site.stop() is True
    assert not site.running() and not engine.ping(site.paths)
    assert site.stop() is False  # nothing left to stop
    # stop keeps the site: namespace and folders stay until `remove`.
    assert site.owns_namespace() and site.paths.state.is_dir()
    removed = site.remove()
    assert f"namespace {site.namespace}" in removed
    assert any(entry.startswith("cgroup ") for entry in removed), removed
    assert f"directory {site.paths.state}" in removed and f"directory {site.paths.data_root}" in removed
    assert site.leftovers() == []


def test_a_wait_that_fails_names_the_owners_fix(site, monkeypatch):
    def wait_ready(paths, process, timeout=30):
        raise LabError("dockerd did not come up", "sudo dnlab clean")

    monkeypatch.setattr(engine, "wait_ready", wait_ready)
    with pytest.raises(LabError) as failed:
        site.wait_ready(None, fix="dnlab --world x down && dnlab --world x up")
    assert failed.value.fix == "dnlab --world x down && dnlab --world x up"
    with pytest.raises(LabError) as unchanged:
        site.wait_ready(None)
    assert unchanged.value.fix == "sudo dnlab clean"


@pytest.mark.parametrize("alias", [None, "learner-own-label", "dnlab-sandbox=dnlab-sbx-someone-else"])
def test_remove_never_deletes_a_same_named_namespace_without_the_sites_marker(site, alias):
    _add_namespace(site.namespace, alias)
    try:
        assert not site.owns_namespace()
        assert f"namespace {site.namespace}" not in site.remove()
        assert netns.exists(site.namespace)
    finally:
        _delete_namespace(site.namespace)


def test_find_marked_counts_only_marked_namespaces():
    world = WorldNames(own_world_id("m"))
    marked_world = world.namespace("lanpc")
    marked_sandbox, unmarked_sandbox, foreign = _sandbox("mk"), _sandbox("um"), f"learner-{os.getpid()}"
    unmarked_world = WorldNames(own_world_id("u")).namespace("router")
    made = {marked_world: world.marker, marked_sandbox: lifecycle.marker_of(marked_sandbox),
            unmarked_sandbox: "dnlab-world=dnlab", unmarked_world: None, foreign: world.marker}
    for name, alias in made.items():
        _add_namespace(name, alias)
    try:
        found = lifecycle.find_marked()
        assert world.prefix in found.worlds and marked_sandbox in found.sandboxes
        # A course-like name without its marker, and a foreign name with one, are nobody's to sweep.
        assert WorldNames(own_world_id("u")).prefix not in found.worlds
        assert unmarked_sandbox not in found.sandboxes
        assert foreign not in found.worlds | found.sandboxes
    finally:
        for name in made:
            _delete_namespace(name)


def test_sweep_removes_a_crashed_sandbox_spares_a_live_one_and_a_foreign_namespace():
    crashed, live, foreign = _sandbox("sc"), _sandbox("sl"), f"learner-{os.getpid()}"
    for full in (crashed, live):
        lifecycle.sandbox_site(full).make_namespace()
        lifecycle.paths_of(full).state.mkdir(parents=True, exist_ok=True)
    lifecycle.paths_of(live).state.chmod(PRIVATE_DIR_MODE)
    _add_namespace(foreign, "dnlab-sandbox=" + foreign)
    try:
        with open(lifecycle.paths_of(live).state / SANDBOX_OWNER, "a") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the live sandbox's owner
            owners = list(lifecycle.sandboxes({world_id_for_tests()}))
            assert {o.name for o in owners} >= {crashed, live}
            done = lifecycle.sweep(o for o in owners if o.name in (crashed, live))
        assert f"namespace {crashed}" in done.removed[crashed]
        assert lifecycle.leftovers(crashed) == []
        assert live in done.busy and live not in done.removed and netns.exists(live)
        assert netns.exists(foreign) and not done.failed
    finally:
        _delete_namespace(foreign)
        for full in (crashed, live):
            lifecycle.remove(full)
