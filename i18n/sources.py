"""The English texts of the chapters, each with its id: read by building each chapter
(notebooks/src/chNN.py) with `nb.KEEP_TEXT_IDS`, so the ids and texts are exactly what the English
notebooks are generated from."""
from __future__ import annotations

import functools
import importlib.util
import io
import re
import sys
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.world import engine_facts

ENGINE = re.compile(r"\[\[engine:([a-z0-9-]+)\]\]")


@dataclass
class Text:
    id: str             # ch01:summary, ch01:claim:snat, common:setup, common:engine:direct-access
    kind: str           # markdown, code, claim, solution, engine
    en: str             # the English, as the source writes it (markdown: before [[engine:...]] is rendered)
    chapter: str        # the chapter it was read from (for a common text: the first that uses it)


@dataclass
class Chapter:
    name: str                       # ch01
    filename: str                   # 01_basics_nat.ipynb
    notebook: object                # the nbformat notebook, each cell's text id in its metadata
    texts: list[Text]
    problems: list[str]             # a cell a learner reads that has no id
    key: str = "dnlab_text"          # nb.TEXT_KEY: the cell metadata holding a text's id


def has_comment(source: str) -> bool:
    try:
        return any(t.type == tokenize.COMMENT for t in tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return True


@contextmanager
def _nb_module(src: Path):
    """The chapters' `nb` module, loaded from `src` under the name they import, keeping text ids."""
    saved_path, saved_nb = list(sys.path), sys.modules.pop("nb", None)
    sys.path.insert(0, str(src))
    try:
        import nb  # noqa: PLC0415  (the copy in `src`)
        nb.KEEP_TEXT_IDS = True
        yield nb
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("nb", None)
        if saved_nb is not None:
            sys.modules["nb"] = saved_nb


def _load(path: Path):
    name = f"_dnlab_i18n_{abs(hash(str(path)))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chapter(src: Path, path: Path, key: str) -> Chapter:
    """One chapter built with its text ids kept (the caller holds `_nb_module`)."""
    name = path.stem
    module = _load(path)
    notebook = module.build()
    texts, problems = [], []
    for i, cell in enumerate(notebook.cells):
        meta = cell.metadata.get(key)
        if meta is None:
            continue
        if meta["id"] is None:
            if meta["kind"] == "markdown" or has_comment(cell.source):
                problems.append(f"{name}: cell {i} ({meta['kind']}, {cell.source[:50]!r}...) has text a learner "
                                f"reads but no id= in {path.name}")
            continue
        full = meta["id"] if meta["id"].startswith("common:") else f"{name}:{meta['id']}"
        meta["full_id"] = full
        texts.append(Text(full, meta["kind"], meta["en"], name))
        for fact in ENGINE.findall(meta["en"]) if meta["kind"] == "markdown" else []:
            texts.append(Text(f"common:engine:{fact}", "engine", engine_facts.say(fact), name))
    ids = [t.id for t in texts if not t.id.startswith("common:")]
    problems += [f"{name}: id {i} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return Chapter(name, module.FILENAME, notebook, texts, problems, key)


def chapters(src: Path) -> list[Chapter]:
    """Every chapter of `src` (notebooks/src or a copy of it), in order."""
    with _nb_module(src) as nb:
        return [chapter(src, path, nb.TEXT_KEY) for path in sorted(src.glob("ch[0-9][0-9].py"))]


# The texts the library itself shows (helpers/language.py): each `translate("room:...", "English", ...)`
# call under helpers/, read from the code's syntax tree (both arguments are literals by that module's rule).
# world: what a reset says it undid, what a probe reached; scenarios: each probe's description (a figure's subtitle)
RUNTIME_ROOMS = ("lessons", "draw", "widgets", "labs", "cli", "world", "scenarios")


def _translate_calls(path: Path, root: Path):
    for line, text_id, en in _calls_in(path.read_text(encoding="utf-8")):
        yield f"{path.relative_to(root)}:{line}", text_id, en


# Keyed by the file's text, never by its path: an edited file is parsed afresh, an unchanged one (each
# check reads all of helpers/) is not parsed again.
@functools.lru_cache(maxsize=1024)
def _calls_in(source: str) -> tuple[tuple[int, str | None, str | None], ...]:
    """Each `translate(...)` call of a module's source: (line, id, English), id and English None when
    either is not a literal."""
    import ast  # noqa: PLC0415

    # A call named translate needs that word in the text; only a non-ASCII identifier could spell it
    # otherwise (Python reads identifiers NFKC-normalized), so such a file is always parsed.
    if "translate" not in source and source.isascii():
        return ()
    calls = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name != "translate":
            continue
        args = node.args[:2]
        if len(args) < 2 or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            calls.append((node.lineno, None, None))
            continue
        calls.append((node.lineno, args[0].value, args[1].value))
    return tuple(calls)


# A lab's data texts (helpers/labs/labNN.py's `LAB`, and its reference solution's cells): each with its
# stable id `labs:labNN:<field>` (helpers/language.py says which), read from the lab registry itself,
# so a changed sentence in a `LAB` makes its id stale just as a changed `translate(...)` literal does.
LAB_SHARED = ("labs:model", "labs:common", "labs:trouble", "labs:notebook", "common:engine")   # every lab shows them
LAB_FIELDS = ("title", "goal", "tools", "summary", "symptom", "why")
MARKDOWN_FIELDS = ("goal", "tools", "why")           # checked as markdown: code spans, addresses kept


def lab_texts(all_labs: list | None = None) -> list[Text]:
    """Every data text of every lab (or of `all_labs`), in the lab's order: fields, tasks, solution cells,
    and the engine facts a solution cell names (`[[engine:ID]]`: `common:engine:ID`, in common.toml as
    for the chapters, so a lab declared translated needs their Japanese too)."""
    from helpers import labs as lab_room  # noqa: PLC0415
    from helpers.labs import notebooks  # noqa: PLC0415

    out = []
    for lab in all_labs if all_labs is not None else lab_room.all_labs():
        def add(field: str, kind: str, en: str, lab=lab) -> None:
            if en.strip():
                out.append(Text(lab.text_id(field), kind, en, "labs"))
        for field in LAB_FIELDS[:2]:
            add(field, "markdown" if field in MARKDOWN_FIELDS else "data", getattr(lab, field))
        for i, task in enumerate(lab.tasks, 1):
            add(f"task{i}", "markdown", task)
        for field in LAB_FIELDS[2:]:
            add(field, "markdown" if field in MARKDOWN_FIELDS else "data", getattr(lab, field))
        if lab.solution is None:
            continue
        doc, steps = notebooks.solution_steps(lab.number)
        for k, (text, code) in enumerate(steps, 1):
            add(f"step{k}", "markdown", text)
            for fact in ENGINE.findall(text):   # the engine table's sentence: the chapters' common:engine:ID
                out.append(Text(f"common:engine:{fact}", "engine", engine_facts.say(fact), "labs"))
            if has_comment(code):
                add(f"code{k}", "code", code)
        add("terminal", "terminal", doc.strip())
    return out


def runtime(helpers_dir: Path, labs: bool | None = None) -> tuple[list[Text], list[str]]:
    """Every runtime text of the library: (texts, problems), with the labs' data texts (`lab_texts`,
    from the registry as imported) when `labs` is True, or by default when `helpers_dir` has the labs
    room. A problem is a call whose id or English is not a literal, an id outside the rooms, or one id
    given two different Englishes."""
    if labs is None:
        labs = (helpers_dir / "labs" / "registry.py").exists()
    texts: dict[str, Text] = {}
    problems = []
    root = helpers_dir.parent
    for path in sorted(helpers_dir.rglob("*.py")):
        if path.name == "language.py":
            continue        # its docstring's examples are not texts
        for where, text_id, en in _translate_calls(path, root):
            if text_id is None:
                problems.append(f"{where}: translate() needs a literal id and a literal English text")
                continue
            room = text_id.split(":", 1)[0]
            if room not in RUNTIME_ROOMS or ":" not in text_id:
                problems.append(f"{where}: id {text_id!r} must start with one of {', '.join(RUNTIME_ROOMS)} and a colon")
                continue
            if text_id in texts and texts[text_id].en != en:
                problems.append(f"{where}: id {text_id} is used with two different English texts")
                continue
            texts[text_id] = Text(text_id, "runtime", en, room)
    for t in lab_texts() if labs else []:
        if t.id in texts and t.kind != "engine":
            problems.append(f"{t.id}: a lab's data text and a translate() call have the same id")
        texts[t.id] = t
    return list(texts.values()), problems
