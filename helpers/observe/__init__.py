"""Observation: what the kernel of each namespace holds (interfaces, bridges and their FDB, routes,
neighbours, NAT and filter rules with counters, conntrack), as typed dataclasses.

Parsers (`helpers.observe.parse`) are pure functions of a tool's text; `collect` runs the tools.
"""
from helpers.observe.collect import (
    ContainerInfo,
    NetworkInfo,
    Target,
    WorldState,
    container_targets,
    docker_containers,
    docker_networks,
    machine_targets,
    network_info,
    read_all,
    read_namespace,
)
from helpers.observe.model import (
    Address,
    ConntrackEntry,
    FdbEntry,
    Interface,
    NamespaceState,
    Neighbour,
    Route,
    Rule,
    Tuple,
)

__all__ = ["Address", "ConntrackEntry", "FdbEntry", "Interface", "NamespaceState", "Neighbour", "Route",
           "Rule", "Tuple", "ContainerInfo", "NetworkInfo", "Target", "WorldState", "container_targets",
           "docker_containers", "docker_networks", "machine_targets", "network_info", "read_all",
           "read_namespace"]
