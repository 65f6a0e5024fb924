"""The whole lab world on one figure: every namespace, its interfaces and addresses, and the veth
cables between namespaces, all read from the kernel (nothing about the topology is hard-coded;
only the column a role is placed in is a layout choice)."""
from __future__ import annotations

from dataclasses import dataclass

from helpers.draw.display import Drawing, canvas, in_language, mono
from helpers.language import translate
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


@in_language
def draw_world(world, state: WorldState | None = None) -> Drawing:
    """The world as observed now, as a `Drawing` (a PNG in a notebook, no pyplot needed).

    A machine's box lists its NIC, bridges and the ends of cables to other machines; the veth
    ends of containers (peers in namespaces outside the world's machines) are counted per bridge
    instead of listed, so a busy host stays readable. `describe(state)` lists everything.
    """
    from matplotlib.patches import FancyBboxPatch

    state = state or observe_world(world)
    links = cables(state)
    cabled = {(c.a, c.a_interface) for c in links} | {(c.b, c.b_interface) for c in links}
    columns: dict[int, list[str]] = {}
    for name in state.namespaces:
        columns.setdefault(COLUMNS.get(name, 3), []).append(name)
    lines = {name: _box_lines(state[name], name, cabled) for name in state.namespaces}
    heights = {name: 0.3 + 0.17 * len(rows) for name, rows in lines.items()}
    height = 0.55 + max(sum(heights[n] + 0.25 for n in names) for names in columns.values()) + 0.1
    figure, ax = canvas(WORLD_WIDTH, height)
    ax.text(0.1, -0.1, translate("draw:world:title",
                                 "The lab world as the kernel reports it: namespaces, interfaces, veth cables (red)"),
            fontsize=10, fontweight="bold", va="top")
    ends: dict[tuple[str, str], tuple[float, float, float]] = {}   # (ns, iface) -> left x, right x, y
    for column, names in columns.items():
        x, w = COLUMN_X.get(column, COLUMN_X[2]), COLUMN_W.get(column, COLUMN_W[2])
        top = -0.55
        for name in names:
            h = heights[name]
            ax.add_patch(FancyBboxPatch((x, top - h), w, h, boxstyle="round,pad=0.01", fc="#eef3fb", ec="#3b5b92"))
            ax.text(x + 0.08, top - 0.15, f"{name}  ({world[name].namespace})", fontsize=8, fontweight="bold",
                    color="#1d3461", va="center")
            for k, (iface, text) in enumerate(lines[name]):
                y = top - 0.33 - 0.17 * k
                ax.text(x + 0.12, y, text, fontsize=6.5, family=mono(), va="center")
                if iface:
                    ends[(name, iface)] = (x, x + w, y)
            top -= h + 0.25
    for cable in links:
        a, b = ends.get((cable.a, cable.a_interface)), ends.get((cable.b, cable.b_interface))
        if a is None or b is None:
            continue
        if a[0] > b[0]:
            a, b = b, a
        ax.annotate("", xy=(b[0], b[2]), xytext=(a[1], a[2]),
                    arrowprops=dict(arrowstyle="-", color="#c0392b", lw=1.4, shrinkA=0, shrinkB=0))
    return Drawing(figure, f"[figure: the lab world, {len(state.namespaces)} namespaces, {len(links)} veth cables;"
                           " describe(state) gives the same as text]")


WORLD_WIDTH = 9.0
COLUMN_X = {0: 0.1, 1: 4.4, 2: 7.1}      # inches: LAN machines, router, internet
COLUMN_W = {0: 3.5, 1: 2.3, 2: 1.8}


def _box_lines(ns, name: str, cabled: set) -> list[tuple[str | None, str]]:
    """(interface or None, text) lines of one machine's box: NIC, bridges, cable ends, and the
    number of container veths on each bridge."""
    out: list[tuple[str | None, str]] = []
    containers: dict[str, int] = {}
    for iface in ns.interfaces:
        if iface.name == "lo":
            continue
        if iface.kind == "veth" and (name, iface.name) not in cabled and iface.master:
            containers[iface.master] = containers.get(iface.master, 0) + 1
            continue
        addrs = " ".join(a.cidr for a in iface.ipv4)
        port = " " + translate("draw:world:port-of", "port of {bridge}", bridge=iface.master) if iface.master else ""
        out.append((iface.name, f"{iface.name} [{iface.kind or 'dev'}] {addrs}{port}".rstrip()))
    for bridge, count in containers.items():
        out.append((None, "  + " + (translate("draw:world:veths", "{count} container veths on {bridge}", count=count,
                                              bridge=bridge) if count > 1 else
                                    translate("draw:world:veth", "1 container veth on {bridge}", bridge=bridge))))
    return out
