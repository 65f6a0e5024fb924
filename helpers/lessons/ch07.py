"""Chapter 7 (drivers side by side): what its cells call, as `ch07.NAME`, in the chapter's order.

7.1, one table row per driver read live: the way out, NAT by counters, the probes.

7.2, latency and throughput of the same small web server reached through each driver. busybox has
no iperf, so a measurement is HTTP through busybox `wget`, timed on the client's side with
nanosecond `date` around each request: many requests for a 3-byte file (latency) and a few for a
file of `BIG_MB` MiB (throughput). Every target is checked by the traffic guard first.

7.4, what Docker 28 changed, shown live on two engines side by side. The session world's hosts may
both run the machine's engine (Debian 12's 20.10, Debian 13's 26.1) or both Docker 28
(`DNLAB_ENGINE=28`), so this section brings up a *side world* of its own: host1 on the machine's
engine, host2 on 28 (`manager.up(<side id>, "host2=28")`). Its id is the session world's cut to 6
characters plus `v2`, so two test legs never share one. The same commands run on both hosts
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
import statistics
from dataclasses import dataclass, field

from helpers.language import translate
from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import rule_trace, same_rule
from helpers.lessons.lesson import Lesson
from helpers.world import engine_facts
from helpers.world.guard import check_target, container_names, probe, send_loopback_syn, world_networks
from helpers.world.naming import INET_IP, NGINX_IMAGE, SERVICE_TCP_PORT

# What the chapter's notebook calls (as ch07.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "completeness", "container_row", "direct_access", "engine_firewall_note", "internal_routes", "Lesson",
    "loopback_from_lan", "masquerade_for", "measure", "measurement_cases", "nat_by_trace", "plot", "publish",
    "rule_trace", "rules_side_by_side", "same_rule", "scenario_row", "SIDE_BY_SIDE", "side_world",
    "source_nat_for", "status_lines", "summary", "take_down", "versus_baseline", "way_out"
]


SIDE_BY_SIDE = ("default-bridge", "user-bridge", "host", "none", "macvlan", "overlay")


@measured
def way_out(world, container) -> dict:
    """The interface a container's default route leaves by, and that interface's subnet, read inside
    the container (`ip -j route`, `ip -j addr`). For an overlay container this is eth1 on
    docker_gwbridge: `docker inspect` lists only the overlay network, not the gateway bridge
    endpoint, so NAT must be looked up by what the kernel routes through, not by Docker's list."""

    route = facts.default_route(world, container)
    if not route:
        return {"dev": None, "subnet": None}
    cidrs = facts.ipv4(world, container, route["dev"])
    subnet = str(ipaddress.ip_interface(cidrs[0]).network) if cidrs else None
    return {"dev": route["dev"], "subnet": subnet}


@measured
def source_nat_for(rules: list, subnet: str, exit_dev: str | None, destination: str = str(INET_IP)) -> list:
    """The nat rules (typed) that would rewrite the source of traffic from `subnet` to
    `destination` leaving by `exit_dev`: any MASQUERADE or SNAT whose `-s` takes some of the subnet
    (none, a covering or overlapping one, or a negated one that leaves part of it), whose `-d` takes
    the destination and whose `-o` lets the exit through (none, `-o exit_dev`, or `! -o` another).
    So `-o eth0 -j MASQUERADE` counts, not only Docker's `-s SUBNET ! -o BRIDGE` rule. Pure."""

    net, to = ipaddress.ip_network(subnet, strict=False), ipaddress.ip_address(destination)

    def takes_source(rule) -> bool:
        if not rule.src:
            return True
        src = ipaddress.ip_network(rule.src, strict=False)
        return not net.subnet_of(src) if "src" in rule.negated else net.overlaps(src)

    def takes_destination(rule) -> bool:
        return not rule.dst or ((to in ipaddress.ip_network(rule.dst, strict=False)) != ("dst" in rule.negated))

    def takes_exit(rule) -> bool:
        if not rule.out_if:
            return True
        return (rule.out_if != exit_dev) if "out_if" in rule.negated else rule.out_if == exit_dev

    return [r for r in rules if r.target in ("MASQUERADE", "SNAT")
            and takes_source(r) and takes_destination(r) and takes_exit(r)]


@measured
def masquerade_for(world, subnet: str | None, host: str = "host1") -> list:
    """host1's MASQUERADE/SNAT rules that would apply to traffic from `subnet` on its way to the
    internet service (`source_nat_for`; typed, with packet counters)."""
    if not subnet:
        return []
    exit_dev = (facts.route_to(world, host, str(INET_IP)) or {}).get("dev")
    return source_nat_for(facts.iptables(world, host), subnet, exit_dev)


