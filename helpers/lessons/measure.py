"""Latency and throughput of the same small web server reached through each driver.

busybox has no iperf, so a measurement is HTTP through busybox `wget`, timed on the client's side
with nanosecond `date` around each request: many requests for a 3-byte file (latency) and a few for a
file of `BIG_MB` MiB (throughput). Every target is checked by the traffic guard first.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

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


def _script(url: str, count: int, wget: str) -> str:
    return (f"i=0; while [ $i -lt {count} ]; do s=$(date +%s%N); {wget} -q -O /dev/null {url} || exit 1; "
            f"e=$(date +%s%N); echo $((e-s)); i=$((i+1)); done")


def _run(world, client, target: str, script: str) -> list[int]:
    """Run the timing loop in the client's network namespace (a machine's, or a container's via
    its PID): the machine's own `sh` and `date` (nanoseconds; busybox `date` has no %N) and
    busybox `wget`, so every client is timed by the same tools and only the network path differs."""
    from helpers.lessons.facts import run_in

    check_target(target, world_networks(world), container_names(world))
    out = run_in(world, client, ["sh", "-c", script], timeout=120).stdout
    return [int(x) for x in out.split()]


def measure(world, case: Case, requests: int = 20, transfers: int = 3) -> Case:
    wget = "busybox wget"
    base = f"http://{case.target}:{case.port}"
    case.latency_ms = [n / 1e6 for n in _run(world, case.client, case.target, _script(base + "/small", requests, wget))]
    case.mbps = [BIG_MB * 1.048576 / (n / 1e9) for n in _run(world, case.client, case.target,
                                                             _script(base + "/big", transfers, wget))]
    return case


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


def versus_baseline(cases: list[Case], label_part: str) -> dict:
    """Medians of the case whose label contains `label_part` and of its baseline (same client, host
    network), latency and throughput, with their ratios: the evidence of a "which path is faster" claim."""
    case = next(c for c in cases if label_part in c.label)
    base = next(c for c in cases if c.label == case.baseline)
    med = statistics.median
    return {"case": case.label, "baseline": base.label,
            "latency median ms": (round(med(case.latency_ms), 2), round(med(base.latency_ms), 2)),
            "latency ratio": round(med(case.latency_ms) / med(base.latency_ms), 2),
            "throughput median MB/s": (round(med(case.mbps)), round(med(base.mbps))),
            "throughput ratio": round(med(case.mbps) / med(base.mbps), 2)}


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plot(cases: list[Case]):
    """Two box plots: request latency and transfer throughput, one box per case."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    labels = [c.label for c in cases]
    ax1.boxplot([c.latency_ms for c in cases], vert=False)
    ax1.set_yticks(range(1, len(labels) + 1), labels)
    ax1.set_xlabel("HTTP request time, ms (3-byte file)")
    ax2.boxplot([c.mbps for c in cases], vert=False)
    ax2.set_yticks(range(1, len(labels) + 1), labels)
    ax2.set_xlabel(f"throughput, MB/s ({BIG_MB} MiB file)")
    fig.tight_layout()
    return fig
