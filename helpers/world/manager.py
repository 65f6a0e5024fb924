"""Bring a world up, report on it, take it down, and sweep what crashed worlds left behind.

Every resource is written into the world's manifest *before* it is made, and every namespace carries
the world's label, so cleanup finds exactly the course's things and nothing else.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers.errors import LabError
from helpers.world import engine, image, netns
from helpers.world.model import World
from helpers.world.naming import (
    DATA_ROOT,
    HOSTS,
    INET_IP,
    LAN,
    MACHINE_IPS,
    MACHINES,
    ROLES,
    ROUTER_LAN_IP,
    ROUTER_WAN_IP,
    RUN_ROOT,
    SCRATCH,
    SERVICE_HTTP_PORT,
    SERVICE_TCP_PORT,
    WorldNames,
    parse_namespace,
    prefix_for,
    world_id_from_env,
)
from helpers.world.proc import require_root, which

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class UpReport:
    prefix: str
    reused: bool
    made: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.reused and not self.made:
            return f"world {self.prefix} is already up (checked in {self.seconds:.2f} s)"
        verb = "repaired" if self.reused else "made"
        return f"world {self.prefix} {verb} in {self.seconds:.2f} s: " + "; ".join(self.made)


def _names(world_id: str | None) -> WorldNames:
    return WorldNames(world_id if world_id is not None else world_id_from_env())


@contextmanager
def _locked(names: WorldNames):
    """One `up`/`down` at a time per world (two learners' worlds don't wait for each other)."""
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    with open(RUN_ROOT / f"{names.prefix}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _cgroup_parent(names: WorldNames, host: str) -> str:
    return f"/{names.prefix}-{host}"


def _write_manifest(names: WorldNames) -> None:
    names.state_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"prefix": names.prefix, "namespaces": list(names.namespaces.values()),
                "contexts": [names.context(h) for h in HOSTS], "created": time.time()}
    names.manifest.write_text(json.dumps(manifest, indent=2))


# --- health -----------------------------------------------------------------------------------

def _topology_stamp(names: WorldNames) -> Path:
    """Written once every link, address and route is in place (a killed `up` leaves none)."""
    return names.state_dir / "topology.done"


def _topology_ok(names: WorldNames) -> bool:
    if not _topology_stamp(names).exists():
        return False
    for namespace in names.namespaces.values():
        if not netns.exists(namespace) or netns.marker_of(namespace) != names.marker:
            return False
    return True


def _service_pid(names: WorldNames) -> int | None:
    try:
        pid = int(names.service_pidfile.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        return pid if b"helpers.world.service" in cmdline else None
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


# --- making -----------------------------------------------------------------------------------

def _build_topology(names: WorldNames) -> None:
    ns = names.namespaces
    for role in ROLES:
        netns.create(ns[role], names.marker)
    router = [
        "link add lan0 type bridge",
        f"addr add {ROUTER_LAN_IP}/{LAN.prefixlen} dev lan0",
        "link set lan0 up",
        f"link add wan0 type veth peer name eth0 netns {ns['inet']}",
        f"addr add {ROUTER_WAN_IP}/24 dev wan0",
        "link set wan0 up",
    ]
    for machine in MACHINES:
        router += [f"link add p-{machine} type veth peer name eth0 netns {ns[machine]}",
                   f"link set p-{machine} master lan0", f"link set p-{machine} up"]
    netns.batch(ns["router"], router)
    netns.sysctl(ns["router"], "net.ipv4.ip_forward", "1")
    for machine in MACHINES:
        netns.batch(ns[machine], [f"addr add {MACHINE_IPS[machine]}/{LAN.prefixlen} dev eth0",
                                  "link set eth0 up", f"route add default via {ROUTER_LAN_IP}"])
    netns.batch(ns["inet"], [f"addr add {INET_IP}/24 dev eth0", "link set eth0 up",
                             f"route add default via {ROUTER_WAN_IP}"])


def _start_service(names: WorldNames) -> None:
    # Only the service runs in `inet`: whatever is there is a leftover of a killed `up`.
    netns.kill_all(netns.pids_inside(names.namespace("inet")))
    names.service_pidfile.unlink(missing_ok=True)
    argv = [which("nsenter"), f"--net=/run/netns/{names.namespace('inet')}", sys.executable, "-m",
            "helpers.world.service", "0.0.0.0", str(SERVICE_TCP_PORT), str(SERVICE_HTTP_PORT),
            str(names.service_log)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    # The child gets its own copy of the log's descriptor at spawn: ours can close right after.
    with open(names.state_dir / "inet-service.err", "ab") as errors:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=errors, env=env, start_new_session=True)
    names.service_pidfile.write_text(str(process.pid))


def _service_execing(names: WorldNames) -> bool:
    """The service's pid lives but shows no command line: nsenter is exec'ing Python right now
    (an exec in progress reads as an empty /proc/PID/cmdline), so it is starting, not dead."""
    try:
        pid = int(names.service_pidfile.read_text())
        return not Path(f"/proc/{pid}/cmdline").read_bytes() and netns._alive(pid)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False


def _wait_service(names: WorldNames, timeout: float = 10) -> None:
    """The service is up once it listens inside `inet` (read from the namespace's socket table)."""
    deadline = time.monotonic() + timeout
    port = f":{SERVICE_TCP_PORT:04X}"
    while time.monotonic() < deadline:
        pid = _service_pid(names)
        if pid is None:
            if _service_execing(names):
                time.sleep(0.02)
                continue
            break
        try:
            table = Path(f"/proc/{pid}/net/tcp").read_text()
            if any(line.split()[1].endswith(port) and line.split()[3] == "0A" for line in table.splitlines()[1:]):
                return
        except FileNotFoundError:
            break
        time.sleep(0.02)
    err = (names.state_dir / "inet-service.err")
    raise LabError(f"the internet service did not start: {err.read_text()[-800:] if err.exists() else ''}",
                   "sudo dnlab down && sudo dnlab up")


def _start_engine(names: WorldNames, host: str) -> None:
    paths = names.host(host)
    engine.stop(paths)  # a stale engine of a crashed world, if any
    process = engine.start(names.namespace(host), paths, _cgroup_parent(names, host))
    engine.wait_ready(paths, process)


def _load_image(names: WorldNames, host: str, rootfs: bytes) -> None:
    client = engine.client(names.host(host))
    try:
        image.load_into(client, rootfs)
    finally:
        client.close()


def up(world_id: str | None = None) -> UpReport:
    """Make the world, or reuse it if it runs, or repair it after a crash. Idempotent."""
    require_root()
    names = _names(world_id)
    for tool in ("ip", "nsenter", "dockerd", "containerd", "runc", "iptables"):
        which(tool)
    started = time.monotonic()
    with _locked(names):
        report = UpReport(names.prefix, reused=_topology_ok(names))
        if not report.reused:
            _teardown(names)  # a half-made world of a killed `up`: start from nothing
            _write_manifest(names)
            _build_topology(names)
            _topology_stamp(names).touch()
            report.made.append(f"namespaces {', '.join(names.namespaces.values())}")
        names.state_dir.mkdir(parents=True, exist_ok=True)
        dead_engines = [h for h in HOSTS if not engine.ping(names.host(h), timeout=2)]
        service_dead = _service_pid(names) is None
        existing_contexts = engine.contexts()
        missing_contexts = [h for h in HOSTS if existing_contexts.get(names.context(h)) != names.host(h).base_url]
        if dead_engines or service_dead or missing_contexts:
            rootfs = image.cached_rootfs() if dead_engines else b""
            with ThreadPoolExecutor(max_workers=4) as pool:
                jobs = [pool.submit(_start_engine, names, h) for h in dead_engines]
                if service_dead:
                    jobs.append(pool.submit(_start_service, names))
                for host in missing_contexts:
                    jobs.append(pool.submit(engine.create_context, names.context(host), names.host(host),
                                            f"dnlab lab world {names.prefix}, Docker host {host}"))
                for job in jobs:
                    job.result()
                loads = [pool.submit(_load_image, names, h, rootfs) for h in dead_engines]
                if service_dead:
                    _wait_service(names)
                for job in loads:
                    job.result()
            if dead_engines:
                report.made.append(f"dockerd on {', '.join(dead_engines)} with image {image.IMAGE}")
            if service_dead:
                report.made.append(f"internet service at {INET_IP} (tcp {SERVICE_TCP_PORT}, http {SERVICE_HTTP_PORT})")
            if missing_contexts:
                report.made.append("docker contexts " + ", ".join(names.context(h) for h in missing_contexts))
    report.seconds = time.monotonic() - started
    return report


def lab(world_id: str | None = None) -> World:
    """The running world (made if needed), with a docker SDK client per host: the notebooks' entry."""
    names = _names(world_id)
    up(names.world_id)
    return World(names)


@dataclass
class ScratchEngine:
    """A fresh engine: `client` (docker SDK) and `cli(*args)` (the real docker CLI)."""

    client: object
    base_url: str

    def cli(self, *args: str) -> str:
        return engine.docker_cli(self.base_url, *args)


@contextmanager
def scratch_engine(world_id: str | None = None):
    """A brand-new dockerd in its own namespace, for showing what a *fresh* engine has.

    Yields a ScratchEngine; the engine, its namespace and its files are removed on exit.
    """
    require_root()
    names = _names(world_id)
    namespace, paths = names.namespace(SCRATCH), names.host(SCRATCH)
    if netns.exists(namespace) and netns.marker_of(namespace) == names.marker:
        engine.stop(paths)
        netns.delete(namespace)
    netns.create(namespace, names.marker)
    client = None
    try:
        process = engine.start(namespace, paths, _cgroup_parent(names, SCRATCH))
        engine.wait_ready(paths, process)
        client = engine.client(paths)
        yield ScratchEngine(client, paths.base_url)
    finally:
        if client is not None:
            client.close()
        engine.stop(paths)
        netns.delete(namespace)
        engine.remove_files(paths)
        _remove_cgroups(names, (SCRATCH,))


# --- reporting --------------------------------------------------------------------------------

def status(world_id: str | None = None) -> dict:
    names = _names(world_id)
    contexts = engine.contexts()
    report = {
        "prefix": names.prefix,
        "namespaces": {role: {"name": ns, "exists": netns.exists(ns),
                              "labelled": netns.exists(ns) and netns.marker_of(ns) == names.marker}
                       for role, ns in names.namespaces.items()},
        "engines": {h: {"pid": engine.pid(names.host(h)), "socket": str(names.host(h).socket),
                        "answers": engine.ping(names.host(h)),
                        "context": names.context(h) if contexts.get(names.context(h)) else None}
                    for h in HOSTS},
        "service": {"pid": _service_pid(names), "address": str(INET_IP),
                    "tcp": SERVICE_TCP_PORT, "http": SERVICE_HTTP_PORT},
    }
    report["up"] = (all(n["labelled"] for n in report["namespaces"].values())
                    and all(e["answers"] for e in report["engines"].values())
                    and report["service"]["pid"] is not None)
    return report


# --- removing ---------------------------------------------------------------------------------

def _remove_cgroups(names: WorldNames, hosts: tuple[str, ...] = HOSTS + (SCRATCH,)) -> None:
    for host in hosts:
        parent = _cgroup_parent(names, host).lstrip("/")
        for controller in CGROUP_ROOT.glob("*"):
            directory = controller / parent
            if directory.is_dir():
                # Leaves first: rmdir only works on empty cgroups, which is all a stopped engine leaves.
                for sub in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if sub.is_dir():
                        with suppress(OSError):
                            sub.rmdir()
                with suppress(OSError):
                    directory.rmdir()


def _manifest_namespaces(names: WorldNames) -> set[str]:
    try:
        return set(json.loads(names.manifest.read_text())["namespaces"])
    except (FileNotFoundError, ValueError, KeyError):
        return set()


def _teardown(names: WorldNames) -> list[str]:
    """Remove every trace of one world. Touches only what carries its names and label."""
    removed = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda h: engine.stop(names.host(h)), HOSTS + (SCRATCH,)))
    pid = _service_pid(names)
    if pid is not None:
        netns.kill_all([pid])
    listed = _manifest_namespaces(names)
    for namespace in [*names.namespaces.values(), names.namespace(SCRATCH)]:
        if not netns.exists(namespace):
            continue
        label = netns.marker_of(namespace)
        # Ours if it carries our label, or if our manifest says we were making it (a killed `up`
        # can leave one before its label was set). A same-named namespace of a learner is neither.
        if label == names.marker or (label is None and namespace in listed):
            netns.delete(namespace)
            removed.append(f"namespace {namespace}")
    contexts = engine.contexts()
    for host in HOSTS:
        context = names.context(host)
        if context in contexts and contexts[context] == names.host(host).base_url:
            engine.remove_context(context)
            removed.append(f"context {context}")
        engine.remove_files(names.host(host))
    engine.remove_files(names.host(SCRATCH))
    _remove_cgroups(names)
    engine.unmount_below(names.state_dir, names.data_dir)
    for directory in (names.state_dir, names.data_dir):
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(f"directory {directory}")
    return removed