@measured
def scenario_row(world, scenario) -> dict:
    """One line of the drivers table, read live from the scenario's first container on host1,
    with the scenario's probes run in between the two counter readings."""
    from helpers.lessons.probes import run_all

    role, container = next(iter(sorted(scenario.containers("host1").items())))
    return container_row(world, scenario.name, scenario.driver, container, lambda: run_all(scenario))


@measured
def container_row(world, name: str, driver: str, container, run_probes=None) -> dict:
    """The drivers-table line of one container (`run_probes()` returns probe verdicts, or None).

    NAT is read by the container's *way out* (the subnet of its default route's interface) and by
    counters: host1's MASQUERADE rules for that subnet, and how many packets they counted while the
    probes ran (a nat rule sees only the first packet of each connection)."""
    container.reload()
    addrs = facts.ipv4(world, container)
    out = way_out(world, container)
    before = sum(r.packets for r in masquerade_for(world, out["subnet"]))
    verdicts = run_probes() if run_probes else []
    rules = masquerade_for(world, out["subnet"])
    return {"scenario": name, "driver": driver, "container": container.name,
            "docker networks": sorted(container.attrs["NetworkSettings"]["Networks"]),
            "addresses": ", ".join(addrs) or "(none)",
            "default route": (facts.default_route(world, container) or {}).get("via") or "(none)",
            "way out": f"{out['dev']} ({out['subnet']})" if out["dev"] else "(none)",
            "same netns as host1": facts.same_netns(world, container, "host1"),
            "MASQUERADE rules": [str(r) for r in rules],
            "masqueraded packets": sum(r.packets for r in rules) - before,
            "DNS": ", ".join(facts.resolv_nameservers(container)),
            "probes": " ".join(f"{v.spec.name}:{'ok' if v.ok else 'no'}{'' if v.as_expected else '(!)'}"
                               for v in verdicts) or "(none run)",
            "all as expected": all(v.as_expected for v in verdicts)}


@measured
def nat_by_trace(world, scenario) -> dict:
    """The kernel's trace of one connection of a scenario: its first container on host1 (the one
    `scenario_row` reads) connects to the internet service, traced as `dnlab trace CONTAINER inet
    --tcp 9000 --rules` traces it (`rule_trace`, nothing printed). Whether it got through, the hooks
    of host1's nat table its SYN crossed, each MASQUERADE, SNAT or DNAT rule that acted on it there
    and at which hook, and where trace and counters disagree."""
    _, container = next(iter(sorted(scenario.containers("host1").items())))
    traced = rule_trace(world, container.name, "inet", tcp=SERVICE_TCP_PORT, quiet=True)
    nat = [e for e in traced["met"] if e["table"] == "nat" and e["leg"] == "request"]
    acted = [e for e in nat if e["acted"] and e["target"] in ("MASQUERADE", "SNAT", "DNAT")]
    return {"scenario": scenario.name, "container": container.name, "reached": traced["reached"],
            "host1 nat hooks crossed": ", ".join(dict.fromkeys(e["hook"] for e in nat)) or "(none)",
            "NAT rules that acted": [e["rule"] for e in acted], "acted at": [e["hook"] for e in acted],
            "disagreements": traced["disagreements"]}


@measured
def engine_firewall_note(world, host: str = "host1") -> str:
    """Which engine the learner is looking at, and what newer engines do with the same NAT."""
    version = world.hosts[host].docker.version()["Version"]
    return (f"{host}'s engine is Docker {version}: its NAT is iptables rules (`iptables-save -t nat`). "
            + engine_facts.say("nftables") + " " + engine_facts.say("chains")
            + " Docker docs: 'Packet filtering and firewalls', 'Docker with nftables'.")


# --- 7.2 is host networking faster? latency and throughput, measured ------------------------------

BIG_MB = 32


@dataclass
class Case:
    """One way to reach the server: who asks (a machine role or a Container), which URL."""

    label: str
    client: object
    target: str
    port: int
    baseline: str = ""          # the case this one is compared with (same client, host network)
    latency_ms: list[float] = field(default_factory=list)
    mbps: list[float] = field(default_factory=list)
    error: str = ""             # why a loop stopped early (the samples before it are kept)


