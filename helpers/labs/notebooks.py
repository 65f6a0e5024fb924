"""Write the lab notebooks and labs/README.md's table from the lab registry (helpers/labs/registry.py).

    python -m helpers.labs.notebooks    # (re)writes labs/NN_*.ipynb, labs/solutions/NN_*.ipynb, the README's table,
                                        # and the Japanese edition labs/ja/NN_*.ipynb, labs/ja/solutions/NN_*.ipynb

Learner notebooks get the goal, tasks, empty "your turn" cells and a check cell; solution notebooks
get the body of the lab's `solution` (helpers/labs/labNN.py; split at `# %% text` lines, whose text
continues on `# %%+ text` lines) and a strict check.
Generating both from one source keeps the tested solution and the shown one the same code.

The Japanese edition (issue 22) is the same generator with Japanese in force (`language.speaking`):
every text comes through `translate` or the lab's data texts (`Lab.say`, ids `labs:labNN:...`, read by
`python -m i18n check`); solution code cells are the catalog's Japanese of the cell (the same code,
comments in Japanese); the first cell that imports helpers also calls `helpers.use_language("ja")`.
Written for the labs declared translated in i18n/ja/edition.toml (`"labs"`, or `"labs:lab01"` ...).
"""
from __future__ import annotations

import ast
import inspect
import os
import re
import sys
import textwrap
import tomllib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import labs, language
from helpers.errors import DOCUMENTED, dnlab_command
from helpers.language import data_text, translate
from helpers.world import engine_facts

ROOT = Path(__file__).resolve().parents[2]

SETUP = """import helpers
from helpers import labs
from helpers.world.guard import probe

world = helpers.lab()
lab = labs.get({number})
print("docker CLI:", *(f"docker --context {{h.context}}" for h in world.hosts.values()), sep="\\n  ")"""

SOLUTION_SETUP = """import ipaddress

import docker

import helpers
from helpers import labs
from helpers.labs.common import wait_for_name
from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE, INET_IP

WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]
world = helpers.lab()
lab = labs.get({number})
lab.start(world)"""

LANGUAGE_LINE = 'helpers.use_language("ja")   # 図の文字・ヒント・dnlab の表示も日本語に'   # as i18n/build.py's
ENGINE = re.compile(r"\[\[engine:([a-z0-9-]+)\]\]")


def _first_cell(code: str) -> str:
    """The setup cell; in the Japanese edition with `LANGUAGE_LINE` after its `import helpers`."""
    if language.current() != "ja":
        return code
    lines = code.split("\n")
    at = lines.index("import helpers") + 1
    return "\n".join(lines[:at] + [LANGUAGE_LINE] + lines[at:])


def _engine(text: str) -> str:
    """`[[engine:ID]]` as the engine table's sentence; in Japanese, the chapters' Japanese of it
    (`common:engine:ID`, i18n/ja/common.toml) where there is one."""
    if language.current() == "ja":
        text = ENGINE.sub(lambda m: language.japanese(f"common:engine:{m.group(1)}") or m.group(0), text)
    return engine_facts.render(text)


def _your_turn() -> str:
    return translate("labs:notebook:your-turn",
                     "# your turn: the docker SDK (world.host1.docker, world.host2.docker) or a terminal") + "\n"


def solution_steps(number: int) -> tuple[str, list[tuple[str, str]]]:
    """(CLI docstring, [(explanation, code), ...]) of a reference solution."""
    function = labs.get(number).solution
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    doc = ast.get_docstring(tree.body[0]) or ""
    source = textwrap.dedent(inspect.getsource(function)).splitlines()
    start = body[1].lineno - 1 if doc else body[0].lineno - 1
    # The `# %%` comment before the first statement belongs to the code that follows it.
    while start > 0 and source[start - 1].strip().startswith("# %%"):
        start -= 1
    lines = textwrap.dedent("\n".join(source[start:])).splitlines()
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("# %%+") and steps and not steps[-1][1]:
            # A continuation of the step's explanation (long explanations span several lines).
            steps[-1] = (f"{steps[-1][0]} {line[5:].strip()}", steps[-1][1])
        elif line.startswith("# %%"):
            steps.append((line[4:].strip(), []))
        elif steps:
            steps[-1][1].append(line)
        else:
            steps.append(("", [line]))
    return doc, [(text, "\n".join(code).strip()) for text, code in steps]


def _typed(words: str) -> str:
    """`dnlab WORDS` as a notebook written ahead of time shows it: the README's form (default world)."""
    return dnlab_command(words, None, program=DOCUMENTED)


