"""The Japanese edition of the labs (issue 22): every lab text has a stable id and a catalog entry
(i18n/ja/labs.toml, cli.toml), checked by `python -m i18n check` like the chapters; labs/ja is what the
generator writes now; with Japanese in force the checks, hints and `dnlab lab` answer in Japanese.

The check reads two kinds of lab texts: `translate("labs:...", ...)` calls (checks, hints, the model's
and the notebooks' frame, the CLI) and each `LAB`'s data (`labs:labNN:title`, `goal`, `taskN`, ...,
read from the registry by `i18n.sources.lab_texts`). Both are changed here as an author would, and
the check must fail naming the id."""
from __future__ import annotations

import shutil

import nbformat
import pytest

from helpers import labs, language
from helpers.cli import main
from helpers.labs import lab09, notebooks, progress
from helpers.labs.model import FAIL, CheckResult, Checks
from i18n import CATALOGS, HELPERS, catalog, check, sources

STALE = "stale: the English changed after its Japanese was last reviewed"


@pytest.fixture
def japanese(monkeypatch):
    """Japanese in force for the test (what `helpers.use_language("ja")` sets), English after."""
    monkeypatch.setenv("DNLAB_LANG", "ja")          # set through monkeypatch: put back after the test
    monkeypatch.setattr(language, "_chosen", "ja")


def _lab_failures(report) -> list[str]:
    return [f for f in report.failures if f.startswith(("labs:", "cli:", "helpers/"))]


# --- the check -------------------------------------------------------------------------------------

def test_every_lab_text_is_declared_and_in_step():
    report = check.run()
    assert "labs" in catalog.translated(CATALOGS), "the labs are declared translated (i18n/ja/edition.toml)"
    assert _lab_failures(report) == [], report.text()
    ids = {t.id for t in sources.runtime(HELPERS)[0] if t.chapter == "labs"}
    for lab in labs.all_labs():   # each lab's data and its own check texts are read
        mine = {i for i in ids if i.startswith(lab.text_id(""))}
        assert {lab.text_id("title"), lab.text_id("goal"), lab.text_id("task1")} <= mine
        assert any(not i.split(":")[2].startswith(("title", "goal", "task", "tools", "summary", "symptom", "why",
                                                   "step", "code", "terminal")) for i in mine), lab


def test_a_changed_sentence_of_a_labs_data_is_stale_naming_its_id(monkeypatch):
    lab = labs.get(1)
    monkeypatch.setattr(lab, "goal", lab.goal.replace("find each other by name", "reach each other by name"))
    assert _lab_failures(check.run()) == [f"labs:lab01:goal: {STALE}"]


def test_a_new_task_without_japanese_is_missing_naming_its_id(monkeypatch):
    lab = labs.get(8)
    monkeypatch.setattr(lab, "tasks", [*lab.tasks, "Write down what you found."])
    assert _lab_failures(check.run()) == [
        f"labs:lab08:task{len(lab.tasks)}: missing: no Japanese for this English text"]


