"""Chapter 05's exercise 2 and its answer agree with what the answer prints (issue 20.7).

The old exercise asked why `egress` "shows no MASQUERADE at all on host1", and its answer printed
host1's MASQUERADE rules: host1 has them (for its bridges' subnets), they just count nothing of a
macvlan container's traffic, which host1 never routes. The exercise now states what is observed (the
rules exist, they count no packet of egress, the internet sees the container's own LAN address) and
ties those words to the answer cell's output (`md(states=)`, `solution(output=)`), which
tests/learner/view.py `prose_against_outputs` checks on every learner-tier run.

The saved output is the answer cell's real one (world lt, Docker 20.10.24); the old answer's output is
the same `iptables-save -t nat -c | grep MASQUERADE` run on host1 of that world."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tests.learner import view

DATA = Path(__file__).parent / "data" / "prose" / "ch05_masquerade_cell.json"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_macvlan.ipynb"
TAG = "ch05:masquerade"

OLD_QUESTION = "2. Why does `egress` show no MASQUERADE at all on host1?"
OLD_ANSWER_OUTPUT = ("host1# iptables-save -t nat -c | grep MASQUERADE\n"
                     "[0:0] -A POSTROUTING -s 172.19.0.0/16 ! -o br-ab58a922aec1 -j MASQUERADE\n"
                     "[0:0] -A POSTROUTING -s 172.18.0.0/16 ! -o br-7a1334d26e9a -j MASQUERADE\n"
                     "[0:0] -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n")


def _statement() -> nbformat.NotebookNode:
    """The markdown cell of notebooks/05_macvlan.ipynb that states the answer cell's output."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    found = [c for c in nb.cells if TAG in c.get("metadata", {}).get("states", {})]
    assert len(found) == 1, f"no markdown cell of chapter 05 states what {TAG!r} prints"
    return found[0]


def _answered(statement, source: str, outputs: list) -> nbformat.NotebookNode:
    answer = nbformat.v4.new_code_cell(source, outputs=outputs)
    answer.metadata["tags"] = ["solution", f"output:{TAG}"]
    return nbformat.v4.new_notebook(cells=[answer, statement])


def test_the_exercise_states_what_its_answer_prints():
    statement = _statement()
    assert "show no MASQUERADE at all" not in statement.source
    saved = json.loads(DATA.read_text())
    nb = _answered(statement, saved["source"], [nbformat.from_dict(o) for o in saved["outputs"]])
    assert view.prose_against_outputs(nb) == []
    shown = view._plain(" ".join(t for o in nb.cells[0].outputs for t in view._texts(o)))
    assert "-j masquerade" in shown and "counted no packet of egress" in shown


def test_the_generated_answer_is_the_saved_one():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    (answer,) = [c for c in nb.cells if f"output:{TAG}" in c.get("metadata", {}).get("tags", [])]
    assert answer.source == json.loads(DATA.read_text())["source"]


def test_the_old_question_is_caught_against_the_old_answers_output():
    old = nbformat.v4.new_markdown_cell(OLD_QUESTION)
    old.metadata["states"] = {TAG: ["no MASQUERADE"]}
    printed = nbformat.v4.new_output("stream", name="stdout", text=OLD_ANSWER_OUTPUT)
    (problem,) = view.prose_against_outputs(_answered(old, "print(facts.sh(...))", [printed]))
    assert problem.kind == "prose against output" and "'no MASQUERADE'" in problem.detail
