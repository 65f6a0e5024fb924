"""The path figure: a sequence diagram of one traced probe.

One vertical lane per namespace (in the order the packet met them) and one row per stop: hops in
the same namespace that show the same headers in this view (a frame entering a bridge, crossing
it, leaving it) share a row, whose interfaces are listed in order; a row changes as soon as a
header changes, so every rewrite has its own row, in the highlight colour, with the rule that did
it. A packet inside a VXLAN tunnel is drawn as a layer: an outer header box around the inner
packet, and a band over the lanes it crossed encapsulated. Views: L2 (MACs, and the ARP exchanges
captured around the probe), L3 (addresses, TTL), NAT (addresses and ports, with the rule that
rewrote them). Everything comes from the Path: nothing is drawn from a fixed address or picture.

A rule-traced path (`trace(..., rules=True)`, `--rules`) adds under each row whose hops met netfilter
rules (`Hop.rules_met`, the kernel's own trace) the hooks the packet crossed there, in order, with the
routing decision between them, and one line per rule that decided (its verdict ended the walk:
ACCEPT, DROP, a NAT target): hook, table, the rule as iptables-save prints it, its outcome. A hook
where no rule decided shows its policy. The DROP that stopped a packet is drawn in red.

Geometry is in inches (one data unit = one inch), so fonts and spacing hold at the notebook's
width (about 900 px at 100 dpi) whatever the number of lanes.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from helpers.draw.display import Drawing, canvas, columns, in_language, mono, wrap
from helpers.language import translate
from helpers.path.model import ACTIONS, Hop, Path
from helpers.scenarios import probe_description

VIEWS = ("L2", "L3", "NAT")
HIGHLIGHT = "#d9480f"     # rewrites
ARROW = {"request": "#1864ab", "reply": "#2b8a3e"}
DROP = "#c92a2a"
LANE = "#adb5bd"
MUTED = "#495057"
TUNNEL = "#e8590c"        # the VXLAN layer: outer header box and the band over the lanes
TUNNEL_FILL = "#fff4e6"

# Layout, in inches.
LANE_GAP = 0.48           # between two lanes (lanes hold dots and arrows only; names are staggered above)
LANE_X0 = 0.45
LINE = 0.25               # one text line of a row
CHANGE_LINE = 0.17        # one line of "what changed"
OUTER_LINE = 0.23         # the outer-header line of an encapsulated packet
FOOT_LINE = 0.17          # one line of the footnotes
WHERE_LINE = 0.17         # one more line of a wrapped interface chain
RULE_LINE = 0.16          # one line of the rules a packet met (6.5 pt monospace)
CHAR = {6.5: 0.0545, 7.0: 0.0587, 7.5: 0.0628, 8.0: 0.067}   # monospace advance per point size
MAX_WIDTH = 9.0           # inches (900 px); wider only if a header line needs it


HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")   # netfilter's order in a namespace
ROUTING = "routing decision"
NAT_TARGETS = ("DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP")
RULE_COLOUR = "#5f3dc4"   # a rule that accepted


def _fields(view: str) -> tuple[str, ...]:
    return {"L2": ("src_mac", "dst_mac"), "L3": ("src", "dst", "ttl"), "NAT": ("src", "dst")}[view]


def hop_text(hop: Hop, view: str, traced: list[dict] | None = None) -> tuple[str, str]:
    """(headers, change) for one hop in a view: the inner packet's headers and what changed
    since the previous hop (with the NAT rule that did it, in the NAT view). `traced`: the rules the
    kernel's trace says this packet met in the hop's namespace; a NAT rule among them is named by
    its hook (its text is drawn there) instead of being written twice."""
    if view == "L2":
        headers = f"{hop.src_mac} > {hop.dst_mac}"
    elif view == "L3":
        headers = f"{_ip(hop.src)} > {_ip(hop.dst)}  ttl {hop.ttl}"
    else:
        headers = f"{hop.src} > {hop.dst}"
    changed = []
    for name in _fields(view):
        if name in hop.changes:
            before, after = hop.changes[name]
            if view == "L3" and name in ("src", "dst"):
                before, after = _ip(before), _ip(after)
                if before == after:
                    continue
            changed.append(f"{name} {before} -> {after}")
    if "outer" in hop.changes:
        changed.append(translate("draw:path:vxlan-added", "VXLAN header added (encapsulated)") if hop.outer
                       else translate("draw:path:vxlan-removed", "VXLAN header removed (decapsulated)"))
    change = "; ".join(changed)
    if view == "NAT" and hop.action in ("masquerade", "snat", "dnat", "proxied", "un-nat", "dropped"):
        rule = next((s.rule for s in hop.steps if s.rule), None)
        met = next((e for e in traced or [] if e["acted"] and e["rule"] == rule), None) if rule else None
        if met:
            by = translate("draw:path:by-rule-met", "by the {target} rule met in {table} {hook}", target=outcome(met),
                           table=met['table'], hook=met['hook'])
            change = (change + "  " if change else "") + by
        elif rule:
            change = (change + "  " if change else "") + translate("draw:path:by", "by {rule}", rule=rule)
        elif hop.action == "proxied":
            # No NAT rule: a userland relay opened a second connection; say which, from the trace.
            relay = next((s.detail for s in hop.steps if s.kind == "proxied"), "")
            change = (change + "  " if change else "") + translate("draw:path:by", "by {rule}",
                                                                   rule=relay or "docker-proxy")
    return headers, change


def outer_text(hop: Hop, view: str) -> str:
    """The outer (VXLAN) header of an encapsulated hop in this view, '' when not encapsulated."""
    if not hop.outer:
        return ""
    if view == "L2":
        return f"outer {hop.outer['src_mac']} > {hop.outer['dst_mac']}  VXLAN VNI {hop.outer['vni']}"
    return f"outer {_ip(hop.outer['src'])} > {hop.outer['dst']} VXLAN VNI {hop.outer['vni']}"


def _ip(endpoint: str | None) -> str | None:
    from helpers.path.model import _address

    return _address(endpoint)


# --- rows: hops grouped for drawing -------------------------------------------------------------

@dataclass
class Row:
    """Consecutive hops of one leg in one namespace showing the same headers in a view."""

    leg: str
    namespace: str
    hops: list[Hop] = field(default_factory=list)
    headers: str = ""
    outer: str = ""
    changes: list[str] = field(default_factory=list)
    rewrite: bool = False

    @property
    def action(self) -> str:
        kinds = {h.action for h in self.hops}
        return next((a for a in ACTIONS if a in kinds), "received")

    @property
    def interfaces(self) -> str:
        return " › ".join(h.interface for h in self.hops)

    @property
    def met(self) -> list[dict]:
        """The rules the kernel's trace laid on this row's hops (helpers/path/rules.py), in order."""
        return [entry for hop in self.hops for entry in hop.rules_met]


def rows(path: Path, view: str) -> list[Row]:
    """The path's hops grouped into the figure's rows (see the module docstring)."""
    found: list[Row] = []
    for hop in path.hops:
        headers, change = hop_text(hop, view, traced_in(path, hop))
        outer = outer_text(hop, view)
        last = found[-1] if found else None
        if (last is None or last.leg != hop.leg or last.namespace != hop.namespace
                or last.headers != headers or last.outer != outer or change):
            # A hop that changed something starts its own row: the change is drawn where it happened.
            last = Row(hop.leg, hop.namespace, headers=headers, outer=outer)
            found.append(last)
        last.hops.append(hop)
        if change:
            last.changes.append(change)
            last.rewrite = last.rewrite or any(k in hop.changes for k in _fields(view))
    return found


def traced_in(path: Path, hop: Hop) -> list[dict]:
    """The rules the kernel's trace says the packet of this hop's leg met in its namespace."""
    return [e for e in path.netfilter.get("rules", []) if e["namespace"] == hop.namespace and e["leg"] == hop.leg]


# --- the rules a packet met (the kernel's trace) ------------------------------------------------

def outcome(entry: dict) -> str:
    """What a rule did: its NAT target (DNAT, MASQUERADE, ...), else its verdict (ACCEPT, DROP)."""
    target = entry.get("target")
    return target if entry.get("acted") and target in NAT_TARGETS else (entry.get("verdict") or "?")


def decided(entry: dict) -> bool:
    """A rule whose verdict ended the packet's walk of its chain, or a policy that dropped it."""
    return bool(entry["acted"]) or (entry["kind"] == "policy" and entry["verdict"] == "DROP")


def hooks_crossed(met: list[dict]) -> list[str]:
    """The hooks these rules were met in, in netfilter's order, with the routing decision where the
    kernel takes it: after PREROUTING (unless the packet died there), before OUTPUT."""
    found: list[str] = []
    for hook in HOOKS:
        here = [e for e in met if e["hook"] == hook]
        if not here:
            continue
        if hook == "OUTPUT":
            found.append(_routing())
        policies = sorted({e["verdict"] for e in here if e["kind"] == "policy" and not decided(e)})
        found.append(f"{hook} (policy {'/'.join(policies)})" if policies and not any(map(decided, here)) else hook)
        if hook == "PREROUTING" and not any(e["verdict"] == "DROP" for e in here):
            found.append(_routing())
    return found


def _routing() -> str:
    """ROUTING in the language in force."""
    return translate("draw:path:routing", "routing decision")


def rule_lines(met: list[dict], chars: int) -> list[tuple[str, str]]:
    """(line, colour) for the rules one row's packet met: the hooks it crossed, then each rule that
    decided (hook, table, the rule as iptables-save prints it, its outcome), wrapped to `chars`."""
    if not met:
        return []
    options = dict(break_on_hyphens=False, break_long_words=True)
    lines = [(line, MUTED) for line in wrap(translate("draw:path:hooks", "hooks: ") + " › ".join(hooks_crossed(met)),
                                            chars, subsequent_indent="       ", **options)]
    for entry in filter(decided, met):
        what = outcome(entry)
        colour = DROP if what == "DROP" else HIGHLIGHT if what in NAT_TARGETS else RULE_COLOUR
        rule = entry["rule"] or f"policy of {entry['chain']}"
        text = f"{entry['hook']} {entry['table']}: {rule}  => {what}"
        lines += [(line, colour) for line in textwrap.wrap(text, chars, subsequent_indent="    ", **options)]
    return lines


def drop_rule(path: Path) -> dict | None:
    """The rule (or policy) the kernel's trace says dropped the probe, if any."""
    return next((e for e in path.netfilter.get("rules", []) if decided(e) and e["verdict"] == "DROP"), None)


# --- lanes --------------------------------------------------------------------------------------

def lane_label(path: Path, lane: str) -> tuple[str, str]:
    """(name, note) for a lane: an engine's own namespace (`host2:1-wucx1ehg0x`, Docker's
    overlay namespace) gets a readable name and a footnote saying what it is."""
    hop = next((h for h in path.hops if h.namespace == lane), None)
    if hop is None or hop.kind != "docker" or ":" not in lane:
        return lane, ""
    host, entry = lane.split(":", 1)
    if entry == "ingress_sbox":
        return f"{host}\n" + translate("draw:path:ingress-ns", "ingress ns"), translate(
            "draw:path:ingress-note", "{host} ingress ns = {lane}: the namespace of the swarm's routing mesh on "
            "{host}.", host=host, lane=lane)
    return f"{host}\n" + translate("draw:path:overlay-ns", "overlay ns"), translate(
        "draw:path:overlay-note", "{host} overlay ns = {lane}: the namespace Docker's overlay driver made on {host} "
        "for the overlay network whose id starts with {id} (its br0 bridges the containers' veths and vxlan0, the "
        "tunnel end).", host=host, lane=lane, id=entry.split('-', 1)[-1])


# --- drawing ------------------------------------------------------------------------------------

@dataclass
class _Columns:
    """x positions (inches) of the text columns, right of the lanes."""

    action: float
    where: float
    headers: float
    end: float

    @property
    def change_chars(self) -> int:
        return max(30, int((self.end - self.where) / CHAR[7.0]))

    @property
    def rule_chars(self) -> int:
        """Characters of a rules line (6.5 pt monospace), from the action column to the edge."""
        return max(40, int((self.end - self.action - 0.1) / CHAR[6.5]))


def _columns(path: Path, lanes: list[str], table: list[Row]) -> _Columns:
    lanes_end = LANE_X0 + (len(lanes) - 1) * LANE_GAP + 0.3
    action = lanes_end + 0.1
    # At least the column head ("interfaces (in order)") wide, in a browser's font too (the explorer's SVG).
    where_chars = min(26, max([len(r.interfaces) for r in table] + [24, columns(_head_where())]))
    # The action column holds its longest word (11 characters) and its head, "what happened", with a gap
    # before the next head (they ran together: "what happenedinterfaces").
    where = action + max(11 * CHAR[7.5], 13 * CHAR[7.0]) + 0.2
    headers = where + where_chars * CHAR[6.5] + 0.15
    widest = max([len(r.headers) * CHAR[7.5] for r in table] + [len(r.outer) * CHAR[6.5] + 0.2 for r in table] + [2.0])
    return _Columns(action, where, headers, max(MAX_WIDTH, headers + widest + 0.15))


def _extra(row: Row) -> float:
    """How far a row reaches below its first line: a wrapped interface chain, or the inner
    packet's line of an encapsulated hop (whichever is deeper); the change lines come after."""
    return max((len(_where_lines(row.interfaces)) - 1) * WHERE_LINE, OUTER_LINE if row.outer else 0)


def _row_height(row: Row, columns: _Columns) -> float:
    lines = sum(len(_wrap(c, columns.change_chars)) for c in row.changes)
    rules = len(rule_lines(row.met, columns.rule_chars))
    return LINE + _extra(row) + CHANGE_LINE * lines + RULE_LINE * rules + (0.04 if rules else 0) + 0.06


@in_language
def draw_path(path: Path, view: str = "L3") -> Drawing:
    """The path in the L2, L3 or NAT view, as a `Drawing` (a PNG in a notebook, no pyplot needed)."""

    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}")
    lanes = path.lanes or [path.source]
    table = rows(path, view)
    columns = _columns(path, lanes, table)
    labels = {lane: lane_label(path, lane) for lane in lanes}
    notes = [(note, TUNNEL) for _, note in labels.values() if note]
    arp = path.arp_lines() if view == "L2" else []
    top = 1.25   # title, lane names, column heads
    body = sum(_row_height(r, columns) for r in table) + (0.35 if path.reply else 0) + (0.5 if not table else 0)
    width = columns.end
    notes += rules_notes(path)
    foot = 0.15 + FOOT_LINE * len(_footer_lines(arp, notes, any(r.outer for r in table), width))
    height = top + body + foot
    figure, ax = canvas(width, height)

    lane_x = {name: LANE_X0 + i * LANE_GAP for i, name in enumerate(lanes)}
    _title(ax, path, view)
    _lane_heads(ax, lane_x, labels, columns, view, bool(table), ports=_has_ports(table))
    bottom = -height + foot
    for x in lane_x.values():
        ax.plot([x, x], [-top + 0.1, bottom], color=LANE, lw=1, zorder=0)
    y = -top - 0.12
    previous: tuple[Row, float] | None = None
    tunnel: list[tuple[Row, float]] = []
    for row in table:
        if row.leg == "reply" and (previous is None or previous[0].leg == "request"):
            y = _leg_divider(ax, y, columns)
            previous = None
        step = _row_height(row, columns)
        _draw_row(ax, row, y, lane_x, columns, previous)
        if row.outer:
            tunnel.append((row, y))
        elif tunnel:
            _tunnel_band(ax, tunnel, lane_x)
            tunnel = []
        previous = (row, y)
        y -= step
    if tunnel:
        _tunnel_band(ax, tunnel, lane_x)
    if not table:
        # Nothing left the source: say so, with what the probe itself reported.
        said = next((line.strip() for line in (path.output or "").splitlines() if line.strip()), "")
        ax.text(LANE_X0 + 0.2, y, translate("draw:path:none-captured",
                                            "no packet of the probe was captured: it never left {source}",
                                            source=path.source)
                + ("\n" + translate("draw:path:probe-said", "the probe said: {said}", said=said[:90]) if said else ""),
                fontsize=8.5, color=DROP, va="top")
    _footer(ax, bottom, arp, notes, any(r.outer for r in table), width)
    return Drawing(figure, _caption(path, view, table))


def _has_ports(table: list[Row]) -> bool:
    """Whether the packets drawn carry ports (TCP, UDP); a ping's headers read `src > dst`."""
    return any(":" in row.headers for row in table)


def _title(ax, path: Path, view: str) -> None:
    port = f":{path.port}" if path.port else ""
    fields = dict(scenario=path.scenario, probe=path.probe, view=view, source=path.source,
                  target=f"{path.target}{port}")
    if path.reached:
        title = translate("draw:path:title-reached", "{scenario} / {probe}, {view} view: {source} reached {target}",
                          **fields)
    else:
        title = translate("draw:path:title-not-reached",
                          "{scenario} / {probe}, {view} view: {source} did NOT reach {target}", **fields)
    ax.text(0.1, -0.12, title, fontsize=10, fontweight="bold", va="top")
    if path.description:
        subtitle = probe_description(path.scenario, path.probe, path.description, path.kind, path.port)
        ax.text(0.1, -0.38, subtitle, fontsize=7.5, color=MUTED, va="top", style="italic")


def _lane_heads(ax, lane_x: dict, labels: dict, columns: _Columns, view: str, heads: bool = True,
                ports: bool = True) -> None:
    """The lanes' names and the column heads; `ports`: the probe's packets carry ports (a ping's do not)."""
    # Names alternate between two heights so neighbours never overlap, however long they are.
    for i, (lane, x) in enumerate(lane_x.items()):
        name, note = labels[lane]
        y = -0.72 if i % 2 == 0 else -0.98
        ax.text(x, y, name, fontsize=7, fontweight="bold", ha="center", va="bottom", linespacing=1.0,
                color=TUNNEL if note else "black")
        ax.plot([x, x], [y - 0.03, -1.13], color=LANE, lw=0.6, ls=":", zorder=0)
    if not heads:
        return   # no row: column heads over nothing would only puzzle
    heads = {"L2": translate("draw:path:head-l2", "frame: src MAC > dst MAC"),
             "L3": translate("draw:path:head-l3", "packet: src > dst, TTL"),
             "NAT": translate("draw:path:head-nat-ports", "packet: src:port > dst:port") if ports
             else translate("draw:path:head-nat", "packet: src > dst")}
    titles = ((columns.action, translate("draw:path:head-action", "what happened")),
              (columns.where, _head_where()), (columns.headers, heads[view]))
    for x, text in titles:
        ax.text(x, -1.1, text, fontsize=7, color=MUTED, va="bottom", style="italic")


def _head_where() -> str:
    return translate("draw:path:head-where", "interfaces (in order)")


def _leg_divider(ax, y: float, columns: _Columns) -> float:
    y -= 0.05
    ax.plot([0.05, columns.end - 0.05], [y, y], color=ARROW["reply"], lw=0.6, ls="--", alpha=0.6)
    ax.text(0.08, y - 0.04, translate("draw:path:reply", "reply"), fontsize=7.5, color=ARROW["reply"],
            style="italic", va="top")
    return y - 0.3


def _draw_row(ax, row: Row, y: float, lane_x: dict, columns: _Columns, previous) -> None:
    x = lane_x.get(row.namespace, LANE_X0)
    dropped = row.action == "dropped"
    colour = DROP if dropped else (HIGHLIGHT if row.rewrite else ARROW[row.leg])
    if previous is not None:
        prow, py = previous
        ax.annotate("", xy=(x, y), xytext=(lane_x.get(prow.namespace, LANE_X0), py),
                    arrowprops=dict(arrowstyle="-|>", color=ARROW[row.leg], lw=1.1, shrinkA=4, shrinkB=4))
    ax.plot([x], [y], marker="X" if dropped else "o", ms=7, color=colour, zorder=3)
    ax.text(columns.action, y, row.action, fontsize=7.5, family=mono(), va="center", color=colour,
            fontweight="bold")
    for n, line in enumerate(_where_lines(row.interfaces)):
        ax.text(columns.where, y - n * WHERE_LINE, line, fontsize=6.5, family=mono(), va="center", color=MUTED)
    below = y - LINE * 0.55 - _extra(row)
    if row.outer:
        _encapsulated(ax, row, y, columns)
    else:
        ax.text(columns.headers, y, row.headers, fontsize=7.5, family=mono(), va="center")
    n = 0
    for change in row.changes:
        for line in _wrap(change, columns.change_chars):
            ax.text(columns.where, below - CHANGE_LINE * n, line, fontsize=7, family=mono(), va="center",
                    color=HIGHLIGHT if row.rewrite or "VXLAN" in line else MUTED)
            n += 1
    top = below - CHANGE_LINE * n - 0.02
    for k, (line, colour) in enumerate(rule_lines(row.met, columns.rule_chars)):
        ax.text(columns.action, top - RULE_LINE * k, line, fontsize=6.5, family=mono(), va="center",
                color=colour, fontweight="bold" if colour == DROP else "normal")


def _encapsulated(ax, row: Row, y: float, columns: _Columns) -> None:
    """The packet as a layer: the outer header box, the inner packet boxed inside it."""
    from matplotlib.patches import FancyBboxPatch

    x0 = columns.headers - 0.08
    outer = ax.text(x0 + 0.08, y + 0.02, row.outer, fontsize=6.5, family=mono(), va="center", color=TUNNEL,
                    zorder=3)
    inner_y = y - OUTER_LINE + 0.02
    inner = ax.text(x0 + 0.18, inner_y, row.headers, fontsize=7.5, family=mono(), va="center", zorder=4)
    inner_w = _width(ax, inner) + 0.16
    outer_w = max(inner_w + 0.2, _width(ax, outer) + 0.16)
    ax.add_patch(FancyBboxPatch((x0, y - OUTER_LINE - 0.1), outer_w, OUTER_LINE + 0.22, boxstyle="round,pad=0.01",
                                fc=TUNNEL_FILL, ec=TUNNEL, lw=0.9, zorder=1))
    ax.add_patch(FancyBboxPatch((x0 + 0.1, inner_y - 0.08), inner_w, 0.16, boxstyle="round,pad=0.01",
                                fc="white", ec=ARROW[row.leg], lw=0.7, zorder=2))


def _width(ax, artist) -> float:
    """Width in inches (data units) of a text as rendered: boxes fit their text exactly."""
    box = artist.get_window_extent(ax.figure.canvas.get_renderer())
    (left, _), (right, _) = ax.transData.inverted().transform([(box.x0, 0), (box.x1, 0)])
    return right - left


def _tunnel_band(ax, tunnel: list[tuple[Row, float]], lane_x: dict) -> None:
    """A band over the lanes the packet crossed inside the tunnel."""
    from matplotlib.patches import Rectangle

    xs = [lane_x.get(r.namespace, LANE_X0) for r, _ in tunnel]
    top, bottom = tunnel[0][1] + 0.14, tunnel[-1][1] - 0.14
    left, right = min(xs) - 0.2, max(xs) + 0.2
    ax.add_patch(Rectangle((left, bottom), right - left, top - bottom, fc=TUNNEL_FILL, ec=TUNNEL, lw=0.8,
                           ls="--", zorder=0.5, alpha=0.9))
    # The label sits on the band's left edge, clear of the dots and arrows inside it.
    ax.text(left - 0.03, (top + bottom) / 2, translate("draw:path:tunnel", "VXLAN tunnel"), fontsize=6.5,
            color=TUNNEL, ha="right", va="center",
            rotation=90, zorder=0.6)


def rules_notes(path: Path) -> list[tuple[str, str]]:
    """Footnotes of a rule-traced path, each with its colour: what the rules lines are, the rule that
    dropped the probe, where the trace could not look."""
    if not path.netfilter:
        return []
    found = [(translate("draw:path:rules-note", "Rules: the kernel's own trace of this probe's flow (xtables-monitor): "
                        "under a row, the netfilter hooks the packet crossed in that namespace and each rule whose "
                        "verdict decided (jumps, returns and rules that did not match are left out)."), MUTED)]
    dropped = drop_rule(path)
    if dropped:
        found.append((translate("draw:path:dropped", "Dropped in {namespace} ({table} {hook}) by {rule}.",
                                namespace=dropped['namespace'], table=dropped['table'], hook=dropped['hook'],
                                rule=dropped['rule'] or translate("draw:path:policy-of", "the policy of {chain}",
                                                                  chain=dropped['chain'])), DROP))
    # Only the lanes: a namespace the packet never crossed (an engine's stale one) is no part of the figure.
    found += [(translate("draw:path:untraced", "{name}: not traced ({why}); its rules' counters stand instead.",
                         name=name, why=why), MUTED)
              for name, why in path.netfilter.get("untraced", {}).items() if name in path.lanes]
    return found


def _footer(ax, bottom: float, arp: list[str], notes: list[str], tunnel: bool, width: float) -> None:
    for n, (line, colour) in enumerate(_footer_lines(arp, notes, tunnel, width)):
        ax.text(0.1, bottom - 0.08 - FOOT_LINE * n, line, fontsize=6.5, va="top", color=colour,
                family=mono() if line.startswith("ARP") else None)


def _footer_lines(arp: list[str], notes: list[tuple[str, str]], tunnel: bool, width: float) -> list[tuple[str, str]]:
    """The footnotes (text, colour), wrapped to the figure's width (an ARP line stays whole: tests find it)."""
    texts = list(notes)
    if tunnel:
        texts.append((translate("draw:path:tunnel-note", "Orange box: the outer header the tunnel adds (host to "
                                "host, UDP 4789); the white box inside it is the container's own packet, unchanged."),
                      TUNNEL))
    chars = int((width - 0.3) / 0.05)   # proportional 6.5 pt text: about 0.05 inch a character
    lines = [(line, MUTED) for line in arp]
    for text, colour in texts:
        lines += [(line, colour) for line in wrap(text, chars)]
    return lines


def _caption(path: Path, view: str, table: list[Row]) -> str:
    verdict = "reached" if path.reached else "did not reach"
    return (f"[figure: {path.scenario} / {path.probe}, {view} view: {path.source} {verdict} {path.target}; "
            f"{len(path.request)} request and {len(path.reply)} reply hops in {len(table)} rows]")


def _where_lines(interfaces: str, width: int = 26) -> list[str]:
    """Interface chain in lines of at most `width` characters, broken between interfaces."""
    return textwrap.wrap(interfaces, width, break_long_words=False, break_on_hyphens=False) or [""]


def _wrap(text: str, width: int = 95) -> list[str]:
    return textwrap.wrap(text, width) if text else []


def alt_text(path: Path, view: str = "L3") -> str:
    """What the figure shows, as text (screen readers; notebook tests compare it)."""
    lines = [f"{path.scenario} {path.probe}, {view} view, lanes: {', '.join(path.lanes)}"]
    for hop in path.hops:
        headers, change = hop_text(hop, view, traced_in(path, hop))
        outer = outer_text(hop, view)
        lines.append(f"{hop.leg} {hop.namespace} {hop.interface} {hop.action}: {headers}"
                     + (f" inside VXLAN ({outer})" if outer else "")
                     + (f" [changed: {change}]" if change else ""))
        lines += [f"  {line.strip()}" for line, _ in rule_lines(hop.rules_met, 10_000)]
    if view == "L2":
        lines += path.arp_lines()
    return "\n".join(lines)
