"""The topology map of one Docker host: its NIC, its bridges, and every container on a bridge
side by side beneath it, each joined to the bridge by its own veth pair (a bridge is a switch:
its ports are parallel, not a chain). A container on two bridges is drawn once, between them: the
bridges it joins are stacked, it hangs from the upper one and a second veth line goes down to the
lower one. Containers on no bridge of the host (host, none, macvlan) get their own row, saying how
they are connected instead. All of it comes from a HostMap read live, so a learner's own networks
and containers appear like the course's, marked "by hand".

Geometry is in inches (one data unit = one inch) at the notebook's width (9 inches, 900 px); the
text inside a box is 8 pt (11 px), readable where JupyterLab shows the PNG at its own size.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from helpers.draw.display import Drawing, canvas, columns, in_language, wrap
from helpers.language import translate
from helpers.observe.topology import Attachment, ContainerNode, HostMap, NetworkNode

HAND = "#e67700"
COURSE = "#1864ab"
ENGINE = "#495057"
EXITED = "#adb5bd"
BRIDGE = "#495057"
WIDTH = 9.0
SLOT = 2.16            # one container's column
PER_ROW = 4            # containers side by side in one band (4 x 2.16 in fits 9 in)
BAR_H = 0.46
VETH_H = 0.5           # the veth line between the bridge and a container
GAP = 0.3              # between two bands, or two stacked bridges no container joins
TITLE_PT, LINE_PT, VETH_PT = 8.5, 8, 7   # at 100 dpi: 12, 11 and 10 px high
LINE_H = 0.16          # one text line of a box, inches
WRAP = 30              # characters of one box line at LINE_PT in a SLOT-wide box
BOX_H = 0.42 + LINE_H  # a box with one line under its title


def box_height(lines: int) -> float:
    """A container box with its title and `lines` lines of text."""
    return 0.42 + LINE_H * max(1, lines)


@dataclass
class Section:
    """One bridge (a host's, or br0 in an overlay's namespace), one macvlan network, or the group
    of containers on neither, and the containers drawn under it. `down` names the containers that
    also join the next bridge of their block (stacked below this one): container name -> that
    attachment, drawn as a second veth line down to it."""

    title: str
    subtitle: str
    colour: str
    members: list[tuple[ContainerNode, Attachment | None]] = field(default_factory=list)
    bridge: bool = True
    end_label: str = ""           # where the other end of each veth is (default: the host)
    down: dict[str, Attachment] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.end_label = self.end_label or translate("draw:host:host-end", "host end")

    @property
    def slots(self) -> int:
        return max(1, min(PER_ROW, len(self.members)))

    @property
    def width(self) -> float:
        """Inches: a slot per container, and at least what the bridge's own text needs."""
        text = max(columns(self.title) * 0.068, columns(self.subtitle) * 0.055) + 0.3
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


def _found(host_map: HostMap) -> dict[str, Section]:
    """Every group a container can hang from, by key: the host's bridges (in the order the kernel
    lists them), then each overlay's own namespace with its br0, then macvlan networks (by parent)."""
    nets = {n.name: n for n in host_map.networks}
    net_of_bridge = {n.bridge: n for n in host_map.networks if n.bridge}
    found: dict[str, Section] = {}
    for iface in (i for i in host_map.interfaces if i["kind"] == "bridge"):
        net = net_of_bridge.get(iface["name"])
        found[iface["name"]] = Section(
            f"{iface['name']}  {', '.join(iface['addresses'])}",
            _network_text(net) if net else translate("draw:host:plain-bridge", "a Linux bridge with no Docker network"),
            _colour(net.origin) if net else HAND)
    for o in host_map.overlays:
        net = nets.get(o.network)
        found[f"{o.namespace}/{o.bridge}"] = Section(
            f"{o.bridge}  {', '.join(o.addresses)}  " + translate(
                "draw:host:overlay-ns", "in {namespace} (overlay {network}'s namespace)", namespace=o.namespace,
                network=o.network),
            translate("draw:host:overlay-peers", "{vxlan} VNI {vni} to peers {peers}; Docker network {network}",
                      vxlan=o.vxlan, vni=o.vni, network=o.network,
                      peers=', '.join(o.peers) or translate("draw:host:no-peers", "none yet"))
            + (_mark(net.origin) if net else ""), _colour(net.origin) if net else ENGINE,
            end_label=translate("draw:host:ns-end", "{namespace} end", namespace=o.namespace))
    for net in (n for n in host_map.networks if n.driver in ("macvlan", "ipvlan")):
        found[f"{net.driver}:{net.name}"] = Section(
            translate("draw:host:macvlan", "{name}: {driver} on parent {parent}", name=net.name, driver=net.driver,
                      parent=net.parent or '?'),
            translate("draw:host:macvlan-mac", "{subnets}; each container has its own MAC on {parent}'s LAN",
                      subnets=', '.join(net.subnets), parent=net.parent or '?')
            + _mark(net.origin), _colour(net.origin), bridge=False)
    return found


