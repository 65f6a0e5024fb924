"""The learner-view detectors can fail: each fires on a crafted bad notebook and stays quiet on
the good twin. The figure case is not crafted by hand: a fresh kernel really shows a bare
matplotlib Figure as `<Figure size ...>` text, and really shows a `Drawing` as image/png, also
after a trailing `;` and without a second copy when displayed explicitly."""
from __future__ import annotations

import base64

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.learner import view

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 3000).decode()


def _nb(*cells):
    return new_notebook(cells=list(cells))


def _code(source, *outputs, tags=()):
    cell = new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _kinds(nb) -> list[str]:
    return [p.kind for p in view.problems(nb)]


def test_figure_cell_without_png_is_caught():
    text = new_output("execute_result", data={"text/plain": "[figure: ...]"}, execution_count=1)
    image = new_output("display_data", data={"image/png": PNG, "text/plain": "[figure]"})
    bad = _nb(_code("ch01.show_path(world, bridge, 'egress', view='NAT')", text))
    good = _nb(_code("ch01.show_path(world, bridge, 'egress', view='NAT')", image))
    assert _kinds(bad) == ["no image"]
    assert _kinds(good) == []


@pytest.mark.parametrize("source", ["draw_map(world, 'host1')", "ch07.plot(cases);", "draw_world(world, state);",
                                    "fig = draw_path(path, view='L2')", "x = 1"])
def test_what_counts_as_a_figure_cell(source):
    cell = _code(source)
    assert view.is_figure_cell(cell) == (source != "x = 1")
    assert view.is_figure_cell(_code("x = 1", tags=["figure"]))
    assert not view.is_figure_cell(_code("# draw_map(world)\nfrom helpers.draw import draw_map"))


def test_tiny_png_is_caught():
    tiny = new_output("display_data", data={"image/png": base64.b64encode(b"\x89PNG" + b"\0" * 100).decode()})
    assert _kinds(_nb(_code("draw_map(world)", tiny))) == ["empty image"]


def test_figure_size_text_is_caught_in_any_output():
    result = new_output("execute_result", data={"text/plain": "<Figure size 1100x790.6 with 1 Axes>"},
                        execution_count=1)
    stream = new_output("stream", name="stdout", text="<Figure size 640x480 with 0 Axes>\n")
    assert _kinds(_nb(_code("x", result))) == ["figure as text"]
    assert _kinds(_nb(_code("print(x)", stream))) == ["figure as text"]


def test_markdown_rendered_as_code_is_caught():
    bad = _nb(new_markdown_cell("## 9.1 Title\n\nText.\n\n    The dedent failed here,\n    so this is grey code."))
    fenced = _nb(new_markdown_cell("Text.\n\n```\n    indented inside a fence is fine\n```"))
    listed = _nb(new_markdown_cell("- item\n\n    continued paragraph of the item"))
    assert _kinds(bad) == ["markdown as code"]
    assert _kinds(fenced) == [] and _kinds(listed) == []


def test_raw_dict_or_list_in_a_table_is_caught():
    def table(value):
        return new_output("display_data", data={"text/html": f"<table><tr><td>what</td><td>{value}</td></tr></table>",
                                                "text/plain": "table"})
    assert _kinds(_nb(_code("facts.table(rows)", table("{&#x27;src&#x27;: &#x27;172.17.0.2&#x27;}")))) == [
        "raw repr in table"]
    assert _kinds(_nb(_code("facts.table(rows)", table("['a', 'b']")))) == ["raw repr in table"]
    assert _kinds(_nb(_code("facts.table(rows)", table("src: 172.17.0.2<br>a, b")))) == []


# What chapter 02's exercise-1 solution printed (world lt, Docker 20.10.24): a probe row as Python's dict,
# its scenario-design "expected" beside the live "reached" (issue 20.7).
OLD_SOLUTION_OUTPUT = ("{'probe': 'isolation', 'from': 'container:c', 'to': 'container:b', 'kind': 'ping', "
                       "'reached': True, 'expected': False, "
                       "'output': 'round-trip min/avg/max = 0.146/0.146/0.146 ms'}\n")


def test_a_solution_that_prints_a_raw_probe_row_is_caught():
    printed = new_output("stream", name="stdout", text=OLD_SOLUTION_OUTPUT)
    table = new_output("display_data", data={"text/html": "<table><tr><th>probe</th><th>reached</th></tr>"
                                                          "<tr><td>isolation</td><td>True</td></tr></table>",
                                             "text/plain": "<IPython.core.display.HTML object>"})
    source = 'print(probes.run_spec(user, "isolation").row())'
    assert _kinds(_nb(_code(source, printed, tags=["solution"]))) == ["raw probe row"]
    assert _kinds(_nb(_code(source, table, tags=["solution"]))) == []
    # A claim's folded evidence may pretty-print its rows: that is the evidence, not a solution's answer.
    assert _kinds(_nb(_code(source, printed, tags=["claim"]))) == []


def test_shown_commands_need_a_prompt_and_output():
    def shown(text):
        return view.shown_commands(_nb(_code("x", new_output("execute_result", data={"text/plain": text},
                                                            execution_count=1))))
    assert shown("host1# ip route\ndefault via 198.51.100.1 dev eth0") == ["ip route"]
    assert shown("$ docker network ls\nNETWORK ID  NAME") == ["docker network ls"]
    assert shown("root@machine# dnlab shell host1 -- ip route\ndefault via x") == ["dnlab shell host1 -- ip route"]
    assert shown("host1# ip route") == []                       # a command that printed nothing shown
    assert shown("host1# true\nhost1# false\n") == []           # two prompts, no output between
    assert shown("the host1# of it\nmore") == []                 # not at the start of a line
    assert shown("PROVEN: ip route\nx") == []


def test_an_error_output_is_caught():
    error = new_output("error", ename="ClaimFailed", evalue="not shown", traceback=["..."])
    assert _kinds(_nb(_code("claims.holds(...)", error))) == ["error"]


def test_a_real_kernel_shows_a_bare_figure_as_text_and_a_drawing_as_an_image(tmp_path):
    """The audit's bug, reproduced in a fresh kernel without pyplot, and the fix."""
    cells = [
        _code("from matplotlib.figure import Figure\nfigure = Figure()\nfigure.add_subplot().plot([1, 3, 2])\n"
              "figure", tags=["figure"]),
        _code("from helpers.draw.display import Drawing\n"
              "def drawing():\n    f = Figure()\n    f.add_subplot().plot([1, 3, 2])\n"
              "    return Drawing(f, '[figure]')\n"
              "drawing()", tags=["figure"]),
        _code("drawing();", tags=["figure"]),                        # suppressed result: shown at the cell's end
        _code("from IPython.display import display\nd = drawing()\ndisplay(d)", tags=["figure"]),  # once, not twice
    ]
    path = tmp_path / "figures.ipynb"
    nbformat.write(_nb(*cells), str(path))
    nb = view.execute(path, timeout=120)
    found = view.problems(nb)
    assert {(p.cell, p.kind) for p in found} == {(0, "no image"), (0, "figure as text")}, found
    for i in (1, 2, 3):
        assert len(view._pngs(nb.cells[i])) == 1, (i, nb.cells[i].outputs)
