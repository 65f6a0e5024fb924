"""A workshop's JupyterHub (`make classroom`): one hub, one course container per learner.

Where it runs: never on the machine's own Docker. `serve` starts a sandbox engine
(`sandbox.ThrowawayEngine`, namespace `dnlab-sbx-<name>`), imports the course image there (the
output of `make course-image`), makes the classroom bridge with inter-container traffic off, and runs
JupyterHub (classroom/jupyterhub_config.py), which starts configurable-http-proxy, inside that
engine's network namespace. It stays in the foreground as the classroom's owner until SIGTERM, then
removes everything it made.

How the machine reaches the hub: a relay. `serve` binds its listening socket in the machine's
namespace first, then moves itself (setns) into the engine's namespace, where each accepted
connection is joined to the proxy on the namespace's loopback. A socket keeps the namespace it was
made in, so one process serves both sides. The alternative, a veth into the namespace plus DNAT,
would change the machine's routes and iptables, which the course never touches.

`status` is the instructor view: the hub's users (REST API, with the instructor view's own token)
and, read from each learner's container, whether its lab world is up and which labs it passed.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.errors import EXIT_LAB_ERROR, LabError
from helpers.hosting import course_image, sandbox
from helpers.hosting.classroom_names import (
    CLASSROOM,
    CLASSROOM_CONTAINER,
    CLASSROOM_HUB_PID_FILE,
    CLASSROOM_LISTEN,
    CLASSROOM_NETWORK,
    CLASSROOM_PROGRESS_DIR,
    CLASSROOM_PROXY_PORT,
    CLASSROOM_STATE,
    LABEL_CLASSROOM,
)
from helpers.hosting.course_image import COURSE_IMAGE, COURSE_IMAGE_CHANGES, COURSE_IMAGE_ROOTFS, course_image_dir
from helpers.world.naming import PRIVATE_DIR_MODE
from helpers.world.proc import NETNS_DIR

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "classroom" / "jupyterhub_config.py"
CLONE_NEWNET = 0x40000000
ICC_OFF = {"com.docker.network.bridge.enable_icc": "false"}
# Inside a learner's container the world has the default prefix; its lab record is this file.
PROGRESS_FILE = f"{CLASSROOM_PROGRESS_DIR}/labs-dnlab.json"


@dataclass
class Settings:
    """What an instructor chooses for one workshop (`dnlab classroom up --help`)."""

    name: str = CLASSROOM
    listen: str = CLASSROOM_LISTEN
    code: str = ""
    admin: str = "instructor"
    admin_password: str = ""
    cpu: float = 1.0
    mem: str = "1G"
    cull_timeout: int = 3600
    # `make course-image` writes the learner image's rootfs and changes here ($DNLAB_COURSE_IMAGE_DIR: elsewhere)
    image_dir: str = field(default_factory=lambda: str(course_image_dir()))
    extra_env: dict[str, str] = field(default_factory=dict)
    language: str = "en"      # the edition every learner's JupyterLab opens: "en" or "ja" (issue 22)


def state_dir(name: str) -> Path:
    return CLASSROOM_STATE / name


def hub_log(name: str) -> Path:
    """The hub's own log (JupyterHub and its proxy), beside the owner's and outside the state folder
    the owner removes at its end: a hub that fails to start leaves its reason here."""
    return CLASSROOM_STATE / f"{name}-hub.log"


def _private_log(path: Path):
    """A fresh log file only root reads (a hub's log names its users and services), open for writing."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600), "wb")


def log_tail(path: Path, lines: int = 12) -> str:
    """The last `lines` lines of a log ('' if there is none): where a process says why it stopped."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def state_file(name: str) -> Path:
    """state.json: pid of the owner, listen address, the instructor view's token, the engine's socket."""
    return state_dir(name) / "state.json"


def read_state(name: str) -> dict:
    try:
        return json.loads(state_file(name).read_text())
    except FileNotFoundError:
        raise LabError(f"no classroom {name!r} runs on this machine", "make classroom") from None


def _write_state(name: str, data: dict) -> None:
    path = state_file(name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.chmod(0o600)  # the instructor view's token is in it
    tmp.replace(path)


def parse_listen(listen: str) -> tuple[str, int]:
    """`127.0.0.1:8000` -> ("127.0.0.1", 8000); a bare port listens on 127.0.0.1."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise LabError(f"listen address {listen!r} is not HOST:PORT", "make classroom LISTEN=127.0.0.1:8000")
    return host or "127.0.0.1", int(port)


# --- the engine, its image, its network ------------------------------------------------------------

def ensure_image(engine: sandbox.ThrowawayEngine, image_dir: Path, store: Path | None = None) -> str:
    """Import the course image from `make course-image`'s output unless the engine has it (started from
    `store`); after an import, keep the engine's image store as `store` for the next classroom: its `up`
    imports nothing (~1 GB unpacked), and every `down` deletes hard links, not the image's 26,000 files."""
    with contextlib.suppress(Exception):
        return engine.client.images.get(COURSE_IMAGE).id
    rootfs, changes = image_dir / COURSE_IMAGE_ROOTFS, image_dir / COURSE_IMAGE_CHANGES
    if not rootfs.is_file() or not changes.is_file():
        raise LabError(f"the course image is not built: {rootfs} or {changes} is missing", "make course-image")
    made = engine.import_rootfs(rootfs, COURSE_IMAGE, json.loads(changes.read_text()))
    if store is not None:
        engine.keep_seed(store)
    return made


def ensure_network(client) -> str:
    """The classroom bridge (learners cannot reach each other: enable_icc=false). Its gateway, the
    engine namespace's own address on it, where the hub's API listens for the learners' servers."""
    found = client.networks.list(names=[CLASSROOM_NETWORK])
    network = found[0] if found else client.networks.create(
        CLASSROOM_NETWORK, driver="bridge", options=ICC_OFF, labels={LABEL_CLASSROOM: CLASSROOM})
    network.reload()
    return network.attrs["IPAM"]["Config"][0]["Gateway"]


def remove_made(client, timeout: float = 60) -> list[str]:
    """Every learner container, volume and the network the classroom made (by label). What went.

    A container the hub has just stopped may still be going: DockerSpawner makes them with auto-remove
    and takes Docker's "removal already in progress" (409) as done, so the hub can finish its cleanup
    before Docker has. Such a removal is waited for (its volumes are in use until it ends)."""
    from docker.errors import APIError, NotFound  # the SDK only here and in the instructor view

    selector = {"label": LABEL_CLASSROOM}
    gone = []
    for container in client.containers.list(all=True, filters=selector):
        try:
            container.remove(force=True, v=True)
        except NotFound:
            pass
        except APIError as error:
            if error.status_code != 409:
                raise
        gone.append(f"container {container.name}")
    deadline = time.monotonic() + timeout
    while client.containers.list(all=True, filters=selector) and time.monotonic() < deadline:
        time.sleep(0.1)  # a removal under way: Docker's, one container's layers
    for volume in client.volumes.list(filters=selector):
        volume.remove(force=True)
        gone.append(f"volume {volume.name}")
    for network in client.networks.list(filters=selector):
        network.remove()
        gone.append(f"network {network.name}")
    return gone


# --- the relay ---------------------------------------------------------------------------------------

def enter_netns(path: str) -> None:
    """Move this thread (and every thread and process it starts later) into the network namespace
    at `path` (`/run/netns/NAME`, or `/proc/self/ns/net` kept open to come back)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {path}")
    finally:
        os.close(fd)


def listener(listen: str) -> socket.socket:
    """The relay's listening socket, made in the namespace the caller is in (the machine's)."""
    host, port = parse_listen(listen)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise LabError(f"cannot listen on {listen}: {error.strerror}",
                       "make classroom LISTEN=127.0.0.1:8010   # a free address and port") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction of a relayed connection until it ends; close the writer then."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _join(client_reader, client_writer, port: int) -> None:
    """One connection from the machine, joined to the proxy on the engine namespace's loopback."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))


