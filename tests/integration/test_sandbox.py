"""The throwaway engine (helpers/hosting/sandbox.py): it runs containers, its published ports answer
inside its namespace, `stop` leaves nothing, and `dnlab clean` removes one whose owner crashed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.hosting import sandbox
from helpers.world import engine, image, netns
from helpers.world.naming import IMAGE, INET_IP
from tests.worlds import world_id_for_tests

REPO = Path(__file__).resolve().parents[2]
DNLAB = str(Path(sys.executable).parent / "dnlab")


def _name(suffix: str) -> str:
    return f"{world_id_for_tests()}-{suffix}"


def test_load_and_import(tmp_path):
    """`load` takes a docker-save tar, `import_rootfs` a root filesystem tar with Dockerfile changes."""
    with sandbox.ThrowawayEngine(_name("sbxl")) as box:
        image.load_into(box.client)
        saved = tmp_path / "box.tar"
        with saved.open("wb") as out:
            for chunk in box.client.images.get(IMAGE).save(named=True):
                out.write(chunk)
        box.client.images.remove(IMAGE, force=True)
        assert IMAGE in box.load(saved)
        rootfs = tmp_path / "rootfs.tar"
        container = box.client.containers.create(IMAGE, ["true"])
        with rootfs.open("wb") as out:
            for chunk in container.export():
                out.write(chunk)
        changes = ["ENV GREETING=imported", 'CMD ["sh", "-c", "echo $GREETING"]']
        box.import_rootfs(rootfs, "dnlab/imported:test", changes)
        assert box.client.containers.run("dnlab/imported:test", remove=True).strip() == b"imported"
    assert sandbox.leftovers(box.netns) == []


def test_runs_a_container_and_stop_leaves_nothing():
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: run them through `make test` (sudo)")
    box = sandbox.ThrowawayEngine(_name("sbx"))
    with box:
        assert netns.marker_of(box.netns) == sandbox.marker_of(box.netns)
        image.load_into(box.client)
        # A published port is reached from inside the engine's own namespace, nowhere else.
        box.client.containers.run(
            IMAGE, ["sh", "-c", "echo served-by-sandbox > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"],
            detach=True, ports={"8080/tcp": ("127.0.0.1", 18080)}, name="sbx-web")
        answer = ""
        for _ in range(50):
            result = box.run(["curl", "-s", "--max-time", "2", "http://127.0.0.1:18080/index.html"])
            answer = result.stdout
            if "served-by-sandbox" in answer:
                break
            time.sleep(0.1)
        assert "served-by-sandbox" in answer
        # The port is the sandbox's alone: the machine's own namespace has no such listener.
        assert "18080" not in subprocess.run(["ss", "-Hltn", "sport = :18080"], capture_output=True,
                                             text=True).stdout
        # --privileged runs, even on a machine that withholds capabilities (runc_caps drops those).
        assert box.client.containers.run(IMAGE, ["sh", "-c", "ip link add x0 type veth peer name x1 && echo ok"],
                                         privileged=True, remove=True).strip() == b"ok"
        _resolver_is_the_machines(box)
        assert sandbox.leftovers(box.netns)  # while it runs, there is something to find
    assert sandbox.leftovers(box.netns) == []


def _nameservers(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("nameserver ")]


def _resolver_is_the_machines(box: sandbox.ThrowawayEngine) -> None:
    """No world here, so not the lab's DNS: inside a course container it is the inner world's `inet`
    (the course image's `make test` found its "machine" resolver naming the lab's DNS)."""
    machine = Path("/etc/resolv.conf").read_text()
    assert Path(f"/proc/{engine.pid(box.paths)}/root/etc/resolv.conf").read_text() == machine
    assert "dns" not in json.loads(box.paths.config.read_text())
    seen = _nameservers(box.client.containers.run(IMAGE, ["cat", "/etc/resolv.conf"], remove=True).decode())
    assert str(INET_IP) not in seen or str(INET_IP) in _nameservers(machine), seen


def test_clean_removes_a_crashed_owners_sandbox_and_spares_a_live_one():
    name = _name("crash")
    full = sandbox.full_name(name)
    # An owner that starts a sandbox and dies without stopping it (SIGKILL: no cleanup runs).
    owner = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from helpers.hosting.sandbox import ThrowawayEngine\n"
         f"e = ThrowawayEngine({name!r}).start(); print('up', flush=True); time.sleep(600)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "up"
        assert sandbox.in_use(full)
        world = world_id_for_tests()
        spared = subprocess.run([DNLAB, "--world", world, "clean"],
                                cwd=REPO, capture_output=True, text=True)
        assert f"throwaway engine {full} is in use" in spared.stdout, spared.stdout + spared.stderr
        assert netns.exists(full)
    finally:
        owner.kill()
        owner.wait()
    left = sandbox.leftovers(full)
    assert any(entry.startswith("process") for entry in left), left  # its dockerd outlived the owner
    swept = subprocess.run([DNLAB, "--world", world, "clean"],
                           cwd=REPO, capture_output=True, text=True)
    assert f"throwaway engine {full} (its owner is gone): removed" in swept.stdout, swept.stdout + swept.stderr
    assert sandbox.leftovers(full) == []
