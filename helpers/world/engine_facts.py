"""The course's one table of engine-dependent facts: what each Docker release does, and the sentence
the course says about it.

Every statement of the course that holds on some Docker releases only lives here, once. Chapters
(notebooks/src/chNN.py, rendered when the notebooks are generated), the labs' texts, the lessons'
notes and `dnlab doctor` render their version sentences from this table (`say`, `on_engine`,
`engine_notes`); tests/unit/test_engine_facts.py fails on a version-dependent sentence written anywhere
else. It lives in the world room, not in lessons, because `dnlab doctor` (helpers/world/doctor.py)
renders it too and a room imports only downstream (tests/unit/test_packaging.py: world < lessons).

Each fact is a list of *eras*: from one release on, what holds, and where that truth comes from:
- MEASURED: a claim cell of the course asserts it live on that engine (its tag is named);
- TRIAL: measured once by hand on Debian's docker.io 28.5.2 when issue 25 was filed (not yet by a test);
- a citation: Docker's own generated rule tables (moby `integration/network/bridge/iptablesdoc/generated/`
  and `nftablesdoc/generated/`), its docs or release notes: "from Docker's tables, not run here".
The engines the course names: Debian 12's 20.10, Debian 13's 26.1, Debian forky/sid's 28.5 (run live)
and 29.0 (cited only).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ENGINES = ("20.10", "26.1", "28.5", "29.0")  # the releases the table gives a truth for
LIVE = ("20.10", "26.1", "28.5")              # those the lab can run (Debian's docker.io packages)

IPTABLESDOC = "moby integration/network/bridge/iptablesdoc/generated/"
NFTABLESDOC = "moby integration/network/bridge/nftablesdoc/generated/"
TABLES = "from Docker's tables, not run here"
TRIAL = "measured by hand on Debian's docker.io 28.5.2 (issue 25's trial), not yet by a test"


def live_test(on: str) -> str:
    """Measured by tests/integration/test_engine_facts_live.py on the engines `on` (each test leg runs
    it on its own engine: Debian 12's 20.10, Debian 13's 26.1, the Docker 28 leg's 28.5)."""
    return f"measured live (tests/integration/test_engine_facts_live.py) on {on}"


def measured(tag: str) -> str:
    return f"measured live (claim {tag})"


def cited(where: str) -> str:
    return f"{TABLES} ({where})" if where.startswith("moby ") else f"cited, not run here ({where})"


def _key(version: str) -> tuple[int, ...]:
    """(28, 0, 1) from "28.0.1" or "28.0.1+dfsg1"; missing parts are 0."""
    parts = []
    for part in version.split("+")[0].split("-")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts + [0] * (3 - len(parts)))


@dataclass(frozen=True)
class Era:
    """From release `since` on (until the next era), `value` holds; `source` says how we know."""

    since: str
    value: str
    source: str


@dataclass(frozen=True)
class Fact:
    """One engine-dependent fact: its id, the topic, where the course states it, its eras (oldest
    first), and `sentence`, the one statement of it the course renders wherever it says it."""

    id: str
    topic: str
    where: tuple[str, ...]
    eras: tuple[Era, ...]
    sentence: str

    def on(self, version: str) -> Era:
        """The era that holds on `version` (e.g. "26.1.5+dfsg1")."""
        found = [era for era in self.eras if _key(era.since) <= _key(version)]
        return found[-1] if found else self.eras[0]

    def truth(self) -> dict[str, Era]:
        """What holds on each engine of ENGINES."""
        return {engine: self.on(engine) for engine in ENGINES}


