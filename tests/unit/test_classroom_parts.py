"""Parts of helpers/hosting/classroom.py that need no engine: the listen address, the relay, the owner's
liveness as `dnlab classroom down` judges it."""
from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.errors import LabError
from helpers.hosting import classroom, course_image
from tests.aio import run_async
from tests.waits import until


def test_listen_address():
    assert classroom.parse_listen("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert classroom.parse_listen(":8010") == ("127.0.0.1", 8010)
    with pytest.raises(LabError, match="HOST:PORT"):
        classroom.parse_listen("127.0.0.1")


def test_relay_joins_each_connection_to_the_port_behind_it():
    """The relay as the owner runs it, here within one namespace: a client's bytes reach the server
    on the target port and its answer comes back."""

    async def scenario() -> bytes:
        async def upper(reader, writer):
            writer.write((await reader.readline()).upper())
            await writer.drain()
            writer.close()

        target = await asyncio.start_server(upper, "127.0.0.1", 0)
        port = target.sockets[0].getsockname()[1]
        sock = classroom.listener("127.0.0.1:0")
        stop = asyncio.Event()
        relaying = asyncio.create_task(classroom.relay(sock, port, stop))
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        writer.write(b"hello hub\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        stop.set()
        await relaying
        target.close()
        sock.close()
        return answer

    assert run_async(scenario()) == b"HELLO HUB\n"


def test_a_busy_listen_address_names_the_fix():
    taken = classroom.listener("127.0.0.1:0")
    try:
        with pytest.raises(LabError, match="LISTEN="):
            classroom.listener("{}:{}".format(*taken.getsockname()))
    finally:
        taken.close()


def test_an_owner_that_finished_is_gone_even_before_its_parent_reaps_it():
    """`up` starts the owner as a child: after `down`'s SIGTERM it is a zombie until reaped, and
    down once waited its full timeout (180 s) for it."""
    done = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while Path(f"/proc/{done.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not classroom._alive(done.pid)
    done.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        assert classroom._alive(running.pid)
    finally:
        running.kill()
        running.wait()
    assert not classroom._alive(running.pid)


# JupyterHub 6.1's own words when the proxy is missing (jupyterhub/proxy.py logs them, then app.py),
# as a hub started without configurable-http-proxy on PATH prints them before it exits.
NO_PROXY = (
    "[I 2026-12-07 10:00:00.101 JupyterHub app:3354] Running JupyterHub version 6.1.1\n"
    "[E 2026-12-07 10:00:00.512 JupyterHub proxy:800] Failed to find proxy ['configurable-http-proxy']\n"
    "    The proxy can be installed with `npm install -g configurable-http-proxy`.To install `npm`, install "
    "nodejs which includes `npm`.If you see an `EACCES` error or permissions error, refer to the `npm` "
    "documentation on How To Prevent Permissions Errors.\n"
    "[C 2026-12-07 10:00:00.513 JupyterHub app:3763] Failed to start proxy\n")


class _Engine:
    """A throwaway engine that makes nothing: the classroom's own steps around the hub are the test."""

    def __init__(self, name: str):
        self.name, self.netns, self.base_url, self.client = name, f"dnlab-sbx-{name}", "unix:///nowhere", None
        self.dockerd, self.seeded = Path("/nowhere/dockerd"), False

    def start(self, seed: Path | None = None) -> None:
        pass

    def stop(self) -> None:
        pass


def test_a_hub_that_fails_to_start_keeps_its_log_and_the_error_gives_its_reason(tmp_path, monkeypatch, capsys):
    """`make classroom` with JupyterHub unable to start (here: no configurable-http-proxy): the owner
    removes what it made, the hub's log stays, and `up`'s error carries its last lines. It used to say
    only "the hub stopped the learners' servers and exited in 0.0 s", with the hub's log deleted."""
    hub = tmp_path / "fake-python"
    hub.write_text("#!/bin/sh\ncat <<'EOF'\n" + NO_PROXY + "EOF\nexit 1\n")
    hub.chmod(0o755)
    monkeypatch.setattr(classroom, "CLASSROOM_STATE", tmp_path / "classroom")
    monkeypatch.setattr(classroom.sandbox, "ThrowawayEngine", _Engine)
    listen = classroom.listener
    monkeypatch.setattr(classroom, "listener", lambda address: listen("127.0.0.1:0"))
    for step, result in (("ensure_image", "dnlab/course:latest"), ("ensure_network", "10.99.0.1"),
                         ("enter_netns", None), ("remove_made", [])):
        monkeypatch.setattr(classroom, step, lambda *args, result=result: result)
    monkeypatch.setattr(classroom, "hub_env", lambda *args: {"PATH": "/usr/bin:/bin"})
    monkeypatch.setattr(classroom.sys, "executable", str(hub))  # the hub is `sys.executable -m jupyterhub`
    settings = classroom.Settings(name="tc", code="c0de", admin_password="pw", image_dir=str(tmp_path))
    classroom.serve(settings)
    # What the owner printed is its log (`up` starts it with stdout there).
    (tmp_path / "classroom" / "tc.log").write_text(capsys.readouterr().out)
    assert not (tmp_path / "classroom" / "tc").exists()  # the owner removed its state folder

    owner = subprocess.Popen(["true"])
    owner.wait()
    with pytest.raises(LabError) as stopped:
        classroom.wait_ready("tc", owner, timeout=5)
    assert "Failed to find proxy ['configurable-http-proxy']" in stopped.value.problem
    assert "Failed to start proxy" in stopped.value.problem
    kept = Path(stopped.value.fix.split()[1])
    assert kept.is_file() and "configurable-http-proxy" in kept.read_text()


def test_the_engine_store_is_named_after_the_image_build_and_the_dockerd(tmp_path):
    """The classroom's kept image store (course_image.engine_store): none before an image is built, and
    another name once the image is rebuilt or another dockerd runs, so no engine starts from a stale one."""
    dockerd, other = tmp_path / "dockerd", tmp_path / "dockerd-28"
    dockerd.write_text("#!/bin/sh\n")
    other.write_text("#!/bin/sh\n# another release\n")
    assert course_image.engine_store(tmp_path, dockerd) is None
    (tmp_path / course_image.COURSE_IMAGE_ROOTFS).write_bytes(b"the image")
    store = course_image.engine_store(tmp_path, dockerd)
    assert store.parent == tmp_path and store.name.startswith(course_image.ENGINE_STORE_PREFIX)
    assert course_image.engine_store(tmp_path, dockerd) == store
    assert course_image.engine_store(tmp_path, other) != store
    (tmp_path / course_image.COURSE_IMAGE_ROOTFS).write_bytes(b"the image, rebuilt")
    assert course_image.engine_store(tmp_path, dockerd) != store


def test_the_classroom_keeps_its_engines_image_store_after_an_import_only(tmp_path):
    """`ensure_image`: an engine that already holds the course image (started from the kept store)
    imports nothing and keeps nothing; one that imported keeps its store for the next classroom."""
    kept, imported = [], []

    class Images:
        def __init__(self, holds: bool):
            self.holds = holds

        def get(self, tag):
            if not self.holds:
                raise KeyError(tag)
            return type("Image", (), {"id": "sha256:held"})

    class Engine:
        def __init__(self, holds: bool):
            self.client = type("Client", (), {"images": Images(holds)})

        def import_rootfs(self, tar, tag, changes):
            imported.append(tag)
            return "sha256:new"

        def keep_seed(self, seed):
            kept.append(seed)

    (tmp_path / course_image.COURSE_IMAGE_ROOTFS).write_bytes(b"tar")
    (tmp_path / course_image.COURSE_IMAGE_CHANGES).write_text("[]")
    store = tmp_path / "engine-store-x"
    assert classroom.ensure_image(Engine(holds=True), tmp_path, store) == "sha256:held"
    assert kept == [] and imported == []
    assert classroom.ensure_image(Engine(holds=False), tmp_path, store) == "sha256:new"
    assert kept == [store] and imported == [course_image.COURSE_IMAGE]


def _fake_hub(tmp_path: Path, pid_file: Path) -> tuple[subprocess.Popen, Path]:
    """A process that does what JupyterHub does on SIGTERM: its cleanup ends with the removal of its pid
    file, then its interpreter's teardown runs (here: until the test creates the file returned)."""
    released = tmp_path / "teardown-done"
    script = (f"trap 'rm -f {pid_file}; while [ ! -e {released} ]; do sleep 0.02; done; exit 0' TERM\n"
              f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}\nwhile true; do sleep 0.05; done\n")
    hub = subprocess.Popen(["bash", "-c", script])
    until(pid_file.exists, timeout=10, every=0.02, reason="the fake hub to write its pid file (its trap set)")
    return hub, released


def test_the_owner_goes_on_once_the_hub_has_cleaned_up_and_reaps_it_after(tmp_path):
    """`_stop_hub` returns when the hub's pid file goes (its cleanup's last step), while its interpreter's
    teardown still runs; `_reap` then waits for its end."""
    pid_file = tmp_path / "jupyterhub.pid"
    hub, released = _fake_hub(tmp_path, pid_file)
    classroom._stop_hub(hub, pid_file)
    assert not pid_file.exists() and hub.poll() is None  # cleaned up, not ended: the owner goes on
    released.touch()
    classroom._reap(hub)
    assert hub.returncode == 0


def test_a_hub_without_a_pid_file_is_waited_for_until_it_ends(tmp_path):
    ready = tmp_path / "trap-set"
    script = f"trap 'sleep 0.3; exit 0' TERM; touch {ready}; while true; do sleep 0.05; done"
    hub = subprocess.Popen(["bash", "-c", script])
    until(ready.exists, timeout=10, every=0.02, reason="the fake hub to set its trap")
    classroom._stop_hub(hub, tmp_path / "jupyterhub.pid")
    assert hub.returncode == 0


def test_removal_waits_for_a_container_docker_is_still_removing():
    """A learner's container the hub stopped may still be under Docker's auto-removal when the hub's cleanup
    ends (DockerSpawner takes "removal already in progress", 409, as done): `remove_made` takes the same
    answer, waits until the container is gone, and only then removes the volumes it held."""
    from docker.errors import APIError

    done: list[str] = []
    lists = {"left": 2}  # Docker's removal ends after two more looks

    class Container:
        name = "dnlab-learner-ada"

        def remove(self, **kwargs):
            raise APIError("removal of container ada is already in progress",
                           response=SimpleNamespace(status_code=409, reason="Conflict"))

    class Containers:
        def list(self, **kwargs):
            lists["left"] -= 1
            return [Container()] if lists["left"] >= 0 else []

    class Named:
        def __init__(self, kind: str, name: str):
            self.kind, self.name = kind, name

        def remove(self, **kwargs):
            assert lists["left"] < 0, f"{self.kind} removed while the container still existed"
            done.append(f"{self.kind} {self.name}")

    client = SimpleNamespace(containers=Containers(),
                             volumes=SimpleNamespace(list=lambda **kw: [Named("volume", "dnlab-learner-ada-labs")]),
                             networks=SimpleNamespace(list=lambda **kw: [Named("network", "dnlab-classroom")]))
    assert classroom.remove_made(client) == ["container dnlab-learner-ada", "volume dnlab-learner-ada-labs",
                                             "network dnlab-classroom"]
    assert done == ["volume dnlab-learner-ada-labs", "network dnlab-classroom"]