@pytest.fixture
def helpers_copy(tmp_path):
    target = tmp_path / "helpers"
    shutil.copytree(HELPERS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_changed_check_sentence_is_stale_naming_its_id(helpers_copy):
    assert _lab_failures(check.run(helpers_dir=helpers_copy)) == []
    _edit(helpers_copy / "labs" / "lab08.py", '"a route for one address fixes one destination; what does "',
          '"a route for one address fixes one destination only; what does "')
    assert _lab_failures(check.run(helpers_dir=helpers_copy)) == [f"labs:lab08:one-route-hint: {STALE}"]


def test_a_cli_message_is_checked_too(helpers_copy):
    _edit(helpers_copy / "cli" / "labs.py", '"nothing of this lab was there"', '"nothing of this lab was found"')
    assert _lab_failures(check.run(helpers_dir=helpers_copy)) == [f"cli:lab:reset-nothing: {STALE}"]


def test_a_shell_blocks_commands_must_stay_as_they_are():
    assert check._text_problems_terminal("docker ps   # the list", "docker ps   # 一覧") == []
    assert check._text_problems_terminal("ip route add <x> dev y", "ip route add <エックス> dev y") == []
    assert check._text_problems_terminal("docker ps   # the list", "docker ps -a   # 一覧") != []


def test_an_engine_fact_a_lab_shows_needs_its_japanese():
    ids = {t.id for t in sources.lab_texts([labs.get(2)])}
    assert "common:engine:loopback-publish" in ids     # lab 2's solution names it: [[engine:loopback-publish]]


def test_a_part_of_a_room_can_be_declared():
    assert check.is_declared("cli:lab:reset", ["cli:lab"])
    assert not check.is_declared("cli:trace:title", ["cli:lab"])
    assert check.is_declared("labs:lab01:goal", ["labs:lab01"])
    assert not check.is_declared("labs:lab02:goal", ["labs:lab01"])
    assert check.is_declared("labs:model:summary", ["labs:lab01"])     # shared by every lab
    assert not check.is_declared("labs:model:summary", ["ch01"])


# --- the notebooks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lab", notebooks.japanese_labs(), ids=lambda lab: lab.slug)
def test_japanese_lab_notebooks_are_generated_from_the_catalogs(lab):
    english = notebooks.render(lab)
    for path, text in notebooks.render(lab, "ja").items():
        assert path.exists(), f"{path} missing: run python -m helpers.labs.notebooks"
        assert path.read_text() == text, f"{path} is stale: run python -m helpers.labs.notebooks"
        nb = nbformat.reads(text, 4)
        en = nbformat.reads(english[_english_path(lab, path)], 4)
        assert (path.parent / nb.metadata["dnlab"]["english"]).resolve() == _english_path(lab, path)
        assert [c.cell_type for c in nb.cells] == [c.cell_type for c in en.cells]
        for ja_cell, en_cell in zip(nb.cells, en.cells, strict=True):
            if ja_cell.cell_type == "code":
                assert ja_cell.outputs == [] and ja_cell.execution_count is None
                assert check.same_code(_without_language(en_cell.source), _without_language(ja_cell.source)) == []
            else:
                assert ja_cell.source != en_cell.source and any("\u3040" <= ch <= "\u30ff" for ch in ja_cell.source)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert notebooks.LANGUAGE_LINE in first.source.splitlines()


def _english_path(lab, path):
    return notebooks.ROOT / (lab.solution_notebook if "/solutions/" in str(path) else lab.notebook)


def _without_language(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if line != notebooks.LANGUAGE_LINE)


# --- Japanese in force -----------------------------------------------------------------------------

def test_dnlab_lab_show_and_list_answer_in_japanese(japanese, capsys, tmp_path, monkeypatch):
    assert main(["lab", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ラボ 1: 名前解決のできるユーザー定義ブリッジ") and "目標:" in out and "タスク:" in out
    assert "ノートブック: labs/ja/01_user_bridge.ipynb" in out
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path))
    assert main(["--world", "u1", "lab", "list"]) == 0
    out = capsys.readouterr().out
    assert "ラボ環境 dnlab-u1 のラボ" in out and f"{len(labs.LABS)} 個中 0 個が合格" in out


def test_english_stays_english_without_japanese(monkeypatch, capsys):
    monkeypatch.setattr(language, "_chosen", None)
    monkeypatch.setenv("DNLAB_LANG", "en")
    assert main(["lab", "show", "1"]) == 0
    assert capsys.readouterr().out.startswith("Lab 1: A user-defined bridge with name resolution")


def test_a_checks_result_and_hints_read_in_japanese(japanese, monkeypatch):
    """Lab 9's real check on a saved state (tests/unit/test_lab_hints.py's fakes), rendered as the
    notebook and `dnlab lab check 9` show it."""
    from helpers.world.guard import ProbeResult
    from tests.unit.test_lab_hints import LOSS, Box, _world

    boxes = {"lab9-web": Box("lab9-web", {"lab9-net": {"IPAddress": "172.19.0.2"}}),
             "lab9-api": Box("lab9-api", {"bridge": {"IPAddress": "172.17.0.2"}})}
    monkeypatch.setattr(lab09, "stage_of", lambda world, number: 1)
    monkeypatch.setattr(lab09, "container_or_start", lambda world, c, host, name, number: boxes[name])
    monkeypatch.setattr(lab09, "_ping_by_name",
                        lambda world, source, name: ProbeResult(source.name, name, "ping", False, LOSS, 1))
    c = Checks()
    lab09.check_network(_world(), c)
    failed = [item for item in c.items if item.status == FAIL]
    assert [item.what for item in failed] == ["lab9-web が名前で lab9-api に届く"]
    assert failed[0].hint == ("名前には DNS サーバが答えます。lab9-web はどのサーバに問い合わせていて、そのサーバは何を"
                              "知っていますか？（もう一度チェックすると、より具体的なヒントが出ます）")
    text = str(CheckResult(9, labs.get(9).say("title"), c.items))
    assert text.splitlines()[0] == "ラボ 9（トラブルシューティング: 解決できない名前）: まだ、2 項目中 0 項目が合格"
    assert "      ヒント: 名前には DNS サーバが答えます。" in text and "上の項目が合格したらチェックします" in text
    assert "ヒント: " in CheckResult(9, "t", c.items)._repr_markdown_()
