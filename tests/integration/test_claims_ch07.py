"""Chapter 7's claim cells, run on lab worlds where each claim is false (and where it is true, as their control).

Each test changes the real world (deletes one of Docker's MASQUERADE rules, joins a container to
the host container's namespace, gives a default-bridge container Docker's DNS address, stops the
server a measurement reaches), runs the chapter's own demonstration (`ch07.scenario_row`,
`ch07.container_row`, `ch07.measure`) on it, and hands the result to the very cell the learner runs. The world is
restored in `finally`.

nbval executes notebooks/07_drivers_side_by_side.ipynb on the session world too; the true runs stay here
because the false worlds are built from them (the table `rows` and the `traces` read once, the host case
measured).
"""
from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from helpers import scenarios
from helpers.lessons import ch07, facts
from tests.claimcells import assert_claim_fails, run_claim


@pytest.fixture(scope="module")
def side_by_side(world):
    """Every scenario of the chapter running, and the chapter's table read on the true world. The
    overlay (a swarm on both hosts, the slowest) starts beside the others, which start in turn."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        overlay = pool.submit(lambda: scenarios.get(world, "overlay").start())
        started = {name: scenarios.get(world, name).start() for name in ch07.SIDE_BY_SIDE if name != "overlay"}
        started["overlay"] = overlay.result()
    running = {name: started[name] for name in ch07.SIDE_BY_SIDE}
    rows = [ch07.scenario_row(world, s) for s in running.values()]
    yield running, rows
    for scenario in running.values():
        scenario.stop()


@pytest.fixture
def lesson(world):
    lesson = ch07.Lesson(world, "ch07t").reset()
    yield lesson
    lesson.stop()


@contextmanager
def without_rule(world, out_interface: str):
    """Delete host1's `-s <subnet> ! -o <out_interface> -j MASQUERADE` rule; put it back, in its
    place, afterwards."""
    rule = next(r for r in facts.iptables(world, "host1")
                if r.target == "MASQUERADE" and r.out_if == out_interface and "out_if" in r.negated)
    spec = shlex.split(rule.spec)
    world["host1"].run(["iptables", "-t", "nat", "-D", rule.chain, *spec])
    try:
        yield rule
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-I", rule.chain, str(rule.index), *spec])


def _replace(rows: list[dict], row: dict) -> list[dict]:
    return [row if r["scenario"] == row["scenario"] else r for r in rows]


def test_true_world_claims_hold(side_by_side):
    _, rows = side_by_side
    for tag in ("ch07:probes", "ch07:nat", "ch07:netns", "ch07:dns"):
        run_claim(tag, rows=rows)


def test_probes_claim_fails_without_docker0_masquerade(world, side_by_side):
    """No MASQUERADE for docker0: the default-bridge container's egress probe gets no answer."""
    running, rows = side_by_side
    with without_rule(world, "docker0"):
        row = ch07.scenario_row(world, running["default-bridge"])
    assert "egress:no(!)" in row["probes"]
    assert_claim_fails("ch07:probes", {"rows": _replace(rows, row)}, mentions="egress:no(!)")


def test_nat_claim_fails_without_the_gwbridge_masquerade(world, side_by_side):
    """The overlay container's way out is docker_gwbridge: without its rule nothing masquerades it."""
    running, rows = side_by_side
    with without_rule(world, "docker_gwbridge"):
        row = ch07.scenario_row(world, running["overlay"])
    assert row["MASQUERADE rules"] == [] and row["way out"].startswith("eth1")
    assert_claim_fails("ch07:nat", {"rows": _replace(rows, row)},
                       mentions="overlay: a MASQUERADE rule for its way out")


def test_nat_claim_fails_when_host1_masquerades_everything_out_of_eth0(world, side_by_side):
    """An administrator's `-o eth0 -j MASQUERADE` on host1 (no `-s`): the host container's traffic
    out of eth0 is NAT-ed too. The old check looked only for a rule whose `-s` was exactly the way
    out's subnet and passed this world (truth audit 2)."""
    running, rows = side_by_side
    rule = ["POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"]
    world["host1"].run(["iptables", "-t", "nat", "-A", *rule])
    try:
        row = ch07.scenario_row(world, running["host"])
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", *rule])
    assert row["MASQUERADE rules"] == ["-A POSTROUTING -o eth0 -j MASQUERADE"]
    assert_claim_fails("ch07:nat", {"rows": _replace(rows, row)},
                       mentions="host: no MASQUERADE or SNAT rule of host1 would apply to its way out")


