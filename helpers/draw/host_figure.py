"""The topology map of one Docker host: its NIC, its bridges, and every container on a bridge
side by side beneath it, each joined to the bridge by its own veth pair (a bridge is a switch:
its ports are parallel, not a chain). Containers on no bridge of the host (host, none, macvlan)
get their own row, saying how they are connected instead. All of it comes from a HostMap read
live, so a learner's own networks and containers appear like the course's, marked "by hand".

Geometry is in inches (one data unit = one inch) at the notebook's width (9 inches, 900 px).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from helpers.draw.display import Drawing, canvas
from helpers.observe.topology import Attachment, ContainerNode, HostMap, NetworkNode

HAND = "#e67700"
COURSE = "#1864ab"
ENGINE = "#495057"
EXITED = "#adb5bd"
BRIDGE = "#495057"
WIDTH = 9.0
SLOT = 1.74            # one container's column
PER_ROW = 5            # containers side by side in one band (5 x 1.74 in fits 9 in)
BOX_H = 0.56
BAR_H = 0.42
VETH_H = 0.5           # the veth line between the bridge and a container


@dataclass
class Section:
    """One bridge (a host's, or br0 in an overlay's namespace), one macvlan network, or the group
    of containers on neither, and the containers drawn under it."""

    title: str
    subtitle: str
    colour: str
    members: list[tuple[ContainerNode, Attachment | None]] = field(default_factory=list)
    bridge: bool = True
    end_label: str = "host end"   # where the other end of each veth is

    @property
    def slots(self) -> int:
        return max(1, min(PER_ROW, len(self.members)))

    @property
    def width(self) -> float:
        """Inches: a slot per container, and at least what the bridge's own text needs."""
        text = max(len(self.title) * 0.064, len(self.subtitle) * 0.052) + 0.3
        return min(WIDTH - 0.2, max(self.slots * SLOT, text))

    @property
    def rows(self) -> int:
        return max(1, -(-len(self.members) // PER_ROW))


def _colour(origin: str) -> str:
    return {"hand": HAND, "engine": ENGINE}.get(origin, COURSE)


def _key(a: Attachment) -> str | None:
    """The section an attachment hangs from: a host bridge by name, an overlay's br0 by namespace."""
    if not a.bridge:
        return None
    return a.bridge if a.namespace is None else f"{a.namespace}/{a.bridge}"


def sections(host_map: HostMap) -> list[Section]:
    """Bridges with their containers (in the order the kernel lists the bridges), then each
    overlay's own namespace with its br0, then macvlan networks (by their parent interface), then
    the containers on none of these (host network, none, exited)."""
    nets = {n.name: n for n in host_map.networks}
    net_of_bridge = {n.bridge: n for n in host_map.networks if n.bridge}
    found: dict[str, Section] = {}
    for iface in (i for i in host_map.interfaces if i["kind"] == "bridge"):
        net = net_of_bridge.get(iface["name"])
        found[iface["name"]] = Section(
            f"{iface['name']}  {', '.join(iface['addresses'])}",
            _network_text(net) if net else "a Linux bridge with no Docker network",
            _colour(net.origin) if net else HAND)
    for o in host_map.overlays:
        net = nets.get(o.network)
        found[f"{o.namespace}/{o.bridge}"] = Section(
            f"{o.bridge}  {', '.join(o.addresses)}  in {o.namespace} (overlay {o.network}'s namespace)",
            f"{o.vxlan} VNI {o.vni} to peers {', '.join(o.peers) or 'none yet'}; Docker network {o.network}"
            + (_MARKS.get(net.origin, "") if net else ""), _colour(net.origin) if net else ENGINE,
            end_label=f"{o.namespace} end")
    for net in (n for n in host_map.networks if n.driver in ("macvlan", "ipvlan")):
        found[f"{net.driver}:{net.name}"] = Section(
            f"{net.name}: {net.driver} on parent {net.parent or '?'}",
            f"{', '.join(net.subnets)}; each container has its own MAC on {net.parent or '?'}'s LAN"
            f"{_MARKS.get(net.origin, '')}", _colour(net.origin), bridge=False)
    loose = Section("not on a bridge of this host", "each in its own way (see each box)", ENGINE, bridge=False)
    for c in host_map.containers:
        placed = False
        for a in c.attachments if c.running else []:
            key = _key(a) or (f"{nets[a.network].driver}:{a.network}" if a.network in nets else None)
            if key in found:
                found[key].members.append((c, a))
                placed = True
        if not placed:
            loose.members.append((c, None))
    kept = [s for key, s in found.items() if s.bridge or s.members]  # a macvlan network shows with its containers
    return kept + ([loose] if loose.members else [])


_MARKS = {"hand": ", made by hand", "engine": ", the engine's own"}


def _network_text(net: NetworkNode) -> str:
    return f"Docker network {net.name} ({net.driver}{_MARKS.get(net.origin, '')})"


def _published(c: ContainerNode) -> list[str]:
    """Published ports, one per host port (the IPv4 and IPv6 bindings of one port are one line)."""
    seen = dict.fromkeys(f"publishes :{b.get('HostPort')}->{port}"
                         for port, bindings in sorted(c.ports.items()) for b in bindings or [])
    return list(seen)


def _container_lines(c: ContainerNode, attachment: Attachment | None, host_map: HostMap) -> list[str]:
    """What a container box says: its address on this bridge, or how it is connected at all."""
    nets = {n.name: n for n in host_map.networks}
    lines = []
    if attachment is not None:
        lines.append(f"{attachment.interface} {attachment.ip or 'no IPv4'}")
    elif not c.running:
        lines.append("exited; networks: " + (", ".join(a.network or "?" for a in c.attachments) or c.network_mode))
    elif c.network_mode == "host":
        lines.append(f"host network: shares {host_map.host}'s own stack")
    elif c.network_mode == "none":
        lines.append("loopback only")
    for other in c.attachments if c.running else []:
        if other is attachment or other.bridge:
            continue
        net = nets.get(other.network or "")
        where = other.network or "?"
        if net is not None and net.driver in ("macvlan", "ipvlan"):
            where = f"{net.driver} {net.name} on {net.parent or '?'}"
        lines.append(f"{other.interface} {other.ip or ''} {where}".replace("  ", " "))
    if c.network_mode.startswith("container:"):
        lines.append("shares another container's stack")
    lines += _published(c)
    return lines or [c.network_mode]


def _box_lines(c: ContainerNode, attachment: Attachment | None, host_map: HostMap) -> list[str]:
    """The box's lines, wrapped to the box's width (6 pt text: about 34 characters)."""
    import textwrap

    return [part for line in _container_lines(c, attachment, host_map) for part in textwrap.wrap(line, 34)]


def draw_host_map(host_map: HostMap) -> Drawing:
    """The map of one Docker host, as a `Drawing` (a PNG in a notebook, no pyplot needed)."""

    parts = sections(host_map)
    bands = _bands(parts)
    lines_per_box = max([len(_box_lines(c, a, host_map)) for s in parts for c, a in s.members] + [1])
    box_h = BOX_H + 0.13 * (lines_per_box - 1)
    height = 1.25 + sum(_band_height(band, box_h) for band in bands) + 0.3
    figure, ax = canvas(WIDTH, height)
    _host_box(ax, host_map)
    y = -1.25
    for band in bands:
        x = 0.1
        for part in band:
            _section(ax, part, x, y, box_h, host_map)
            x += part.width + 0.12
        y -= _band_height(band, box_h)
    ax.text(0.1, -height + 0.12, "blue: made by the course's scenarios   orange: made by hand   "
            "grey: the engine's own   light grey box: an exited container", fontsize=6.5, color=ENGINE, va="bottom")
    containers = sum(len(s.members) for s in parts)
    return Drawing(figure, f"[figure: {host_map.host} map, {len(parts)} groups, {containers} containers]")


def _bands(parts: list[Section]) -> list[list[Section]]:
    """Sections packed left to right into bands of at most PER_ROW container slots."""
    bands: list[list[Section]] = [[]]
    used = 0.0
    for part in parts:
        if bands[-1] and used + part.width > WIDTH - 0.2:
            bands.append([])
            used = 0.0
        bands[-1].append(part)
        used += part.width + 0.12
    return [b for b in bands if b]


def _band_height(band: list[Section], box_h: float) -> float:
    """A band is as tall as its tallest section; a bridge with no container (an overlay's ingress
    namespace, an idle docker0) takes only its bar."""
    return max(BAR_H + (p.rows if p.members else 0) * (_drop(p) + box_h) for p in band) + 0.3


def _drop(part: Section) -> float:
    """Space between the bar and a row of boxes: a veth line under a bridge, a small gap otherwise."""
    return VETH_H if part.bridge else 0.12


def _host_box(ax, host_map: HostMap) -> None:
    from matplotlib.patches import FancyBboxPatch

    nic = next((i for i in host_map.interfaces if i["name"] == "eth0"), None)
    ax.text(0.1, -0.12, f"{host_map.host}: bridges, veth pairs and containers (read live)", fontsize=10,
            fontweight="bold", va="top")
    ax.add_patch(FancyBboxPatch((0.1, -1.0), WIDTH - 0.2, 0.45, boxstyle="round,pad=0.02", fc="#f1f3f5", ec=BRIDGE))
    ax.text(0.25, -0.775, f"{host_map.host}'s network namespace   eth0 {', '.join(nic['addresses']) if nic else '-'}"
            "   (the bridges below are devices of this namespace; each container has a namespace of its own)",
            fontsize=7.5, va="center")


def _section(ax, part: Section, x: float, y: float, box_h: float, host_map: HostMap) -> None:
    from matplotlib.patches import FancyBboxPatch

    width = part.width
    left = x + (width - part.slots * SLOT) / 2   # the containers, centred under their bridge
    if part.bridge:
        ax.add_patch(FancyBboxPatch((x + 0.04, y - BAR_H), width - 0.08, BAR_H, boxstyle="round,pad=0.01",
                                    fc="white", ec=part.colour, lw=1.6))
        ax.text(x + width / 2, y - 0.14, part.title, ha="center", va="center", fontsize=7.5, fontweight="bold")
        ax.text(x + width / 2, y - 0.31, part.subtitle, ha="center", va="center", fontsize=6.5, color=part.colour)
    else:
        ax.text(x + 0.08, y - 0.14, part.title, va="center", fontsize=7.5, fontweight="bold", color=part.colour)
        ax.text(x + 0.08, y - 0.31, part.subtitle, va="center", fontsize=6.5, color=part.colour)
    for n, (c, attachment) in enumerate(part.members):
        row, col = divmod(n, PER_ROW)
        # Rows after the first sit half a slot over, so their veth lines pass between the boxes above.
        cx = left + col * SLOT + SLOT / 2 + (SLOT / 2 if row else 0)
        top = y - BAR_H - row * (_drop(part) + box_h) - _drop(part)
        if part.bridge:
            # Each container hangs from the bridge by its own veth pair: a port of the switch.
            ax.plot([cx, cx], [y - BAR_H, top], color=BRIDGE, lw=1.1, zorder=0)
            ax.text(cx + 0.04, top + VETH_H / 2, f"{part.end_label}: {attachment.host_veth}", fontsize=6,
                    color=ENGINE, va="center")
        edge, face, ink = _box_colours(c)
        ax.add_patch(FancyBboxPatch((cx - SLOT / 2 + 0.07, top - box_h), SLOT - 0.14, box_h,
                                    boxstyle="round,pad=0.01", fc=face, ec=edge, lw=1))
        title = c.name + (" (by hand)" if c.origin == "hand" else "") + ("" if c.running else " (exited)")
        # A long name (by hand, exited) steps down a point so it stays inside its box.
        ax.text(cx, top - 0.14, title, ha="center", va="center", fontsize=7 if len(title) <= 24 else 6,
                fontweight="bold", color=ink)
        for k, line in enumerate(_box_lines(c, attachment, host_map)):
            ax.text(cx, top - 0.32 - 0.13 * k, line, ha="center", va="center", fontsize=6, color=ink)


def _box_colours(c: ContainerNode) -> tuple[str, str, str]:
    """Edge, face and text colour of a container's box: greyed when it has exited."""
    if not c.running:
        return EXITED, "#f1f3f5", EXITED
    if c.origin == "hand":
        return HAND, "#fff9db", "black"
    return COURSE, "#e7f5ff", "black"