def down(world_id: str | None = None) -> list[str]:
    """Remove this world entirely: engines, containers, namespaces, contexts, files."""
    require_root()
    names = _names(world_id)
    with _locked(names):
        removed = _teardown(names)
    (RUN_ROOT / f"{names.prefix}.lock").unlink(missing_ok=True)
    _remove_empty_roots()
    return removed


def _remove_empty_roots() -> None:
    for root in (RUN_ROOT, DATA_ROOT):
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()


def discover() -> list[str]:
    """Prefixes of every world of the course that left anything on this machine."""
    prefixes: set[str] = set()
    for root in (RUN_ROOT, DATA_ROOT):
        if root.is_dir():
            for entry in root.iterdir():
                name = entry.name.removesuffix(".lock")
                try:
                    prefixes.add(prefix_for(WorldNames.from_prefix(name).world_id))
                except ValueError:
                    continue
    for namespace in netns.list_names():
        parsed = parse_namespace(namespace)
        if parsed and netns.marker_of(namespace) == WorldNames.from_prefix(parsed[0]).marker:
            prefixes.add(parsed[0])
    for endpoint in engine.contexts().values():
        if endpoint.startswith(f"unix://{RUN_ROOT}/"):
            prefixes.add(endpoint[len(f"unix://{RUN_ROOT}/"):].split("/")[0])
    return sorted(prefixes)


def clean() -> dict[str, list[str]]:
    """Sweep every world of the course (running or crashed). Nothing else is touched."""
    require_root()
    swept = {}
    for prefix in discover():
        names = WorldNames.from_prefix(prefix)
        swept[prefix] = _teardown(names)
        (RUN_ROOT / f"{prefix}.lock").unlink(missing_ok=True)
    _remove_empty_roots()
    return swept


def status_all() -> list[dict]:
    """One line of status per world of the course on this machine (a workshop server has several)."""
    rows = []
    for prefix in discover():
        report = status(WorldNames.from_prefix(prefix).world_id)
        rows.append({"prefix": prefix, "world": WorldNames.from_prefix(prefix).world_id, "up": report["up"],
                     "engines answering": [h for h, e in report["engines"].items() if e["answers"]]})
    return rows


__all__ = ["UpReport", "up", "down", "clean", "status", "status_all", "lab", "discover", "asdict"]
