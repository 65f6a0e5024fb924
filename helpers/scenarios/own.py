"""A learner's own containers as a one-probe scenario: what `dnlab trace SOURCE TARGET` traces.

The containers and networks exist already (made by hand, with `docker run` and `docker network
create`, on any driver); this scenario makes nothing and removes nothing. It only names the two
ends in the probe notation of `helpers.scenarios.endpoint` and tells the tracer which containers
to read and capture (`includes`): the source and the target, picked by name and host.

How the words of the command line become ends (a machine role wins over a container's name; write
`container:NAME[@host]` to mean the container):

    SOURCE   host1, lanpc, inet, ...          a machine of the world
             NAME, container:NAME[@host]      a container on `host` (default: --host, else host1)
    TARGET   host1, lanpc, inet, ...          the machine's eth0 address, read when the probe runs
             NAME, container:NAME[@host]      a container: on the source's host first, then any host
             172.18.0.3                       an address, sent to as is (a container that holds it
                                              is read and captured too)
             an alias                         a name only Docker's DNS knows, sent as is
"""
from __future__ import annotations

from dataclasses import dataclass

from helpers.errors import LabError
from helpers.language import translate
from helpers.scenarios.base import ProbeSpec, Scenario
from helpers.scenarios.endpoint import (
    ADDRESS,
    CONTAINER,
    CONTAINER_PREFIX,
    MACHINE,
    MACHINE_PREFIX,
    NAME,
    Endpoint,
    sdk_networks,
)
from helpers.world.naming import ROLES

KINDS = ("ping", "tcp", "udp")


def udp_note() -> str:
    """What "reached" means for a UDP probe, appended to its description: it "reaches" only when
    something answers it; an ICMP port unreachable in the reply leg shows the datagram arrived and no
    socket took it."""
    return translate("scenarios:trace:udp-note",
                     " (reached = something answered; an ICMP port unreachable = it arrived, nothing listens)")


def trace_description(kind: str, source: str, target: str, port: int | None = None) -> str:
    """A learner's own probe described, its ends as they wrote them (`_plain`), in the language in force."""
    text = (translate("scenarios:trace:port", "{kind} from {source} to {target} port {port}",
                      kind=kind, source=source, target=target, port=port) if port
            else translate("scenarios:trace:plain", "{kind} from {source} to {target}",
                           kind=kind, source=source, target=target))
    return text + (udp_note() if kind == "udp" else "")


@dataclass(frozen=True)
class Box:
    """One container of an engine, as far as naming the ends needs: where it runs, its addresses."""

    name: str
    host: str
    running: bool
    addresses: tuple[str, ...] = ()
    published: tuple[int, ...] = ()   # host ports it publishes (`-p HOST:CONTAINER`)
    # (network, name) for each name Docker's DNS answers with it on that network: its name, its
    # `--network-alias`es (docker inspect's Aliases; DNSNames on Docker 26+)
    dns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Found:
    """Every container of every engine of the world (running or not), read once."""

    containers: list[Box]

    def named(self, name: str) -> list[Box]:
        return [c for c in self.containers if c.name == name]

    def holding(self, address: str) -> list[Box]:
        return [c for c in self.containers if c.running and address in c.addresses]

    def running_on(self, host: str) -> list[str]:
        return sorted(c.name for c in self.containers if c.host == host and c.running)

    def answering(self, name: str, networks: set[str]) -> list[Box]:
        """The running containers Docker's embedded DNS answers `name` with, for a container on
        `networks`: those with that name or alias on one of them (the default bridge has no DNS)."""
        return [c for c in self.containers if c.running
                and any(n in networks and n != "bridge" and alias == name for n, alias in c.dns)]

    def networks_of(self, name: str, host: str) -> set[str]:
        return {n for c in self.containers if c.name == name and c.host == host for n, _ in c.dns}


def read_containers(world) -> Found:
    """Every container on every engine of the world (docker SDK: the same as `docker ps -a`)."""
    from concurrent.futures import ThreadPoolExecutor

    def boxes(host: str) -> list[Box]:
        return [Box(c.name, host, c.status == "running", tuple(a for a in sdk_networks(c).values() if a),
                    _published(c), _dns_names(c)) for c in world.hosts[host].docker.containers.list(all=True)]

    hosts = list(world.hosts)
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        return Found([box for found in pool.map(boxes, hosts) for box in found])


