"""Concurrent first use of a scenario is safe, and a half-made one is repaired on next use (issue 12,
item 5). A small scenario of the test's own (one bridge, two containers) goes through the same
`Scenario.start()` as the course's: the lock and the repair live there, not in any driver.

What each test checks is read back from the engine (docker SDK), not from what start() returned.
"""
from __future__ import annotations

import subprocess
import threading
import time

import pytest

from helpers.scenarios.base import Scenario
from helpers.world.model import World
from helpers.world.naming import LABEL_SCENARIO, LABEL_WORLD, SCENARIO_LOCK
from helpers.world.proc import lock_held

NETWORK = "locktest-net"


class Pair(Scenario):
    """Two idle containers on one user bridge: what every driver scenario's first use makes."""

    name = "locktest"
    driver = "bridge"

    def _make(self) -> None:
        self.make_network(NETWORK, driver="bridge")
        self.run_container("a", network=NETWORK)
        self.run_container("b", network=NETWORK)

    def probe_specs(self) -> dict:
        return {}


@pytest.fixture
def pair(world):
    scenario = Pair(world)
    scenario.stop()
    yield scenario
    scenario.stop()


def _healthy(world) -> None:
    """Exactly one network of the scenario, and both containers running on it (from the engine)."""
    client = world.host1.docker
    networks = [n for n in client.networks.list(names=[NETWORK]) if n.name == NETWORK]
    assert len(networks) == 1, f"{len(networks)} networks named {NETWORK}"
    network = networks[0]
    network.reload()
    attached = {c.name for c in network.containers}
    for role in ("a", "b"):
        (container,) = client.containers.list(all=True, filters={"name": f"^/locktest-{role}$"})
        assert container.status == "running", f"locktest-{role} is {container.status}"
        assert container.name in attached


def test_parallel_first_starts_make_one_scenario(world, pair):
    """Four makers at once (four explorer tabs, each its own World and engine connections) on a
    scenario that does not exist yet: all succeed, and the engine holds one of each thing."""
    failures: list[BaseException] = []

    def start() -> None:
        try:
            Pair(World(world.names)).start()
        except BaseException as error:  # noqa: BLE001 - collected, asserted below
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, [str(f) for f in failures]
    _healthy(world)
    lock = world.names.state_dir / SCENARIO_LOCK.format(Pair.name)
    assert lock.is_file() and lock.stat().st_mode & 0o077 == 0


def test_duplicate_networks_left_by_racing_makers_are_repaired(world, pair):
    """Engine 20.10 let racing makers create one name three times; containers could then not attach
    ("network is ambiguous") and every later start failed. The next start keeps one."""
    client = world.host1.docker
    labels = {LABEL_WORLD: world.prefix, LABEL_SCENARIO: Pair.name}
    for _ in range(3):
        try:
            client.networks.create(NETWORK, driver="bridge", labels=labels, check_duplicate=False)
        except Exception as refused:  # noqa: BLE001 - an engine that refuses a second name
            if getattr(refused, "status_code", None) != 409:
                raise
    Pair(world).start()
    _healthy(world)


def test_a_half_made_scenario_is_removed_and_made_again(world, pair):
    """What five racing makers left on engine 20.10: two networks of one name, a container running on
    the newer one (so it cannot be removed: it has an active endpoint) and another stuck in Created
    on it (`docker start` finds the name ambiguous). The next start removes the scenario and makes
    it again, once. An engine that refuses a duplicate name (Docker 25+) leaves one network: the
    container in Created is then simply started."""
    client = world.host1.docker
    labels = {LABEL_WORLD: world.prefix, LABEL_SCENARIO: Pair.name}
    first = client.networks.create(NETWORK, driver="bridge", labels=labels)
    try:
        second = client.networks.create(NETWORK, driver="bridge", labels=labels, check_duplicate=False)
    except Exception as refused:  # noqa: BLE001 - an engine that refuses a second name (Docker 25+)
        assert getattr(refused, "status_code", None) == 409
        second = first
    box = "dnlab/box:latest"
    # Attached by id: by name the engine itself now finds the network ambiguous.
    running = client.containers.run(box, ["sleep", "1000000"], name="locktest-b", detach=True,
                                    labels={**labels, "org.dnlab.role": "b"})
    second.connect(running)
    stuck = client.containers.create(box, ["sleep", "1000000"], name="locktest-a", network=second.id,
                                     labels={**labels, "org.dnlab.role": "a"})
    Pair(world).start()
    _healthy(world)
    assert client.containers.get("locktest-a").id != stuck.id or second is first


def test_start_waits_for_a_maker_holding_the_lock(world, pair):
    """The lock is an flock in the world's run folder: another process holding it (here util-linux
    `flock`, for one second) keeps start() out until it lets go."""
    lock = world.names.state_dir / SCENARIO_LOCK.format(Pair.name)
    holder = subprocess.Popen(["flock", str(lock), "sleep", "1"])
    try:
        while not _held(lock):
            time.sleep(0.01)
        began = time.monotonic()
        Pair(world).start()
        waited = time.monotonic() - began
    finally:
        holder.kill()
        holder.wait()
    assert holder.returncode == 0, "the holder was still holding the lock when start() returned"
    assert waited > 0.5, f"start() went on after {waited:.2f} s while another maker held the lock"
    _healthy(world)


def _held(lock) -> bool:
    """Whether another process holds the lock now (a try without waiting)."""
    return lock_held(lock)
