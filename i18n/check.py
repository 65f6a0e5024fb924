"""`make check-translations`: the Japanese catalogs against today's English.

For the chapters declared translated (i18n/ja/edition.toml) it fails on
- a **stale** id: the English changed since its Japanese was written or last reviewed (the hash stored
  beside the Japanese is not the hash of today's English);
- a **missing** id: an English text with no Japanese;
- an **unknown** id: a catalog entry no English text has any more (renamed or removed);
- a Japanese text that drops what must stay as it is: an article quote 「...」, an inline `code` span,
  an IP address, an `[[engine:...]]` marker, a key word a cell's prose states about an output;
- a code cell whose Japanese is not the same code: only comments and the prose strings a claim shows
  (with a space, not an article quote, not a key or a compared value) may differ;
- a library text (`translate(...)` under helpers/: figure labels, the explorer, labs, the CLI) whose
  Japanese is missing, stale, or has other `{field}`s than the English, once its room (`draw`,
  `widgets`, `labs`, `cli`) is declared in edition.toml.
Chapters not declared are reported "not yet translated" with how far they are, and never fail.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import string

from i18n import CATALOGS, HELPERS, SOURCES, catalog, sources

QUOTE = re.compile(r"「[^」]*」")
FENCE = re.compile(r"```.*?```", re.S)
SPAN = re.compile(r"`[^`]+`")          # a span may wrap across lines: compared with whitespace collapsed
SPACE = re.compile(r"\s+")
IP = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])")


def kept(en: str, ja: str) -> list[str]:
    """What a markdown text's Japanese dropped of what must stay as the English writes it."""
    out = []
    for quote in dict.fromkeys(QUOTE.findall(en)):
        if quote not in ja:
            out.append(f"article quote not verbatim: {quote[:40]}...")
    en_spans, ja_plain = FENCE.sub("", en), SPACE.sub(" ", FENCE.sub("", ja))
    for span in dict.fromkeys(SPACE.sub(" ", s) for s in SPAN.findall(en_spans)):
        if span not in ja_plain:
            out.append(f"code span {span} missing")
    for ip in dict.fromkeys(IP.findall(en)):
        if ip not in ja:
            out.append(f"address {ip} missing")
    if sorted(sources.ENGINE.findall(en)) != sorted(sources.ENGINE.findall(ja)):
        out.append("[[engine:...]] markers differ")
    return out


class _Shape(ast.NodeTransformer):
    """A tree with each string blanked, and the strings in order with whether a translation may change them."""

    def __init__(self, tree):
        self.parent = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        self.strings: list[tuple[str, bool]] = []

    def _prose(self, node, text: str) -> bool:
        used = isinstance(self.parent.get(node), ast.Subscript | ast.Compare)   # a key, a compared value
        return " " in text.strip() and "「" not in text and not used

    def visit_JoinedStr(self, node):
        fields = sorted(ast.dump(v) for v in node.values if isinstance(v, ast.FormattedValue))
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        self.strings.append((text, self._prose(node, text)))
        return ast.copy_location(ast.Constant(value="f-string " + " ".join(fields)), node)

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            self.strings.append((node.value, self._prose(node, node.value)))
            return ast.copy_location(ast.Constant(value=""), node)
        return node


@functools.lru_cache(maxsize=4096)   # a pure function of the text: each check reads the same cells again
def _shape(source: str) -> tuple[str, tuple[tuple[str, bool], ...]]:
    tree = ast.parse(source)
    shape = _Shape(tree)
    return ast.dump(shape.visit(tree)), tuple(shape.strings)


def same_code(en: str, ja: str) -> list[str]:
    """Why the Japanese of a code cell is not the same code as the English (empty: it is)."""
    try:
        en_dump, en_strings = _shape(en)
        ja_dump, ja_strings = _shape(ja)
    except SyntaxError as e:
        return [f"not valid Python: {e}"]
    if en_dump != ja_dump:
        return ["the code differs (not only comments and prose strings)"]
    return [f"changed a string the code uses: {a!r} -> {b!r}"
            for (a, prose), (b, _) in zip(en_strings, ja_strings, strict=True) if a != b and not prose]


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)   # one line per failing id, naming it

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        tail = (["", f"FAILED: {len(self.failures)} problem(s)", *(f"  {f}" for f in self.failures)]
                if self.failures else ["", "ok"])
        return "\n".join(self.lines + tail)


def fields(text: str) -> list[str]:
    """The `{field}`s of a runtime text, in order (str.format's own parser)."""
    try:
        return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError as e:
        return [f"<unparsable: {e}>"]


def _text_problems(text: sources.Text, entry: catalog.Entry | None, states: list[str]) -> list[str]:
    if entry is None or not entry.ja.strip():
        return ["missing: no Japanese for this English text"]
    out = []
    if entry.en_sha != catalog.sha(text.en):
        out.append("stale: the English changed after its Japanese was last reviewed")
    if text.kind == "markdown":
        out += kept(text.en, entry.ja)
        out += [f"stated key word {w!r} missing" for w in states if w not in entry.ja]
    elif text.kind in ("code", "claim", "solution"):
        out += same_code(text.en, entry.ja)
    elif text.kind == "terminal":
        out += _text_problems_terminal(text.en, entry.ja)
    elif text.kind == "runtime" and fields(text.en) != fields(entry.ja):
        out.append(f"fields differ: {fields(text.en)} in the English, {fields(entry.ja)} in the Japanese")
    return out


