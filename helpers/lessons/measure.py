"""Latency and throughput of the same small web server reached through each driver.

busybox has no iperf, so a measurement is HTTP through busybox `wget`, timed on the client's side
with nanosecond `date` around each request: many requests for a 3-byte file (latency) and a few for a
file of `BIG_MB` MiB (throughput). Every target is checked by the traffic guard first.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from helpers.lessons.claims import measured
from helpers.world.guard import check_target, container_names, world_networks

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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from helpers.draw.display import Drawing

    compared = [c for c in cases if c.baseline]
    by_label = {c.label: c for c in cases}
    rows = len(compared)
    figure = Figure(figsize=(9.0, 1.5 + 0.9 * max(rows, 1)), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(2, 1)
    metrics = (("latency_ms", "HTTP request time (3-byte file) / baseline: lower is faster", "ms"),
               ("mbps", f"throughput ({BIG_MB} MiB file) / baseline: higher is faster", "MB/s"))
    for ax, (name, title, unit) in zip(panels, metrics, strict=True):
        _ratio_panel(ax, compared, by_label, name, unit)
        ax.set_title(title, fontsize=9, loc="left")
    panels[-1].set_xlabel("ratio to the baseline (1.0, dashed: host networking from the same client); "
                          "dot: median, bar: 10th to 90th percentile of the runs", fontsize=8)
    return Drawing(figure, f"[figure: {rows} cases against their host-network baselines, request time and throughput]")


def _ratio_panel(ax, compared: list[Case], by_label: dict, name: str, unit: str) -> None:
    """One metric: a row per case, its label above the dot, the baseline line at 1.0."""
    med = statistics.median
    ax.axvline(1.0, color="#495057", ls="--", lw=1)
    ax.text(1.0, 1.0, " baseline", transform=ax.get_xaxis_transform(), fontsize=7, color="#495057", va="top")
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