def _dns_names(container) -> tuple[tuple[str, str], ...]:
    """(network, name) for every name Docker's DNS gives this container on each of its networks."""
    networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(sorted({(network, name) for network, settings in networks.items()
                         for name in [container.name, *(settings.get("Aliases") or []),
                                      *(settings.get("DNSNames") or [])]}))


def _published(container) -> tuple[int, ...]:
    ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    return tuple(sorted({int(b["HostPort"]) for bindings in ports.values() for b in bindings or []
                         if str(b.get("HostPort", "")).isdigit()}))


def dnlab_command(world, *words: str) -> str:
    """The `dnlab ...` command line for this world, as it runs (an error's fix names the world it is about)."""
    from helpers.errors import dnlab_command as typed

    return typed(" ".join(words), world.names.world_id)


class OwnTrace(Scenario):
    """One probe between a learner's own ends; built by `own_trace`, never registered."""

    name = "trace"
    driver = "any"
    title = "your own containers, on any network you made"

    def __init__(self, world, source: Endpoint, target: Endpoint, kind: str = "ping", port: int | None = None,
                 host: str = "host1", picked: frozenset[tuple[str, str]] = frozenset()):
        super().__init__(world)
        self.source, self.target, self.kind, self.port, self.host = source, target, kind, port, host
        self.picked = picked
        self.probe = f"{_plain(source)} -> {_plain(target)}"

    def includes(self, container) -> bool:
        """The two ends the learner named (by name and host), whatever their labels."""
        return (container.name, container.host) in self.picked

    def container_name(self, role: str) -> str:
        return role  # the learner's container is named as they named it, not `<scenario>-<role>`

    def _make(self) -> None:
        """Nothing to make: the learner's containers and networks exist already."""

    def stop(self) -> None:
        """Nothing to remove: a trace never touches the learner's own containers."""

    def published_instead(self) -> list[str]:
        """When the target is a container on another machine than the source: the `dnlab trace` lines
        that reach its port through the host ports publishing it (a container's own address is private
        to its Docker host: the LAN has no route to it). Empty when nothing publishes that port."""
        from helpers.world.naming import HOSTS

        end = self.target
        if not end.is_container or self.kind not in ("tcp", "udp") or not self.port:
            return []
        host = next((h for c, h in sorted(self.picked) if c == end.name), None)
        if host not in HOSTS or (self.source.is_container and self.host == host):
            return []
        try:
            ports = self.world.hosts[host].docker.containers.get(end.name).attrs["NetworkSettings"]["Ports"] or {}
        except Exception:  # noqa: BLE001 - a hint only: the container went meanwhile
            return []
        address = self.world[host].read_address()
        host_ports = sorted({int(b["HostPort"]) for b in ports.get(f"{self.port}/{self.kind}") or []
                             if b.get("HostIp") in ("", "0.0.0.0")})
        from helpers.errors import dnlab_command

        return [dnlab_command(f"trace {_plain(self.source)} {address} --{self.kind} {p}", self.world.names.world_id)
                for p in host_ports]

    def probe_specs(self) -> dict[str, ProbeSpec]:
        description = trace_description(self.kind, _plain(self.source), _plain(self.target), self.port)
        spec = ProbeSpec(self.probe, str(self.source), str(self.target), self.kind, self.port,
                         source_host=self.source.on(self.host), description=description)
        return {spec.name: spec}


def _plain(end: Endpoint) -> str:
    """An end as the learner wrote it: a container's or machine's bare name, an address."""
    return end.name + (f"@{end.host}" if end.is_container and end.host else "")


def own_trace(world, source: str, target: str, kind: str = "ping", port: int | None = None,
              host: str = "host1", found: Found | None = None) -> OwnTrace:
    """The trace of `source` to `target` (words of the command line), checked against what the
    engines hold now: a missing or stopped container is a LabError naming the fix."""
    if kind not in KINDS:
        raise LabError(f"unknown probe kind {kind!r}", f"one of: {', '.join(KINDS)}")
    found = found or read_containers(world)
    src = _source_end(world, source, host, found)
    source_host = src.on(host)
    dst, picked = _target_end(world, target, source_host, found, src)
    picked |= _publishers(world, dst, port, found)
    if src.is_container:
        picked = picked | {(src.name, source_host)}
    return OwnTrace(world, src, dst, kind, port, source_host, frozenset(picked))


