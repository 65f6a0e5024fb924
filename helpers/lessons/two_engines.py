"""Chapter 7's last section: what Docker 28 changed, shown live on two engines side by side.

The session world's hosts may both run the machine's engine (Debian 12's 20.10, Debian 13's 26.1) or
both Docker 28 (`DNLAB_ENGINE=28`), so this section brings up a *side world* of its own: host1 on the
machine's engine, host2 on 28 (`manager.up(<side id>, "host2=28")`). Its id is the session world's
cut to 6 characters plus `v2`, so two test legs never share one. The same commands run on both hosts
(`docker run -d -p 8080:80 nginx`, `-p 127.0.0.1:8081:80`, an `--internal` network), and the same
probes go through the guard (`probe`, and `send_loopback_syn` for the crafted frame of moby#45610).
What each engine should do comes from the engine table (helpers/world/engine_facts.py), never from
here. `take_down` (also registered with atexit by `side_world`) removes the side world; a kernel
killed before either ran leaves it to the session world's `down` (`manager.adopt`).
"""
from __future__ import annotations

import atexit
import contextlib
import difflib
import ipaddress
from dataclasses import dataclass, field

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.world import engine_facts
from helpers.world.guard import probe, send_loopback_syn
from helpers.world.naming import NGINX_IMAGE

SUFFIX = "v2"
TABLES = ("raw", "filter", "nat")
WEB, LOCAL, INNER, INSIDE = "web", "local", "inner", "inside"     # the section's containers and network
WEB_PORT, LOCAL_PORT = 8080, 8081
SIDE_SPEC = "host2=28"


@measured
def side_id(world, suffix: str = SUFFIX) -> str:
    """The side world's id: the session world's id (or `dnlab`, the default world's) cut to fit, plus
    `suffix` (a world id is at most 8 characters)."""
    base = world.names.world_id or "dnlab"
    return base[:8 - len(suffix)] + suffix


@measured
def side_world(world, suffix: str = SUFFIX):
    """Bring up (or reuse) the side world, host1 on the machine's engine and host2 on Docker 28; it
    is taken down at interpreter exit if `take_down` was not called first."""
    from helpers.world import manager
    from helpers.world.model import World
    from helpers.world.naming import WorldNames

    world_id = side_id(world, suffix)
    manager.up(world_id, SIDE_SPEC)
    manager.adopt(world.names.world_id, world_id)  # the session world's `down` takes it too (a killed kernel)
    atexit.register(_down_quietly, world_id)
    return World(WorldNames(world_id))


def _dnlab() -> str:
    """The `dnlab` command of this Python's environment."""
    import shutil
    import sys
    from pathlib import Path

    beside = Path(sys.executable).parent / "dnlab"
    return str(beside) if beside.exists() else (shutil.which("dnlab") or "dnlab")


def _down_quietly(world_id: str) -> None:
    """`dnlab --world <id> down` in a process of its own: at interpreter exit `manager.down` cannot
    run here (its thread pool refuses new work once shutdown began)."""
    import subprocess

    # At exit there is no one left to tell; `dnlab --world <id> down` by hand sweeps what is left.
    with contextlib.suppress(Exception):
        subprocess.run([_dnlab(), "--world", world_id, "down"], capture_output=True, timeout=120)


@measured
def take_down(world, suffix: str = SUFFIX) -> list[str]:
    """Remove the side world of the session `world` (its engines, containers, namespaces), as
    `dnlab --world <side id> down` does; nothing happens if it is not there."""
    from helpers.world import manager

    atexit.unregister(_down_quietly)
    return manager.down(side_id(world, suffix))


@measured
def version(side, host: str) -> str:
    return side.hosts[host].docker.version()["Version"]


@measured
def versions(side) -> dict[str, dict]:
    """Each host's engine as `dnlab status` reports it: the world's recorded choice and the version
    the engine's API answers."""
    from helpers.world import manager

    engines = manager.status(side.names.world_id)["engines"]
    return {h: {"engine": e["engine"], "version": e["version"]} for h, e in engines.items()}