async def relay(sock: socket.socket, port: int, stop: asyncio.Event) -> None:
    """Serve `sock` until `stop` is set."""
    server = await asyncio.start_server(lambda r, w: _join(r, w, port), sock=sock)
    async with server:
        await stop.wait()


# --- the owner process -----------------------------------------------------------------------------

def hub_env(settings: Settings, engine: sandbox.ThrowawayEngine, gateway: str, token: str) -> dict[str, str]:
    """The environment classroom/jupyterhub_config.py reads (its docstring lists each variable)."""
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, **settings.extra_env,
            "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",  # configurable-http-proxy
            "DNLAB_CLASSROOM_DOCKER": engine.base_url,
            "DNLAB_CLASSROOM_HUB_IP": gateway,
            "DNLAB_CLASSROOM_CODE": settings.code,
            "DNLAB_CLASSROOM_ADMIN": settings.admin,
            "DNLAB_CLASSROOM_ADMIN_PASSWORD": settings.admin_password,
            "DNLAB_CLASSROOM_CPU": str(settings.cpu),
            "DNLAB_CLASSROOM_MEM": settings.mem,
            "DNLAB_CLASSROOM_CULL_TIMEOUT": str(settings.cull_timeout),
            "DNLAB_CLASSROOM_STATE": str(state_dir(settings.name)),
            "DNLAB_CLASSROOM_STATUS_TOKEN": token,
            "DNLAB_CLASSROOM_LANG": settings.language}


