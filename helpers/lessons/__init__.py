"""Lessons: what the chapter notebooks call, on top of the other rooms.

A chapter imports its tools from here in one short line::

    from helpers.lessons import chapters, claims, facts, probes

* `facts`: live state as plain Python data (a thin layer over `helpers.observe` and `helpers.capture`);
* `claims`: statements a cell proves (they fail CI the day they stop being true);
* `chapters`: compound demonstrations (one call, one idea, evidence as a dict);
* `lesson`: a chapter's own ad-hoc containers and networks (`Lesson`);
* `probes`: a scenario's probes run for real, with their verdicts;
* `measure`: latency and throughput through each driver (chapter 7);
* `glossary`: the article's terms (chapter 10).

Nothing is imported here: `from helpers.lessons import facts` loads only what it names.
"""
