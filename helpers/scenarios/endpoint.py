"""The two ends of a probe, as one type: the probe notation, parsed once and resolved by one rule.

A ProbeSpec writes its ends as text, in this notation:

    container:<role>          a container of the scenario (`<scenario>-<role>`), on the probe's
                              source host
    container:<role>@<host>   the same, on Docker host <host> (host1, host2)
    machine:<role>            a machine of the world (host1, host2, lanpc, router, inet): its
                              eth0 address, read from its namespace when the probe runs
    198.51.100.11, 127.0.0.1  an address, sent to as is
    user-bridge-b             a name, sent as is (the sender resolves it, e.g. Docker's DNS)

A source is a container (as above) or a bare machine role ("inet", "lanpc", "host1").

The address rule, for a container on several networks (one rule, for every caller): the address on
a network the sender shares with it, else the address on the first of its networks by name (the
order `docker inspect` lists them in). A container with no address (network `none`, `host`,
`container:`) cannot be aimed at: `UnresolvedEndpoint` says so.

Layering: scenarios sit above the world only. The tracer resolves from what it observed (observe's
ContainerInfo) by passing `addresses=`; everyone else lets `resolve` read docker inspect.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from helpers.errors import EndpointError, UnresolvedEndpoint
from helpers.world.naming import HOSTS, ROLES

CONTAINER = "container"   # a container of the scenario
MACHINE = "machine"       # a machine of the world
ADDRESS = "address"       # an IP address literal, sent to as is
NAME = "name"             # any other name, sent as is (resolved by the sender)
CONTAINER_PREFIX = f"{CONTAINER}:"
MACHINE_PREFIX = f"{MACHINE}:"

# (container name, Docker host) -> {network name: the container's address on it}, or None if no
# such container runs there. How `resolve` learns a container's addresses.
Addresses = Callable[[str, str], "Mapping[str, str] | None"]


@dataclass(frozen=True)
class Endpoint:
    """One end of a probe. `name` is the role (container, machine), the address, or the name;
    `host` is a container's Docker host when the notation names one (else the probe's source host)."""

    kind: str
    name: str
    host: str | None = None

    # --- parsing ------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """A probe target: any form of the notation (see the module docstring)."""
        text = (text or "").strip()
        if not text:
            raise EndpointError("an empty probe endpoint", 'write "container:<role>[@host]", '
                                '"machine:<role>", an address or a name')
        if text.startswith(CONTAINER_PREFIX):
            return cls._container(text)
        if text.startswith(MACHINE_PREFIX):
            role = text[len(MACHINE_PREFIX):]
            if role not in ROLES:
                raise EndpointError(f"{text!r} names no machine of the world",
                                    f"one of: {', '.join(f'{MACHINE_PREFIX}{r}' for r in ROLES)}")
            return cls(MACHINE, role)
        if ":" in text.split("@")[0] and not _is_address(text):
            raise EndpointError(f"{text!r}: unknown kind {text.split(':')[0]!r}",
                                f'write "{CONTAINER_PREFIX}<role>[@host]" or "{MACHINE_PREFIX}<role>"')
        return cls(ADDRESS if _is_address(text) else NAME, text)

    @classmethod
    def parse_source(cls, text: str) -> Endpoint:
        """A probe source: a container ("container:<role>[@host]") or a bare machine role."""
        text = (text or "").strip()
        if text.startswith(CONTAINER_PREFIX):
            return cls._container(text)
        role = text.removeprefix(MACHINE_PREFIX)
        if role not in ROLES:
            raise EndpointError(f"probe source {text!r} is neither a container nor a machine",
                                f'write "{CONTAINER_PREFIX}<role>" or one of: {", ".join(ROLES)}')
        return cls(MACHINE, role)

    @classmethod
    def _container(cls, text: str) -> Endpoint:
        role, at, host = text[len(CONTAINER_PREFIX):].partition("@")
        if not role:
            raise EndpointError(f"{text!r} names no container role", f'write "{CONTAINER_PREFIX}<role>[@host]"')
        if at and host not in HOSTS:
            raise EndpointError(f"{text!r}: {host or '(empty)'!r} is not a Docker host",
                                f"one of: {', '.join(HOSTS)}")
        return cls(CONTAINER, role, host or None)

    # --- reading ------------------------------------------------------------------------------
    @property
    def is_container(self) -> bool:
        return self.kind == CONTAINER

    @property
    def is_machine(self) -> bool:
        return self.kind == MACHINE

    def on(self, default_host: str) -> str:
        """The Docker host of a container endpoint: the one it names, else `default_host`."""
        return self.host or default_host

    def container_name(self, scenario) -> str:
        """The container's name: `<scenario>-<role>` (how `Scenario.run_container` names it)."""
        return scenario.container_name(self.name)

    def __str__(self) -> str:
        if self.kind == CONTAINER:
            return f"{CONTAINER_PREFIX}{self.name}" + (f"@{self.host}" if self.host else "")
        if self.kind == MACHINE:
            return f"{MACHINE_PREFIX}{self.name}"
        return self.name

    # --- resolving ----------------------------------------------------------------------------
    def resolve(self, scenario, *, default_host: str = "host1", prefer: Iterable[str] = (),
                addresses: Addresses | None = None, names: bool = False) -> str:
        """What to send to, read now: a container's address (by `pick_address`, preferring the
        networks in `prefer`, i.e. the sender's), a machine's eth0 address, an address or a name as
        is. `names=True` also turns a name that is a container of the scenario into its address
        (the tracer matches frames by address). `addresses` reads a container's networks (default:
        docker inspect on its host)."""
        addresses = addresses or inspected_addresses(scenario)
        if self.kind == MACHINE:
            return scenario.world[self.name].read_address()
        if self.kind == CONTAINER:
            return self._address_of(self.container_name(scenario), [self.on(default_host)], addresses, prefer)
        if self.kind == NAME and names:
            hosts = [default_host, *(h for h in scenario.world.hosts if h != default_host)]
            if any(addresses(self.name, host) is not None for host in hosts):
                return self._address_of(self.name, hosts, addresses, prefer)
        return self.name

    def _address_of(self, name: str, hosts: list[str], addresses: Addresses, prefer: Iterable[str]) -> str:
        for host in hosts:
            attached = addresses(name, host)
            if attached is None:
                continue
            found = pick_address(attached, prefer)
            if found is None:
                raise UnresolvedEndpoint(f"{name} on {host} has no address to send to "
                                         f"(networks: {', '.join(sorted(attached)) or 'none'})")
            return found
        raise UnresolvedEndpoint(f"no container {name} runs on {' or '.join(hosts)} (probe end {self})",
                                 "start the scenario first (`dnlab path <scenario> <probe>` starts it)")


