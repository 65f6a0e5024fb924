"""The one sweep (helpers/world/lifecycle.py) on a pretend machine: `find_marked` counts a namespace only
by its marker and a folder only by a course name; `sweep` removes free owners, leaves busy ones, and one
failure never stops the others. (On real namespaces: tests/integration/test_engine_lifecycle.py.)"""
from __future__ import annotations

from contextlib import nullcontext

from helpers.world import leftovers, lifecycle
from helpers.world.naming import WorldNames


def test_find_marked_goes_by_markers_and_course_names(tmp_path, monkeypatch):
    run, data = tmp_path / "run", tmp_path / "data"
    for folder in (run / "dnlab-aa", run / "dnlab-sbx-ab-x", data / "dnlab", run / "learner-stuff",
                   run / "dnlab-sbx-Bad_Name", data / "dnlab-toolongworldid"):
        folder.mkdir(parents=True)
    (run / "dnlab-cc.lock").touch()
    markers = {
        WorldNames("dd").namespace("router"): WorldNames("dd").marker,       # a world's, marked
        WorldNames("ee").namespace("host1"): None,                           # course-like, no marker
        WorldNames("ff").namespace("lanpc"): WorldNames("dd").marker,        # another world's marker
        "dnlab-sbx-gg": "dnlab-sandbox=dnlab-sbx-gg",                        # a sandbox, marked
        "dnlab-sbx-hh": "dnlab-world=dnlab",                                 # a sandbox name, wrong marker
        "learner-net": "dnlab-world=dnlab",                                  # foreign name, course marker
    }
    asked = []
    monkeypatch.setattr(lifecycle.netns, "list_names", lambda: sorted(markers))
    monkeypatch.setattr(lifecycle.netns, "marker_of", lambda name: asked.append(name) or markers[name])
    found = lifecycle.find_marked((run, data))
    assert found.worlds == {"dnlab-aa", "dnlab", "dnlab-cc", "dnlab-dd"}
    assert found.sandboxes == {"dnlab-sbx-ab-x", "dnlab-sbx-gg"}
    assert "learner-net" not in asked  # a name outside the scheme is never even read


def _owner(name: str, busy: str | None = None, fails: bool = False, log: list | None = None) -> lifecycle.Owner:
    def remove() -> list[str]:
        if fails:
            raise OSError("device busy")
        log.append(name)
        return [f"removed {name}"]

    return lifecycle.Owner(name, lambda: nullcontext(busy), remove)


def test_sweep_removes_free_owners_leaves_busy_ones_and_goes_on_after_a_failure():
    log: list[str] = []
    done = lifecycle.sweep([_owner("a", log=log), _owner("b", busy="its owner holds its lock", log=log),
                            _owner("c", fails=True, log=log), _owner("d", log=log)])
    assert done.removed == {"a": ["removed a"], "d": ["removed d"]} and log == ["a", "d"]
    assert done.busy == {"b": "its owner holds its lock"}
    assert done.failed == {"c": "OSError: device busy"}


def test_sandboxes_of_a_world_id_are_those_named_after_it():
    marked = lifecycle.Marked(sandboxes={"dnlab-sbx-ab", "dnlab-sbx-ab-suite", "dnlab-sbx-abc", "dnlab-sbx-x"})
    assert [o.name for o in lifecycle.sandboxes({"ab"}, marked)] == ["dnlab-sbx-ab", "dnlab-sbx-ab-suite"]
    assert len(list(lifecycle.sandboxes(None, marked))) == 4


# --- strays: what a world id with a control character left (helpers/world/leftovers.py, issue 23.3) ---

RAW = "dnlab-zz\n"  # `--world $'zz\n'` before ids were matched whole


