"""A lab is one module plus one line of helpers/labs/registry.py (issue 20.4): a lab module written in
a package of this test's own, listed by one added line, is found everywhere a lab must appear: `labs.get`
and the list, `dnlab lab list|show`, `solutions.apply`, both notebooks, labs/README.md's table (whose
check then asks for the row), and the journeys' symptoms and cause words. And today's README table is
the registry's."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from helpers import labs
from helpers.cli import main
from helpers.labs import notebooks, registry, solutions

EXTRA_LAB = '''
"""Lab 99: a lab written for the registry test (one module: metadata, start, check, solution)."""
from __future__ import annotations

from helpers.labs.model import Checks, Lab

SOLVED = []
SYMPTOM = "lab99-box answers"
CAUSE_WORDS = ["the hidden cause"]


def break_it(world) -> None:
    """The broken start."""


def check(world, c: Checks) -> None:
    c.expect(SYMPTOM, bool(SOLVED), "lab99-box does not answer", "look closer")


def solution(world):
    """echo the terminal way"""
    # %% The one step.
    SOLVED.append(world)


LAB = Lab(99, "extra-lab", "Troubleshooting: an extra lab", "lab99-box answers again.",
          ["Start the lab.", "Fix it."], check, containers=[("host1", "lab99-box")], setup_fn=break_it,
          kind="troubleshoot", summary="troubleshooting: a lab added by one module and one line",
          solution=solution, why="**Why.** It was hidden.", symptom=SYMPTOM, cause_words=CAUSE_WORDS)
'''


@pytest.fixture
def extra_lab(tmp_path, monkeypatch):
    package = tmp_path / "dnlab_extra_labs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lab99.py").write_text(textwrap.dedent(EXTRA_LAB))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "LAB_MODULES", [*registry.LAB_MODULES, "dnlab_extra_labs.lab99"])  # the one line
    labs.reload()
    yield importlib.import_module("dnlab_extra_labs.lab99")
    monkeypatch.undo()
    labs.reload()
    sys.modules.pop("dnlab_extra_labs.lab99", None)
    sys.modules.pop("dnlab_extra_labs", None)
    import tests.integration.lab_symptoms as symptoms
    importlib.reload(symptoms)


def test_the_readme_table_is_the_registry():
    readme = notebooks.README.read_text()
    assert notebooks.readme_with_table(readme, notebooks.readme_table()) == readme, \
        "labs/README.md's table is not the registry's: run python -m helpers.labs.notebooks"
    assert [lab.number for lab in labs.all_labs()] == list(range(1, len(registry.LAB_MODULES) + 1))


def test_a_lab_is_one_module_and_one_registry_line(extra_lab, capsys):
    lab = extra_lab.LAB
    assert labs.get(99) is lab and labs.get("extra-lab") is lab and labs.all_labs()[-1] is lab

    assert main(["--world", "u99", "lab", "list"]) == 0
    assert "99  not yet  Troubleshooting: an extra lab  [extra-lab]" in capsys.readouterr().out
    assert main(["lab", "show", "99"]) == 0
    assert "labs/99_extra_lab.ipynb" in capsys.readouterr().out

    solutions.apply(99, "the world")
    assert extra_lab.SOLVED == ["the world"] and solutions.WHY[99] == "**Why.** It was hidden."

    learner, solution = notebooks.render(lab)
    assert learner.name == "99_extra_lab.ipynb" and solution.parent.name == "solutions"
    assert "SOLVED.append(world)" in notebooks.render(lab)[solution]

    table = notebooks.readme_table()
    assert table.endswith("| 99 | extra-lab | troubleshooting: a lab added by one module and one line |\n")
    readme = notebooks.README.read_text()
    assert notebooks.readme_with_table(readme, table) != readme  # the README check asks for the new row
    assert table in notebooks.readme_with_table(readme, table)

    import tests.integration.lab_symptoms as symptoms
    importlib.reload(symptoms)
    assert symptoms.SYMPTOM[99] == "lab99-box answers" and symptoms.CAUSE_WORDS[99] == ["the hidden cause"]


def test_two_labs_of_one_number_are_refused(extra_lab, monkeypatch):
    monkeypatch.setattr(extra_lab.LAB, "number", 1)
    with pytest.raises(RuntimeError, match="two labs have the number 1"):
        registry.load()