def learner_notebook(lab) -> nbformat.NotebookNode:
    edition = language.current()
    intro = lab.markdown() + translate(
        "labs:notebook:intro",
        "\nWork in the cells below with the docker SDK, or in a terminal with "
        "`docker --context <prefix>-host1 ...` (the next cell prints the contexts). The check reads "
        "the real world and says what is still missing; `{check}` does the same "
        "in a terminal. It looks things up by the names the tasks give, so use exactly those.",
        check=_typed(f"lab check {lab.number}"))
    start_text = (translate("labs:notebook:start-trouble", "## Start\n\nThis builds the setup and breaks it "
                            "somewhere. Do not read the code that does it: find the fault with the course's tools.")
                  if lab.kind == "troubleshoot" else
                  translate("labs:notebook:start-build", "## Start\n\nA clean slate: removes this lab's containers "
                            "and networks, if any, and shows the task again."))
    cells = [
        new_markdown_cell(intro),
        new_code_cell(_first_cell(SETUP.format(number=lab.number))),
        new_markdown_cell(start_text),
        new_code_cell("lab.start(world)"),
        new_markdown_cell(translate("labs:notebook:your-turn-heading", "## Your turn")),
        new_code_cell(_your_turn()),
        new_code_cell(""),
        new_code_cell(""),
        new_markdown_cell(translate("labs:notebook:check", "## Check\n\nRun this as often as you like: red lines "
                                    "say what is still wrong, with a hint.")),
        new_code_cell("lab.check(world)"),
        new_markdown_cell(translate("labs:notebook:start-over",
                                    "## Start over\n\n`lab.reset(world)` removes what this lab's names made and "
                                    "repairs what it broke (`{reset}` in a terminal). The solution is in "
                                    "`{solution}`: try first.",
                                    reset=_typed(f"lab reset {lab.number}"),
                                    solution=lab.solution_notebook_in(edition))),
        new_code_cell(translate("labs:notebook:reset-cell", "# lab.reset(world)")),
    ]
    return _notebook(cells, lab.notebook_in(edition), lab.notebook)


def solution_notebook(lab) -> nbformat.NotebookNode:
    edition = language.current()
    doc, steps = solution_steps(lab.number)
    cells = [
        new_markdown_cell(translate("labs:notebook:solution-intro",
                                    "# Lab {number}, solution: {title}\n\n**Goal.** {goal}\n\n"
                                    "Try `{notebook}` first. This notebook starts the lab afresh, solves it "
                                    "step by step, and ends with the check passing.",
                                    number=lab.number, title=lab.say("title"), goal=lab.say("goal"),
                                    notebook=lab.notebook_in(edition))),
        new_code_cell(_first_cell(SOLUTION_SETUP.format(number=lab.number))),
    ]
    for k, (text, code) in enumerate(steps, 1):
        if text:   # [[engine:ID]]: the engine table's sentence
            cells.append(new_markdown_cell(_engine(data_text(lab.text_id(f"step{k}"), text))))
        cells.append(new_code_cell(data_text(lab.text_id(f"code{k}"), code)))
    if doc:
        cells.append(new_markdown_cell(translate(
            "labs:notebook:terminal", "### The same from a terminal\n\n`$P` is the world's prefix "
            "(`{status}` shows it).", status=_typed("status"))
            + "\n\n```sh\n" + data_text(lab.text_id("terminal"), doc.strip()) + "\n```"))
    why = lab.why  # troubleshooting labs: the cause, only after the fix
    if why:
        cells.append(new_markdown_cell(translate("labs:notebook:why", "## Why it broke, where it happens for real, "
                                                 "and the evidence") + "\n\n" + lab.say("why")))
    cells += [
        new_markdown_cell(translate("labs:notebook:check-heading", "## Check")),
        new_code_cell("lab.check(world, strict=True, record=False)"),
        new_markdown_cell(translate("labs:notebook:tidy", "## Tidy up")),
        new_code_cell("lab.reset(world)"),
    ]
    return _notebook(cells, lab.solution_notebook_in(edition), lab.solution_notebook)


def _notebook(cells, path: str = "", english: str = "") -> nbformat.NotebookNode:
    metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"}}
    if path != english:   # the Japanese edition names its English original, as the chapters' do
        metadata["dnlab"] = {"edition": "ja", "english": os.path.relpath(english, Path(path).parent)}
    notebook = new_notebook(cells=cells, metadata=metadata)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"  # stable ids: regenerating changes nothing
    return notebook


def render(lab, edition: str = "en") -> dict[Path, str]:
    """Both notebooks of `lab` in `edition` ("en", or "ja": labs/ja/...)."""
    with language.speaking(edition):
        return {ROOT / lab.notebook_in(edition): nbformat.writes(learner_notebook(lab)) + "\n",
                ROOT / lab.solution_notebook_in(edition): nbformat.writes(solution_notebook(lab)) + "\n"}


def japanese_labs(catalogs: Path = language.CATALOGS) -> list:
    """The labs declared translated (i18n/ja/edition.toml: `"labs"` for all, or `"labs:lab01"` ...)."""
    path = catalogs / "edition.toml"
    declared = tomllib.loads(path.read_text(encoding="utf-8")).get("translated", []) if path.exists() else []
    return [lab for lab in labs.all_labs() if "labs" in declared or lab.text_id("").rstrip(":") in declared]


README = ROOT / "labs" / "README.md"
TABLE_HEAD = "| # | Lab | What you build or fix |\n|---|-----|------------------------|\n"


def readme_table(all_labs: list | None = None) -> str:
    """labs/README.md's table of labs, one row per registered lab (its number, slug and summary)."""
    rows = "".join(f"| {lab.number} | {lab.slug} | {lab.summary} |\n" for lab in all_labs or labs.all_labs())
    return TABLE_HEAD + rows


def readme_with_table(readme: str, table: str) -> str:
    """`readme` with its table of labs (the header line and the rows under it) replaced by `table`."""
    start = readme.index(TABLE_HEAD)
    end = start + len(TABLE_HEAD)
    while readme.startswith("| ", end):
        end = readme.index("\n", end) + 1
    return readme[:start] + table + readme[end:]


def write_all() -> list[Path]:
    written = []
    outputs = {README: readme_with_table(README.read_text(), readme_table())}
    for lab in labs.all_labs():
        outputs.update(render(lab))
    for lab in japanese_labs():
        outputs.update(render(lab, "ja"))
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
