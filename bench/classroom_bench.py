"""Classroom figures: spawn time and memory per learner for 1, 5 and 10 learners (a script, not a test).

Run as root after `make course-image`: `sudo .venv/bin/python bench/classroom_bench.py [--counts 1 5 10]`.
It starts its own classroom (`dnlab classroom up`, named after $DNLAB_WORLD: `<world>-bench`), and for
each count logs that many new learners in at once (the hub's login form, then its REST API, as a
workshop's first minute), measures per learner:

  ready  login -> the hub says the server is ready
  lab    login -> JupyterLab answers through the proxy (GET /user/NAME/lab, 200)
  world  login -> `dnlab status` inside their container says the world is up
  spawn  the later of lab and world (the issue's "login -> JupyterLab answers with a world up")

then, 10 s after the last one is up, each learner container's memory (its cgroup's usage less the
inactive file cache, as `docker stats` counts it) and the machine's MemAvailable drop per learner.
Servers and volumes of a round are removed before the next. Targets (issue 14): spawn <= 15 s,
<= 400 MB per learner. The classroom is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from helpers.hosting import classroom  # noqa: E402 (after the path line: bench runs from a checkout)
from helpers.hosting.classroom_names import CLASSROOM_CONTAINER, LABEL_LEARNER  # noqa: E402
from helpers.world.naming import WORLD_ENV  # noqa: E402

NAME = f"{os.environ.get(WORLD_ENV) or 'bench'}-bench"
CODE = "bench-code"
TIMEOUT = 600.0


def mem_available() -> int:
    """The machine's MemAvailable, bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def lab_answers(name: str, token: str) -> bool:
    request = urllib.request.Request(classroom.hub_url(NAME, f"/user/{name}/lab"),
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the relay
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def world_up(client, name: str) -> bool:
    try:
        container = client.containers.get(CLASSROOM_CONTAINER.format(username=name))
    except Exception:  # noqa: BLE001 - not made yet
        return False
    result = container.exec_run(["dnlab", "status", "--json"])
    try:
        return bool(json.loads(result.output).get("up"))
    except ValueError:
        return False


def spawn_one(name: str, client, times: dict) -> None:
    """One learner's first minute: log in, ask for the server, wait for it, its Lab and its world."""
    started = time.monotonic()
    token = classroom.login(NAME, name, CODE)
    classroom.api(NAME, f"users/{name}/server", token=token, method="POST", body={}, timeout=120)
    got: dict[str, float] = {"token": token}
    deadline = started + TIMEOUT
    while time.monotonic() < deadline and not {"ready", "lab", "world"} <= got.keys():
        if "ready" not in got and classroom.api(NAME, f"users/{name}", token=token)["servers"].get("", {}).get("ready"):
            got["ready"] = time.monotonic() - started
        if "ready" in got and "lab" not in got and lab_answers(name, token):
            got["lab"] = time.monotonic() - started
        if "world" not in got and world_up(client, name):
            got["world"] = time.monotonic() - started
        time.sleep(0.5)
    if {"lab", "world"} <= got.keys():
        got["spawn"] = max(got["lab"], got["world"])
    times[name] = got


def memory_mb(client, name: str) -> float:
    """A learner container's memory as `docker stats` counts it (cgroup v1 and v2), MiB."""
    stats = client.containers.get(CLASSROOM_CONTAINER.format(username=name)).stats(stream=False)["memory_stats"]
    inner = stats.get("stats", {})
    cache = inner.get("total_inactive_file", inner.get("inactive_file", 0))
    return (stats["usage"] - cache) / 2**20


def remove_round(client, names: list[str], tokens: dict) -> None:
    """Stop each server, then remove their volumes: the next round's learners start fresh."""
    for name in names:
        classroom.api(NAME, f"users/{name}/server", token=tokens[name], method="DELETE", timeout=120)
    for name in names:
        deadline = time.monotonic() + 120
        mine = {"label": f"{LABEL_LEARNER}={name}"}
        while time.monotonic() < deadline and client.containers.list(all=True, filters=mine):
            time.sleep(0.5)
        for volume in client.volumes.list(filters={"label": f"{LABEL_LEARNER}={name}"}):
            volume.remove(force=True)


def one_round(count: int, client) -> dict:
    names = [f"b{count}x{i}" for i in range(count)]
    before = mem_available()
    times: dict[str, dict] = {}
    threads = [threading.Thread(target=spawn_one, args=(n, client, times)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(10)
    memory = {n: memory_mb(client, n) for n in names}
    drop = (before - mem_available()) / 2**20 / count
    spawns = [t["spawn"] for t in times.values() if "spawn" in t]
    row = {"learners": count, "up": len(spawns),
           "spawn_s": {"median": statistics.median(spawns), "max": max(spawns)} if spawns else None,
           "ready_s_median": statistics.median(t["ready"] for t in times.values() if "ready" in t),
           "memory_mb": {"median": statistics.median(memory.values()), "max": max(memory.values())},
           "machine_mem_drop_mb_per_learner": drop}
    remove_round(client, names, {n: t["token"] for n, t in times.items()})
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--listen", default="127.0.0.1:8820")
    args = parser.parse_args(argv)
    import docker

    started = time.monotonic()
    settings = classroom.Settings(name=NAME, listen=args.listen, code=CODE, admin_password="bench-admin",
                                  cull_timeout=24 * 3600)
    classroom.up(settings, timeout=TIMEOUT)
    print(f"classroom up: {time.monotonic() - started:.1f} s", flush=True)
    client = docker.DockerClient(base_url=classroom.read_state(NAME)["docker"])
    try:
        for count in args.counts:
            print(json.dumps(one_round(count, client)), flush=True)
    finally:
        client.close()
        started = time.monotonic()
        classroom.down(NAME)
        print(f"classroom down: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