@measured
def status_lines(side) -> str:
    """`dnlab --world <id> status`, its dockerd lines (the real command, run now)."""
    import subprocess

    out = subprocess.run([_dnlab(), "--world", side.names.world_id, "status"], capture_output=True, text=True,
                         timeout=60).stdout
    lines = [line.strip() for line in out.splitlines() if "dockerd" in line]
    return "\n".join([f"$ sudo .venv/bin/dnlab --world {side.names.world_id} status | grep dockerd", *lines])


def _fresh(side, host: str, name: str) -> None:
    """Remove a container or network of this section left by an earlier run of the cell."""
    facts.sh(side, host, f"docker rm -f {name} >/dev/null 2>&1; docker network rm {name} >/dev/null 2>&1",
             check=False)


@measured
def publish(side, host: str, name: str = WEB, publish_spec: str = f"{WEB_PORT}:80") -> facts.Shown:
    """`docker run -d --name NAME -p SPEC nginx` on one host of the side world (the course's nginx
    stand-in: busybox httpd on port 80)."""
    _fresh(side, host, name)
    image = NGINX_IMAGE.split(":")[0]
    return facts.sh(side, host, f"docker run -d --name {name} -p {publish_spec} {image}")


@measured
def container_ip(side, host: str, name: str, network: str = "bridge") -> str:
    container = side.hosts[host].docker.containers.get(name)
    return container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]


# --- the rules, side by side -------------------------------------------------------------------

@measured
def save(side, host: str) -> dict[str, list[str]]:
    """`iptables-save -t TABLE` of one host, per table, without comments, COMMIT and counters."""
    return {table: parse_save(facts.sh(side, host, f"iptables-save -t {table}").output) for table in TABLES}


@measured
def parse_save(text: str) -> list[str]:
    """The chain and rule lines of an `iptables-save` text (one table), without counters."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("#", "*", "COMMIT")) or not line.strip():
            continue
        if line.startswith(":"):
            line = line.rsplit(" [", 1)[0]  # `:FORWARD DROP [12:840]` -> `:FORWARD DROP`
        lines.append(line)
    return lines


@measured
def split_tables(text: str) -> dict[str, str]:
    """A whole `iptables-save` text cut into its tables (`*raw` ... `COMMIT`), by name."""
    found: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = line[1:].strip()
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return found


@measured
def marked(left: list[str], right: list[str]) -> list[tuple[str, str]]:
    """The two lists merged in order, each line marked " " (both), "-" (left only), "+" (right only)."""
    rows: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [(" ", line) for line in left[a1:a2]]
            continue
        rows += [("-", line) for line in left[a1:a2] if line not in right]
        rows += [("+", line) for line in right[b1:b2] if line not in left]
        # a line both have, only placed elsewhere, is shown once, as common
        rows += [(" ", line) for line in left[a1:a2] if line in right]
    return rows


@measured
def chains(lines: list[str]) -> list[str]:
    return [line[1:].split()[0] for line in lines if line.startswith(":")]


@dataclass
class RulesDiff:
    """Both hosts' rules per table, merged and marked, with what the claim reads."""

    hosts: tuple[str, str]
    labels: tuple[str, str]
    tables: dict[str, list[tuple[str, str]]]
    filter_chains: dict[str, list[str]]
    raw_rules: dict[str, list[str]]
    versions: dict[str, str] = field(default_factory=dict)

    def docker_chains(self, host: str) -> tuple[str, ...]:
        """The host's filter chains among those the engine table names for any release (fact "chains")."""
        named = {c for _, chains in engine_facts.FILTER_CHAINS for c in chains}
        return tuple(sorted(c for c in self.filter_chains[host] if c in named))

    def expected(self, host: str) -> tuple[str, ...]:
        """The chains the engine table gives the host's release (`engine_facts.filter_chains`)."""
        return tuple(sorted(engine_facts.filter_chains(self.versions[host])))

    @property
    def new_chains(self) -> list[str]:
        """Filter chains the second host has and the first lacks."""
        first, second = (self.filter_chains[h] for h in self.hosts)
        return [c for c in second if c not in first]

    def only(self, mark: str) -> list[str]:
        """The lines of every table only one host has ("-": the first, "+": the second)."""
        return [line for rows in self.tables.values() for m, line in rows if m == mark]

    def notable(self) -> dict[str, list[str]]:
        """Two kinds of line the chapter points at, where only one host has them: a DROP in the DOCKER
        chain of whatever enters a bridge from outside, and a MASQUERADE whose source and destination
        are one container (its connection to its own published port)."""
        first, second = self.hosts
        out = {}
        for mark, host in (("-", first), ("+", second)):
            lines = self.only(mark)
            out[f"only {host}: DROP in the DOCKER chain"] = [
                line for line in lines if line.startswith("-A DOCKER ! -i") and line.endswith("-j DROP")]
            out[f"only {host}: MASQUERADE of a container to itself"] = [
                line for line in lines if line.endswith("-j MASQUERADE") and _same_ends(line)]
        return out

    def __repr__(self) -> str:
        left, right = self.labels
        out = [f"  (both)   - {left} only   + {right} only"]
        for table, rows in self.tables.items():
            out.append(f"*{table}")
            out += [f"{mark} {line}" for mark, line in rows]
        return "\n".join(out)


