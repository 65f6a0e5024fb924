"""Drawings (matplotlib), all plot boilerplate lives here; matplotlib is imported on first draw.

    draw_path(path, view="L3")     # "L2" | "L3" | "NAT": a sequence diagram of a traced probe
    draw_map(world, host="host1")  # namespaces, bridges, veth pairs and addresses of one host

Each returns a `Drawing` (helpers.draw.display): a notebook shows it as a PNG without pyplot,
`.figure` is the matplotlib Figure, `.savefig(...)` writes a file.
"""
from __future__ import annotations

from helpers.draw.display import Drawing
from helpers.draw.path_figure import VIEWS, alt_text, draw_path, hop_text


def draw_map(world, host: str = "host1") -> Drawing:
    """The topology map of `host`, read live (the learner's own networks and containers too)."""
    from helpers.draw.host_figure import draw_host_map
    from helpers.observe.topology import host_map

    return draw_host_map(host_map(world, host))


__all__ = ["draw_path", "draw_map", "alt_text", "hop_text", "VIEWS", "Drawing"]