def _hangs_from(c: ContainerNode, found: dict[str, Section], nets: dict[str, NetworkNode]) -> dict[str, Attachment]:
    """key -> attachment, for each group of `found` a running container hangs from (first one each)."""
    keys: dict[str, Attachment] = {}
    for a in c.attachments if c.running else []:
        key = _key(a) or (f"{nets[a.network].driver}:{a.network}" if a.network in nets else None)
        if key in found:
            keys.setdefault(key, a)
    return keys


def _chain(keys: list[str], links: set[frozenset[str]]) -> list[str]:
    """The bridges of one block in stacking order: a path (each shares containers with at most two,
    no cycle) from its end that comes first; else as the kernel lists them."""
    neighbours = {k: {other for link in links if k in link for other in link if other != k} for k in keys}
    ends = [k for k in keys if len(neighbours[k]) <= 1]
    if len(keys) == 1 or any(len(n) > 2 for n in neighbours.values()) or not ends:
        return keys
    order = [ends[0]]
    while len(order) < len(keys):
        step = [k for k in neighbours[order[-1]] if k not in order]
        if not step:
            return keys
        order.append(step[0])
    return order


def _stacks(keys: list[str], links: set[frozenset[str]]) -> list[list[str]]:
    """The bridges joined by shared containers (directly or through others), each set in stacking
    order; the others alone. In the kernel's order of their first bridge."""
    group = {k: {k} for k in keys}
    for link in links:
        merged = set().union(*(group[k] for k in link))
        for k in merged:
            group[k] = merged
    order: list[list[str]] = []
    for key in keys:
        if not any(key in b for b in order):
            order.append(_chain([k for k in keys if k in group[key]], links))
    return order


def blocks(host_map: HostMap) -> list[list[Section]]:
    """The map's groups, each container in exactly one of them. Bridges that share a container are
    one block, stacked (`_chain`); a container on two of them hangs from the upper one and reaches
    the next with a line down (`Section.down`); then the bridges with no shared container, macvlan
    networks (with the containers on no bridge), and the containers on none of these."""
    found = _found(host_map)
    nets = {n.name: n for n in host_map.networks}
    bridge_keys = [k for k, s in found.items() if s.bridge]
    hangs = {c.name: _hangs_from(c, found, nets) for c in host_map.containers}
    links = {frozenset(pair) for c in host_map.containers
             for pair in itertools.combinations([k for k in bridge_keys if k in hangs[c.name]], 2)}
    order = _stacks(bridge_keys, links)
    loose = Section(translate("draw:host:loose", "not on a bridge of this host"),
                    translate("draw:host:loose-how", "each in its own way (see each box)"), ENGINE, bridge=False)
    for c in host_map.containers:
        on = hangs[c.name]
        chained = next((b for b in order if set(b) & set(on)), None)
        if chained is not None:
            at = [i for i, k in enumerate(chained) if k in on]
            found[chained[at[0]]].members.append((c, on[chained[at[0]]]))
            if len(at) > 1 and at[1] == at[0] + 1:
                found[chained[at[0]]].down[c.name] = on[chained[at[1]]]
        elif on:
            first = next(iter(on))
            found[first].members.append((c, on[first]))
        else:
            loose.members.append((c, None))
    for key in bridge_keys:  # a container that also goes down sits in the last row, nearest the next bridge
        found[key].members.sort(key=lambda m: m[0].name in found[key].down)
    kept = [[found[k] for k in b] for b in order]
    kept += [[s] for key, s in found.items() if not s.bridge and s.members]  # a macvlan network with its containers
    return kept + ([[loose]] if loose.members else [])


