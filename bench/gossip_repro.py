"""Reproducer of the swarm's lost gossip (issue 24.5): rounds of what the suite does to a world's swarm
(form it with `swarm.ensure`, a new attachable overlay with a container on each host, wait for the name
across the hosts with `swarm.wait_for_name`, remove, leave), under a stress, until a round ends with an
engine whose NetworkDB view of the new overlay misses a peer, or a name that never crosses.

    DNLAB_ENGINE_LOG_LEVEL=debug .venv/bin/python bench/gossip_repro.py --world ge \
        [--rounds 3] [--stress agent|cpu|mtu|restart|none]

Stresses:
- `agent` (the default; the state seen in CI): TCP and UDP 7946 on host2's address are held for 3 s
  while host2 joins, as the agent of the swarm it has just left holds them when `swarm leave` returns
  before that agent is closed. The new gossip agent then fails to start ("error in agentInit:
  ... address already in use" in host2's dockerd.log) and never retries (20.10 and 28.5.2 alike
  here): host2 lists no peers of any new overlay, host1 only itself, names never cross. On the code
  before the fix every round is lost (about 45 s a round: wait_for_name gives up after --limit); now
  swarm.ensure joins once 7946 is free
  (~10 s a round). `agent-learner`: the same hold while host2 joins as lab 6's learner joins (SDK init
  and join, no ensure): before the fix lost, now wait_for_name heals it (heal_gossip, ~20 s a round).
- `cpu`: two niced busy loops during each round (killed at its end); `mtu`: the router's ports towards
  the hosts carry 1450 bytes during the round, as in lab 13; `restart`: host2's engine SIGKILLed and
  restarted by `dnlab up` inside the round, with the swarm up. On this machine none of these three
  made the state (6-9 rounds each).

Run it against other code with PYTHONPATH (the code's own folder comes first):
`PYTHONPATH=/tmp/old .venv/bin/python bench/gossip_repro.py ...`. Exit 1 if a round was lost.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # appended: a PYTHONPATH checkout wins

from helpers.world import lab, swarm  # noqa: E402
from helpers.world.naming import LABEL_WORLD  # noqa: E402

NET = "gossip-repro"
IMAGE = "dnlab/box:latest"
HOLD = ("import socket, sys, time\n"
        "addr, seconds = sys.argv[1], float(sys.argv[2])\n"
        "tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "tcp.bind((addr, 7946)); tcp.listen()\n"
        "udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind((addr, 7946))\n"
        "print('held', flush=True); time.sleep(seconds)\n")


@contextmanager
def gossip_port_held(world, host: str, seconds: float):
    """TCP and UDP 7946 on the host's eth0 address, bound in its namespace for `seconds` (then freed)."""
    address = world[host].read_address("eth0")
    holder = subprocess.Popen(["nsenter", f"--net=/run/netns/{world[host].namespace}", sys.executable, "-c", HOLD,
                               address, str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout.readline().strip() != "held":
            raise RuntimeError(f"could not hold 7946 on {host} ({address})")
        yield
    finally:
        holder.wait(timeout=seconds + 5)


@contextmanager
def cpu_load(seconds: float = 60.0):
    """Two niced busy loops (one per core), killed when the block ends or after `seconds`."""
    loops = [subprocess.Popen(["timeout", str(int(seconds)), "nice", "-n", "5", "sh", "-c", "while :; do :; done"],
                              start_new_session=True) for _ in range(2)]
    try:
        yield
    finally:
        for loop in loops:
            os.killpg(loop.pid, signal.SIGKILL)
            loop.wait()


@contextmanager
def small_path(world):
    """Lab 13's cloud: the router's ports towards the hosts carry 1450 bytes, the hosts' eth0 say 1500."""
    from helpers.labs.lab13 import LAB13_PATH_MTU
    from helpers.world import mtu

    with mtu.lowered(world, mtu.PATH_ONLY, LAB13_PATH_MTU):
        yield


def restart_host2(world) -> None:
    """SIGKILL host2's dockerd and let `dnlab up` restart it (as tests/integration/test_engine_env does)."""
    pid = int((world.names.state_dir / "host2" / "dockerd.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    subprocess.run([str(Path(sys.executable).with_name("dnlab")), "--world", world.names.world_id, "up"],
                   check=True, capture_output=True)


def learner_join(world) -> None:
    """`swarm init` on host1 and `swarm join` on host2 through the SDK, as lab 6's solution and chapter 4
    do (no swarm.ensure), host2 joining while its 7946 is held."""
    h1, h2 = world.host1.docker, world.host2.docker
    a1, a2 = world["host1"].read_address("eth0"), world["host2"].read_address("eth0")
    h1.swarm.init(advertise_addr=a1, listen_addr=f"{a1}:2377")
    with gossip_port_held(world, "host2", 3.0):
        h2.swarm.join(remote_addrs=[f"{a1}:2377"], join_token=h1.api.inspect_swarm()["JoinTokens"]["Worker"],
                      advertise_addr=a2, listen_addr=f"{a2}:2377")


def peers(world, network_id: str) -> dict[str, list[str]]:
    """Each engine's NetworkDB peers (addresses) of the network."""
    seen = {}
    for role, host in world.hosts.items():
        verbose = host.docker.api.inspect_network(network_id, verbose=True, scope="swarm")
        seen[role] = sorted(p.get("IP") for p in (verbose.get("Peers") or []))
    return seen


def _run_b(world, labels: dict[str, str]):
    for attempt in range(40):
        try:
            return world.host2.docker.containers.run(IMAGE, ["sleep", "300"], name=f"{NET}-b", network=NET,
                                                     labels=labels, detach=True)
        except Exception:  # the worker learns the network from the manager a moment later
            if attempt == 39:
                raise
            # Docker 28 may create the container and then fail its start ("attaching to network failed").
            for left in world.host2.docker.containers.list(all=True, filters={"name": f"{NET}-b"}):
                left.remove(force=True)
            time.sleep(0.25)


def one_round(world, stress: str, limit: float) -> tuple[bool, str]:
    """Form the swarm, an overlay and a container on each host; True if host2 reaches host1's by name
    and both engines count both among the overlay's peers."""
    labels = {LABEL_WORLD: world.prefix}
    swarm.leave(world)
    if stress == "agent":
        with gossip_port_held(world, "host2", 3.0):
            swarm.ensure(world)
    elif stress == "agent-learner":
        learner_join(world)
    else:
        swarm.ensure(world)
    if stress == "restart":
        restart_host2(world)
        swarm.ensure(world)
    h1 = world.host1.docker
    net = h1.networks.create(NET, driver="overlay", attachable=True, labels=labels)
    try:
        h1.containers.run(IMAGE, ["sleep", "300"], name=f"{NET}-a", network=NET, labels=labels, detach=True)
        b = _run_b(world, labels)
        named = swarm.wait_for_name(world, b, f"{NET}-a", limit=limit)
        want = sorted(world[r].read_address("eth0") for r in ("host1", "host2"))
        seen = peers(world, net.id)
        healthy = named and seen == {"host1": want, "host2": want}
        return healthy, f"name {'resolves' if named else 'DOES NOT resolve'}; peers {seen}"
    finally:
        for client in (h1, world.host2.docker):
            for container in client.containers.list(all=True, filters={"name": NET}):
                container.remove(force=True)
        swarm.remove_overlay(world, net)
        swarm.leave(world)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=os.environ.get("DNLAB_WORLD"), required="DNLAB_WORLD" not in os.environ)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stress", choices=("agent", "agent-learner", "cpu", "mtu", "restart", "none"),
                        default="agent")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds wait_for_name waits for the name")
    args = parser.parse_args(argv)
    world = lab(args.world)
    print(f"code: {Path(swarm.__file__).resolve().parents[2]}; stress {args.stress}", flush=True)
    bad = 0
    started = time.monotonic()
    for number in range(1, args.rounds + 1):
        t = time.monotonic()
        stress = {"cpu": cpu_load, "mtu": lambda: small_path(world)}.get(args.stress)
        if stress:
            with stress():
                ok, note = one_round(world, args.stress, args.limit)
        else:
            ok, note = one_round(world, args.stress, args.limit)
        print(f"round {number}: {'ok' if ok else 'LOST'} in {time.monotonic() - t:.1f} s: {note}", flush=True)
        bad += not ok
    print(f"{bad} of {args.rounds} round(s) lost the gossip; {time.monotonic() - started:.0f} s in all")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
