"""The classroom end to end, offline, in an engine of the course's own kind (`make test-classroom`).

`dnlab classroom up` as an instructor runs it: a sandbox engine (never the machine's Docker), the
course image imported from `make course-image`'s output, JupyterHub with configurable-http-proxy in
the engine's namespace, the relay on a free port of this machine. Three learners log in (the hub's
login form, then its REST API), each gets a ready server with a lab world inside; a lab check in one
world shows in the instructor view; one learner cannot reach another's container or see their world;
the idle culler stops a server; `dnlab classroom down` leaves nothing behind. The instructor view is
also a page of the hub (/services/dnlab-status/), which a learner cannot open.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from helpers.hosting import classroom, sandbox
from helpers.hosting.classroom_names import CLASSROOM_CONTAINER, CLASSROOM_HUB_PORT, CLASSROOM_NETWORK, LABEL_LEARNER
from helpers.hosting.course_image import COURSE_IMAGE_PORT, COURSE_IMAGE_ROOTFS, course_image_dir
from helpers.world.naming import WORLD_ENV

NAME = f"{os.environ.get(WORLD_ENV) or 'ci'}-class"   # a sandbox name `dnlab --world X clean` may sweep
LEARNERS = ("ada", "bob", "cy")
# Seconds idle before the culler stops a server; the test keeps every learner active until the culling
# step. The margin for an active learner, by construction: the keeper's request reaches the proxy (which
# records it as activity) at most KEEP_EVERY + KEEP_TIMEOUT after the previous one, each learner's in a
# thread of its own, and the hub reads the proxy's activity every ACTIVITY_EVERY: what the culler judges is
# at most ~7 s old, plus scheduling delays, against 20 s (the culling step prints how old it was).
CULL_TIMEOUT = 20
CULL_EVERY = ACTIVITY_EVERY = 2
KEEP_EVERY, KEEP_TIMEOUT = 2, 3
SPAWN_TIMEOUT = 300.0      # a loaded 2-core machine; spawn times are printed, not asserted


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Room:
    """The running classroom as the test sees it: tokens, its engine's client, an activity keeper."""

    def __init__(self, settings: classroom.Settings):
        self.settings = settings
        self.tokens: dict[str, str] = {}
        self.active: set[str] = set()
        self.spawn_seconds: dict[str, float] = {}
        self._stop = threading.Event()
        self._client = None
        self._keeper = threading.Thread(target=self._keep_active, daemon=True)
        self._touches = ThreadPoolExecutor(4 * len(LEARNERS), thread_name_prefix="keeper")

    @property
    def client(self):
        """The classroom engine's SDK client (made once)."""
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=classroom.read_state(NAME)["docker"])
        return self._client

    def get(self, path: str, token: str, timeout: float = 20) -> int:
        """HTTP status of GET `path` through the relay with `token` (redirects not followed)."""
        request = urllib.request.Request(classroom.hub_url(NAME, path), headers={"Authorization": f"token {token}"})
        opener = urllib.request.build_opener(classroom._Stay)
        try:
            with opener.open(request, timeout=timeout) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code

    def _keep_active(self) -> None:
        """Every KEEP_EVERY seconds, a request to each active learner's server, each in a thread of its
        own (a slow server never holds back another's): the proxy records it as activity when it passes,
        so the culler stops only whom the test lets go idle. A request that fails or times out (a loaded
        machine) is simply followed by the next round's."""
        def touch(name: str) -> None:
            with contextlib.suppress(OSError):  # urllib's URLError and timeouts are OSErrors
                self.get(f"/user/{name}/api/contents", self.tokens[name], timeout=KEEP_TIMEOUT)
        while not self._stop.wait(KEEP_EVERY):
            for name in list(self.active):
                with contextlib.suppress(RuntimeError):  # the pool is shut down: the classroom is going
                    self._touches.submit(touch, name)

    def container(self, name: str):
        return self.client.containers.get(CLASSROOM_CONTAINER.format(username=name))

    def sh(self, name: str, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A shell command inside a learner's container, as the learner's terminal runs it."""
        state = classroom.read_state(NAME)
        argv = ["docker", "-H", state["docker"], "exec", CLASSROOM_CONTAINER.format(username=name), "sh", "-c", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def room():
    if not (course_image_dir() / COURSE_IMAGE_ROOTFS).is_file():
        pytest.fail(f"no built course image in {course_image_dir()}: run `sudo make course-image` first")
    settings = classroom.Settings(
        name=NAME, listen=f"127.0.0.1:{_free_port()}", code="workshop-code-17", admin="teacher",
        admin_password="teacher-only-pw", cpu=1.0, mem="1G", cull_timeout=CULL_TIMEOUT,
        extra_env={"DNLAB_CLASSROOM_CULL_EVERY": str(CULL_EVERY),
                   "DNLAB_CLASSROOM_ACTIVITY_INTERVAL": str(ACTIVITY_EVERY)})
    started = time.monotonic()
    owner = classroom.up(settings, timeout=600)
    print(f"\n  classroom up (engine, image import, hub, proxy, relay): {time.monotonic() - started:.1f} s")
    running = Room(settings)
    running._keeper.start()
    try:
        yield running
    finally:
        running._stop.set()
        running._touches.shutdown(wait=False, cancel_futures=True)
        started = time.monotonic()
        done = classroom.down(NAME)
        print(f"\n  classroom down: {time.monotonic() - started:.1f} s; " + "; ".join(done))
        owner.wait(30)
        left = sandbox.leftovers(sandbox.full_name(NAME))
        assert not left, f"the classroom left: {left}"
        assert not classroom.state_dir(NAME).exists()
        with socket.socket() as probe:  # the relay is gone with its owner
            assert probe.connect_ex(classroom.parse_listen(settings.listen)) != 0


def test_three_learners_log_in_and_get_servers_with_their_own_worlds(room: Room):
    started = {}

    def arrive(name: str) -> None:
        """A learner logs in and asks for a server, as all three do at the start of a workshop."""
        started[name] = time.monotonic()
        room.tokens[name] = classroom.login(NAME, name, room.settings.code)
        classroom.api(NAME, f"users/{name}/server", token=room.tokens[name], method="POST", body={}, timeout=60)
    with ThreadPoolExecutor(len(LEARNERS)) as arrivals:
        list(arrivals.map(arrive, LEARNERS))
    waiting, deadline = set(LEARNERS), time.monotonic() + SPAWN_TIMEOUT
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            server = classroom.api(NAME, f"users/{name}", token=room.tokens[name])["servers"].get("", {})
            if server.get("ready"):
                room.spawn_seconds[name] = time.monotonic() - started[name]
                room.active.add(name)
                waiting.discard(name)
        time.sleep(0.5)
    assert not waiting, f"servers not ready within {SPAWN_TIMEOUT:.0f} s: {sorted(waiting)}"
    print("\n  login -> server ready: " + ", ".join(f"{n} {s:.1f} s" for n, s in room.spawn_seconds.items()))
    for name in LEARNERS:  # JupyterLab answers through the hub's proxy, to its own learner
        assert room.get(f"/user/{name}/api/status", room.tokens[name]) == 200
    deadline = time.monotonic() + SPAWN_TIMEOUT  # the world comes up beside the server
    while time.monotonic() < deadline:
        rows = {row["learner"]: row for row in classroom.status(NAME)}
        if all(rows[name]["world_up"] for name in LEARNERS):
            break
        time.sleep(1)
    assert all(rows[name]["server_ready"] and rows[name]["world_up"] for name in LEARNERS), rows
    assert rows["teacher"]["admin"] and not any(rows[name]["admin"] for name in LEARNERS)


def test_the_workshop_code_does_not_open_the_instructors_account(room: Room):
    with pytest.raises(Exception, match="refused"):
        classroom.login(NAME, "teacher", room.settings.code)
    assert classroom.login(NAME, "teacher", room.settings.admin_password)


def test_a_lab_check_in_one_world_shows_in_the_instructor_view(room: Room):
    solve = ("python -c 'from helpers import labs; from helpers.labs import solutions; "
             "from helpers.world import lab; w = lab(); labs.get(1).start(w); solutions.apply(1, w)'")
    assert room.sh("ada", solve).returncode == 0
    check = room.sh("ada", "dnlab lab check 1")
    assert check.returncode == 0, check.stdout + check.stderr
    view = subprocess.run([sys.executable, "-m", "helpers", "classroom", "status", "--name", NAME, "--json"],
                          capture_output=True, text=True, timeout=60, check=True)
    rows = {row["learner"]: row for row in json.loads(view.stdout)}
    assert rows["ada"]["labs_passed"] == [1] and rows["ada"]["lab_slugs"] == ["user-bridge"]
    assert rows["bob"]["labs_passed"] == [] and rows["cy"]["labs_passed"] == []
    table = subprocess.run([sys.executable, "-m", "helpers", "classroom", "status", "--name", NAME],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert any(line.split()[:4] == ["ada", "ready", "up", "1"] for line in table.splitlines()), table
    # The same view as a page of the hub, for the instructor only (the hub's OAuth).
    page = classroom.browser(NAME, "teacher", room.settings.admin_password).open(
        classroom.hub_url(NAME, "/services/dnlab-status/"), timeout=30)
    assert page.status == 200 and "<td>ada</td><td>ready</td><td>up</td><td>1</td>" in page.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        classroom.browser(NAME, "bob", room.settings.code).open(classroom.hub_url(NAME, "/services/dnlab-status/"))
    assert refused.value.code == 403


def test_a_learner_cannot_reach_another_learners_container_or_world(room: Room):
    ada, bob = room.container("ada"), room.container("bob")
    bob_ip = bob.attrs["NetworkSettings"]["Networks"][CLASSROOM_NETWORK]["IPAddress"]
    gateway = classroom.read_state(NAME)["gateway"]
    curl = "curl -s -o /dev/null -w '%{http_code}' --max-time 3 "
    # The control: ada's network works, she reaches the hub's API on the gateway ...
    assert room.sh("ada", curl + f"http://{gateway}:{CLASSROOM_HUB_PORT}/hub/api/").stdout == "200"
    # ... and bob's server answers the hub on that address (his JupyterLab through the proxy) ...
    assert room.get("/user/bob/api/status", room.tokens["bob"]) == 200
    # ... but not ada: no inter-container traffic on the classroom bridge.
    reach = room.sh("ada", curl + f"http://{bob_ip}:{COURSE_IMAGE_PORT}/")
    assert reach.returncode != 0 and reach.stdout in ("000", ""), reach
    # Nothing of bob's is published on the engine's addresses either.
    assert not [b for b in (bob.attrs["NetworkSettings"]["Ports"] or {}).values() if b]
    assert room.sh("ada", curl + f"http://{gateway}:{COURSE_IMAGE_PORT}/").stdout == "000"
    # Through the hub, ada's token opens only her own server.
    assert room.get("/user/bob/api/status", room.tokens["ada"]) in (302, 403, 404)
    # Their worlds are their own: what bob makes on his host1, ada's host1 does not have.
    made = room.sh("bob", "dnlab shell host1 -- docker run -d --name bob-marker dnlab/box:latest sleep 1000")
    assert made.returncode == 0, made.stderr

    def names(who: str) -> list[str]:
        return room.sh(who, "dnlab shell host1 -- docker ps -a --format '{{.Names}}'").stdout.split()
    assert "bob-marker" in names("bob") and "bob-marker" not in names("ada")
    engine_id = "dnlab shell host1 -- docker info --format '{{.ID}}'"
    ids = {who: room.sh(who, engine_id).stdout.strip() for who in ("ada", "bob")}
    assert ids["ada"] and ids["bob"] and ids["ada"] != ids["bob"]
    assert ada.labels[LABEL_LEARNER] == "ada" and bob.labels[LABEL_LEARNER] == "bob"


def test_the_idle_culler_stops_an_idle_server_and_keeps_its_volumes(room: Room):
    room.active.discard("cy")  # cy goes idle; ada and bob stay active
    idle, culled, stalest = time.monotonic(), False, 0.0
    while time.monotonic() < idle + CULL_TIMEOUT + 120 and not culled:
        users = {user["name"]: user for user in classroom.api(NAME, "users")}  # the instructor view's token
        culled = "" not in (users["cy"].get("servers") or {})
        # How old ada's and bob's activity is as the hub knows it (the culler's input): the keeper's margin.
        now = datetime.now(UTC)
        for name in ("ada", "bob"):
            seen = (users[name].get("servers") or {}).get("", {}).get("last_activity")
            if seen:
                stalest = max(stalest, (now - datetime.fromisoformat(seen)).total_seconds())
        time.sleep(0.5)  # one cheap API call a look
    assert culled, f"cy's server still runs {CULL_TIMEOUT + 120} s after going idle"
    print(f"\n  cy's server gone {time.monotonic() - idle:.1f} s after cy went idle (culler: {CULL_TIMEOUT} s idle);"
          f" ada's and bob's activity as the hub knew it: at most {stalest:.1f} s old")
    rows = {row["learner"]: row for row in classroom.status(NAME)}
    assert not rows["cy"]["container"] and rows["ada"]["server_ready"] and rows["bob"]["server_ready"]
    kept = {v.name for v in room.client.volumes.list(filters={"label": f"{LABEL_LEARNER}=cy"})}
    assert kept == {"dnlab-learner-cy-notebooks", "dnlab-learner-cy-labs", "dnlab-learner-cy-engines"}