@pytest.fixture(scope="module")
def traces(world, side_by_side):
    """The kernel's trace of one connection per scenario with a way out, on the true world."""
    running, _ = side_by_side
    return [ch07.nat_by_trace(world, s) for name, s in running.items() if name != "none"]


def test_nat_trace_claim_holds_on_the_true_world(side_by_side, traces):
    _, rows = side_by_side
    run_claim("ch07:nat-trace", rows=rows, traces=traces)


def test_nat_trace_claim_fails_without_docker0_masquerade(world, side_by_side, traces):
    """No MASQUERADE for docker0: the default-bridge container's SYN leaves un-NATed (no answer)."""
    running, rows = side_by_side
    with without_rule(world, "docker0"):
        trace = ch07.nat_by_trace(world, running["default-bridge"])
    assert trace["NAT rules that acted"] == []
    assert_claim_fails("ch07:nat-trace", {"rows": rows, "traces": _replace(traces, trace)},
                       mentions="default-bridge: its connection met a MASQUERADE in host1's nat POSTROUTING")


def test_nat_trace_claim_fails_when_host1_masquerades_everything_out_of_eth0(world, side_by_side, traces):
    """An administrator's `-o eth0 -j MASQUERADE`: the trace names it acting on the host container's SYN."""
    running, rows = side_by_side
    rule = ["POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"]
    world["host1"].run(["iptables", "-t", "nat", "-I", *rule])
    try:
        trace = ch07.nat_by_trace(world, running["host"])
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", *rule])
    assert trace["NAT rules that acted"] == ["-A POSTROUTING -o eth0 -j MASQUERADE"]
    assert_claim_fails("ch07:nat-trace", {"rows": rows, "traces": _replace(traces, trace)},
                       mentions="host: its connection got through and no NAT rule of host1 acted on it")


def test_netns_claim_fails_with_a_container_joined_to_the_host_container(world, side_by_side, lesson):
    """A container started with `--network container:host-app` is in host1's namespace too,
    without being on the host driver."""
    running, rows = side_by_side
    joined = lesson.joined("joined", running["host"].containers("host1")["app"])
    row = ch07.container_row(world, "joined to host-app", "(--network container:host-app)", joined)
    assert row["same netns as host1"] and row["driver"] != "host"
    assert_claim_fails("ch07:netns", {"rows": rows + [row]}, mentions="no container of another driver is")


def test_dns_claim_fails_when_a_default_bridge_container_asks_127_0_0_11(world, side_by_side, lesson):
    """`docker run --dns 127.0.0.11` on the default bridge: its resolver is then that address."""
    _, rows = side_by_side
    box = lesson.box("dns", dns=["127.0.0.11"])
    row = ch07.container_row(world, "default bridge, --dns 127.0.0.11", "bridge", box)
    assert row["docker networks"] == ["bridge"] and row["DNS"] == "127.0.0.11"
    assert_claim_fails("ch07:dns", {"rows": rows + [row]}, mentions="default-bridge containers use another nameserver")


def test_measured_claim_fails_when_the_server_stops_answering(world, side_by_side, lesson):
    """The published bridge server is stopped: its case gets no samples, the other one all of them."""
    cases = ch07.measurement_cases(world, lesson)
    host = next(c for c in cases if c.label.startswith("host (lanpc"))
    dnat = next(c for c in cases if "DNAT" in c.label)
    ch07.measure(world, host, requests=30, transfers=5)
    run_claim("ch07:measured", cases=[host])
    lesson.containers("host1")["web-bridge"].stop(timeout=1)
    ch07.measure(world, dnat, requests=30, transfers=5)
    assert dnat.latency_ms == [] and dnat.error
    assert_claim_fails("ch07:measured", {"cases": [host, dnat]}, mentions="'requests': 0")