FACTS: tuple[Fact, ...] = (
    Fact("chains", "the filter chains that keep Docker bridges apart", ("ch02 §2.4", "ch07", "lab 3"), (
        Era("20.10", "DOCKER-ISOLATION-STAGE-1 and DOCKER-ISOLATION-STAGE-2",
            measured("ch02:isolation, ch07:v28-chains") + " on 20.10 and 26.1"),
        Era("28.0.0", "DOCKER-ISOLATION-STAGE-1 and -2, matched through ipsets",
            cited(IPTABLESDOC + "new-daemon.md at v28.0.0")),
        Era("28.0.1", "DOCKER-ISOLATION-STAGE-1 and -2, kept beside the new DOCKER-FORWARD, DOCKER-BRIDGE and "
            "DOCKER-CT",
            measured("ch07:v28-chains") + " on 28.5.2; " + cited(IPTABLESDOC + "new-daemon.md at v28.5.2")),
        Era("29.0", "no isolation chains: DOCKER-FORWARD, DOCKER-BRIDGE and DOCKER-CT stay, one rule per "
            "bridge in the DOCKER chain (`-A DOCKER ! -i <bridge> -o <bridge> -j DROP`) separates bridges, "
            "and DOCKER-INTERNAL handles internal networks",
            cited(IPTABLESDOC + "new-daemon.md, usernet-internal.md at v29.0.0"))),
        "Which chains keep Docker bridges apart depends on the release. Docker 20.10 to 28.0.0 use "
        "DOCKER-ISOLATION-STAGE-1 and -2 (28.0.0 matches bridges through ipsets). Docker 28.0.1 to "
        "28.5 keep those two chains and add DOCKER-FORWARD, DOCKER-BRIDGE and DOCKER-CT. Docker 29 "
        "removes the isolation chains and keeps the other three: a rule `-A DOCKER ! -i <bridge> -o "
        "<bridge> -j DROP` per bridge does the job, and DOCKER-INTERNAL (new in 29) handles internal "
        "networks."),
    Fact("direct-access", "packets sent straight to a container's own address from outside its bridge",
         ("ch01 §1.4", "ch07 §7.4"), (
        Era("20.10", "only the filter table decides: a published container answers on its own address, "
            "an unpublished one is stopped by FORWARD's DROP policy, when dockerd set it (forward-policy)",
            measured("ch01:unpublished, ch07:v28-direct") + " on 20.10 and 26.1"),
        Era("28.0", "a raw-table rule drops them before any NAT (`-A PREROUTING -d <container>/32 ! -i "
            "<bridge> -j DROP`); published ports stay reachable through the host's address",
            measured("ch01:unpublished, ch07:v28-direct") + " on 28.5.2; "
            + cited(IPTABLESDOC + "usernet-portmap.md at v28.0.0"))),
        "Docker 28.0 added a raw-table rule per container, `-A PREROUTING -d <container>/32 ! -i <bridge> "
        "-j DROP`. It drops packets that reach a container's own address from outside its bridge, "
        "published or not; published ports stay reachable through the host's address. Before 28.0 "
        "only the filter table decides, so a published container also answers on its own address."),
    Fact("forward-policy", "the filter FORWARD policy DROP", ("ch01 §1.4",), (
        Era("20.10", "dockerd sets FORWARD's policy to DROP only when it turned ip_forward on itself; on a "
            "host that already forwarded, the policy stays ACCEPT and unpublished ports are open to a "
            "neighbour that routes to them", measured("ch01:unpublished") + " on 20.10 and 26.1 (DROP set)"),
        Era("28.0", "the same rule for the policy (dockerd's `--ip-forward-no-drop` turns it off); the "
            "raw-table direct-access rule drops those packets whatever the policy",
            live_test("28.5") + "; " + cited("Docker docs, Packet filtering and firewalls; " + IPTABLESDOC
                                            + "usernet-portmap.md"))),
        "dockerd sets the filter FORWARD policy to DROP only when it turned IPv4 forwarding on itself. "
        "On a host that already forwarded, the policy stays ACCEPT. Before Docker 28.0, a LAN neighbour "
        "with a route to the container then reaches its unpublished ports. From 28.0 the raw-table rule "
        "drops those packets whatever the policy."),
    Fact("loopback-publish", "a port published on 127.0.0.1 (`-p 127.0.0.1:HOST:CTR`)",
         ("ch01", "ch07 §7.4", "lab 2", "lab 10"), (
        Era("20.10", "reachable from a LAN neighbour that routes 127.0.0.1 to the host (moby#45610)",
            measured("ch07:v28-loopback") + " on 20.10 (a SYN in a frame to the host's MAC is DNATed in and "
            "answered from 127.0.0.1); " + cited("moby/moby#45610; Docker docs, Port publishing and mapping")),
        Era("28.0", "dropped unless it comes in on lo (a raw-table rule `-d 127.0.0.1 ! -i lo -j DROP`)",
            measured("ch07:v28-loopback") + " on 28.5.2; " + cited(IPTABLESDOC + "usernet-portmap-lo.md at v28.0.0"))),
        "A port published on 127.0.0.1 is meant for the host alone. Before Docker 28.0 a LAN neighbour "
        "that routes to the host can still reach it (moby#45610). Docker 28.0 added a raw-table rule that "
        "drops such packets unless they come in on lo."),
    Fact("userland-proxy", "host1's own connections to a published port", ("ch01 §1.3",), (
        Era("20.10", "userland-proxy is on by default: 127.0.0.1:PORT goes through docker-proxy; the host's "
            "other addresses are DNATed by the nat OUTPUT rule (`! -d 127.0.0.0/8`)",
            measured("ch01:loopback-proxy, ch01:host-output-dnat") + " on 20.10 and 26.1; on 28.5 and 29 "
            + cited(IPTABLESDOC + "usernet-portmap.md, usernet-portmap-noproxy.md")),),
        "With the default userland-proxy, 127.0.0.1:PORT reaches the container through docker-proxy. "
        "The host's other addresses are DNATed by the nat OUTPUT rule. This holds on every release the "
        "course names (20.10 to 29); with --userland-proxy=false, loopback is DNATed too."),
    Fact("internal-route", "the default route of a container on an `--internal` network",
         ("ch02 §2.5", "ch08"), (
        Era("20.10", "a default route via the bridge's gateway (the DROP rules stop it, not the route)",
            "measured live (ch02 §2.5 shows the container's `ip route`; claim ch07:v28-internal) on 20.10"),
        Era("25.0", "no default route at all", "measured live (ch02 §2.5 shows the container's `ip route`) on 26.1, "
            "and on 28.5.2 (claim ch07:v28-internal)")),
        "On an `--internal` network, Docker 20.10 still gives the container a default route via the "
        "bridge's gateway; DROP rules in the filter table stop its traffic. Since Docker 25.0 the "
        "container gets no default route at all."),
    Fact("nftables", "Docker's firewall backend", ("ch04 §4.5", "ch07", "lab 10"), (
        Era("20.10", "iptables only: `iptables-save` shows Docker's rules",
            measured("ch01:snat") + " on 20.10 and 26.1"),
        Era("29.0", "iptables by default; `firewall-backend: nftables` (experimental) writes nftables rules "
            "instead, and then `iptables-save` shows none of Docker's; it cannot be enabled in swarm mode",
            cited("Docker docs, Docker with nftables; " + NFTABLESDOC))),
        "Up to Docker 28 the rules are iptables rules, as `iptables-save` shows. Docker 29 can write "
        "nftables rules instead (`firewall-backend: nftables`, experimental); `nft list ruleset` then "
        "shows them and `iptables-save` does not. That backend cannot be enabled in swarm mode, so an "
        "overlay's rules stay in iptables."),
    Fact("default-bridge-dns", "the nameserver of a container on the default bridge", ("ch02 §2.3", "lab 1"), (
        Era("20.10", "the daemon's `dns` setting if it has one (this lab sets 203.0.113.10); otherwise the "
            "host's resolv.conf without its localhost nameservers, and 8.8.8.8/8.8.4.4 if none is left",
            measured("ch02:dns") + " on 20.10 and 26.1 (the dns setting); the fallback is "
            + cited("Docker docs, Container networking: DNS services")),),
        "A container on the default bridge gets the daemon's `dns` setting as its nameserver, if the "
        "daemon has one (this lab sets 203.0.113.10). Without it, Docker copies the host's resolv.conf "
        "minus its localhost nameservers, and uses 8.8.8.8 and 8.8.4.4 if none is left. The same holds on "
        "every release the course names."),
    Fact("kv-store", "overlay's external key-value store (Consul, Etcd, ZooKeeper)", ("ch04 §4.1", "glossary"), (
        Era("20.10", "deprecated, still accepted (`cluster-store`)",
            live_test("20.10") + "; " + cited("Docker docs, Deprecated Engine Features")),
        Era("23.0", "removed: swarm mode's own Raft store is the only way",
            live_test("26.1 and 28.5") + "; " + cited("Docker docs, Deprecated Engine Features"))),
        "The external key-value store of overlay networks was deprecated in Docker 20.10 and removed in "
        "23.0. Since then swarm mode keeps the state in its own Raft store."),
    Fact("abstract-socket", "dockerd's own abstract UNIX socket", ("ch03 §3.3",), (
        Era("20.10", "dockerd holds one (`ss -xlp` shows it)", measured("ch03:abstract-sockets") + " on 20.10"),
        Era("26.1", "dockerd holds none", measured("ch03:abstract-sockets") + " on 26.1")),
        "Docker 20.10's dockerd holds an abstract socket of its own; 26.1's holds none (the release in "
        "between that changed it is not claimed)."),
    Fact("network-mode", "`docker inspect`'s NetworkMode of a container run without --network", ("lab 3",), (
        Era("20.10", "\"default\"", "measured live (lab 3's solution prints it) on 20.10; " + live_test("20.10")),
        Era("26.1", "\"bridge\"", "measured live (lab 3's solution prints it) on 26.1; "
            + live_test("26.1 and 28.5"))),
        "A container run without --network shows NetworkMode \"default\" on Docker 20.10 and \"bridge\" "
        "on 26.1 (the release in between that changed it is not claimed)."),
    Fact("enable-ipv4", "`docker network inspect`'s EnableIPv4 field", ("ch08",), (
        Era("20.10", "absent", measured("ch08:inspect") + " on 20.10 and 26.1; " + live_test("20.10 and 26.1")),
        Era("28.0", "present (IPv6-only networks: `--ipv4=false`)",
            live_test("28.5") + "; " + cited("Docker Engine 28.0 release notes"))),
        "Newer engines print the same inspect fields and add a few; Docker 28.0 added EnableIPv4 "
        "(IPv6-only networks: `--ipv4=false`)."),
    Fact("overlay-mtu", "the MTU Docker's overlay gives its containers", ("ch04 §4.4", "lab 13"), (
        Era("20.10", "1450 (1500 − 50), or N − 50 with `-o com.docker.network.driver.mtu=N`; never the "
            "underlay's; lower still with `--opt encrypted` (IPsec ESP overhead)",
            measured("ch04:mtu-fixed, ch04:mtu-option") + " on 20.10; " + cited("moby libnetwork drivers/overlay")),),
        "VXLAN adds 50 bytes: the inner Ethernet header (14), the outer IP header (20), the outer UDP "
        "header (8) and the VXLAN header (8). Docker's overlay gives its containers 1500 − 50 = 1450, or "
        "N − 50 with `-o com.docker.network.driver.mtu=N`; it never reads the underlay's MTU. An "
        "`--opt encrypted` overlay subtracts the IPsec (ESP) overhead too, so its MTU is lower. This was "
        "measured on 20.10; Docker's overlay documentation for 26 to 29 describes the same option."),
    Fact("random-mac", "a bridge container's MAC address", ("ch02",), (
        Era("20.10", "02:42 followed by the container's IPv4 address",
            live_test("20.10 and 26.1") + "; " + cited("moby/moby#47146")),
        Era("28.0", "random", live_test("28.5") + "; " + cited("Docker Engine 28.0 release notes"))),
        "Up to Docker 27 a bridge container's MAC is 02:42 followed by its IPv4 address. From Docker 28.0 "
        "it is random."),
    Fact("macvlan-gateway", "a macvlan network made without --gateway", ("ch05",), (
        Era("20.10", "Docker picks the subnet's first address as gateway; containers get a default route",
            live_test("20.10, 26.1 and 28.5") + "; " + cited("libnetwork IPAM: the first usable address")),
        Era("29.0", "no default gateway is assumed", cited("Docker Engine 29.0 release notes (issue 25's list), "
                                                           "not checked in moby's source here"))),
        "Without --gateway, Docker up to 28 gives a macvlan network its subnet's first address as "
        "gateway. Docker 29 assumes none. Otherwise the macvlan driver behaves the same from 20.10 to 29."),
    Fact("host-network", "`--network host` on Linux", ("ch03",), (
        Era("20.10", "the host's namespace: no veth, no NAT, `-p` ignored", measured("ch03:same-stack")
            + " on 20.10 and 26.1; on 28.5 and 29 " + cited("Docker docs, Host network driver")),),
        "Host networking behaves the same on every Linux release the course names (20.10 to 29). On "
        "Docker Desktop, host is the Linux VM's network, opt-in since Desktop 4.34."),
    Fact("multiple-networks", "two `--network` flags in one `docker run` (a container on two networks from "
         "its start)", ("lab 4",), (
        Era("20.10", "refused with `Container cannot be connected to network endpoints: NET1, NET2`, and no "
            "container is made: start it on one network, then `docker network connect` it to the other",
            live_test("20.10")),
        Era("25.0", "accepted: the container starts on every network named",
            cited("Docker Engine API 1.44: POST /containers/create takes several EndpointsConfig entries "
                  "(docker/compose commit 02cd50c relies on it)"))),
        "Docker 20.10 refuses two `--network` flags in one `docker run` (`Container cannot be connected to "
        "network endpoints`): start the container on one network, then `docker network connect` it to the "
        "other. From Docker 25.0 (API 1.44) repeated `--network` flags work, as newer docs show."),
    Fact("none-network", "the `none` network", ("ch06",), (
        Era("20.10", "loopback only; no second network while attached to none",
            measured("ch06:no-connect") + " on 20.10 and 26.1; on 28.5 and 29 "
            + cited("Docker docs, None network driver")),),
        "`none` behaves the same on every release the course names (20.10 to 29)."),
)