def sections(host_map: HostMap) -> list[Section]:
    """Every group of the map, in drawing order (`blocks`, flattened); each container is in one."""
    return [part for block in blocks(host_map) for part in block]


def _mark(origin: str) -> str:
    """What a network's origin adds to its text: made by hand, the engine's own, or nothing (the course's)."""
    if origin == "hand":
        return translate("draw:host:mark-hand", ", made by hand")
    if origin == "engine":
        return translate("draw:host:mark-engine", ", the engine's own")
    return ""


def _network_text(net: NetworkNode) -> str:
    return translate("draw:host:network", "Docker network {name} ({driver}{mark})", name=net.name, driver=net.driver,
                     mark=_mark(net.origin))


def _published(c: ContainerNode) -> list[str]:
    """Published ports, one per host port (the IPv4 and IPv6 bindings of one port are one line)."""
    seen = dict.fromkeys(translate("draw:host:publishes", "publishes :{host_port}->{port}",
                                   host_port=b.get('HostPort'), port=port)
                         for port, bindings in sorted(c.ports.items()) for b in bindings or [])
    return list(seen)


def _container_lines(c: ContainerNode, drawn: list[Attachment], host_map: HostMap) -> list[str]:
    """What a container box says: its address on each bridge it is drawn on (with the network's name
    when there are two), or how it is connected at all; then every other network it is on."""
    nets = {n.name: n for n in host_map.networks}
    named = len(drawn) > 1
    lines = [f"{a.interface} {a.ip or translate('draw:host:no-ipv4', 'no IPv4')}" + (f" {a.network}" if named else "")
             for a in drawn]
    if not drawn and not c.running:
        lines.append(translate("draw:host:exited-networks", "exited; networks: {networks}",
                               networks=", ".join(a.network or "?" for a in c.attachments) or c.network_mode))
    elif not drawn and c.network_mode == "host":
        lines.append(translate("draw:host:host-network", "host network: shares {host}'s own stack", host=host_map.host))
    elif not drawn and c.network_mode == "none":
        lines.append(translate("draw:host:loopback", "loopback only"))
    for other in c.attachments if c.running else []:
        if any(other is a for a in drawn):
            continue
        net = nets.get(other.network or "")
        where = other.network or "?"
        if net is not None and net.driver in ("macvlan", "ipvlan"):
            where = translate("draw:host:on-parent", "{driver} {name} on {parent}", driver=net.driver, name=net.name,
                              parent=net.parent or '?')
        elif other.bridge:
            where = translate("draw:host:other-bridge", "{network} (bridge {bridge}, veth {veth})", network=where,
                              bridge=other.bridge, veth=other.host_veth)
        lines.append(f"{other.interface} {other.ip or ''} {where}".replace("  ", " "))
    if c.network_mode.startswith("container:"):
        lines.append(translate("draw:host:shares", "shares another container's stack"))
    lines += _published(c)
    return lines or [c.network_mode]


def _drawn(c: ContainerNode, attachment: Attachment | None, part: Section | None) -> list[Attachment]:
    below = part.down.get(c.name) if part is not None else None
    return [a for a in (attachment, below) if a is not None]


def _box_lines(c: ContainerNode, attachment: Attachment | None, host_map: HostMap,
               part: Section | None = None) -> list[str]:
    """The box's lines, wrapped to the box's width (WRAP characters at LINE_PT)."""
    return [piece for line in _container_lines(c, _drawn(c, attachment, part), host_map)
            for piece in wrap(line, WRAP, break_on_hyphens=False)]


