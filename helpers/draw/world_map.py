"""The whole lab world on one figure: every namespace, its interfaces and addresses, and the veth
cables between namespaces, all read from the kernel (nothing about the topology is hard-coded;
only the column a role is placed in is a layout choice)."""
from __future__ import annotations

from dataclasses import dataclass

from helpers.observe import machine_targets, read_all
from helpers.observe.collect import WorldState
from helpers.observe.parse import peer_pairs

# Layout: which column each role sits in (left: LAN machines; middle: router; right: internet).
COLUMNS = {"host1": 0, "host2": 0, "lanpc": 0, "router": 1, "inet": 2}


@dataclass(frozen=True)
class Cable:
    """A veth pair between two namespaces, as observed (ifindex <-> peer ifindex on both ends)."""

    a: str
    a_interface: str
    b: str
    b_interface: str


def observe_world(world) -> WorldState:
    return read_all(machine_targets(world), parts=("links",))


def cables(state: WorldState) -> list[Cable]:
    found = []
    names = list(state.namespaces)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for left, right in peer_pairs(state[a].interfaces, state[b].interfaces):
                found.append(Cable(a, left.name, b, right.name))
    return found


def describe(state: WorldState) -> str:
    """The same map as text (for screen readers and nbval)."""
    lines = []
    for name, ns in state.namespaces.items():
        parts = []
        for iface in ns.interfaces:
            if iface.name == "lo":
                continue
            addrs = ",".join(a.cidr for a in iface.ipv4)
            bridge = f" (port of {iface.master})" if iface.master else ""
            parts.append(f"{iface.name}[{iface.kind or 'device'}]{' ' + addrs if addrs else ''}{bridge}")
        lines.append(f"{name}: " + "; ".join(parts))
    for cable in cables(state):
        lines.append(f"cable: {cable.a}/{cable.a_interface} <-> {cable.b}/{cable.b_interface}")
    return "\n".join(lines)


def draw_world(world, state: WorldState | None = None):
    """A matplotlib Figure of the world as observed now."""
    import matplotlib.pyplot as plt

    state = state or observe_world(world)
    rows: dict[int, list[str]] = {}
    for name in state.namespaces:
        rows.setdefault(COLUMNS.get(name, 3), []).append(name)
    fig, ax = plt.subplots(figsize=(10, 5.2))
    ax.set_axis_off()
    boxes: dict[tuple[str, str], tuple[float, float]] = {}
    width, line_h = 2.6, 0.32
    for column, names in rows.items():
        x = column * 3.6
        top = 0.0
        for name in names:
            ns = state[name]
            ifaces = [i for i in ns.interfaces if i.name != "lo"]
            height = line_h * (len(ifaces) + 1) + 0.2
            y = top - height
            ax.add_patch(plt.Rectangle((x, y), width, height, facecolor="#eef3fb", edgecolor="#3b5b92"))
            ax.text(x + 0.08, y + height - 0.22, f"{name}  ({world[name].namespace})", fontsize=9,
                    fontweight="bold", color="#1d3461")
            for k, iface in enumerate(ifaces):
                iy = y + height - 0.22 - line_h * (k + 1)
                addrs = " ".join(a.cidr for a in iface.ipv4)
                label = f"{iface.name} [{iface.kind or 'dev'}] {addrs}"
                if iface.master:
                    label += f"  ⊂ {iface.master}"
                ax.text(x + 0.15, iy, label, fontsize=8, family="monospace")
                # Cables leave on the side facing the other column.
                boxes[(name, iface.name)] = (x, iy + 0.05)
                boxes[(name, iface.name, "right")] = (x + width, iy + 0.05)
            top = y - 0.35
    for cable in cables(state):
        ca, cb = COLUMNS.get(cable.a, 3), COLUMNS.get(cable.b, 3)
        left, right = ((cable.a, cable.a_interface), (cable.b, cable.b_interface))
        if ca > cb:
            left, right = right, left
        start = boxes[(*left, "right")]
        end = boxes[right]
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-", color="#c0392b", lw=1.4, connectionstyle="arc3,rad=0.0"))
    ax.set_title("The lab world as the kernel reports it: namespaces, interfaces, veth cables (red)",
                 fontsize=10)
    ax.autoscale_view()
    ax.set_xlim(-0.2, 3 * 3.6 - 0.6)
    fig.tight_layout()
    return fig
