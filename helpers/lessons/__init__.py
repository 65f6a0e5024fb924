"""Lessons: what the chapter notebooks call, on top of the other rooms.

A chapter imports its tools from here in one short line (its setup cell)::

    from helpers.lessons import ch01, claims, facts, probes

* `ch00` ... `ch10`: one module per chapter, beside its notebook source `notebooks/src/chNN.py` and
  its claim tests `tests/integration/test_claims_chNN.py` (chapter 10, the glossary, has no claims):
  all the chapter's own helpers (one call, one idea, evidence as a dict), and the shared helpers it
  uses, as `chNN.NAME`;
* `common`: what several chapters share (guarded sends, the packet-path figure, the rule trace);
* `facts`: live state as plain Python data (a thin layer over `helpers.observe` and `helpers.capture`);
* `claims`: statements a cell proves (they fail CI the day they stop being true);
* `lesson`: a chapter's own ad-hoc containers and networks (`Lesson`);
* `probes`: a scenario's probes run for real, with their verdicts.

No other module: a chapter's helpers, however many, are in its `chNN` (tests/unit/test_lessons_room.py).

Nothing is imported here: `from helpers.lessons import facts` loads only what it names.
"""