@in_language
def draw_host_map(host_map: HostMap) -> Drawing:
    """The map of one Docker host, as a `Drawing` (a PNG in a notebook, no pyplot needed)."""

    parts = blocks(host_map)
    bands = _bands(parts)
    lines_per_box = max([len(_box_lines(c, a, host_map, s)) for b in parts for s in b for c, a in s.members] + [1])
    box_h = box_height(lines_per_box)
    height = 1.25 + sum(_band_height(band, box_h) for band in bands) + 0.3
    figure, ax = canvas(WIDTH, height)
    _host_box(ax, host_map)
    y = -1.25
    for band in bands:
        x = 0.1
        for block in band:
            _block(ax, block, x, y, box_h, host_map)
            x += _block_width(block) + 0.12
        y -= _band_height(band, box_h)
    ax.text(0.1, -height + 0.12, translate("draw:host:legend", "blue: made by the course's scenarios   orange: made "
                                           "by hand   grey: the engine's own   light grey box: an exited container"),
            fontsize=7, color=ENGINE, va="bottom")
    containers = sum(len(s.members) for b in parts for s in b)
    groups = sum(len(b) for b in parts)
    return Drawing(figure, f"[figure: {host_map.host} map, {groups} groups, {containers} containers]")


def _block_width(block: list[Section] | Section) -> float:
    return max(part.width for part in _as_block(block))


def _as_block(block: list[Section] | Section) -> list[Section]:
    return [block] if isinstance(block, Section) else block


def _bands(parts: list[list[Section]]) -> list[list[list[Section]]]:
    """Blocks packed left to right into bands as wide as the figure."""
    bands: list[list[list[Section]]] = [[]]
    used = 0.0
    for block in parts:
        if bands[-1] and used + _block_width(block) > WIDTH - 0.2:
            bands.append([])
            used = 0.0
        bands[-1].append(block)
        used += _block_width(block) + 0.12
    return [b for b in bands if b]


def _part_height(part: Section, box_h: float, last: bool) -> float:
    """One bridge of a block: its bar and rows; a line's length more when containers go down to the
    next, a small gap when none do; a bridge with no container takes only its bar."""
    height = BAR_H + (part.rows if part.members else 0) * (_drop(part) + box_h)
    return height if last else height + (VETH_H if part.down else GAP)


def _block_height(block: list[Section] | Section, box_h: float) -> float:
    parts = _as_block(block)
    return sum(_part_height(p, box_h, i == len(parts) - 1) for i, p in enumerate(parts))


def _band_height(band: list, box_h: float) -> float:
    """A band is as tall as its tallest block (a Section alone is a block of one)."""
    return max(_block_height(block, box_h) for block in band) + GAP


def _drop(part: Section) -> float:
    """Space between the bar and a row of boxes: a veth line under a bridge, a small gap otherwise."""
    return VETH_H if part.bridge else 0.12


def _host_box(ax, host_map: HostMap) -> None:
    from matplotlib.patches import FancyBboxPatch

    nic = next((i for i in host_map.interfaces if i["name"] == "eth0"), None)
    ax.text(0.1, -0.12, translate("draw:host:title", "{host}: bridges, veth pairs and containers (read live)",
                                  host=host_map.host), fontsize=10, fontweight="bold", va="top")
    ax.add_patch(FancyBboxPatch((0.1, -1.0), WIDTH - 0.2, 0.45, boxstyle="round,pad=0.02", fc="#f1f3f5", ec=BRIDGE))
    ax.text(0.25, -0.775, translate("draw:host:namespace", "{host}'s network namespace   eth0 {addresses}   (the "
                                    "bridges below are devices of this namespace; each container has a namespace of "
                                    "its own)", host=host_map.host,
                                    addresses=', '.join(nic['addresses']) if nic else '-'), fontsize=7.5, va="center")


