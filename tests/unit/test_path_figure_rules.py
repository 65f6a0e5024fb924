"""The path figure of a rule-traced probe (issue 19.3), from saved real runs: each row whose packet
met netfilter rules shows the hooks it crossed there and the rules that decided, legibly (no text
over another, within the notebook's width); the isolation figure names its DROP rule."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from helpers.draw import alt_text, draw_path
from helpers.draw.path_figure import CHAR, DROP, ROUTING, hooks_crossed, rows
from helpers.path import rebuild
from tests.unit.saved_runs import RUNS, shared_figure
from tests.unit.test_draw_figures import MAX_PX, overlapping_texts

DATA = Path(__file__).parent / "data" / "paths"
RULED = sorted(p.name for p in DATA.iterdir() if p.name.endswith("-rules"))


def _texts(drawing) -> list:
    return [t for ax in drawing.axes for t in ax.texts]


def _rule_of(path, target: str) -> str:
    return next(e["rule"] for e in path.netfilter["rules"] if e["acted"] and e["target"] == target)


@pytest.mark.parametrize("run", RULED)
@pytest.mark.parametrize("view", ["L2", "L3", "NAT"])
def test_a_rule_traced_figure_is_legible(run, view):
    drawing = shared_figure(run, view)
    width, height = drawing.size_px()
    assert width <= MAX_PX and height <= 1000, (width, height)
    assert overlapping_texts(drawing) == []
    renderer = drawing.figure.canvas.get_renderer()
    right = drawing.figure.bbox.x1
    assert all(t.get_window_extent(renderer).x1 <= right + 1 for t in _texts(drawing)), "text cut at the edge"


def test_publish_figure_names_the_dnat_in_prerouting_and_the_forward_accept():
    path = rebuild(DATA / "trace-lanpc-publish-rules")
    dnat, accept = _rule_of(path, "DNAT"), _rule_of(path, "ACCEPT")
    drawing = draw_path(path, view="NAT")
    text = " ".join(t.get_text() for t in _texts(drawing))
    flat = " ".join(text.split())
    assert f"PREROUTING nat: {dnat} => DNAT" in flat
    assert f"FORWARD filter: {accept} => ACCEPT" in flat
    assert f"hooks: PREROUTING › {ROUTING}" in flat and "FORWARD › POSTROUTING (policy ACCEPT)" in flat
    # the NAT change line points at the traced rule instead of writing it a second time
    assert "by the DNAT rule met in nat PREROUTING" in flat


def test_rules_sit_under_the_row_of_their_namespace():
    path = rebuild(DATA / "trace-lanpc-publish-rules")
    table = rows(path, "NAT")
    ruled = [(r.namespace, r.leg, r.action) for r in table if r.met]
    assert ruled == [("host1", "request", "received"), ("host1", "request", "dnat")]


def test_isolation_figure_names_its_drop_rule_in_red():
    path = rebuild(DATA / "user-bridge-isolation-rules")
    drop = _rule_of(path, "DROP")
    assert drop.startswith("-A DOCKER-ISOLATION-STAGE-2 ") and drop.endswith("-j DROP")
    drawing = draw_path(path, view="L3")
    red = [" ".join(t.get_text().split()) for t in _texts(drawing) if t.get_color() == DROP]
    assert any(f"FORWARD filter: {drop} => DROP" in line for line in red), red
    assert any(line.startswith("Dropped in host1 (filter FORWARD) by") and drop in line for line in red), red
    assert drop in alt_text(path, "L3")


def test_an_untraced_path_draws_no_rules():
    drawing = draw_path(rebuild(DATA / "user-bridge-isolation"), view="L3")
    assert not any(t.get_text().startswith(("hooks:", "Rules:")) for t in _texts(drawing))


def _entry(hook: str, kind: str = "rule", verdict: str = "ACCEPT", acted: bool = True) -> dict:
    return {"hook": hook, "kind": kind, "verdict": verdict, "acted": acted}


def test_hooks_are_in_netfilters_order_with_the_routing_decision():
    forwarded = [_entry("POSTROUTING", "policy", acted=False), _entry("FORWARD"), _entry("PREROUTING")]
    assert hooks_crossed(forwarded) == ["PREROUTING", ROUTING, "FORWARD", "POSTROUTING (policy ACCEPT)"]
    sent = [_entry("OUTPUT", "policy", acted=False), _entry("POSTROUTING", "policy", acted=False)]
    assert hooks_crossed(sent) == [ROUTING, "OUTPUT (policy ACCEPT)", "POSTROUTING (policy ACCEPT)"]
    # Docker 28's raw-table drop: the packet dies in PREROUTING, before any routing decision
    assert hooks_crossed([_entry("PREROUTING", verdict="DROP")]) == ["PREROUTING"]
    # a FORWARD policy DROP decided (20.10's unpublished port): no "(policy ...)" on the hook, it gets a line
    assert hooks_crossed([_entry("FORWARD", "policy", "DROP", acted=False)]) == ["FORWARD"]


def _column_heads(drawing) -> list:
    heads = ("what happened", "interfaces (in order)", "packet:", "frame:")
    return [t for t in drawing.axes[0].texts if t.get_text().startswith(heads)]


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("view", ["L2", "L3", "NAT"])
def test_column_heads_stand_apart(run, view):
    """The heads ran together ("what happenedinterfaces (in order)", 6 px apart, issue 20.7): two
    characters' width apart at least."""
    drawing = shared_figure(run, view)
    renderer = drawing.figure.canvas.get_renderer()
    boxes = sorted((t.get_window_extent(renderer) for t in _column_heads(drawing)), key=lambda b: b.x0)
    gap = 2 * CHAR[7.0] * drawing.figure.dpi
    assert len(boxes) == 3
    gaps = [right.x0 - left.x1 for left, right in itertools.pairwise(boxes)]
    assert all(g >= gap for g in gaps), [(b.x0, b.x1) for b in boxes]


def test_a_ping_in_the_nat_view_has_no_ports_in_its_head():
    ping = draw_path(rebuild(DATA / "user-bridge-isolation-rules"), view="NAT")
    assert [t.get_text() for t in _column_heads(ping)][-1] == "packet: src > dst"
    tcp = draw_path(rebuild(DATA / "trace-lanpc-publish-rules"), view="NAT")
    assert [t.get_text() for t in _column_heads(tcp)][-1] == "packet: src:port > dst:port"
