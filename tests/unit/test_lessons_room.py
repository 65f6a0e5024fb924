"""The lessons room is cut by chapter (issue 20.4): each chapter source `notebooks/src/chNN.py` has its
helpers in `helpers/lessons/chNN.py`, and the other modules of helpers/lessons/ are the few below, which
every chapter may share. A chapter's helpers spread over modules of their own (chapter 7 once had
`measure` and `two_engines`, chapter 10 `glossary`) fail here.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "helpers" / "lessons"
SOURCES = ROOT / "notebooks" / "src"
CHAPTER = re.compile(r"ch\d\d")

# The shared modules: not one chapter's, each used by several (or by every claim).
COMMON = {
    "__init__": "the room's docstring: what it owns",
    "common": "what several chapters' helpers share (guarded sends, the packet-path figure, the rule trace)",
    "facts": "live state as plain Python data, read by every chapter and by the labs",
    "claims": "statements a cell proves, and the `@measured` mark every chapter's helpers carry",
    "lesson": "`Lesson`: a chapter's own containers and networks",
    "probes": "a scenario's probes run for real, with their verdicts",
}


def _stems(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.py")}


def misplaced(lessons: set[str], chapters: set[str]) -> dict[str, list[str]]:
    """What breaks the rule: chapters without their module, chapter modules without a chapter, and
    modules that are neither a chapter's nor shared."""
    return {
        "chapters without helpers/lessons/chNN.py": sorted(chapters - lessons),
        "chNN modules without notebooks/src/chNN.py": sorted(n for n in lessons - chapters if CHAPTER.fullmatch(n)),
        "neither a chapter's nor shared": sorted(n for n in lessons - chapters - set(COMMON)
                                                 if not CHAPTER.fullmatch(n)),
    }


def test_each_chapter_has_its_module_and_the_rest_is_the_shared_few():
    chapters = {s for s in _stems(SOURCES) if CHAPTER.fullmatch(s)}
    assert len(chapters) >= 11, chapters   # ch00 ... ch10
    assert misplaced(_stems(LESSONS), chapters) == {
        "chapters without helpers/lessons/chNN.py": [],
        "chNN modules without notebooks/src/chNN.py": [],
        "neither a chapter's nor shared": [],
    }


def test_the_rule_fails_on_the_old_layout():
    """Chapter 7's helpers in three modules and chapter 10's under another name: each is named."""
    chapters = {f"ch{n:02d}" for n in range(11)}
    old = (chapters - {"ch10"}) | set(COMMON) | {"measure", "two_engines", "glossary"}
    found = misplaced(old, chapters)
    assert found["chapters without helpers/lessons/chNN.py"] == ["ch10"]
    assert found["neither a chapter's nor shared"] == ["glossary", "measure", "two_engines"]
    orphan = misplaced(chapters | set(COMMON) | {"ch11"}, chapters)
    assert orphan["chNN modules without notebooks/src/chNN.py"] == ["ch11"]


def _named(text: str) -> set[str]:
    return {n for n in re.findall(r"`(\w+)`", text) if not CHAPTER.fullmatch(n)}


def test_the_shared_modules_are_the_rooms_documented_list():
    """The room's docstring (its bullets) and docs/ARCHITECTURE.md's lessons row (its modules column)
    name each shared module, and no other module."""
    doc = ast.get_docstring(ast.parse((LESSONS / "__init__.py").read_text()))
    bullets = " ".join(re.findall(r"^\* (.*?):", doc, re.M))
    row = next(line for line in (ROOT / "docs" / "ARCHITECTURE.md").read_text().splitlines()
               if line.startswith("| `lessons/` |"))
    shared = set(COMMON) - {"__init__"}
    assert _named(bullets) == shared, "helpers/lessons/__init__.py's bullets"
    assert _named(row.split("|")[2]) == shared, "docs/ARCHITECTURE.md's lessons row"


def chapter_imports(source: str) -> set[str]:
    """The chapter modules (`helpers.lessons.chNN`) a module's source imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.rsplit(".", 1)[1] for n in names
                  if n.startswith("helpers.lessons.") and CHAPTER.fullmatch(n.rsplit(".", 1)[1])}
    return found


def test_no_chapter_module_imports_another():
    """What two chapters use lives in `common` (chapter 5 once took `host_egress` from chapter 3), so
    a chapter's module can change without reaching into another chapter."""
    reaching = {path.stem: sorted(chapter_imports(path.read_text()) - {path.stem})
                for path in sorted(LESSONS.glob("ch[0-9][0-9].py"))}
    assert {stem: found for stem, found in reaching.items() if found} == {}
    assert chapter_imports("from helpers.lessons.ch03 import host_egress\n") == {"ch03"}
    assert chapter_imports("from helpers.lessons import ch03, facts\n") == {"ch03"}
