"""Tests about the labs that are not one lab's journey (those are test_lab_journeys.py): a reset
touches only the lab's names, the terminal's `dnlab lab ...` (start/check/reset, a closed pipe), the
doctor's verdict on privileged exec, the attach hint, lab 13's MTU restore on every exit path, and
what a learner reads before starting (names and titles name no cause)."""
from __future__ import annotations

import subprocess

import pytest

from helpers import labs
from helpers.labs import lab13, state
from helpers.labs.lab13 import LAB13_MTU_RECORD, LAB13_PATH_MTU
from helpers.lessons import facts
from helpers.world import mtu as link_mtu
from helpers.world.naming import IDLE, IMAGE
from tests.integration.lab_journey import docker_cli, failing, fresh, run
from tests.integration.lab_symptoms import CAUSE_WORDS


@pytest.fixture(scope="module")
def w(lab_world):
    """The lab world (tests/integration/conftest.py), by a short name."""
    return lab_world


def test_reset_touches_nothing_but_the_lab_names(lab_world):
    """A learner's own container and network (other names, same engine) survive a lab's reset."""
    world = lab_world
    client = world.host1.docker
    net = client.networks.create("lab1-net", labels=world.label)
    own_net = client.networks.create("mine-net", labels=world.label)
    own = client.containers.run(IMAGE, IDLE, name="mine", network="lab1-net",
                                detach=True, labels=world.label)
    try:
        done = labs.get(1).reset(world)
        assert done == ["network lab1-net on host1"]
        own.reload()
        assert own.status == "running" and "lab1-net" not in state.networks_of(own)
        assert state.network(client, "mine-net") is not None
    finally:
        own.remove(force=True)
        own_net.remove()
        if state.network(client, net.name) is not None:
            net.remove()


def test_cli_start_check_reset(lab_world, capsys):
    """`dnlab lab start|check|reset N` on the same world, as a workshop terminal uses them."""
    from helpers.cli import main

    world_args = ["--world", lab_world.names.world_id]
    assert main([*world_args, "lab", "reset", "9"]) == 0
    assert main([*world_args, "lab", "start", "9"]) == 0
    capsys.readouterr()
    assert main([*world_args, "lab", "check", "9"]) == 1
    out = capsys.readouterr().out
    assert "✘ lab9-web reaches lab9-api by name" in out and "hint:" in out
    assert main([*world_args, "lab", "reset", "9"]) == 0
    assert "container lab9-web on host1" in capsys.readouterr().out
    assert main([*world_args, "lab", "list"]) == 0
    assert "Troubleshooting: a name that does not resolve" in capsys.readouterr().out


# --- the terminal ------------------------------------------------------------------------------------

def test_lab_check_into_a_closed_pipe_ends_cleanly(w):
    """`dnlab lab check 1 | head -1`: the reader is gone before the check prints (the read end is
    closed at once), so every write meets a broken pipe; no traceback may follow."""
    import os
    import sys

    labs.get(1).reset(w)
    env = {**os.environ, "DNLAB_WORLD": w.names.world_id}
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "lab", "check", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=os.getcwd())
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 1  # lab 1 is not done on this world: the exit status still says so
    # The same through a real shell pipe, as a learner types it.
    shell = subprocess.run(f"{sys.executable} -m helpers lab check 1 | head -1", shell=True, capture_output=True,
                           text=True, env=env, timeout=120)
    assert shell.stdout.startswith("Lab 1 (") and "Traceback" not in shell.stderr, shell.stderr


def test_doctor_says_whether_privileged_exec_works_here(w):
    """The doctor's verdict agrees with the real `docker exec --privileged` run with the CLI on the
    world's host1 engine (on this machine it fails with "unable to apply caps")."""
    from helpers.world import doctor

    container = run(w, "lab0-doctor-probe")
    try:
        real = subprocess.run(["docker", "--context", w.hosts["host1"].context, "exec", "--privileged",
                               container.name, "true"], capture_output=True, text=True, timeout=60)
    finally:
        container.remove(force=True)
    check = next(c for c in doctor.run_checks(w.names.world_id) if c.name == "docker exec --privileged")
    assert check.ok == (real.returncode == 0), (check, real.stderr)
    assert not check.required  # no lab needs it
    if not check.ok:
        assert real.stderr.strip().split("container process: ")[-1].removesuffix(": unknown") in check.detail
        assert "dnlab" in check.fix and " shell host1" in check.fix  # the command as it runs (dnlab_command)
    assert "host1 engine" in check.detail or check.ok