def _block(ax, block: list[Section], x: float, y: float, box_h: float, host_map: HostMap) -> None:
    """The bridges of one block stacked at the block's width, each with its containers; a container
    that also joins the next bridge gets a line down to it, labelled with that veth's other end."""
    width = _block_width(block)
    for i, part in enumerate(block):
        boxes = _section(ax, part, x, y, width, box_h, host_map)
        y -= _part_height(part, box_h, i == len(block) - 1)
        if i + 1 < len(block):
            for name, (cx, bottom) in boxes.items():
                if name in part.down:
                    ax.plot([cx, cx], [bottom, y], color=BRIDGE, lw=1.1, zorder=0)
                    ax.text(cx + 0.04, y + VETH_H / 2, f"{block[i + 1].end_label}: {part.down[name].host_veth}",
                            fontsize=VETH_PT, color=ENGINE, va="center")


def _section(ax, part: Section, x: float, y: float, width: float, box_h: float,
             host_map: HostMap) -> dict[str, tuple[float, float]]:
    """One bar and its containers; name -> (x of its box's centre, y of its box's bottom)."""
    from matplotlib.patches import FancyBboxPatch

    left = x + (width - part.slots * SLOT) / 2   # the containers, centred under their bridge
    if part.bridge:
        ax.add_patch(FancyBboxPatch((x + 0.04, y - BAR_H), width - 0.08, BAR_H, boxstyle="round,pad=0.01",
                                    fc="white", ec=part.colour, lw=1.6))
        ax.text(x + width / 2, y - 0.15, part.title, ha="center", va="center", fontsize=8, fontweight="bold")
        ax.text(x + width / 2, y - 0.33, part.subtitle, ha="center", va="center", fontsize=7, color=part.colour)
    else:
        ax.text(x + 0.08, y - 0.15, part.title, va="center", fontsize=8, fontweight="bold", color=part.colour)
        ax.text(x + 0.08, y - 0.33, part.subtitle, va="center", fontsize=7, color=part.colour)
    boxes = {}
    for n, (c, attachment) in enumerate(part.members):
        row, col = divmod(n, PER_ROW)
        # Rows after the first sit half a slot over, so their veth lines pass between the boxes above.
        cx = left + col * SLOT + SLOT / 2 + (SLOT / 2 if row else 0)
        top = y - BAR_H - row * (_drop(part) + box_h) - _drop(part)
        if part.bridge:
            # Each container hangs from the bridge by its own veth pair: a port of the switch.
            ax.plot([cx, cx], [y - BAR_H, top], color=BRIDGE, lw=1.1, zorder=0)
            ax.text(cx + 0.04, top + VETH_H / 2, f"{part.end_label}: {attachment.host_veth}", fontsize=VETH_PT,
                    color=ENGINE, va="center")
        _box(ax, c, _box_lines(c, attachment, host_map, part), cx, top, box_h)
        boxes[c.name] = (cx, top - box_h)
    return boxes


def _box(ax, c: ContainerNode, lines: list[str], cx: float, top: float, box_h: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    edge, face, ink = _box_colours(c)
    ax.add_patch(FancyBboxPatch((cx - SLOT / 2 + 0.07, top - box_h), SLOT - 0.14, box_h,
                                boxstyle="round,pad=0.01", fc=face, ec=edge, lw=1))
    title = (c.name + (translate("draw:host:by-hand", " (by hand)") if c.origin == "hand" else "")
             + ("" if c.running else translate("draw:host:exited", " (exited)")))
    # A long name (by hand, exited) steps down a point so it stays inside its box.
    ax.text(cx, top - 0.16, title, ha="center", va="center", fontsize=TITLE_PT if columns(title) <= 26 else LINE_PT,
            fontweight="bold", color=ink)
    for k, line in enumerate(lines):
        ax.text(cx, top - 0.38 - LINE_H * k, line, ha="center", va="center", fontsize=LINE_PT, color=ink)


def _box_colours(c: ContainerNode) -> tuple[str, str, str]:
    """Edge, face and text colour of a container's box: greyed when it has exited."""
    if not c.running:
        return EXITED, "#f1f3f5", EXITED
    if c.origin == "hand":
        return HAND, "#fff9db", "black"
    return COURSE, "#e7f5ff", "black"