def serve(settings: Settings) -> int:
    """Run the classroom in the foreground until SIGTERM or SIGINT; remove all of it at the end."""
    if not settings.code or not settings.admin_password:
        raise LabError("a classroom needs a workshop code and an instructor password",
                       "make classroom CODE=<code for learners> ADMIN_PASSWORD=<yours>")
    folder = state_dir(settings.name)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(PRIVATE_DIR_MODE)
    sock = listener(settings.listen)  # in the machine's namespace, before entering the engine's
    home = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)  # to come back for the teardown
    engine = sandbox.ThrowawayEngine(settings.name)
    hub, by_itself = None, False
    try:
        store = course_image.engine_store(Path(settings.image_dir), engine.dockerd)
        engine.start(seed=store)
        imported = time.monotonic()
        ensure_image(engine, Path(settings.image_dir), store)
        print(f"classroom up: the course image {'was in the kept image store' if engine.seeded else 'imported'}"
              f" ({time.monotonic() - imported:.1f} s)", flush=True)
        gateway = ensure_network(engine.client)
        token = secrets.token_hex(32)
        enter_netns(f"{NETNS_DIR}/{engine.netns}")
        hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)], cwd=folder,
                               env=hub_env(settings, engine, gateway, token),
                               stdout=_private_log(hub_log(settings.name)), stderr=subprocess.STDOUT)
        started = time.monotonic()
        _write_state(settings.name, {"pid": os.getpid(), "hub_pid": hub.pid, "listen": settings.listen,
                                     "token": token, "docker": engine.base_url, "netns": engine.netns,
                                     "gateway": gateway, "settings": {**asdict(settings), "code": "",
                                                                      "admin_password": ""}})
        asyncio.run(_until_signal(sock, hub))
    finally:
        sock.close()
        by_itself = hub is not None and hub.poll() is not None  # it ended before our stop: it failed
        if by_itself:
            print(f"classroom: the hub exited by itself (status {hub.returncode}) after "
                  f"{time.monotonic() - started:.1f} s; its log, kept: {hub_log(settings.name)}", flush=True)
        else:
            _step("the hub stopped the learners' servers and its proxy", _stop_hub, hub,
                  folder / CLASSROOM_HUB_PID_FILE)
        enter_netns(f"/proc/self/fd/{home_fd}")
        os.close(home_fd)
        with contextlib.suppress(Exception):
            _step("removed the classroom's containers, volumes, network", remove_made, engine.client)
        _step("removed the engine (processes, namespace, data)", engine.stop)
        _reap(hub)
        shutil.rmtree(folder, ignore_errors=True)  # the hub's database: only once the hub has exited
    return EXIT_LAB_ERROR if by_itself else 0


def _step(what: str, action, *args):
    """Run one teardown step and say in the owner's log how long it took (down's time is their sum)."""
    started = time.monotonic()
    result = action(*args)
    print(f"classroom: {what} in {time.monotonic() - started:.1f} s", flush=True)
    return result