@measured
def measurement_cases(world, lesson: Lesson) -> list:
    """The same web server (with /small and /big) reached through each driver."""
    from helpers.scenarios import get

    lesson.web("web-host", port=18081, big_mb=BIG_MB, network_mode="host")
    lesson.web("web-bridge", big_mb=BIG_MB, ports={"80/tcp": 18080})
    mv = lesson.web("web-macvlan", big_mb=BIG_MB, network="macvlan-net")
    ov = lesson.web("web-overlay", big_mb=BIG_MB, network="overlay-net")
    h1 = facts.address(world, "host1")
    mv.reload(), ov.reload()
    mv_ip = mv.attrs["NetworkSettings"]["Networks"]["macvlan-net"]["IPAddress"]
    ov_ip = ov.attrs["NetworkSettings"]["Networks"]["overlay-net"]["IPAddress"]
    overlay_b = get(world, "overlay").containers("host2")["b"]
    return [
        Case("host (lanpc -> host1:18081)", "lanpc", h1, 18081),
        Case("bridge, published, DNAT (lanpc -> host1:18080)", "lanpc", h1, 18080, "host (lanpc -> host1:18081)"),
        Case("macvlan (lanpc -> container)", "lanpc", mv_ip, 80, "host (lanpc -> host1:18081)"),
        Case("host (host1 -> 127.0.0.1:18081)", "host1", "127.0.0.1", 18081),
        Case("bridge, published, docker-proxy (host1 -> 127.0.0.1:18080)", "host1", "127.0.0.1", 18080,
             "host (host1 -> 127.0.0.1:18081)"),
        Case("host (host2 -> host1:18081)", "host2", h1, 18081),
        Case("overlay (container on host2 -> container on host1)", overlay_b, ov_ip, 80,
             "host (host2 -> host1:18081)"),
    ]


def _script(url: str, count: int, wget: str) -> str:
    return (f"i=0; while [ $i -lt {count} ]; do s=$(date +%s%N); {wget} -q -O /dev/null {url} || exit 1; "
            f"e=$(date +%s%N); echo $((e-s)); i=$((i+1)); done")


def _run(world, client, target: str, script: str) -> tuple[list[int], str]:
    """Run the timing loop in the client's network namespace (a machine's, or a container's via
    its PID): the machine's own `sh` and `date` (nanoseconds; busybox `date` has no %N) and
    busybox `wget`, so every client is timed by the same tools and only the network path differs.
    Returns the times of the requests that completed, and the error that stopped the loop (if any):
    a server that stops answering leaves a short list, which a completeness claim then sees."""
    from helpers.lessons.facts import run_in

    check_target(target, world_networks(world), container_names(world))
    result = run_in(world, client, ["sh", "-c", script], check=False, timeout=120)
    error = "" if result.returncode == 0 else (result.stderr.strip() or f"exit status {result.returncode}")
    return [int(x) for x in result.stdout.split()], error


@measured
def measure(world, case: Case, requests: int = 20, transfers: int = 3) -> Case:
    """Time `requests` requests for the 3-byte file and `transfers` of the big one through `case`."""
    wget = "busybox wget"
    base = f"http://{case.target}:{case.port}"
    small, small_error = _run(world, case.client, case.target, _script(base + "/small", requests, wget))
    big, big_error = _run(world, case.client, case.target, _script(base + "/big", transfers, wget))
    case.latency_ms = [n / 1e6 for n in small]
    case.mbps = [BIG_MB * 1.048576 / (n / 1e9) for n in big]
    case.error = small_error or big_error
    return case


@measured
def completeness(cases: list[Case]) -> dict:
    """How many requests and transfers of each case completed (and why one stopped)."""
    return {c.label: {"requests": len(c.latency_ms), "transfers": len(c.mbps),
                      **({"error": c.error} if c.error else {})}
            for c in cases}


@measured
def summary(cases: list[Case]) -> list[dict]:
    """Median and spread of each case, and its ratio to its host-network baseline."""
    by_label = {c.label: c for c in cases}
    rows = []
    for c in cases:
        lat, thr = statistics.median(c.latency_ms), statistics.median(c.mbps)
        row = {"case": c.label, "latency median ms": round(lat, 2),
               "latency p10-p90 ms": f"{_q(c.latency_ms, .1):.2f}-{_q(c.latency_ms, .9):.2f}",
               "throughput median MB/s": round(thr), "throughput min-max": f"{min(c.mbps):.0f}-{max(c.mbps):.0f}",
               "compared with": c.baseline or "-"}
        if c.baseline:
            b = by_label[c.baseline]
            row["latency / baseline"] = round(lat / statistics.median(b.latency_ms), 2)
            row["throughput / baseline"] = round(thr / statistics.median(b.mbps), 2)
        rows.append(row)
    return rows