def _publishers(world, end: Endpoint, port: int | None, found: Found) -> set[tuple[str, str]]:
    """A Docker host's published port as the target: the container behind it is read and captured
    too, so the path goes on past the DNAT (or docker-proxy) to that container."""
    if port is None or end.kind not in (MACHINE, ADDRESS):
        return set()
    if end.kind == MACHINE:
        hosts = [end.name] if end.name in world.hosts else []
    else:
        hosts = [h for h in world.hosts if world[h].read_address() == end.name]
    return {(c.name, c.host) for c in found.containers if c.host in hosts and c.running and port in c.published}


def _source_end(world, text: str, host: str, found: Found) -> Endpoint:
    text = text.strip()
    if text in ROLES or text.startswith(MACHINE_PREFIX):
        return Endpoint.parse_source(text)
    end = Endpoint.parse_source(text if text.startswith(CONTAINER_PREFIX) else f"{CONTAINER_PREFIX}{text}@{host}")
    _running(world, end.name, end.on(host), found, "SOURCE")
    return Endpoint(CONTAINER, end.name, end.on(host))


def _target_end(world, text: str, source_host: str, found: Found,
                source: Endpoint | None = None) -> tuple[Endpoint, set[tuple[str, str]]]:
    text = text.strip()
    if text in ROLES:
        return Endpoint(MACHINE, text), set()
    end = Endpoint.parse(text)
    if end.kind == MACHINE:
        return end, set()
    if end.kind == ADDRESS:
        return end, {(c.name, c.host) for c in found.holding(end.name)}
    if end.kind == CONTAINER:
        on = end.on(source_host)
        _running(world, end.name, on, found, "TARGET")
        return Endpoint(CONTAINER, end.name, on), {(end.name, on)}
    return _target_by_name(world, end, source_host, found, source)


def _target_by_name(world, end: Endpoint, source_host: str, found: Found,
                    source: Endpoint | None = None) -> tuple[Endpoint, set[tuple[str, str]]]:
    """A bare name: a container on the source's host first, then on another host; else a network
    alias Docker's DNS answers the source with (that container); else another name Docker's DNS
    knows (sent as is, resolved by the guard in the source); else an error."""
    ranked = sorted(found.named(end.name), key=lambda c: (c.host != source_host, not c.running))
    if ranked:
        _running(world, end.name, ranked[0].host, found, "TARGET")
        return Endpoint(CONTAINER, end.name, ranked[0].host), {(end.name, ranked[0].host)}
    if source is not None and source.is_container:
        # A `--network-alias`: the container Docker's DNS answers it with, on a network the source is on
        # (issue 23.7); traced as that container, at its address on the shared network.
        answering = sorted(found.answering(end.name, found.networks_of(source.name, source_host)),
                           key=lambda c: (c.host != source_host, c.name))
        if answering:
            return Endpoint(CONTAINER, answering[0].name, answering[0].host), {(answering[0].name, answering[0].host)}
    from helpers.world.guard import container_names

    if end.name in container_names(world):
        return Endpoint(NAME, end.name), set()
    raise _unknown(world, end.name, source_host, found, "TARGET")


def _running(world, name: str, host: str, found: Found, which: str) -> None:
    """Raise a LabError unless container `name` runs on `host`."""
    here = [c for c in found.named(name) if c.host == host]
    if here and here[0].running:
        return
    if here:
        raise LabError(f"{which} container {name} on {host} is not running ({which} must be up to be traced)",
                       dnlab_command(world, "shell", host, "--", "docker", "start", name))
    raise _unknown(world, name, host, found, which)


def _unknown(world, name: str, host: str, found: Found, which: str) -> LabError:
    elsewhere = sorted({c.host for c in found.named(name)} - {host})
    if elsewhere and which == "SOURCE":
        return LabError(f"no container {name} on {host}; it is on {', '.join(elsewhere)}",
                        dnlab_command(world, "trace", name, "TARGET", "--host", elsewhere[0]))
    hosts = [host] if which == "SOURCE" else [host, *(h for h in world.hosts if h != host)]
    running = "; ".join(f"on {h}: {', '.join(found.running_on(h)) or 'none'}" for h in hosts)
    return LabError(f"{which} {name!r} is no container of {' or '.join(hosts)} (running {running}) and no "
                    f"machine ({', '.join(ROLES)})", dnlab_command(world, "shell", host, "--", "docker", "ps", "-a"))