def _states(ch: sources.Chapter) -> dict[str, list[str]]:
    out = {}
    for cell in ch.notebook.cells:
        meta = cell.metadata.get(ch.key) or {}
        if meta.get("full_id") and "states" in cell.metadata:
            out[meta["full_id"]] = [w for words in cell.metadata["states"].values() for w in words]
    return out


def part_of(text_id: str) -> str:
    """The part of a room an id belongs to: `labs:lab01:goal` -> `labs:lab01`, `cli:lab:reset` -> `cli:lab`."""
    return ":".join(text_id.split(":", 2)[:2])


def is_declared(text_id: str, declared: list[str]) -> bool:
    """A runtime text is checked when its room is declared (`labs`), or its part (`labs:lab01`); the
    labs' shared parts (`sources.LAB_SHARED`: every lab shows them) once any lab is."""
    room, part = text_id.split(":", 1)[0], part_of(text_id)
    if room in declared or part in declared:
        return True
    return part in sources.LAB_SHARED and any(re.fullmatch(r"labs:lab\d+", d) for d in declared)


def _text_problems_terminal(en: str, ja: str) -> list[str]:
    """A shell block's Japanese: the same commands, only the `# comments` (and `<placeholders>`) translated."""
    def commands(text: str) -> list[str]:
        return [re.sub(r"<[^>]*>", "<>", line.split("#", 1)[0]).strip() for line in text.strip().splitlines()]
    return [] if commands(en) == commands(ja) else ["the commands differ (only # comments may be translated)"]


def _runtime(report: Report, runtime: tuple[list[sources.Text], list[str]], cats: dict, declared: list[str]) -> None:
    texts, problems = runtime
    report.failures += problems
    for room in sources.RUNTIME_ROOMS:
        mine = [t for t in texts if t.chapter == room]
        cat = cats.get(room, {})
        part = [t for t in mine if is_declared(t.id, declared)]
        shared = {t.id: cats.get(catalog.catalog_of(t.id), {}).get(t.id) for t in mine if t.id.startswith("common:")}
        cat = {**cat, **{i: e for i, e in shared.items() if e is not None}}   # an engine fact's Japanese
        if part and room not in declared:
            have = sum(1 for t in mine if t.id in cat and cat[t.id].ja.strip())
            found = [f"{t.id}: {p}" for t in part for p in _text_problems(t, cat.get(t.id), [])]
            known = {t.id for t in mine}
            found += [f"{i}: unknown id: no translate() call has it (renamed or removed?)" for i in cat
                      if i not in known and is_declared(i, declared) and not i.startswith("common:")]
            parts = sorted(d for d in declared if d.startswith(room + ":"))
            report.lines.append(f"{room}: translated in part ({', '.join(parts)}: {len(part)} texts, "
                                f"{len(found)} problem(s)); {have}/{len(mine)} texts of the room have Japanese")
            report.failures += found
            continue
        if room not in declared:
            have = sum(1 for t in mine if t.id in cat and cat[t.id].ja.strip())
            if mine or cat:
                report.lines.append(f"{room}: not yet translated ({have}/{len(mine)} texts have Japanese)")
            continue
        found = [f"{t.id}: {p}" for t in mine for p in _text_problems(t, cat.get(t.id), [])]
        known = {t.id for t in mine}
        found += [f"{i}: unknown id: no translate() call has it (renamed or removed?)" for i in cat
                  if i not in known and not i.startswith("common:")]
        unreviewed = sum(1 for t in mine if t.id in cat and not cat[t.id].reviewed)
        report.lines.append(f"{room}: translated, {len(mine)} texts, {len(found)} problem(s), "
                            f"{unreviewed} not yet reviewed by a second reader")
        report.failures += found


def run(src: Path = SOURCES, catalogs: Path = CATALOGS, helpers_dir: Path = HELPERS) -> Report:
    report = Report()
    chapters = sources.chapters(src)
    cats = catalog.load_dir(catalogs)
    entries = {i: e for cat in cats.values() for i, e in cat.items()}
    declared = catalog.translated(catalogs)
    known = {t.id for ch in chapters for t in ch.texts}
    for name in declared:
        if name not in {ch.name for ch in chapters} and name.split(":")[0] not in sources.RUNTIME_ROOMS:
            report.failures.append(f"{name}: declared translated in edition.toml, but there is no {name}.py")
    for ch in chapters:
        is_declared = ch.name in declared
        texts = list({t.id: t for t in ch.texts}.values())
        have = sum(1 for t in texts if t.id in entries and entries[t.id].ja.strip())
        if not is_declared:
            report.lines.append(f"{ch.name}: not yet translated ({have}/{len(texts)} texts have Japanese)")
            continue
        states = _states(ch)
        problems = [f"{p}" for p in ch.problems]
        for t in texts:
            problems += [f"{t.id}: {p}" for p in _text_problems(t, entries.get(t.id), states.get(t.id, []))]
        problems += [f"{i}: unknown id: no English text has it (renamed or removed?)"
                     for i in cats.get(ch.name, {}) if i not in known]
        unreviewed = sum(1 for t in texts if t.id in entries and not entries[t.id].reviewed)
        report.lines.append(f"{ch.name}: translated, {len(texts)} texts, {len(problems)} problem(s), "
                            f"{unreviewed} not yet reviewed by a second reader")
        report.failures += problems
    runtime = sources.runtime(helpers_dir)      # read once: it parses every module of the library
    _runtime(report, runtime, cats, declared)
    known |= {t.id for t in runtime[0] if t.id.startswith("common:")}   # the labs' facts
    orphans = [i for i in cats.get("common", {}) if i not in known]
    report.failures += [f"{i}: unknown id: no chapter uses it (renamed or removed?)" for i in orphans]
    return report
