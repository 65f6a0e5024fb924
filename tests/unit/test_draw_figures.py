"""The figures, drawn from saved real runs (tests/unit/data/paths) and a saved host map: they are
images without pyplot, fit the notebook's width, and draw what the audit asked for (VXLAN as a
layer around the inner packet, Docker's overlay namespace named and explained, containers side by
side on their bridge, ratios against a baseline)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.draw import alt_text, draw_path
from helpers.draw.display import Drawing, Folded
from helpers.draw.host_figure import draw_host_map, sections
from helpers.draw.path_figure import lane_label, rows
from helpers.observe.topology import Attachment, ContainerNode, HostMap, NetworkNode
from helpers.path import rebuild
from tests.unit.saved_runs import RUNS, shared_figure

DATA = Path(__file__).parent / "data" / "paths"
MAX_PX = 1000     # a notebook's output area is about 900 px wide; a little more only scales down


def _texts(drawing: Drawing) -> list[str]:
    return [t.get_text() for ax in drawing.axes for t in ax.texts]


def test_a_drawing_is_a_png_without_pyplot():
    """In a fresh interpreter: drawing and rendering never import pyplot (so nothing depends on
    its inline backend), and the bundle a notebook gets is image/png plus a short text."""
    code = ("import sys; from helpers.path import rebuild; from helpers.draw import draw_path; "
            f"d = draw_path(rebuild({str(DATA / 'user-bridge-egress')!r}), view='NAT'); "
            "b = d._repr_mimebundle_(); "
            "print(b['image/png'][:8] == b'\\x89PNG\\r\\n\\x1a\\n', len(b['text/plain']) < 200, "
            "'<Figure' not in b['text/plain'], 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "True", "False"]


def overlapping_texts(drawing: Drawing) -> list[tuple[str, str]]:
    """Pairs of texts whose rendered boxes overlap (by more than a pixel). Measured by the renderer the
    canvas last drew with (after `png()`, the PNG's: its texts are measured already; a fresh renderer
    measures each again, ~50 ms a figure) when it has the figure's dpi: the same boxes to the last bit,
    compared for every saved path figure in both languages."""
    import itertools

    canvas = drawing.figure.canvas
    renderer = getattr(canvas, "renderer", None)
    if renderer is None or renderer.dpi != drawing.figure.dpi:
        renderer = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for ax in drawing.axes for t in ax.texts
             if t.get_text().strip()]
    return [(a[:40], b[:40]) for (a, p), (b, q) in itertools.combinations(boxes, 2)
            if p.x0 < q.x1 - 1 and q.x0 < p.x1 - 1 and p.y0 < q.y1 - 1 and q.y0 < p.y1 - 1]


@pytest.mark.parametrize("rendered", [False, True])
def test_the_overlap_check_finds_texts_over_each_other(rendered):
    """The check every figure test makes can fail: two texts drawn over each other are found, before
    the PNG is rendered and after (when it measures with the PNG's renderer)."""
    from helpers.draw.display import canvas

    figure, ax = canvas(4, 1)
    ax.text(0.2, -0.5, "eth0 172.17.0.2/16")
    ax.text(0.6, -0.5, "veth1a2b3c")            # over the end of the first
    ax.text(3.0, -0.5, "apart")
    drawing = Drawing(figure, "test")
    if rendered:
        assert drawing.png()
    assert overlapping_texts(drawing) == [("eth0 172.17.0.2/16", "veth1a2b3c")]


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("view", ["L2", "L3", "NAT"])
def test_every_saved_path_fits_the_notebook(run, view):
    drawing = shared_figure(run, view)     # drawn once: test_path_figure_rules checks the same drawings
    width, height = drawing.size_px()
    assert width <= MAX_PX and height <= 1000, (width, height)
    assert drawing.shown is False and drawing.png() and drawing.shown is False   # rendering is not showing
    assert overlapping_texts(drawing) == []


def test_overlay_draws_the_tunnel_as_a_layer():
    path = rebuild(DATA / "overlay-c2c-ip")
    drawing = draw_path(path, view="L3")
    texts = _texts(drawing)
    encap = next(h for h in path.request if h.action == "vxlan-encap")
    # The outer header is its own text, in a box drawn around the inner packet's headers.
    outer = next(t for t in drawing.axes[0].texts
                 if t.get_text().startswith("outer ") and encap.outer["dst"] in t.get_text())
    inner_ip = encap.src.split(":")[0]
    inner = [t for t in drawing.axes[0].texts if t.get_text().startswith(inner_ip)]
    boxes = [p for p in drawing.axes[0].patches if type(p).__name__ == "FancyBboxPatch"]
    assert len(boxes) >= 2 * len([r for r in rows(path, "L3") if r.outer])
    # the outer text sits above the inner text of the same row, both inside one box
    outer_x, outer_y = outer.get_position()
    assert any(abs(t.get_position()[0] - outer_x) < 0.2 and t.get_position()[1] < outer_y for t in inner)
    assert "VXLAN tunnel" in texts
    assert "inside VXLAN" in alt_text(path, "L3")


def test_overlay_namespace_lane_is_named_and_explained():
    path = rebuild(DATA / "overlay-c2c-ip")
    docker_lanes = [lane for lane in path.lanes if ":" in lane]
    assert docker_lanes
    texts = " ".join(_texts(draw_path(path, view="L3")))
    for lane in docker_lanes:
        name, note = lane_label(path, lane)
        assert name.endswith("overlay ns") and lane in note and "overlay driver" in note
        assert name in texts and lane in texts       # the figure shows the short name and says what it is
    assert lane_label(path, "host1") == ("host1", "")


def test_rows_keep_every_header_change_and_group_the_rest():
    path = rebuild(DATA / "user-bridge-publish")
    table = rows(path, "NAT")
    assert len(table) < len(path.hops)                           # bridge ports share a row
    assert sum(len(r.hops) for r in table) == len(path.hops)     # no hop lost
    dnat = next(h for h in path.hops if h.action == "dnat")
    row = next(r for r in table if dnat in r.hops)
    assert row.rewrite and row.hops[0] is dnat and any("DNAT" in c for c in row.changes)


def _saved_map() -> HostMap:
    data = json.loads((Path(__file__).parent / "data" / "host1_map.json").read_text())
    return HostMap(data["host"], data["interfaces"], [NetworkNode(**n) for n in data["networks"]],
                   [ContainerNode(**{**c, "attachments": [Attachment(**a) for a in c["attachments"]]})
                    for c in data["containers"]])


def test_host_map_puts_a_bridges_containers_side_by_side():
    host_map = _saved_map()
    docker0 = next(s for s in sections(host_map) if s.title.startswith("docker0"))
    assert len(docker0.members) >= 2
    drawing = draw_host_map(host_map)
    assert drawing.size_px()[0] <= MAX_PX
    positions = {t.get_text(): t.get_position() for t in drawing.axes[0].texts}
    names = [c.name for c, _ in docker0.members]
    ys = {round(positions[n][1], 3) for n in names}
    xs = {round(positions[n][0], 3) for n in names}
    assert len(ys) == 1 and len(xs) == len(names)      # one row, each in its own column: ports, not a chain
    assert overlapping_texts(drawing) == []
    loose = next(s for s in sections(host_map) if s.title.startswith("not on a bridge"))
    assert {c.network_mode for c, _ in loose.members} >= {"host", "none"}
    # A macvlan network is its own group, named with its parent interface (saved maps have no parent).
    macvlan = next(s for s in sections(host_map) if not s.bridge and "macvlan on parent" in s.title)
    assert {c.network_mode for c, _ in macvlan.members} == {"macvlan-net"}


def test_measure_plot_shows_ratios_against_the_baseline():
    from helpers.lessons.ch07 import Case, plot

    base = Case("host (a -> b)", None, "b", 1)
    base.latency_ms, base.mbps = [2.0, 2.0, 2.2], [1000.0, 1000.0]
    slow = Case("bridge, published, DNAT (a -> b)", None, "b", 1, baseline="host (a -> b)")
    slow.latency_ms, slow.mbps = [3.0, 3.0, 3.2], [500.0, 500.0]
    drawing = plot([base, slow])
    texts = _texts(drawing)
    assert any(t.startswith("bridge, published, DNAT (a -> b):  x1.50") for t in texts)
    assert any(t.startswith("bridge, published, DNAT (a -> b):  x0.50") for t in texts)
    for ax in drawing.axes:
        assert any(line.get_xdata()[0] == 1.0 and line.get_linestyle() == "--" for line in ax.lines)
        assert not [t.get_text() for t in ax.get_yticklabels() if t.get_text()]   # labels do not eat the width
    assert drawing.size_px()[0] <= MAX_PX


def test_folded_text_keeps_the_headline_short():
    folded = Folded("egress: a reached b", "line\n" * 50)
    page = folded._repr_html_()
    assert "<details>" in page and "51 lines" in page and repr(folded) == "egress: a reached b"


def test_world_map_counts_container_veths_and_keeps_cable_ends():
    """Saved real `ip -j` of host1 and the router (tests/unit/data/facts_default_bridge.json): the
    cable between them is drawn from both ends; host1's container veths are counted per bridge,
    not listed one per line; every text fits without overlapping."""
    from types import SimpleNamespace

    from helpers.draw.world_map import _box_lines, cables, draw_world
    from helpers.observe.collect import WorldState, from_outputs

    saved = json.loads((Path(__file__).parent / "data" / "facts_default_bridge.json").read_text())
    state = WorldState({name: from_outputs(name, "machine", "", {"links": saved[name]["links"]})
                        for name in ("host1", "router")})
    [cable] = cables(state)
    ends = {(cable.a, cable.a_interface), (cable.b, cable.b_interface)}
    host1 = _box_lines(state["host1"], "host1", ends)
    veths = [i for i in state["host1"].interfaces if i.kind == "veth" and ("host1", i.name) not in ends and i.master]
    assert veths and not any(name == v.name for name, _ in host1 for v in veths)
    assert sum(int(text.split()[1]) for name, text in host1 if name is None) == len(veths)
    assert {cable.a, cable.b} == {"host1", "router"}
    assert any(name == cable.a_interface for name, _ in _box_lines(state[cable.a], cable.a, ends))
    world = {name: SimpleNamespace(namespace=f"dnlab-t-{name}") for name in ("host1", "router")}
    drawing = draw_world(world, state)
    assert drawing.size_px()[0] <= MAX_PX and overlapping_texts(drawing) == []
    assert len(drawing.axes[0].patches) == 2                                   # one box per machine
    assert len([t for t in drawing.axes[0].texts if hasattr(t, "arrow_patch")]) == 1   # and the cable


def test_a_bridge_with_no_container_takes_only_its_bar():
    from helpers.draw.host_figure import BAR_H, BOX_H, Section, _band_height

    empty = Section("br0  10.0.0.1/24  in 1-abc (overlay ingress's namespace)", "vxlan0 VNI 4096", "#495057")
    full = Section("docker0", "Docker network bridge", "#495057", members=[(None, None)])
    assert _band_height([empty], BOX_H) == pytest.approx(BAR_H + 0.3)
    assert _band_height([empty, full], BOX_H) == _band_height([full], BOX_H) > BAR_H + BOX_H