def _same_ends(rule: str) -> bool:
    """`-s X -d X` in an iptables rule line."""
    words = rule.split()
    src = words[words.index("-s") + 1] if "-s" in words else None
    return src is not None and "-d" in words and words[words.index("-d") + 1] == src


@measured
def rules_side_by_side(side, hosts: tuple[str, str] = ("host1", "host2")) -> RulesDiff:
    """`iptables-save` (raw, filter, nat) of both hosts, merged, the lines only one has marked."""
    return compare({h: save(side, h) for h in hosts}, {h: version(side, h) for h in hosts})


@measured
def compare(saved: dict[str, dict[str, list[str]]], versions: dict[str, str]) -> RulesDiff:
    """Two hosts' rules (host -> table -> lines, in `saved`'s order) as a RulesDiff."""
    first, second = hosts = tuple(saved)
    return RulesDiff(
        hosts, tuple(f"{h} (Docker {versions[h]})" for h in hosts),
        {t: marked(saved[first].get(t, []), saved[second].get(t, [])) for t in TABLES},
        {h: chains(saved[h].get("filter", [])) for h in hosts},
        {h: [line for line in saved[h].get("raw", []) if line.startswith("-A")] for h in hosts},
        dict(versions))


# --- probe 1: a published container's own address ------------------------------------------------

@measured
def raw_drops(side, host: str, *fragments: str) -> list:
    """host's raw-table DROP rules whose line holds every fragment, with their counters."""
    rules = facts.state(side, host, "rules").rules
    return [r for r in rules if r.table == "raw" and r.target == "DROP" and all(f in str(r) for f in fragments)]


def _counted(rules: list) -> int:
    return sum(r.packets for r in rules)


@measured
def docker0_subnet(side, host: str) -> str:
    return str(ipaddress.ip_interface(facts.ipv4(side, host, "docker0")[0]).network)


@measured
def direct_access(side, host: str, name: str = WEB) -> dict:
    """lanpc routes host's docker0 subnet through host (any LAN neighbour can add that route), then
    asks the published container's OWN address, port 80; the route is removed afterwards. With the
    raw-table DROP rule of that address and its packet counter before and after."""
    address, host_ip = container_ip(side, host, name), facts.address(side, host)
    subnet, wanted = docker0_subnet(side, host), f"-d {address}/32"
    before = _counted(raw_drops(side, host, wanted))
    side["lanpc"].run(["ip", "route", "replace", subnet, "via", host_ip])
    try:
        route = facts.sh(side, "lanpc", f"ip route get {address}").output.splitlines()[0]
        result = probe(side, "lanpc", address, "http", 80)
    finally:
        side["lanpc"].run(["ip", "route", "del", subnet, "via", host_ip], check=False)
    rules = raw_drops(side, host, wanted)
    engine = version(side, host)
    era = engine_facts.fact("direct-access").on(engine)
    return {"host": host, "engine": engine, "raw era": era.since != "20.10", "table says": era.value,
            "route on lanpc": route, "container": f"{name} {address}:80", "reached": result.ok,
            "answer": _first_text(result.output) if result.ok else "(no answer)",
            "raw rule": str(rules[0]) if rules else None, "raw drops counted": _counted(rules) - before}


