"""The one sweep (helpers/world/lifecycle.py) on a pretend machine: `find_marked` counts a namespace only
by its marker and a folder only by a course name; `sweep` removes free owners, leaves busy ones, and one
failure never stops the others. (On real namespaces: tests/integration/test_engine_lifecycle.py.)"""
from __future__ import annotations

from contextlib import nullcontext

from helpers.world import lifecycle
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