def parse(text: str) -> Endpoint:
    """`Endpoint.parse`: a probe target in the notation."""
    return Endpoint.parse(text)


def pick_address(attached: Mapping[str, str | None], prefer: Iterable[str] = ()) -> str | None:
    """THE address rule: of a container's {network: address}, the address on a network in `prefer`
    (those the sender is on), else on the first network by name; None if it has no address."""
    prefer = set(prefer)
    ordered = sorted(attached, key=lambda network: (network not in prefer, network))
    return next((attached[network] for network in ordered if attached[network]), None)


def sdk_networks(container) -> dict[str, str]:
    """{network: address} of a docker SDK Container, as `docker inspect` lists them."""
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return {network: settings.get("IPAddress") or "" for network, settings in networks.items()}


def inspected_addresses(scenario) -> Addresses:
    """An `Addresses` reader that asks the engine of each host (one docker inspect per lookup) and
    only counts containers of this scenario."""
    import docker.errors

    def read(name: str, host: str) -> dict[str, str] | None:
        client = scenario.world.hosts[host].docker
        try:
            container = client.containers.get(name)
        except docker.errors.NotFound:
            return None
        if any(container.labels.get(key) != value for key, value in scenario.labels.items()):
            return None  # a learner's container of the same name is not the scenario's
        return sdk_networks(container)

    return read


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
