"""Every lab walked as a learner walks it, on the session world, one journey per lab:

reset -> the fresh check fails helpfully (its first failing item has a hint; strict raises)
-> troubleshooting labs: the solution notebook's start cell (the break, made once), then the check
names the symptom, never the cause, and its hint grows with each check -> each wrong fix a learner
tries fails naming what is wrong, and is undone (build labs: by the reset that begins the next step,
the last one by the notebook's start cell) -> the right fix: the rest of the lab's solution notebook
(labs/solutions/NN_*.ipynb, in a kernel, cell by cell) -> the strict check passes and the pass is
recorded -> each other valid fix passes (after undoing the one before) -> the notebook's reset cell
leaves none of the lab's names, restores the world around the lab, and the check fails again.

The solution notebooks run here, once each, in full (an error in any cell fails the journey); nbval
no longer collects labs/solutions. Each step names itself when it fails ("journey step: ..."), and
a passing journey prints each step's seconds (-s). A journey that fails resets its lab. The fixes are
in lab_fixes_build.py (labs 1-7) and lab_fixes_trouble.py (labs 8-13); tests about the labs that are
not one lab's journey are in test_labs_common.py.
"""
from __future__ import annotations

import time

import pytest

from helpers import labs
from helpers.labs import progress
from tests.integration import lab_fixes_build, lab_fixes_trouble
from tests.integration.lab_journey import (
    STEP_SECONDS,
    Kernels,
    SolutionNotebook,
    baseline,
    names_left,
    step,
    text,
)
from tests.integration.lab_symptoms import CAUSE_WORDS, SYMPTOM

WRONG = {**lab_fixes_build.WRONG, **lab_fixes_trouble.WRONG}
RIGHT = {**lab_fixes_build.RIGHT, **lab_fixes_trouble.RIGHT}


def _assert_helpful_failure(result) -> None:
    assert not result.passed
    assert result.failed, str(result)
    for it in result.failed:
        assert it.problem.strip(), f"item without a message: {it.what}"
        assert it.hint.strip() or it.what, it


def _symptom_and_growing_hints(world, lab) -> None:
    """The first check after the start fails helpfully and reports the symptom only, in words that
    name no cause; each further check gives another hint (three, then the last one kept)."""
    number = lab.number
    hints = []
    for n in range(4):
        result = lab.check(world, record=False)
        if n == 0:
            _assert_helpful_failure(result)
            assert not any(w in text(result) for w in CAUSE_WORDS[number]), str(result)
        failed = result.failed
        assert [it.what for it in failed] == [SYMPTOM[number]], f"lab {number}: not the symptom alone:\n{result}"
        assert failed[0].problem and failed[0].hint, str(result)
        hints.append(failed[0].hint)
    assert len(set(hints[:3])) == 3 and hints[3] == hints[2], hints
    assert "check again" in hints[0] and "check again" not in hints[2]


def _steps(table: dict, number: int) -> list:
    return table.get(number, [])


@pytest.fixture(scope="module")
def kernels(lab_world):
    """Each journey's kernel started one journey ahead (its boot overlaps the journey before)."""
    pool = Kernels()
    yield pool
    pool.close()


@pytest.mark.parametrize("number", sorted(labs.LABS))
def test_lab_journey(lab_world, kernels, number):
    world, lab = lab_world, labs.get(number)
    STEP_SECONDS.clear()
    started = time.monotonic()
    try:
        _journey(world, lab, kernels)
    except BaseException:
        lab.reset(world)  # a journey that failed half way leaves the next one a clean world
        raise
    print(f"lab {number} journey: {time.monotonic() - started:.1f} s (the kernel's start and stop: the rest)",
          *(f"{seconds:6.1f} s  {name}" for name, seconds in STEP_SECONDS), sep="\n  ")


def _journey(world, lab, kernels: Kernels) -> None:
    number, trouble = lab.number, lab.kind == "troubleshoot"
    notebook = SolutionNotebook(lab, kernels)

    with notebook.booting():  # the kernel boots while the first two steps run
        with step("reset"):
            lab.reset(world)
            before = baseline(world)
        with step("fresh check fails helpfully"):
            fresh = lab.check(world)
            _assert_helpful_failure(fresh)
            assert fresh.failed[0].hint, f"the first failing item of lab {number} has no hint:\n{fresh}"
            if trouble:  # before the start, the pending titles name no cause either
                assert not any(w in text(fresh) for w in CAUSE_WORDS[number]), str(fresh)
            with pytest.raises(labs.LabCheckFailed, match=f"Lab {number}"):
                lab.check(world, strict=True)

        with notebook.kernel():
            if trouble:  # the break, made once: everything up to the last reset happens on it
                with step(f"start: the first cell of {lab.solution_notebook}"):
                    notebook.run("start")
                with step("the check names the symptom, and its hints grow"):
                    _symptom_and_growing_hints(world, lab)
            for fix in _steps(WRONG, number):
                with step(f"wrong fix {fix.__name__}"):
                    fix(world)
            if not trouble:  # a build lab's start is its reset: it undoes the last wrong fix
                with step(f"start: the first cell of {lab.solution_notebook}"):
                    notebook.run("start")
            with step(f"right fix: {lab.solution_notebook}, up to its own strict check"):
                notebook.run("fix")
            with step("strict check passes, the pass is recorded"):
                solved = lab.check(world, strict=True)
                assert solved.passed and not solved.failed
                assert number in progress.passed_numbers(world.prefix)
            for fix in _steps(RIGHT, number):
                with step(f"other right fix {fix.__name__}"):
                    fix(world)
            for fix in _steps(lab_fixes_trouble.LAST, number):
                with step(f"before the reset: {fix.__name__}"):
                    fix(world)
            with step(f"reset: the last cell of {lab.solution_notebook}"):
                done = notebook.tidy()

    with step("after the reset: no names, the world as before, the check fails again"):
        assert names_left(world, lab) == []
        assert baseline(world) == before, "the reset did not restore the world around the lab"
        assert not lab.check(world).passed
    for after in _steps(lab_fixes_trouble.AFTER, number):
        with step(f"after the reset: {after.__name__}"):
            after(world, done)