_BY_ID = {fact.id: fact for fact in FACTS}

# The "chains" fact as data, for code that looks for the chains (the claims of ch02 and lab 3): the
# filter chains that hold Docker's rules between bridges, from each release on (same sources as above).
FILTER_CHAINS = (
    ("20.10", ("DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2")),
    ("28.0.1", ("DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-FORWARD", "DOCKER-BRIDGE",
                "DOCKER-CT")),
    ("29.0", ("DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-INTERNAL")),
)


def filter_chains(version: str) -> tuple[str, ...]:
    """The Docker filter chains an engine of `version` writes between bridges (see fact "chains")."""
    return [chains for since, chains in FILTER_CHAINS if _key(since) <= _key(version)][-1]


def fact(fact_id: str) -> Fact:
    """The fact of that id (KeyError names the ids there are)."""
    try:
        return _BY_ID[fact_id]
    except KeyError:
        raise KeyError(f"no engine fact {fact_id!r}; there are {', '.join(_BY_ID)}") from None


def say(fact_id: str) -> str:
    """The course's one sentence of a fact, as chapters, labs and lessons print it."""
    return fact(fact_id).sentence


# `[[engine:ID]]` in a chapter's markdown or a lab's `# %%` text: replaced by that fact's sentence.
MARKER = re.compile(r"\[\[engine:([a-z0-9-]+)\]\]")


def render(text: str) -> str:
    """`text` with every `[[engine:ID]]` replaced by the course's sentence of that fact."""
    return MARKER.sub(lambda m: say(m.group(1)), text)


def on_engine(fact_id: str, version: str) -> str:
    """What holds on one engine, with how we know: "on Docker 26.1.5: <value> (<source>)"."""
    era = fact(fact_id).on(version)
    return f"on Docker {version}: {era.value} ({era.source})"


def rows() -> list[dict[str, str]]:
    """The table as rows (fact, and per engine its value and source), for a notebook or the README."""
    out = []
    for item in FACTS:
        row = {"fact": item.id, "topic": item.topic}
        for engine, era in item.truth().items():
            row[engine] = f"{era.value} [{era.source}]"
        out.append(row)
    return out


def engine_notes(version: str | None) -> list[str]:
    """`dnlab doctor`'s lines: per fact, where the course states it, and what holds on this engine."""
    if not version:
        return ["(no dockerd: which statements hold cannot be told)"]
    return [f"{', '.join(item.where)}: {item.topic}: {item.on(version).value}" for item in FACTS
            if len({era.value for era in item.eras}) > 1]
