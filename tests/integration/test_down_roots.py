"""The last world's `down` removes the course's empty root folders, except a mount point: in the course
image /var/lib/dnlab is a VOLUME, and rmdir there failed (`dnlab down` ended in an OSError traceback)."""
from __future__ import annotations

import subprocess

from helpers.world import engine, lifecycle


def test_the_last_down_leaves_an_empty_root_that_is_a_mount_point(tmp_path, monkeypatch):
    run_root, data_root = tmp_path / "run", tmp_path / "data"
    run_root.mkdir()
    data_root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "dnlab-test-volume", str(data_root)], check=True)
    try:
        # The machine's real mount points belong to the worlds running here: not this test's to release.
        monkeypatch.setattr(engine, "release_mountpoints", lambda: None)
        lifecycle.remove_empty_roots((run_root, data_root))
        assert not run_root.exists()                        # an empty folder: removed
        assert data_root.is_dir() and data_root.is_mount()  # the volume: left as it is
    finally:
        subprocess.run(["umount", str(data_root)], check=False)
