"""Speed figures of the course, each as a ratio to `docker run --rm dnlab/box true` on host1.

Run as root: `sudo .venv/bin/python bench/bench.py [--repeat N] [--engine SPEC] [--world ID] [--up-only]`.
It uses its own world (`bench`, or --world) and removes it at the end. `--engine 28` measures on Docker
28 (helpers/world/engines.py; the same as DNLAB_ENGINE=28), `--up-only` stops after up and its baseline.
Targets (issue text): cold up <= 3 s, warm up <= 0.3 s, down <= 3 s,
probe with capture and path <= 2 s, map <= 1 s, explorer warm switch <= 0.5 s, cold <= 3 s; the same
probe with the rule trace (`--rules`, issue 19) <= 1.3x the probe without it (2026-12-07, loaded:
1.22-1.48x, was 2.11-2.93x; docs/MEASUREMENTS.md).
`--probe-only` measures the probe rows alone on a world that is up already (`--world ID`, left up).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from helpers.world.naming import IMAGE  # noqa: E402 (after the path line: bench runs from a checkout)

WORLD = "bench"


def timed(action, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "helpers", "--world", WORLD, *args], check=True, capture_output=True,
                   cwd=ROOT)


def explorer_switches(world, repeat: int) -> tuple[list[float], dict[str, list[float]]]:
    """Warm: switching the explorer between started scenarios. Cold: a stopped scenario, chosen."""
    from helpers.widgets import Explorer

    explorer = Explorer(world, probe="to the internet")
    warm_names = ("default-bridge", "macvlan", "user-bridge")
    for name in warm_names:
        explorer.driver.value = name
    warm = []
    for _ in range(repeat):
        for name in warm_names:
            started = time.perf_counter()
            explorer.driver.value = name
            warm.append(time.perf_counter() - started)
    cold: dict[str, list[float]] = {}
    for name in ("default-bridge", "user-bridge", "host", "none", "macvlan", "overlay"):
        for _ in range(max(1, repeat // 2)):
            explorer.driver.value = "none" if name != "none" else "default-bridge"
            if name in explorer.cache.scenarios:
                explorer.cache.scenarios[name].stop()
                explorer.cache.drop(name)
            started = time.perf_counter()
            explorer.driver.value = name
            cold.setdefault(name, []).append(time.perf_counter() - started)
            assert explorer.message.value == "", explorer.message.value
    return warm, cold


RULES_RATIO = 1.3   # a probe with the rule trace, against the same probe without it


def probe_rows(world, repeat: int) -> tuple[list, float]:
    """The probe with captures and path, without and with the rule trace (`--rules`), alternated so a
    busy machine slows both alike; the rows and the ratio of the medians."""
    from helpers.path import trace

    trace(world, "user-bridge", "egress", rules=True)  # scenario warm: the target measures the probe
    plain, ruled = [], []
    for _ in range(repeat):
        plain += timed(lambda: trace(world, "user-bridge", "egress"), 1)
        ruled += timed(lambda: trace(world, "user-bridge", "egress", rules=True), 1)
    ratio = statistics.median(ruled) / statistics.median(plain)
    rows = [("probe + capture + path (user-bridge egress)", plain, 2.0),
            ("the same probe with --rules (the rule trace)", ruled, RULES_RATIO * statistics.median(plain))]
    return rows, ratio


def rules_verdict(ratio: float) -> str:
    return (f"--rules against the same probe without: {ratio:.2f}x (target <= {RULES_RATIO}x) "
            + ("ok" if ratio <= RULES_RATIO else "SLOW"))


def main() -> None:
    global WORLD  # cli() runs its commands on this world
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--world", default=WORLD)
    parser.add_argument("--engine", default=None, metavar="SPEC", help="as `dnlab up --engine` (DNLAB_ENGINE)")
    parser.add_argument("--up-only", action="store_true", help="cold and warm up and the baseline only")
    parser.add_argument("--probe-only", action="store_true",
                        help="the probe rows (with and without --rules) on a world already up, left up")
    args = parser.parse_args()
    repeat = args.repeat
    WORLD = args.world
    os.environ["DNLAB_WORLD"] = WORLD
    if args.engine is not None:
        os.environ["DNLAB_ENGINE"] = args.engine  # the `up`s below (subprocesses) and lab() read it
    from helpers.world import image, lab

    image.cached_rootfs()  # "image already built"
    rows: list[tuple[str, list[float], float | None]] = []
    if args.probe_only:
        world = lab(WORLD)
        baseline = timed(lambda: subprocess.run(
            ["docker", "--context", world.host1.context, "run", "--rm", IMAGE, "true"],
            check=True, capture_output=True), repeat)
        probes, ratio = probe_rows(world, repeat)
        report(probes, baseline, repeat, world.host1.docker.version()["Version"])
        print(rules_verdict(ratio))
        return

    cli("down")
    cold = []
    for _ in range(repeat):
        cold += timed(lambda: cli("up"), 1)
        cli("down")
    cli("up")
    warm = timed(lambda: cli("up"), repeat)
    world = lab(WORLD)
    baseline = timed(lambda: subprocess.run(
        ["docker", "--context", world.host1.context, "run", "--rm", IMAGE, "true"],
        check=True, capture_output=True), repeat)
    rows += [("cold `dnlab up`", cold, 3.0), ("repeated `dnlab up`", warm, 0.3)]
    version = world.host1.docker.version()["Version"]
    if args.up_only:
        cli("down")
        return report(rows, baseline, repeat, version)

    probes, ratio = probe_rows(world, repeat)
    rows += probes
    rows.append(("`dnlab map --host host1`", timed(lambda: cli("map", "--host", "host1", "--json"), repeat), 1.0))

    warm_switch, cold_switch = explorer_switches(world, repeat)
    rows.append(("explorer: switch to a warm scenario", warm_switch, 0.5))
    for name, samples in cold_switch.items():
        rows.append((f"explorer: cold {name} ready", samples, 3.0))

    downs = []
    for _ in range(repeat):
        cli("up")
        downs += timed(lambda: cli("down"), 1)
    rows.append(("`dnlab down`", downs, 3.0))
    report(rows, baseline, repeat, version)
    print(rules_verdict(ratio))


def report(rows: list, baseline: list[float], repeat: int, version: str) -> None:
    base = statistics.median(baseline)
    from helpers.world.doctor import engine_versions

    # The machine the figures are from: `make bench` on Debian 12, `scripts/debian13.sh -- make bench`.
    print(", ".join(f"{name}: {value}" for name, value in engine_versions().items())
          + f", python {sys.version.split()[0]}")
    print(f"baseline `docker run --rm dnlab/box true` on host1 (Docker {version}): median {base:.3f} s "
          f"(n={repeat})\n")
    print(f"{'measure':48} {'median':>8} {'min':>7} {'max':>7} {'ratio':>7} {'target s':>9}  verdict")
    for name, samples, target in rows:
        median = statistics.median(samples)
        verdict = "" if target is None else ("ok" if median <= target else "SLOW")
        print(f"{name:48} {median:8.3f} {min(samples):7.3f} {max(samples):7.3f} {median / base:7.2f}x "
              f"{target or 0:9.2f}  {verdict}")


if __name__ == "__main__":
    main()