def test_attach_hint_follows_the_network_mode(w):
    """lab1-client started with `--network none`: `network connect` is refused while it is on none, so
    the hint says to disconnect none first, and that route then passes."""
    with fresh(w, 1) as lab:
        w.host1.docker.networks.create("lab1-net", labels=w.label)
        run(w, "lab1-web", network="lab1-net")
        run(w, "lab1-client", network_mode="none")
        it = failing(lab.check(w, record=False), "lab1-client is attached to lab1-net")
        assert "disconnect none lab1-client" in it.hint
        with pytest.raises(RuntimeError, match="none"):
            docker_cli(w, "network connect lab1-net lab1-client")
        docker_cli(w, "network disconnect none lab1-client")
        docker_cli(w, "network connect lab1-net lab1-client")
        result = lab.check(w, record=False)
        assert result.passed, str(result)


# --- the mystery -------------------------------------------------------------------------------------

def test_names_titles_tasks_and_tools_name_no_cause():
    """What a learner reads before starting (the `lab list` slug and title, goal, tasks, tools, the
    README's table) names no cause."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "labs" / "README.md").read_text().lower()
    table = [line for line in readme.splitlines() if line.startswith("| ") and "trouble" in line]
    assert len(table) == 6, table
    for number, words in CAUSE_WORDS.items():
        lab = labs.get(number)
        text = " ".join([lab.slug, lab.title, lab.goal, *lab.tasks, lab.tools]).lower()
        row = next(line for line in table if lab.slug in line)
        for word in words:
            if word in ("mtu", "parent", "gateway"):
                continue  # too common to forbid in the tools line; the check texts are strict (journeys)
            assert word not in text and word not in row, (number, word)


# --- 13. the underlay's MTUs -----------------------------------------------------------------------

def _underlay_mtus(world) -> dict[str, int]:
    """Every LAN link's MTU (the hosts' and lanpc's eth0, the router's bridge and ports), from `ip -j link`."""
    links = {"host1": ["eth0"], "host2": ["eth0"], "lanpc": ["eth0"],
             "router": ["lan0", "p-host1", "p-host2", "p-lanpc"]}
    return {f"{m}:{n}": facts.mtu(world, m, n) for m, names in links.items() for n in names}


def test_lab13_reset_restores_every_lan_mtu_on_every_exit_path(lab_world, monkeypatch):
    """The start shrinks only the cloud's ports (the hosts' eth0 keep what they say, lanpc is not on the
    way); the reset puts
    every LAN link back exactly; so does a start that fails half way, and a reset without the record
    (the MTU of the port no lab touches, p-lanpc, is the reference)."""
    world, lab = lab_world, labs.get(13)
    before = _underlay_mtus(world)
    lab.start(world)
    try:
        during = _underlay_mtus(world)
        assert during["router:p-host1"] == during["router:p-host2"] == LAB13_PATH_MTU < before["router:p-host1"]
        # The kernel gives a bridge the MTU of its smallest port: the router's lan0 follows.
        assert during["router:lan0"] == LAB13_PATH_MTU
        cloud = ("router:p-host1", "router:p-host2", "router:lan0")
        outside_cloud = {k: v for k, v in before.items() if k not in cloud}
        assert {k: v for k, v in during.items() if k not in cloud} == outside_cloud
    finally:
        lab.reset(world)
    assert _underlay_mtus(world) == before

    # A start that fails half way through shrinking the path (a link that is not there, after the two
    # real ports were shrunk) puts them back before it raises. Its swarm, overlay and boxes, made for real
    # by the start above, are skipped here (they come before the shrinking and change no link's MTU): the
    # failure comes at once, and the reset after it has no swarm to leave.
    for step in ("make_network", "run_box", "wait_for_name"):
        monkeypatch.setattr(lab13, step, lambda *args, **kwargs: True)
    monkeypatch.setattr(lab13.swarm, "ensure", lambda *args, **kwargs: False)
    monkeypatch.setattr(link_mtu, "PATH_ONLY", {"router": ["p-host1", "p-host2", "no-such-port"]})
    with pytest.raises(Exception, match="no-such-port"):
        lab.start(world)
    monkeypatch.undo()
    assert _underlay_mtus(world) == before
    lab.reset(world)

    world["router"].run(["ip", "link", "set", "dev", "p-host2", "mtu", "1400"])
    (world.names.state_dir / LAB13_MTU_RECORD).unlink(missing_ok=True)
    try:
        assert "MTU 1500 of p-host2 on router (was 1400)" in lab13.restore_underlay(world)
    finally:
        world["router"].run(["ip", "link", "set", "dev", "p-host2", "mtu", str(before["router:p-host2"])])
    assert _underlay_mtus(world) == before
