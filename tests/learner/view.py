"""What a learner sees in an executed notebook, checked: pure functions over nbformat notebooks.

Each detector returns `Problem`s naming the cell and what is wrong, so a failing test says where
to look. The detectors read outputs as a front end renders them:

- a figure cell (it draws: `show_path`, `draw_path`, `draw_map`, `draw_world`, `draw_host_map`,
  `ch07.plot`, or it is tagged `figure`) must have an `image/png` output;
- no output may hold matplotlib's `<Figure size ...>` (a figure that was never rendered);
- a markdown cell must not contain an indented code block (a line indented 4+ spaces outside a
  fence, e.g. a `dedent` that failed after concatenation): it renders as grey code, not prose;
- a table cell (`<td>`) must not hold a raw Python dict or list repr (`{'` or `['`);
- a solution cell must not print a probe's row as a raw dict (`{'probe': ..., 'reached': True, ...}`):
  it shows a table (`facts.table`);
- no cell may end in an error (a learner sees the traceback);
- a sentence stating what a cell prints (a markdown cell's `states`) must agree with that cell's
  output: its key words are in it (`prose_against_outputs`).
"""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

import nbformat

FIGURE_CALL = re.compile(r"\b(show_path|draw_path|draw_map|draw_world|draw_host_map)\s*\(|\bch07\.plot\s*\(")
FIGURE_TAG = "figure"
TD = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S | re.I)
RAW_REPR = ("{'", "['")      # Python's repr of a dict or list of strings
MIN_PNG_BYTES = 2000     # a real figure; an empty canvas is a few hundred bytes


@dataclass(frozen=True)
class Problem:
    cell: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"cell {self.cell} [{self.kind}]: {self.detail}"