async def _until_signal(sock: socket.socket, hub: subprocess.Popen) -> None:
    """Relay until SIGTERM/SIGINT, or until the hub dies (its log says why)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def watch_hub() -> None:
        while hub.poll() is None and not stop.is_set():
            await asyncio.sleep(1)
        stop.set()

    await asyncio.gather(relay(sock, CLASSROOM_PROXY_PORT, stop), watch_hub())


def _stop_hub(hub: subprocess.Popen | None, pid_file: Path, grace: float = 120) -> None:
    """SIGTERM: the hub stops every learner's server (cleanup_servers) and its proxy, removes its pid file
    (the last step of its cleanup), then exits. Returns when the pid file it had is gone, or the hub has
    ended: its interpreter's own teardown (2.5 s on a loaded machine, touching nothing of the classroom)
    then runs beside the removal of what it ran, and `_reap` waits for it. A hub still there after
    `grace` seconds is killed."""
    if hub is None or hub.poll() is not None:
        return
    had_pid_file = pid_file.is_file()
    hub.terminate()
    deadline = time.monotonic() + grace
    while hub.poll() is None and time.monotonic() < deadline:
        if had_pid_file and not pid_file.exists():
            return
        time.sleep(0.05)
    if hub.poll() is None:
        hub.kill()
        hub.wait()


def _reap(hub: subprocess.Popen | None, grace: float = 30) -> None:
    """Wait for the hub's end after its cleanup (`_stop_hub`); kill it if its teardown hangs."""
    if hub is None:
        return
    try:
        hub.wait(grace)
    except subprocess.TimeoutExpired:
        hub.kill()
        hub.wait()


# --- up / down from the instructor's shell ------------------------------------------------------

def hub_url(name: str, path: str = "/hub/api/") -> str:
    host, port = parse_listen(read_state(name)["listen"])
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}{path}"


def api(name: str, path: str, *, token: str | None = None, method: str = "GET", body: dict | None = None,
        timeout: float = 10) -> dict | list | None:
    """One call of the hub's REST API through the relay; the instructor view's token by default."""
    request = urllib.request.Request(hub_url(name, "/hub/api/" + path.lstrip("/")), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"token {token or read_state(name)['token']}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the relay only
        text = answer.read()
    return json.loads(text) if text else None


class _Stay(urllib.request.HTTPRedirectHandler):
    """Keep a redirect as the answer (a login's 302), instead of following it to the spawn page."""

    def redirect_request(self, *args, **kwargs):
        return None


def browser(name: str, user: str, password: str, timeout: float = 30) -> urllib.request.OpenerDirector:
    """Log `user` in as a browser does (the hub's login form, its _xsrf cookie). An opener that
    carries the session's cookies and follows redirects (the hub's pages, its services' OAuth)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _Stay)
    opener.open(hub_url(name, "/hub/login"), timeout=timeout).read()
    xsrf = next((cookie.value for cookie in jar if cookie.name == "_xsrf"), "")
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    try:
        opener.open(hub_url(name, "/hub/login"), data=form, timeout=timeout).read()
    except urllib.error.HTTPError as answer:
        if answer.code != 302:  # 302 to the hub's home: logged in; 403: refused
            raise LabError(f"the hub refused {user!r} (HTTP {answer.code})",
                           "check the workshop code (make classroom CODE=...)") from None
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def login(name: str, user: str, password: str, timeout: float = 30) -> str:
    """`browser`'s login, then an API token for `user` with the same password (the REST API's
    `auth` field). The token."""
    browser(name, user, password, timeout)
    body = {"auth": {"username": user, "password": password}, "note": "dnlab classroom login"}
    request = urllib.request.Request(hub_url(name, f"/hub/api/users/{user}/tokens"), method="POST",
                                     data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the relay only
        return json.loads(answer.read())["token"]


def wait_ready(name: str, owner: subprocess.Popen, timeout: float = 300) -> None:
    """Until the hub answers through the relay. If the owner ends first, the error says why: the
    hub's last lines (its log is kept), else the owner's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if owner.poll() is not None:
            raise _stopped_while_starting(name, owner.returncode)
        with contextlib.suppress(LabError, OSError, urllib.error.URLError, ValueError, KeyError):
            if api(name, "/", timeout=2) is not None:
                return
        time.sleep(0.5)
    raise LabError(f"the classroom's hub did not answer within {timeout:.0f} s", f"less {hub_log(name)}")


def _stopped_while_starting(name: str, status: int | None) -> LabError:
    """The owner ended before the hub answered (it removed all it made): the hub's last lines say why
    (JupyterHub's own error, e.g. no configurable-http-proxy on PATH); without them, the owner's."""
    hub, owner = log_tail(hub_log(name)), log_tail(CLASSROOM_STATE / f"{name}.log")
    if hub:
        return LabError(f"the classroom stopped while starting (exit {status}); the hub's last lines:\n{hub}",
                        f"less {hub_log(name)}   # the hub's whole log")
    return LabError(f"the classroom stopped while starting (exit {status}); its owner's last lines:\n{owner}",
                    f"less {CLASSROOM_STATE / f'{name}.log'}")