def _first_text(page: str) -> str:
    """The first line of a web page with text in it, tags removed ("Welcome to nginx!")."""
    import re

    lines = [re.sub(r"<[^>]+>", "", line).strip() for line in page.splitlines()]
    return next((line for line in lines if line), "(empty page)")[:60]


# --- probe 2: a port published on 127.0.0.1, from a LAN neighbour (moby#45610) ----------------------

def _tcp(frame) -> bool:
    return frame.proto == "tcp"


@measured
def loopback_from_lan(side, host: str, name: str = LOCAL, port: int = LOCAL_PORT) -> dict:
    """lanpc sends one TCP SYN to 127.0.0.1:`port` in a frame addressed to host's MAC (the guard's
    `send_loopback_syn`), while host's eth0 and docker0 are captured; with the counters of the raw
    rule `-d 127.0.0.1/32 ! -i lo ... --dport PORT -j DROP` and of the DNAT rule for 127.0.0.1:PORT.
    lanpc pings host first: host then knows lanpc's MAC (a reply whose source is 127.0.0.1 asks for it
    by ARP 'tell 127.0.0.1', which lanpc never answers)."""
    probe(side, "lanpc", facts.address(side, host), "ping")
    loop = ("-d 127.0.0.1/32", f"--dport {port}")

    def dnat() -> int:
        return _counted(facts.matching(facts.iptables(side, host), *loop, "DNAT"))

    raw_before, dnat_before = _counted(raw_drops(side, host, *loop)), dnat()
    crafted, (on_docker0, on_eth0) = facts.capture(
        side, [(host, "docker0"), (host, "eth0")], lambda: send_loopback_syn(side, "lanpc", host, port), keep=_tcp)
    inside = container_ip(side, host, name)
    into_container = [f for f in on_docker0 if f.dport == 80 and f.dst == inside and f.sport == crafted.sport]
    answered = [f for f in on_docker0 if f.sport == 80 and f.src == inside and f.dport == crafted.sport]
    out_eth0 = [f for f in on_eth0 if f.dport == crafted.sport and f.tcp_flags == "SA"]
    rules = raw_drops(side, host, *loop)
    engine = version(side, host)
    era = engine_facts.fact("loopback-publish").on(engine)
    return {"host": host, "engine": engine, "raw era": era.since != "20.10", "table says": era.value,
            "sent": str(crafted), "SYN reached the container (docker0)": bool(into_container),
            "container answered (SYN-ACK on docker0)": bool(answered),
            "SYN-ACK left eth0, from": out_eth0[0].src if out_eth0 else None,
            "lanpc got": crafted.answer, "raw rule": str(rules[0]) if rules else None,
            "raw drops counted": _counted(rules) - raw_before, "DNAT counted": dnat() - dnat_before}


# --- probe 3: an --internal network's routes ---------------------------------------------------------

@measured
def internal_routes(side, host: str) -> dict:
    """`docker network create --internal inside`, a container on it, and its `ip route`."""
    for name in (INNER, INSIDE):
        _fresh(side, host, name)
    facts.sh(side, host, f"docker network create --internal {INSIDE} >/dev/null")
    facts.sh(side, host, f"docker run -d --name {INNER} --network {INSIDE} alpine >/dev/null")
    return read_internal(side, host)


@measured
def read_internal(side, host: str) -> dict:
    """The `inner` container's routes, read now, and the gateway Docker gave its network."""
    shown = facts.sh(side, host, f"docker exec {INNER} ip route")
    network = side.hosts[host].docker.networks.get(INSIDE)
    gateway = next((c.get("Gateway") for c in network.attrs["IPAM"]["Config"] if c.get("Gateway")), None)
    defaults = [line.strip() for line in shown.lines if line.startswith("default")]
    engine = version(side, host)
    era = engine_facts.fact("internal-route").on(engine)
    return {"host": host, "engine": engine, "default route era": era.since == "20.10", "table says": era.value,
            "shown": shown, "default route": defaults[0] if defaults else None, "gateway": gateway}
