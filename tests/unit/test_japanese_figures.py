"""The Japanese edition's figures and explorer (issue 22): with Japanese in force every figure is drawn
from saved real runs with its labels in Japanese, and matplotlib finds a glyph for every character
(its "Glyph ... missing from font" warning is what a learner would see as empty boxes); the explorer's
widgets show Japanese labels while their values stay the English names the code chooses by."""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

from helpers import language
from helpers.draw import draw_path
from helpers.draw.display import JAPANESE_FONTS, wrap
from helpers.draw.host_figure import draw_host_map
from helpers.path import rebuild
from tests.unit.saved_runs import RUNS, saved
from tests.unit.test_draw_figures import MAX_PX, overlapping_texts
from tests.unit.test_host_map_figure import MAPS

DATA = Path(__file__).parent / "data"
KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")     # hiragana, katakana, kanji


@pytest.fixture
def japanese(monkeypatch):
    for name in ("DNLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(language, "_chosen", None)
    language.use("ja")
    yield
    # use() set $DNLAB_LANG, which monkeypatch does not restore when it was unset before (delenv of an
    # absent variable records nothing): later tests would run in Japanese.
    os.environ.pop("DNLAB_LANG", None)


def _rendered(drawing) -> list[str]:
    """Render the drawing to PNG as a notebook does; the warnings matplotlib gave while doing it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert drawing.png().startswith(b"\x89PNG")
    return [str(w.message) for w in caught]


def _texts(drawing) -> list[str]:
    return [t.get_text() for ax in drawing.axes for t in ax.texts] + [
        text for ax in drawing.axes for text in (ax.get_title(loc="left"), ax.get_xlabel())]


def test_the_japanese_font_is_installed():
    """Debian's fonts-ipafont-gothic (scripts/install.sh): without it every test below would warn."""
    missing = [path for path in JAPANESE_FONTS.values() if not Path(path).exists()]
    assert not missing, f"missing {missing}. Fix: sudo apt-get install fonts-ipafont-gothic"


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("view", ["L2", "L3", "NAT"])
def test_every_path_figure_draws_its_japanese(japanese, run, view):
    drawing = draw_path(saved(run), view=view)    # drawn here: its PNG's warnings are read as it renders
    assert [w for w in _rendered(drawing) if "missing from font" in w] == []
    texts = _texts(drawing)
    assert KANA.search(texts[0]), texts[0]                                     # the title
    assert any(t == "何が起きたか" for t in texts) or not drawing.axes[0].lines[1:]   # a column head
    width, height = drawing.size_px()
    assert width <= MAX_PX and height <= 1000 and overlapping_texts(drawing) == []


@pytest.mark.parametrize("name", sorted(MAPS))
def test_every_host_map_draws_its_japanese(japanese, name):
    drawing = draw_host_map(MAPS[name]())
    assert [w for w in _rendered(drawing) if "missing from font" in w] == []
    texts = _texts(drawing)
    assert "ブリッジ" in texts[0] and any(t.startswith("青: ") for t in texts)
    assert drawing.size_px()[0] <= MAX_PX and overlapping_texts(drawing) == []


def test_the_world_map_draws_its_japanese(japanese):
    import json
    from types import SimpleNamespace

    from helpers.draw.world_map import draw_world
    from helpers.observe.collect import WorldState, from_outputs

    saved = json.loads((DATA / "facts_default_bridge.json").read_text())
    state = WorldState({name: from_outputs(name, "machine", "", {"links": saved[name]["links"]})
                        for name in ("host1", "router")})
    world = {name: SimpleNamespace(namespace=f"dnlab-t-{name}") for name in ("host1", "router")}
    drawing = draw_world(world, state)
    assert [w for w in _rendered(drawing) if "missing from font" in w] == []
    texts = _texts(drawing)
    assert texts[0].startswith("カーネルが報告するラボ環境") and any("上にコンテナの veth" in t for t in texts)
    assert overlapping_texts(drawing) == []


def test_chapter_7s_plot_draws_its_japanese(japanese):
    from helpers.lessons.ch07 import Case, plot

    base = Case("host (a -> b)", None, "b", 1)
    base.latency_ms, base.mbps = [2.0, 2.0, 2.2], [1000.0, 1000.0]
    slow = Case("bridge, published, DNAT (a -> b)", None, "b", 1, baseline="host (a -> b)")
    slow.latency_ms, slow.mbps = [3.0, 3.0, 3.2], [500.0, 500.0]
    drawing = plot([base, slow])
    assert [w for w in _rendered(drawing) if "missing from font" in w] == []
    assert any(t.startswith("HTTP リクエスト時間") for t in _texts(drawing))


def test_the_check_fails_without_the_japanese_font(japanese, monkeypatch):
    """The glyph check can fail: the same figure drawn with only DejaVu warns about missing glyphs."""
    from helpers.draw import display

    monkeypatch.setattr(display, "sans", lambda: "DejaVu Sans")
    monkeypatch.setattr(display, "fonts", lambda: {"font.family": "DejaVu Sans"})
    drawing = draw_host_map(MAPS["course scenarios"]())
    assert [w for w in _rendered(drawing) if "missing from font" in w]


def test_english_figures_keep_their_english(monkeypatch):
    monkeypatch.setenv("DNLAB_LANG", "en")
    monkeypatch.setattr(language, "_chosen", None)
    drawing = draw_host_map(MAPS["course scenarios"]())
    assert not any(KANA.search(t) for t in _texts(drawing))


def test_japanese_wraps_by_columns():
    line = "コンテナはそれぞれ自分の名前空間を持つ eth0 172.17.0.2/16"
    lines = wrap(line, 20)
    assert lines == ["コンテナはそれぞれ自", "分の名前空間を持つ", "eth0 172.17.0.2/16"]   # 20, 18 and 18 columns
    assert wrap("eth0 172.17.0.2/16 no IPv4", 14) == ["eth0", "172.17.0.2/16", "no IPv4"]   # textwrap's own


# --- the explorer -----------------------------------------------------------------------------------

def test_the_explorer_shows_japanese_labels(japanese):
    import matplotlib.pyplot as plt

    from helpers.widgets import explorer as explorer_module
    from helpers.widgets.explorer import Explorer
    from helpers.widgets.facts import Facts
    from tests.unit.test_explorer_unit import SPECS, _scenario_class, _World

    explorer_module._CACHES.clear()

    def draw(path, view="L2"):
        figure = plt.figure()
        figure.text(0.1, 0.5, f"{path.scenario} {view}")
        return figure

    class _Path:
        scenario, probe, reached, source, target = "default-bridge", "egress", True, "a", "inet"

        def summary(self):
            return "a > inet"

    registry = {"default-bridge": _scenario_class("default-bridge", "bridge", list(SPECS))}
    ex = Explorer(_World(), scenarios=registry, trace=lambda *a, **k: _Path(), draw=draw,
                  read=lambda w, s, spec: Facts(s.name, s.driver, addresses=["eth0 172.17.0.2/16"]))
    try:
        assert (ex.driver.description, ex.probe.description, ex.view.description) == ("ドライバ", "プローブ", "ビュー")
        assert ex.rerun.description == "プローブを再実行"
        assert ex.driver.label == "デフォルトブリッジ" and ex.driver.value == "default-bridge"
        assert ex.probe.label == "インターネットへ" and ex.probe.value == "to the internet"
        assert "コンテナのアドレス" in ex.facts_html.value and "到達した" in ex.facts_html.value
        assert "このパケットが出会ったルール" in ex.rules_html.value and ex.errors == []
        assert ex.status.value.endswith("秒で完了</small>")
    finally:
        explorer_module._CACHES.clear()
        plt.close("all")


# --- the probes' own words: a path figure's subtitle, a probe's summary ------------------------------

SUBTITLES = {   # saved run: (its English, as the run saved it; its Japanese)
    "user-bridge-egress": ("container to the internet service: MASQUERADE rewrites the source",
                           "コンテナからインターネットのサービスへ: MASQUERADE が送信元を書き換える"),
    "trace-lanpc-publish-rules": ("tcp from lanpc to 198.51.100.11 port 8080",
                                  "lanpc から 198.51.100.11 のポート 8080 への tcp"),
    # saved with an older wording of the scenario's: no translation of it exists, so it stays as saved
    "user-bridge-isolation": ("two user bridges cannot talk: the packet dies in host1's FORWARD chain",) * 2,
}


def _subtitle(run: str) -> str:
    drawing = draw_path(saved(run), view="L3")
    return drawing.axes[0].texts[1].get_text()   # under the title: the probe's description, in italics


@pytest.mark.parametrize("run", sorted(SUBTITLES))
def test_a_path_figures_subtitle_reads_in_japanese(japanese, run):
    assert _subtitle(run) == SUBTITLES[run][1]


@pytest.mark.parametrize("run", sorted(SUBTITLES))
def test_a_path_figures_subtitle_stays_as_saved_in_english(monkeypatch, run):
    monkeypatch.setenv("DNLAB_LANG", "en")
    monkeypatch.setattr(language, "_chosen", None)
    assert _subtitle(run) == SUBTITLES[run][0] == rebuild(DATA / "paths" / run).description


def test_a_probe_summary_reads_in_japanese_and_english_is_unchanged(monkeypatch):
    """What a lab's reference solution prints (`print(probe(...))`) and ch07's crafted SYN: Japanese with
    Japanese in force; in English, byte for byte the text it was before it was translatable."""
    from helpers.world.guard import CraftedResult, ProbeResult

    reached = ProbeResult("lab1-client", "lab1-web", "ping", True, "1 packets received\n", 0)
    lost = ProbeResult("lab1-client", "lab1-web", "ping", False, " 100% packet loss \n", 1)
    crafted = CraftedResult("sender", "host1", "02:42:ac:11:00:01", "127.0.0.1", 8081, 40000, "SA")
    silent = CraftedResult("sender", "host1", "02:42:ac:11:00:01", "127.0.0.1", 8081, 40000, None)
    monkeypatch.setattr(language, "_chosen", "en")
    assert str(reached) == "lab1-client reached lab1-web (ping): 1 packets received"
    assert str(lost) == "lab1-client did not reach lab1-web (ping): 100% packet loss"
    assert str(crafted) == ("sender -> 127.0.0.1:8081 in a frame to host1's MAC 02:42:ac:11:00:01 (source port 40000): "
                            "answered with TCP flags SA")
    assert str(silent).endswith("(source port 40000): no answer")
    monkeypatch.setattr(language, "_chosen", "ja")
    assert str(reached) == "lab1-client は lab1-web に到達した（ping）: 1 packets received"
    assert str(lost) == "lab1-client は lab1-web に到達しなかった（ping）: 100% packet loss"
    assert str(crafted).endswith("（送信元ポート 40000）: TCP フラグ SA で応答あり")
    assert str(silent).endswith(": 応答なし")