def _code(source: str) -> str:
    """The source without comment lines (a commented-out call draws nothing)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def is_figure_cell(cell) -> bool:
    if cell.cell_type != "code":
        return False
    return FIGURE_TAG in cell.get("metadata", {}).get("tags", []) or bool(FIGURE_CALL.search(_code(cell.source)))


def figure_cells(nb) -> list[int]:
    """Indices of the cells that draw a figure."""
    return [i for i, cell in enumerate(nb.cells) if is_figure_cell(cell)]


def _texts(output) -> list[str]:
    """Every text a front end could show for one output."""
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    if output.get("output_type") == "error":
        return ["\n".join(output.get("traceback", []))]
    data = output.get("data", {})
    return [data[m] if isinstance(data[m], str) else "".join(data[m]) for m in ("text/plain", "text/html") if m in data]


def _pngs(cell) -> list[bytes]:
    found = []
    for output in cell.get("outputs", []):
        png = output.get("data", {}).get("image/png")
        if png:
            found.append(base64.b64decode(png if isinstance(png, str) else "".join(png)))
    return found


def missing_images(nb) -> list[Problem]:
    problems = []
    for i in figure_cells(nb):
        pngs = _pngs(nb.cells[i])
        if not pngs:
            problems.append(Problem(i, "no image", f"a figure cell shows no image/png: {nb.cells[i].source[:80]!r}"))
        elif max(len(p) for p in pngs) < MIN_PNG_BYTES:
            problems.append(Problem(i, "empty image", f"largest PNG is {max(len(p) for p in pngs)} bytes"))
    return problems


def unrendered_figures(nb) -> list[Problem]:
    problems = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            for text in _texts(output):
                match = re.search(r"<Figure size[^>]*>", text)
                if match:
                    problems.append(Problem(i, "figure as text", match.group(0)))
    return problems


def indented_code_in_markdown(nb) -> list[Problem]:
    """Markdown that renders as a code block without a fence (mistune, nbconvert's own parser)."""
    import mistune

    parse = mistune.create_markdown(renderer=None)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for block in _walk(parse(cell.source)):
            if block.get("type") == "block_code" and block.get("style") == "indent":
                first = block.get("raw", "").strip().splitlines()[:1]
                problems.append(Problem(i, "markdown as code", f"indented block: {first[0][:80] if first else ''!r}"))
    return problems


def _walk(tokens):
    for token in tokens or []:
        yield token
        yield from _walk(token.get("children"))


def raw_reprs_in_tables(nb) -> list[Problem]:
    problems = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html")
            if not page:
                continue
            page = page if isinstance(page, str) else "".join(page)
            for td in TD.findall(page):
                text = html.unescape(re.sub(r"<[^>]+>", "", td))
                if any(mark in text for mark in RAW_REPR):
                    problems.append(Problem(i, "raw repr in table", text.strip()[:100]))
    return problems


RAW_PROBE_ROW = re.compile(r"\{'[^'\n]+': .*'reached': (?:True|False)")


def raw_probe_rows(nb) -> list[Problem]:
    """A solution cell (tagged `solution`) that printed a probe row as Python's dict repr."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if "solution" not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            for text in _texts(output):
                match = RAW_PROBE_ROW.search(text)
                if match:
                    problems.append(Problem(i, "raw probe row", match.group(0)[:100]))
    return problems


def errors(nb) -> list[Problem]:
    problems = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(Problem(i, "error", f"{output.get('ename')}: {str(output.get('evalue'))[:200]}"))
    return problems


PROMPT = re.compile(r"^(?:(?:host1|host2|lanpc|router|inet|root@machine)#|\$) (\S.*)$")


def shown_commands(nb) -> list[str]:
    """The real commands a notebook shows with their output: a terminal transcript line
    `host1# CMD` (facts.sh) or `$ CMD`, followed by at least one line of output."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for text in _texts(output):
                lines = text.splitlines()
                for n, line in enumerate(lines):
                    match = PROMPT.match(line)
                    if match and n + 1 < len(lines) and lines[n + 1].strip() and not PROMPT.match(lines[n + 1]):
                        found.append(match.group(1))
    return found


def _plain(text: str) -> str:
    """Text as a reader compares it: HTML tags and entities, markdown emphasis and code marks gone,
    case and spacing folded."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(re.sub(r"[*_`]", "", text).split()).lower()


def output_cells(nb) -> dict[str, int]:
    """{tag: cell index} of the code cells tagged `output:<tag>` (notebooks/src/nb.py `code(output=)`)."""
    return {tag.removeprefix("output:"): i for i, cell in enumerate(nb.cells)
            for tag in cell.get("metadata", {}).get("tags", []) if tag.startswith("output:")}


def prose_against_outputs(nb) -> list[Problem]:
    """Prose stating what a cell prints, against what it printed. A markdown cell's `states`
    metadata ({output tag: key words}, notebooks/src/nb.py `md(states=)`) ties its sentences to the
    code cell tagged `output:<tag>`; each key word ("NXDOMAIN", "refused", "no route", a number)
    must be in the prose itself and in that cell's output as a front end shows it."""
    cells, found = output_cells(nb), []
    for i, cell in enumerate(nb.cells):
        for tag, words in (cell.get("metadata", {}).get("states") or {}).items():
            if tag not in cells:
                found.append(Problem(i, "stated output", f"states what {tag!r} prints; no cell is tagged so"))
                continue
            shown = _plain(" ".join(t for out in nb.cells[cells[tag]].get("outputs", []) for t in _texts(out)))
            for word in words:
                if _plain(word) not in _plain(cell.source):
                    found.append(Problem(i, "stated output", f"key word {word!r} is not in this cell's prose"))
                elif _plain(word) not in shown:
                    found.append(Problem(i, "prose against output",
                                         f"says {word!r} of cell {cells[tag]} ({tag}), whose output does not: "
                                         f"{shown[:400]!r}"))
    return found


DETECTORS = (missing_images, unrendered_figures, indented_code_in_markdown, raw_reprs_in_tables, raw_probe_rows,
             errors, prose_against_outputs)


def problems(nb) -> list[Problem]:
    """Everything a learner would see wrong in an executed notebook."""
    return [p for detector in DETECTORS for p in detector(nb)]


def execute(path, timeout: int = 900):
    """Run a notebook as a learner does: a fresh kernel, in the notebook's own directory, every cell
    in order, errors recorded as outputs (so one broken cell does not hide the rest)."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb
