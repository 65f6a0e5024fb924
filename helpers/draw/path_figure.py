"""The path figure: a sequence diagram of one traced probe.

One vertical lane per namespace (in the order the packet met them), one row per hop, an arrow
from each hop to the next, the headers seen at each hop on the right, and whatever changed since
the previous hop in the highlight colour. Views: L2 (MACs, and the ARP exchanges captured around
the probe), L3 (addresses, TTL), NAT (addresses and ports, with the rule that rewrote them).
Everything comes from the Path: nothing is drawn from a fixed address or picture.
"""
from __future__ import annotations

from helpers.path.model import Hop, Path

VIEWS = ("L2", "L3", "NAT")
HIGHLIGHT = "#d9480f"     # rewrites
ARROW = {"request": "#1864ab", "reply": "#2b8a3e"}
DROP = "#c92a2a"
LANE = "#adb5bd"
WIDTH = 11.0              # inches: readable at notebook width


def _fields(view: str) -> tuple[str, ...]:
    return {"L2": ("src_mac", "dst_mac"), "L3": ("src", "dst", "ttl"), "NAT": ("src", "dst")}[view]


def hop_text(hop: Hop, view: str) -> tuple[str, str]:
    """(headers, change) for one hop in a view: the text the figure and its alt text show."""
    if view == "L2":
        headers = f"{hop.src_mac} > {hop.dst_mac}"
        if hop.outer:
            headers += f"  outer {hop.outer['src_mac']} > {hop.outer['dst_mac']}"
    elif view == "L3":
        headers = f"{_ip(hop.src)} > {_ip(hop.dst)}  ttl {hop.ttl}"
        if hop.outer:
            headers += f"  outer {hop.outer['src']} > {hop.outer['dst']} vni {hop.outer['vni']}"
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
    if view != "L2" and "outer" in hop.changes:
        changed.append("VXLAN " + ("added" if hop.outer else "removed"))
    change = "; ".join(changed)
    if view == "NAT" and hop.action in ("masquerade", "snat", "dnat", "proxied", "un-nat", "dropped"):
        rule = next((s.rule for s in hop.steps if s.rule), None)
        if rule:
            change = (change + "  " if change else "") + f"by {rule}"
    return headers, change


def _ip(endpoint: str | None) -> str | None:
    from helpers.path.model import _address

    return _address(endpoint)


def draw_path(path: Path, view: str = "L3"):
    """A matplotlib Figure of the path, in the L2, L3 or NAT view."""
    from matplotlib.figure import Figure

    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}")
    hops = path.hops
    lanes = path.lanes or [path.source]
    texts = [hop_text(hop, view) for hop in hops]
    # A row per hop; a hop whose headers changed gets a second line for what changed and why.
    steps = [1.0 + (0.45 * len(_wrap(change)) if change else 0) for _, change in texts]
    arp = path.arp_lines() if view == "L2" else []   # how the first frame's destination MAC was found
    total = sum(steps) + (1 if path.reply else 0) + (0.5 + 0.45 * len(arp) if arp else 0)
    height = 1.3 + 0.36 * max(total, 2)
    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    ax = figure.add_subplot()
    lane_w = 1.0
    lane_x = {name: i * lane_w for i, name in enumerate(lanes)}
    text_x = (len(lanes) - 0.4) * lane_w
    ax.set_xlim(-0.6, text_x + 7.4)
    ax.set_ylim(-total - 0.2, 1.9)
    ax.axis("off")
    for name, x in lane_x.items():
        ax.plot([x, x], [0.5, -total + 0.4], color=LANE, lw=1, zorder=0)
        ax.text(x, 0.75, name, rotation=25, ha="left", va="bottom", fontsize=8, fontweight="bold")
    verdict = "reached" if path.reached else "did not reach"
    ax.set_title(f"{path.scenario} / {path.probe} ({view} view): {path.source} {verdict} "
                 f"{path.target}{f':{path.port}' if path.port else ''}", fontsize=10, loc="left")
    y = 0.0
    previous, y_prev = None, 0.0
    for hop, (headers, change), step in zip(hops, texts, steps):
        if hop.leg == "reply" and (previous is None or previous.leg == "request"):
            y -= 1
            ax.text(-0.5, y + 0.5, "reply", fontsize=8, color=ARROW["reply"], style="italic")
        x = lane_x.get(hop.namespace, 0)
        rewrite = bool(change) and any(k in hop.changes for k in _fields(view))
        colour = DROP if hop.action == "dropped" else (HIGHLIGHT if rewrite else ARROW[hop.leg])
        if previous is not None and previous.leg == hop.leg:
            px = lane_x.get(previous.namespace, 0)
            ax.annotate("", xy=(x, y), xytext=(px, y_prev),
                        arrowprops=dict(arrowstyle="-|>", color=ARROW[hop.leg], lw=1.2, shrinkA=4, shrinkB=4))
        ax.plot([x], [y], marker="X" if hop.action == "dropped" else "o", ms=7, color=colour, zorder=3)
        ax.text(x + 0.07, y + 0.12, hop.interface, fontsize=6.5, color="#495057")
        ax.text(text_x, y, f"{hop.action:<10}", fontsize=8, family="monospace", va="center",
                color=colour, fontweight="bold")
        ax.text(text_x + 1.1, y, headers, fontsize=8, family="monospace", va="center")
        for n, line in enumerate(_wrap(change)):
            ax.text(text_x + 1.1, y - 0.45 * (n + 1), line, fontsize=7, family="monospace", va="center",
                    color=HIGHLIGHT if rewrite else "#495057")
        previous, y_prev = hop, y
        y -= step
    if not hops:
        ax.text(0, -1, "no packet of the probe was captured", fontsize=9, color=DROP)
    for n, line in enumerate(arp):
        ax.text(-0.5, y - 0.2 - 0.45 * n, line, fontsize=7.5, family="monospace", va="center", color="#495057",
                bbox=dict(facecolor="white", edgecolor="none", pad=1))
    return figure


def _wrap(text: str, width: int = 95) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) if text else []


def alt_text(path: Path, view: str = "L3") -> str:
    """What the figure shows, as text (screen readers; notebook tests compare it)."""
    lines = [f"{path.scenario} {path.probe}, {view} view, lanes: {', '.join(path.lanes)}"]
    for hop in path.hops:
        headers, change = hop_text(hop, view)
        lines.append(f"{hop.leg} {hop.namespace} {hop.interface} {hop.action}: {headers}"
                     + (f" [changed: {change}]" if change else ""))
    if view == "L2":
        lines += path.arp_lines()
    return "\n".join(lines)
