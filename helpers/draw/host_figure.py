"""The topology map of one Docker host: its NIC, its bridges, every container on them through its
veth pair, with addresses, all from a HostMap read live (a learner's own networks and containers
appear like the course's, marked "by hand")."""
from __future__ import annotations

from helpers.observe.topology import HostMap

HAND = "#e67700"
COURSE = "#1864ab"
BRIDGE = "#495057"


def draw_host_map(host_map: HostMap):
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    bridges = [i for i in host_map.interfaces if i["kind"] == "bridge"]
    net_of_bridge = {n.bridge: n for n in host_map.networks if n.bridge}
    columns = max(1, len(bridges))
    per_bridge: dict[str, list] = {b["name"]: [] for b in bridges}
    loose = []
    for c in host_map.containers:
        placed = False
        for a in c.attachments:
            if a.bridge in per_bridge:
                per_bridge[a.bridge].append((c, a))
                placed = True
        if not placed:
            loose.append(c)
    depth = max([len(v) for v in per_bridge.values()] + [1])
    width = 11.0
    height = 2.0 + 0.75 * depth + (0.4 if loose else 0)
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.add_subplot()
    ax.set_xlim(0, columns * 3.0)
    ax.set_ylim(-0.6 - depth * 0.85 - (0.6 if loose else 0), 2.1)
    ax.axis("off")
    ax.set_title(f"{host_map.host}: namespaces, bridges, veth pairs (read live)", fontsize=10, loc="left")

    nic = next((i for i in host_map.interfaces if i["name"] == "eth0"), None)
    host_text = f"{host_map.host} namespace   eth0 {', '.join(nic['addresses']) if nic else ''}"
    ax.add_patch(FancyBboxPatch((0.1, 1.3), columns * 3.0 - 0.2, 0.6, boxstyle="round,pad=0.02",
                                fc="#f1f3f5", ec=BRIDGE))
    ax.text(0.25, 1.6, host_text, fontsize=9, va="center", fontweight="bold")

    for col, bridge in enumerate(bridges):
        cx = col * 3.0 + 1.5
        net = net_of_bridge.get(bridge["name"])
        origin = net.origin if net else "hand"
        colour = HAND if origin == "hand" else COURSE
        ax.add_patch(FancyBboxPatch((cx - 1.35, 0.2), 2.7, 0.7, boxstyle="round,pad=0.02", fc="white", ec=colour, lw=1.5))
        label = f"{bridge['name']}  {', '.join(bridge['addresses'])}"
        sub = f"network {net.name} ({net.driver}{', by hand' if origin == 'hand' else ''})" if net else "no Docker network"
        ax.text(cx, 0.65, label, ha="center", fontsize=7.5, fontweight="bold")
        ax.text(cx, 0.35, sub, ha="center", fontsize=7, color=colour)
        ax.plot([cx, cx], [0.9, 1.3], color=BRIDGE, lw=1)
        for row, (c, a) in enumerate(per_bridge[bridge["name"]]):
            y = -0.6 - row * 0.85
            ccol = HAND if c.origin == "hand" else COURSE
            ax.plot([cx, cx], [0.2 if row == 0 else y + 0.85 - 0.3, y + 0.3], color=BRIDGE, lw=1)
            ax.add_patch(FancyBboxPatch((cx - 1.3, y - 0.3), 2.6, 0.6, boxstyle="round,pad=0.02",
                                        fc="#fff9db" if c.origin == "hand" else "#e7f5ff", ec=ccol))
            ax.text(cx, y + 0.1, c.name + ("  (by hand)" if c.origin == "hand" else ""), ha="center", fontsize=7.5,
                    fontweight="bold")
            ax.text(cx, y - 0.15, f"{a.interface} {a.ip}  <-veth->  {a.host_veth}", ha="center", fontsize=6.5)
    if loose:
        names = ", ".join(f"{c.name} ({c.network_mode})" for c in loose)
        ax.text(0.1, -0.5 - depth * 0.85, f"not on a bridge: {names}", fontsize=7.5)
    return figure
