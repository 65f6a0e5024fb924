"""The host map as a learner reads it in JupyterLab (issue 20.7), drawn from saved real maps:

- a container on two bridges is one box, hanging from one and joined to the other by its second veth
  (it used to be two unrelated boxes, one under each bridge);
- the text inside container boxes is readable at the notebook's width: at least 7.5 pt (10 px: the
  PNG is shown at its own size, 100 dpi), inside its box, overlapping nothing (it was 6 pt, 8 px).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from helpers.draw.host_figure import draw_host_map, sections
from helpers.observe.topology import Attachment, ContainerNode, HostMap, NetworkNode, OverlayNamespace
from tests.unit.test_map_overlay import saved_map as overlay_map

DATA = Path(__file__).parent / "data"
BOX_FACES = ("#fff9db", "#e7f5ff", "#f1f3f5")     # a container box: by hand, the course's, exited
MIN_PT = 7.5


def _map(name: str) -> HostMap:
    data = json.loads((DATA / name).read_text())
    return HostMap(data["host"], data["interfaces"], [NetworkNode(**n) for n in data["networks"]],
                   [ContainerNode(**{**c, "attachments": [Attachment(**a) for a in c["attachments"]]})
                    for c in data["containers"]],
                   [OverlayNamespace(**o) for o in data.get("overlays", [])])


MAPS = {"lab4 by hand": lambda: _map("host1_map_two_networks.json"), "course scenarios": lambda: _map("host1_map.json"),
        "overlay tutorial": overlay_map}


def _texts(drawing) -> dict[str, list]:
    found: dict[str, list] = {}
    for text in drawing.axes[0].texts:
        found.setdefault(text.get_text(), []).append(text)
    return found


def test_a_container_on_two_bridges_is_one_box_joined_to_both():
    host_map = _map("host1_map_two_networks.json")
    app = next(c for c in host_map.containers if c.name == "lab4-app")
    assert {a.network for a in app.attachments} == {"lab4-front", "lab4-back"}
    drawing = draw_host_map(host_map)
    texts = _texts(drawing)
    assert len(texts["lab4-app (by hand)"]) == 1
    # its two veth pairs, each named where its line meets a bridge
    for a in app.attachments:
        assert len(texts[f"host end: {a.host_veth}"]) == 1
        assert any(a.ip in line and a.network in line for line in texts)   # both addresses in its one box
    # stacked: lab4-front's bar, the box, lab4-back's bar
    y = {name: texts[name][0].get_position()[1] for name in texts}
    front = next(t for t in texts if "Docker network lab4-front" in t)
    back = next(t for t in texts if "Docker network lab4-back" in t)
    assert y[front] > y["lab4-app (by hand)"] > y[back]
    assert [c.name for s in sections(host_map) for c, _ in s.members].count("lab4-app") == 1


def test_an_overlay_container_hangs_from_docker_gwbridge_and_reaches_its_br0():
    host_map = overlay_map()
    drawing = draw_host_map(host_map)
    texts = _texts(drawing)
    node = next(c for c in host_map.containers if c.running)
    assert len(texts[f"{node.name} (by hand)"]) == 1
    on_br0 = next(a for a in node.attachments if a.namespace)
    assert f"{on_br0.namespace} end: {on_br0.host_veth}" in texts


def _boxes(drawing):
    from matplotlib.colors import to_hex
    return [p for p in drawing.axes[0].patches if to_hex(p.get_facecolor()) in BOX_FACES
            and p.get_y() + p.get_height() < -1.05]          # below the host's own box


@pytest.mark.parametrize("name", sorted(MAPS))
def test_the_text_in_container_boxes_is_readable_at_the_notebooks_width(name):
    drawing = draw_host_map(MAPS[name]())
    width, _ = drawing.size_px()
    assert width <= 1000, "wider than a notebook: JupyterLab would scale it (and its text) down"
    drawing.figure.canvas.draw()
    renderer = drawing.figure.canvas.get_renderer()
    boxes = _boxes(drawing)
    assert boxes
    inside = 0
    for text in drawing.axes[0].texts:
        x, y = text.get_position()
        box = next((b for b in boxes if b.get_x() <= x <= b.get_x() + b.get_width()
                    and b.get_y() <= y <= b.get_y() + b.get_height()), None)
        if box is None or not text.get_text().strip():
            continue
        inside += 1
        assert text.get_fontsize() >= MIN_PT, f"{text.get_text()!r}: {text.get_fontsize()} pt"
        extent, frame = text.get_window_extent(renderer), box.get_window_extent(renderer)
        assert frame.x0 - 1 <= extent.x0 and extent.x1 <= frame.x1 + 1, f"{text.get_text()!r} leaves its box"
    assert inside >= len(boxes)
    shown = [(t.get_text(), t.get_window_extent(renderer)) for t in drawing.axes[0].texts if t.get_text().strip()]
    assert not [(a, b) for (a, p), (b, q) in itertools.combinations(shown, 2)
                if p.x0 < q.x1 - 1 and q.x0 < p.x1 - 1 and p.y0 < q.y1 - 1 and q.y0 < p.y1 - 1]