def _pretend_stray_machine(tmp_path, monkeypatch) -> tuple[dict, list, list]:
    """A stray's folders (state with a running host1 engine's paths, lock, data) and namespaces; a
    learner's look-alikes beside them. Returns the namespaces' markers, what was deleted, what was killed."""
    run, data, cgroups = tmp_path / "run", tmp_path / "data", tmp_path / "cgroup"
    (run / RAW / "host1").mkdir(parents=True)
    (run / f"{RAW}.lock").touch()
    (data / RAW / "host1").mkdir(parents=True)
    (cgroups / "memory" / f"/{RAW}-host1".lstrip("/") / "docker").mkdir(parents=True)
    (run / "learner stuff").mkdir()  # a blank in a name that reads as no prefix: not the course's
    markers = {
        f"{RAW}-router": "dnlab-world=dnlab-zz",        # the stray's, as the kernel keeps its alias
        f"{RAW}-host1": "dnlab-world=" + RAW,           # the stray's, its raw prefix whole
        f"{RAW}-inet": "dnlab-world=dnlab-other",       # named as the stray's, another world's marker
        "dnlab-zz\r-lanpc": None,                       # course-like name, no marker
        "learner-net": "dnlab-world=dnlab-zz",          # foreign name, the stray's marker
    }
    deleted, killed = [], []
    monkeypatch.setattr(lifecycle.netns, "list_names", lambda: sorted(markers))
    monkeypatch.setattr(lifecycle.netns, "exists", lambda name: name in markers and name not in deleted)
    monkeypatch.setattr(lifecycle.netns, "marker_of", lambda name: markers[name])
    monkeypatch.setattr(lifecycle.netns, "delete", deleted.append)
    monkeypatch.setattr(lifecycle.netns, "kill_all", killed.extend)
    host1_exec = str(run / RAW / "host1" / "exec")
    monkeypatch.setattr(lifecycle.engine, "processes_of",
                        lambda paths: [4242] if str(paths.exec_root) == host1_exec and not killed else [])
    monkeypatch.setattr(lifecycle.engine, "CGROUP_ROOT", cgroups)
    return markers, deleted, killed


def test_find_marked_finds_a_strays_marked_namespaces_and_its_folders(tmp_path, monkeypatch):
    _pretend_stray_machine(tmp_path, monkeypatch)
    found = lifecycle.find_marked((tmp_path / "run", tmp_path / "data"))
    assert set(found.strays) == {RAW} and not found.worlds and not found.sandboxes
    stray = found.strays[RAW]
    assert sorted(stray.namespaces) == [f"{RAW}-host1", f"{RAW}-router"]
    assert sorted(stray.folders) == sorted([tmp_path / "run" / RAW, tmp_path / "run" / f"{RAW}.lock",
                                            tmp_path / "data" / RAW])


def test_a_stray_is_removed_by_the_one_lifecycle_and_nothing_foreign_is_touched(tmp_path, monkeypatch):
    markers, deleted, killed = _pretend_stray_machine(tmp_path, monkeypatch)
    roots = (tmp_path / "run", tmp_path / "data")
    assert leftovers.owners({"dnlab-other"}, roots=roots) == []  # reads as another world: not this one's
    (owner,) = leftovers.owners({"dnlab-zz"}, roots=roots)
    done = lifecycle.sweep([owner])
    assert done.failed == {} and done.busy == {}
    removed = done.removed[repr(RAW)]
    assert killed == [4242] and f"dockerd of {RAW + '-host1'!r}" in removed
    assert sorted(deleted) == [f"{RAW}-host1", f"{RAW}-router"]
    assert f"namespace {RAW + '-router'!r}" in removed
    assert f"directory {str(roots[0] / RAW)!r}" in removed and f"lock {str(roots[0] / f'{RAW}.lock')!r}" in removed
    assert not (roots[0] / RAW).exists() and not (roots[1] / RAW).exists()
    assert not (roots[0] / f"{RAW}.lock").exists()
    assert f"cgroup {str(tmp_path / 'cgroup' / 'memory' / (RAW + '-host1'))!r}" in removed
    assert (roots[0] / "learner stuff").is_dir()  # reads as no prefix: left alone
    assert all("\n" not in line for line in removed)  # one line each, as `dnlab clean` prints them
