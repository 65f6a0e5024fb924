"""Seeds of the course images (helpers/world/image.py): a loaded image store copied into a fresh
data-root instead of a `docker load`: layers hard-linked (copied across file systems), metadata
copied, nothing else taken."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.world import image


@pytest.fixture
def store(tmp_path, monkeypatch) -> dict[str, Path]:
    """A data-root as dockerd leaves it after a load (its folder names), a dockerd binary, a cache."""
    monkeypatch.setattr(image, "CACHE_ROOT", tmp_path / "cache")
    loaded = tmp_path / "lib" / "loaded"
    layer = loaded / "overlay2" / "abc123"
    (layer / "diff" / "bin").mkdir(parents=True)
    (layer / "diff" / "bin" / "busybox").write_bytes(b"\x7fELF busybox")
    (loaded / "overlay2" / "l").mkdir()
    (loaded / "overlay2" / "l" / "SHORT").symlink_to("../abc123/diff")
    (loaded / "image" / "overlay2").mkdir(parents=True)
    (loaded / "image" / "overlay2" / "repositories.json").write_text('{"Repositories": {}}')
    (loaded / "containers").mkdir()  # an engine's other state: never part of a seed
    dockerd = tmp_path / "dockerd"
    dockerd.write_text("#!/bin/sh\n")
    return {"loaded": loaded, "dockerd": dockerd, "fresh": tmp_path / "lib" / "fresh"}


def test_a_fresh_data_root_gets_the_seed_layers_linked_and_metadata_copied(store):
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    assert image.seed_data_root(store["fresh"], "b1", store["dockerd"])
    seeded_layer = store["fresh"] / "overlay2" / "abc123" / "diff" / "bin" / "busybox"
    original = store["loaded"] / "overlay2" / "abc123" / "diff" / "bin" / "busybox"
    assert os.path.samefile(seeded_layer, original)  # hard-linked: no copy of 75 MB
    metadata = store["fresh"] / "image" / "overlay2" / "repositories.json"
    assert not os.path.samefile(metadata, store["loaded"] / "image" / "overlay2" / "repositories.json")
    assert os.readlink(store["fresh"] / "overlay2" / "l" / "SHORT") == "../abc123/diff"
    assert not (store["fresh"] / "containers").exists()


def test_a_used_data_root_or_another_build_or_dockerd_is_not_seeded(store, tmp_path):
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    assert not image.seed_data_root(store["loaded"], "b1", store["dockerd"])  # has a store already
    assert not image.seed_data_root(store["fresh"], "b2", store["dockerd"])   # no seed of that build
    other = tmp_path / "dockerd-28"
    other.write_text("#!/bin/sh\n# another release\n")
    assert not image.seed_data_root(store["fresh"], "b1", other)              # another engine's layout
    assert image.is_fresh(store["fresh"])


def test_a_seed_on_another_file_system_is_copied(store, monkeypatch):
    """The course image's VOLUME: no hard link can reach the seed, so its layers are copied."""
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    real_stat = os.stat

    class OtherDevice:
        def __init__(self, real):
            self.st_dev = real.st_dev + 1

    def stat(path, *args, **kwargs):
        real = real_stat(path, *args, **kwargs)
        return OtherDevice(real) if Path(path) == store["fresh"] else real

    monkeypatch.setattr(image.os, "stat", stat)
    assert image.seed_data_root(store["fresh"], "b1", store["dockerd"])
    seeded_layer = store["fresh"] / "overlay2" / "abc123" / "diff" / "bin" / "busybox"
    original = store["loaded"] / "overlay2" / "abc123" / "diff" / "bin" / "busybox"
    assert seeded_layer.read_bytes() == original.read_bytes() and not os.path.samefile(seeded_layer, original)
    assert os.readlink(store["fresh"] / "overlay2" / "l" / "SHORT") == "../abc123/diff"
    assert not image.is_fresh(store["fresh"]) and not (store["fresh"] / ".seeding").exists()


def test_the_store_written_offline_seeds_when_no_seed_of_the_dockerd_exists(store):
    """The course image's build writes `store-<build>` (helpers/world/imagestore.py): any dockerd's
    fresh data-root starts from it; a seed of the data-root's own dockerd, if there is one, comes first."""
    written = image.store_path("b1")
    (written / "overlay2" / "w1" / "diff").mkdir(parents=True)
    (written / "overlay2" / "w1" / "diff" / "written").write_text("offline")
    (written / "image" / "overlay2").mkdir(parents=True)
    assert image.seed_data_root(store["fresh"], "b1", store["dockerd"])
    assert (store["fresh"] / "overlay2" / "w1" / "diff" / "written").read_text() == "offline"
    assert not image.seed_data_root(store["fresh"], "b2", store["dockerd"])   # no store of that build
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    again = store["fresh"].parent / "again"
    assert image.seed_data_root(again, "b1", store["dockerd"])
    assert (again / "overlay2" / "abc123").is_dir() and not (again / "overlay2" / "w1").exists()


def test_a_seed_is_saved_once_and_older_builds_swept(store):
    image.save_seed(store["loaded"], "b0", store["dockerd"])
    old = image.seed_path("b0", store["dockerd"])
    os.utime(old, (0, 0))  # long ago: no world of that build can still be copying it
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    assert sorted(p.name for p in image.CACHE_ROOT.iterdir()) == [image.seed_path("b1", store["dockerd"]).name]


def test_a_killed_seedings_half_is_removed_and_the_data_root_seeded_again(store):
    """An `up` killed while seeding leaves layers without metadata (or a staging folder): the next
    seeding starts from nothing, and never leaves `image/` naming layers that are not there."""
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    half = store["fresh"] / "overlay2" / "abc123" / "diff"
    half.mkdir(parents=True)
    (store["fresh"] / ".seeding" / "image").mkdir(parents=True)
    assert image.is_fresh(store["fresh"])
    assert image.seed_data_root(store["fresh"], "b1", store["dockerd"])
    assert not (store["fresh"] / ".seeding").exists()
    assert (half / "bin" / "busybox").exists() and (store["fresh"] / "image" / "overlay2").is_dir()


def test_a_seeding_that_fails_leaves_no_metadata(store, monkeypatch):
    image.save_seed(store["loaded"], "b1", store["dockerd"])
    real_run = image.subprocess.run

    def failing_link(argv, **kwargs):
        if argv[:3] == ["cp", "-a", "--link"]:
            raise image.subprocess.CalledProcessError(1, argv)
        return real_run(argv, **kwargs)

    monkeypatch.setattr(image.subprocess, "run", failing_link)
    assert not image.seed_data_root(store["fresh"], "b1", store["dockerd"])
    assert image.is_fresh(store["fresh"]) and not (store["fresh"] / ".seeding").exists()