def up(settings: Settings, timeout: float = 300) -> subprocess.Popen:
    """Start the owner process in the background (`dnlab classroom serve`) and wait for the hub."""
    if state_file(settings.name).is_file() and _alive(read_state(settings.name)["pid"]):
        raise LabError(f"classroom {settings.name!r} already runs", "make classroom-down")
    CLASSROOM_STATE.mkdir(parents=True, exist_ok=True)
    log = CLASSROOM_STATE / f"{settings.name}.log"
    argv = [sys.executable, "-m", "helpers", "classroom", "serve", "--name", settings.name,
            "--listen", settings.listen, "--admin", settings.admin, "--cpu", str(settings.cpu),
            "--mem", settings.mem, "--cull-timeout", str(settings.cull_timeout), "--image-dir", settings.image_dir,
            "--lang", settings.language]
    env = {**os.environ, **settings.extra_env, "DNLAB_CLASSROOM_CODE": settings.code,
           "DNLAB_CLASSROOM_ADMIN_PASSWORD": settings.admin_password}  # never on a command line
    owner = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_ready(settings.name, owner, timeout)
    return owner


def _alive(pid: int) -> bool:
    """True while `pid` runs. A zombie counts as gone: an owner started by this very process (`up`
    in a test or the bench) stays one until its parent reaps it, long after it finished."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def down(name: str = CLASSROOM, timeout: float = 180) -> list[str]:
    """Stop the owner (it removes what it made); sweep what a crashed owner left. What was done."""
    done = []
    with contextlib.suppress(LabError):
        pid = read_state(name)["pid"]
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            done.append(f"stopped the classroom's owner (pid {pid})")
    full = sandbox.full_name(name)
    if not sandbox.in_use(full):
        done += sandbox.remove(full)
    shutil.rmtree(state_dir(name), ignore_errors=True)
    log = CLASSROOM_STATE / f"{name}.log"
    with contextlib.suppress(OSError):  # the owner's own account of its teardown, then its logs go too
        done += [line for line in log.read_text().splitlines() if line.startswith("classroom: ")]
    log.unlink(missing_ok=True)
    hub_log(name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        CLASSROOM_STATE.rmdir()  # only if no other classroom is left
    return done


# --- the instructor view ---------------------------------------------------------------------------

def _exec_text(container, argv: list[str]) -> tuple[int, str]:
    result = container.exec_run(argv, demux=False)
    return result.exit_code, (result.output or b"").decode(errors="replace")


def learner_world(container) -> dict:
    """Whether the learner's world is up and which labs it passed, read inside their container."""
    code, text = _exec_text(container, ["dnlab", "status", "--json"])
    try:
        world_up = bool(json.loads(text).get("up"))
    except ValueError:
        world_up = False
    code, text = _exec_text(container, ["cat", PROGRESS_FILE])
    try:
        passed = json.loads(text).get("passed", {}) if code == 0 else {}
    except ValueError:
        passed = {}
    labs = sorted(((int(n), v.get("slug", "")) for n, v in passed.items() if n.isdigit()), key=lambda p: p[0])
    return {"world_up": world_up, "labs_passed": [n for n, _ in labs], "lab_slugs": [s for _, s in labs]}


def learner_rows(users: list[dict], client) -> list[dict]:
    """One row per hub user (the hub API's user models): admin, server ready, container running,
    world up, labs passed; `client` is the classroom engine's SDK client."""
    containers = {c.name: c for c in client.containers.list(filters={"label": LABEL_CLASSROOM})}
    rows = []
    for user in sorted(users, key=lambda u: u["name"]):
        server = (user.get("servers") or {}).get("", {})
        container = containers.get(CLASSROOM_CONTAINER.format(username=user["name"]))
        row = {"learner": user["name"], "admin": bool(user.get("admin")),
               "server_ready": bool(server.get("ready")), "container": container is not None,
               "last_activity": user.get("last_activity"), "world_up": False, "labs_passed": [],
               "lab_slugs": []}
        if container is not None:
            row.update(learner_world(container))
        rows.append(row)
    return rows


def status(name: str = CLASSROOM) -> list[dict]:
    """The instructor view of classroom `name`, from this machine (through the relay)."""
    import docker  # the SDK only when the view is asked for (the CLI starts fast)

    client = docker.DockerClient(base_url=read_state(name)["docker"])
    try:
        return learner_rows(api(name, "users"), client)
    finally:
        client.close()