@measured
def versus_baseline(cases: list[Case], label_part: str) -> dict:
    """The case whose label contains `label_part` against its baseline (same client, host network):
    medians, ranges and ratios, and what the numbers allow one to say. A difference counts only when
    the two ranges do not overlap (every host sample beats every sample of the other path); anything
    less is inside the run-to-run spread. Measured data, not a proof: nothing here asserts."""
    case = next(c for c in cases if label_part in c.label)
    base = next(c for c in cases if c.label == case.baseline)
    med = statistics.median
    thr_apart = min(base.mbps) > max(case.mbps)
    lat_apart = _q(base.latency_ms, .9) < _q(case.latency_ms, .1)
    reading = {
        (True, True): "host networking was faster in this run, beyond the spread (throughput and latency)",
        (True, False): "host networking moved the big file faster beyond the spread; request times overlap",
        (False, True): "host networking answered requests faster beyond the spread; throughputs overlap",
        (False, False): "no difference beyond the run-to-run spread in this run",
    }[(thr_apart, lat_apart)]
    return {"case": case.label, "baseline": base.label,
            "latency median ms (case, host)": (round(med(case.latency_ms), 2), round(med(base.latency_ms), 2)),
            "latency p10-p90 ms (case, host)": (f"{_q(case.latency_ms, .1):.2f}-{_q(case.latency_ms, .9):.2f}",
                                                 f"{_q(base.latency_ms, .1):.2f}-{_q(base.latency_ms, .9):.2f}"),
            "latency ratio": round(med(case.latency_ms) / med(base.latency_ms), 2),
            "throughput median MB/s (case, host)": (round(med(case.mbps)), round(med(base.mbps))),
            "throughput min-max MB/s (case, host)": (f"{min(case.mbps):.0f}-{max(case.mbps):.0f}",
                                                     f"{min(base.mbps):.0f}-{max(base.mbps):.0f}"),
            "throughput ratio": round(med(case.mbps) / med(base.mbps), 2),
            "what this run shows": reading}


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plot(cases: list[Case]):
    """Each case against its baseline (host networking, same client): the median ratio as a dot,
    the spread of its runs (p10-p90 over the baseline's median) as a bar, and a vertical line
    at 1.0 marking the baseline. One panel for request time, one for throughput; labels sit
    above their rows, so the plot keeps the figure's full width. Returns a `Drawing`."""
    import matplotlib

    from helpers.draw.display import fonts

    with matplotlib.rc_context(fonts()):   # the texts take the fonts of the language in force when made
        return _plot(cases)


def _plot(cases: list[Case]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from helpers.draw.display import Drawing

    compared = [c for c in cases if c.baseline]
    by_label = {c.label: c for c in cases}
    rows = len(compared)
    figure = Figure(figsize=(9.0, 1.5 + 0.9 * max(rows, 1)), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(2, 1)
    metrics = (("latency_ms", translate("draw:ch07:latency", "HTTP request time (3-byte file) / baseline: lower is "
                                        "faster"), "ms"),
               ("mbps", translate("draw:ch07:throughput", "throughput ({size} MiB file) / baseline: higher is faster",
                                  size=BIG_MB), "MB/s"))
    for ax, (name, title, unit) in zip(panels, metrics, strict=True):
        _ratio_panel(ax, compared, by_label, name, unit)
        ax.set_title(title, fontsize=9, loc="left")
    panels[-1].set_xlabel(translate("draw:ch07:ratio", "ratio to the baseline (1.0, dashed: host networking from the "
                                    "same client); dot: median, bar: 10th to 90th percentile of the runs"), fontsize=8)
    return Drawing(figure, f"[figure: {rows} cases against their host-network baselines, request time and throughput]")


def _ratio_panel(ax, compared: list[Case], by_label: dict, name: str, unit: str) -> None:
    """One metric: a row per case, its label above the dot, the baseline line at 1.0."""
    med = statistics.median
    ax.axvline(1.0, color="#495057", ls="--", lw=1)
    ax.text(1.0, 1.0, translate("draw:ch07:baseline", " baseline"), transform=ax.get_xaxis_transform(), fontsize=7,
            color="#495057", va="top")
    ratios = []
    for row, case in enumerate(compared):
        y = -row
        values, base = getattr(case, name), med(getattr(by_label[case.baseline], name))
        ratio, low, high = med(values) / base, _q(values, .1) / base, _q(values, .9) / base
        ratios += [low, high]
        ax.plot([low, high], [y, y], color="#1864ab", lw=3, alpha=0.35, solid_capstyle="round")
        ax.plot([ratio], [y], "o", color="#1864ab", ms=6)
        ax.text(0.005, y + 0.32, f"{case.label}:  x{ratio:.2f}  ({med(values):.{_digits(unit)}f} vs "
                f"{base:.{_digits(unit)}f} {unit})", transform=ax.get_yaxis_transform(), fontsize=7.5, va="center",
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85), zorder=3)
    span = max([abs(r - 1) for r in ratios] + [0.1]) * 1.15
    ax.set_xlim(max(0, 1 - span), 1 + span)
    ax.set_ylim(-len(compared) + 0.5, 0.75)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=7.5)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)


def _digits(unit: str) -> int:
    return 2 if unit == "ms" else 0


# --- 7.4 two engines side by side: the side world ------------------------------------------------

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
