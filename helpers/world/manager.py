"""Bring a world up, report on it, take it down, and sweep what crashed worlds left behind.

Every resource is written into the world's manifest *before* it is made, and every namespace carries
the world's label, so cleanup finds exactly the course's things and nothing else.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from helpers.errors import DockerCliError, LabError, UsageError, dnlab_command
from helpers.world import engine, engines, image, leftovers, lifecycle, netns, worldlock
from helpers.world.model import World
from helpers.world.naming import (
    DATA_ROOT,
    DNS_PORT,
    HOSTS,
    INET_IP,
    LAN,
    MACHINE_IPS,
    MACHINES,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    ROLES,
    ROUTER_LAN_IP,
    ROUTER_WAN_IP,
    RUN_ROOT,
    SCRATCH,
    SERVICE_HTTP_PORT,
    SERVICE_TCP_PORT,
    WORLD_ENV,
    HostPaths,
    WorldNames,
    world_id_from_env,
)
from helpers.world.proc import require_root, which


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
    """The world's names. An empty id (`--world ''`, `DNLAB_WORLD=`) is an error: taking it for the
    default world would act on someone else's world."""
    if world_id == "" or (world_id is None and os.environ.get(WORLD_ENV) == ""):
        raise UsageError(f"the world id is empty (--world '' or {WORLD_ENV}=''): name a world, or leave both "
                         "out for the default world", f"unset {WORLD_ENV}   # or: {dnlab_command('...', 'w2')}")
    return WorldNames(world_id if world_id is not None else world_id_from_env())


def command_for(names: WorldNames, verb: str) -> str:
    """The `dnlab` command line that does `verb` to this world (what a fix line tells the learner)."""
    return dnlab_command(verb, names.world_id)


@contextmanager
def _locked(names: WorldNames, verb: str = "up") -> Iterator[worldlock.Held]:
    """One `up`/`down` at a time per world (two learners' worlds don't wait for each other); root's
    alone, never deleted while waited on, a waiter says what it waits for (helpers/world/worldlock.py)."""
    with worldlock.locked(names.prefix, verb, root=RUN_ROOT) as held:
        yield held


def _private_dir(path: Path) -> None:
    """A folder only root can enter (mkdir's own mode is masked by the umask; an older one may be 0755)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR_MODE)


def _private_file(path: Path) -> None:
    """A file only root can read, made before its writer opens it (appending keeps the mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE))
    path.chmod(PRIVATE_FILE_MODE)


def make_private(names: WorldNames) -> None:
    """The world's folders 0700 and its logs and configs 0600: they hold the engines' sockets and
    data, the learner's traffic log and the engines' logs, none of them for other users."""
    # RUN_ROOT and DATA_ROOT too: no other user lists the worlds, nor reaches a world's lock (issue 23.2).
    for directory in (RUN_ROOT, DATA_ROOT, names.state_dir, names.data_dir, *(names.host(h).state for h in HOSTS)):
        _private_dir(directory)
    files = [names.service_log, names.dns_log, names.state_dir / "inet-service.err"]
    for host in HOSTS:
        files += [names.host(host).log, names.host(host).config]
    for path in files:
        _private_file(path)


def _write_manifest(names: WorldNames) -> None:
    _private_dir(names.state_dir)
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


def _images_lacking(paths: HostPaths, timeout: float = 2.0) -> list[str] | None:
    """The course images (lab image, stand-ins, toolbox) the engine lacks, [] if none; None if it does
    not answer. A killed `up` can leave an engine running with no image: the next trace would try a pull."""
    lacking = []
    for tag in image.COURSE_TAGS:
        found = engine.get_status(paths, f"/images/{quote(tag, safe='/:')}/json", timeout)
        if found is None:
            return None
        if found != 200:
            lacking.append(tag)
    return lacking


def _docker_cli_present() -> bool:
    return shutil.which("docker") is not None


def _world_contexts(names: WorldNames) -> dict[str, str]:
    """This world's docker CLI contexts that exist: name -> endpoint. Read by name (`context inspect`),
    so a malformed context of someone else, which makes `docker context ls` fail as a whole, is no
    obstacle."""
    if not _docker_cli_present():
        return {}
    wanted = [names.context(h) for h in HOSTS]
    try:
        shown = engine.run_docker(["context", "inspect", "--format", "{{json .}}", *wanted], check=False)
    except DockerCliError:
        return {}
    found = {}
    for line in shown.stdout.splitlines():
        with suppress(ValueError, KeyError, TypeError, AttributeError):
            entry = json.loads(line)
            found[entry["Name"]] = entry["Endpoints"]["docker"]["Host"]
    return found


@dataclass
class Missing:
    """The parts of a world that are not there: what `up` repairs and `status` reports."""

    engines: list[str] = field(default_factory=list)    # hosts whose engine does not answer
    images: dict[str, list[str]] = field(default_factory=dict)  # host -> course images its engine lacks
    service: bool = False                                # the internet service does not run
    contexts: list[str] = field(default_factory=list)   # hosts without their docker CLI context

    def __bool__(self) -> bool:
        return bool(self.engines or self.images or self.service or self.contexts)

    def lines(self, names: WorldNames) -> list[str]:
        """One line per missing part, as `status` prints it."""
        shown = [f"dockerd on {h} does not answer" for h in self.engines]
        shown += [f"dockerd on {h} lacks {', '.join(tags)}" for h, tags in self.images.items()]
        shown += ["the internet service does not run"] if self.service else []
        shown += [f"docker context {names.context(h)} is missing" for h in self.contexts]
        return shown


def _missing(names: WorldNames, images: dict[str, list[str] | None] | None = None,
             contexts: dict[str, str] | None = None) -> Missing:
    """Check every part a running world needs (the namespaces are `_topology_ok`'s); `images` and
    `contexts` are what the caller already read (`_images_lacking` per host, `_world_contexts`)."""
    images = images if images is not None else {h: _images_lacking(names.host(h)) for h in HOSTS}
    missing = Missing(service=not _service_ok(names))
    missing.engines = [h for h in HOSTS if images[h] is None]
    missing.images = {h: tags for h, tags in images.items() if tags}
    if _docker_cli_present():  # without the CLI there are no contexts to make; `doctor` reports it
        existing = contexts if contexts is not None else _world_contexts(names)
        missing.contexts = [h for h in HOSTS if existing.get(names.context(h)) != names.host(h).base_url]
    return missing


# --- making -----------------------------------------------------------------------------------

def _build_topology(names: WorldNames) -> None:
    """The five namespaces, their links, addresses and routes. Each step's processes (`ip`, `sysctl`)
    run side by side where they touch different namespaces: most of their time is exec'ing them."""
    ns = names.namespaces
    # The first alone: on a machine where no namespace was ever named, `ip netns add` mounts /run/netns.
    netns.create(ns[ROLES[0]], names.marker)
    with ThreadPoolExecutor(max_workers=len(ROLES)) as pool:
        list(pool.map(lambda role: netns.create(ns[role], names.marker), ROLES[1:]))
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
    inside = {machine: [f"addr add {MACHINE_IPS[machine]}/{LAN.prefixlen} dev eth0", "link set eth0 up",
                        f"route add default via {ROUTER_LAN_IP}"] for machine in MACHINES}
    inside["inet"] = [f"addr add {INET_IP}/24 dev eth0", "link set eth0 up", f"route add default via {ROUTER_WAN_IP}"]
    with ThreadPoolExecutor(max_workers=len(inside) + 1) as pool:
        jobs = [pool.submit(netns.sysctl, ns["router"], "net.ipv4.ip_forward", "1")]
        jobs += [pool.submit(netns.batch, ns[role], commands) for role, commands in inside.items()]
        for job in jobs:
            job.result()


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


def _service_ok(names: WorldNames) -> bool:
    """The service runs and serves the lab's DNS (UDP port DNS_PORT in its socket table): one started
    by a course without the DNS server is replaced by the next `up`."""
    pid = _service_pid(names)
    try:
        table = Path(f"/proc/{pid}/net/udp").read_text() if pid else ""
    except FileNotFoundError:
        return False
    return any(line.split()[1].endswith(f":{DNS_PORT:04X}") for line in table.splitlines()[1:])


def _service_execing(names: WorldNames) -> bool:
    """The service's pid lives but shows no command line: nsenter is exec'ing Python right now
    (an exec in progress reads as an empty /proc/PID/cmdline), so it is starting, not dead."""
    try:
        pid = int(names.service_pidfile.read_text())
        return not Path(f"/proc/{pid}/cmdline").read_bytes() and netns._alive(pid)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False


def wait_service(names: WorldNames, timeout: float = 10) -> None:
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
                   f"{command_for(names, 'down')} && {command_for(names, 'up')}")


def _start_engine(names: WorldNames, host: str, binaries: Path | None = None, stale: bool = True) -> None:
    """Start `host`'s engine from `binaries` (engines.bin_dir of its choice; None: the machine's).
    `stale=False`: the world was torn down just before (`_teardown` stopped every engine of it), so
    neither a stale engine nor a crashed swarm member is looked for."""
    site = lifecycle.world_site(names, host)
    if stale:
        site.stop()  # a stale engine of a crashed world, if any
        # A crashed swarm member restarts once the others' gossip has dropped it (issue 12.8).
        engine.wait_peers_forget(site.paths, [names.host(h) for h in HOSTS if h != host])
    site.start(binaries=binaries, fix=repair_fix(names))


def repair_fix(names: WorldNames) -> str:
    """The fix for an engine of this world that does not come up: THIS world's `down` and `up` (never
    `clean`: that would sweep other learners' worlds too)."""
    return f"{command_for(names, 'down')} && {command_for(names, 'up')}"


def wait_engine(names: WorldNames, host: str, process: subprocess.Popen | None = None) -> None:
    """Wait until `host`'s engine answers; if it does not, a LabError whose fix is `repair_fix`."""
    lifecycle.world_site(names, host).wait_ready(process, repair_fix(names))


def _load_image(names: WorldNames, host: str, archive: Path | None) -> None:
    """Load the course images into `host`'s engine unless it holds this build already (a seeded
    data-root does): asked on the socket first, so a cold `up` never imports the docker SDK."""
    archive = archive or image.cached_archive()
    if image.engine_has_build(names.host(host), image.build_of(archive)):
        return
    client = engine.client(names.host(host))
    try:
        image.load_course_images(client, archive)
    finally:
        client.close()


def _require_engine_tools(binaries: dict[str, Path | None]) -> None:
    """dockerd, containerd and runc of each host's engine: a fetched one's bin/ first (the learner's course
    image carries Docker 28 alone), the machine's PATH for what it lacks (runc on Debian 12) and for `system`."""
    for folder in set(binaries.values()):
        for tool in ("dockerd", "containerd", "runc"):
            if folder is None or not (folder / tool).exists():
                which(tool)


def up(world_id: str | None = None, engine_spec: str | None = None) -> UpReport:
    """Make the world, or reuse it if it runs, or repair it after a crash. Idempotent.

    `engine_spec` (else `$DNLAB_ENGINE`; syntax in helpers/world/engines.py: `28`, `host2=28`) picks
    each host's engine. A new world records the choice and a later `up` repairs each host on its own;
    a running world asked for another engine than a host runs is a LabError whose fix is `down`, then
    `up --engine SPEC` (an engine's data-root is not carried across versions). A release not cached
    yet is fetched before anything is made."""
    given = engine_spec if engine_spec is not None else os.environ.get(engines.ENGINE_ENV)
    wanted = engines.parse_spec(given, world_id=_names(world_id).world_id)  # bad input exits 2 before anything else
    require_root()
    names = _names(world_id)
    for tool in ("ip", "nsenter", "iptables"):   # the engines' own: once the choice is known, below
        which(tool)
    started = time.monotonic()
    with _locked(names):
        report = UpReport(names.prefix, reused=_topology_ok(names))
        recorded = engines.read_record(names.state_dir) if report.reused else None
        if report.reused:
            check_engines(names, wanted, recorded, given or "")
        choice = engines.resolve(wanted, recorded)
        binaries = {h: engines.bin_dir(v) for h, v in choice.items()}
        _require_engine_tools(binaries)
        seeds: dict[str, Seed] | None = None
        if not report.reused:
            _teardown(names)  # a half-made world of a killed `up`: start from nothing
            _write_manifest(names)
            make_private(names)  # before the seeds below write into its folders
            seeds = _make_topology_and_seeds(names, binaries)
            _topology_stamp(names).touch()
            report.made.append(f"namespaces {', '.join(names.namespaces.values())}")
        if recorded != choice:
            engines.write_record(names.state_dir, choice)
        make_private(names)
        # A world just torn down and made lacks every part (its contexts went with the teardown): no need
        # to ask each part, which costs a docker CLI run.
        missing = _missing(names) if seeds is None else Missing(
            engines=list(HOSTS), service=True, contexts=list(HOSTS) if _docker_cli_present() else [])
        if missing:
            _repair(names, missing, binaries, seeds)
            report.made += _repaired(names, missing, choice)
    report.seconds = time.monotonic() - started
    return report


def check_engines(names: WorldNames, wanted: dict[str, str], recorded: dict[str, str] | None, given: str) -> None:
    """A running world keeps its hosts' engines: asking for another one is an error naming the fix."""
    differ = engines.conflicts(wanted, recorded)
    if differ:
        runs = "; ".join(f"{h} runs engine {now}, asked for {asked}" for h, (now, asked) in differ.items())
        raise LabError(f"world {names.prefix} is running with other engines ({runs}): a running world keeps "
                       "its engines (their data is not carried across versions)",
                       f"{command_for(names, 'down')} && {command_for(names, 'up')} --engine {given}")


@dataclass(frozen=True)
class Seed:
    """How a host's data-root got its course images before its engine starts (helpers/world/image.py):
    from the seed of this build and dockerd (`seeded`), or not, and then, if it was `fresh`, its engine
    leaves that seed once it has loaded them."""

    fresh: bool
    seeded: bool

    @property
    def leaves_seed(self) -> bool:
        return self.fresh and not self.seeded


def _seed(names: WorldNames, host: str, archive: Path | None, binaries: Path | None) -> Seed:
    """Seed `host`'s data-root if it is fresh and a seed of this build and dockerd exists."""
    build = image.build_of(archive) if archive else None
    fresh = build is not None and image.is_fresh(names.host(host).data_root)
    return Seed(fresh, fresh and image.seed_data_root(names.host(host).data_root, build, _dockerd(binaries)))


def _dockerd(binaries: Path | None) -> Path:
    return binaries / "dockerd" if binaries else Path(which("dockerd"))


def _make_topology_and_seeds(names: WorldNames, binaries: dict[str, Path | None]) -> dict[str, Seed]:
    """A new world's namespaces and links, and its engines' data-roots seeded meanwhile (neither needs
    the other; each engine starts once both are done): what each seeding did, by host."""
    archive = image.cached_archive()
    with ThreadPoolExecutor(max_workers=len(HOSTS)) as pool:
        seeding = {h: pool.submit(_seed, names, h, archive, binaries.get(h)) for h in HOSTS}
        _build_topology(names)
        return {h: job.result() for h, job in seeding.items()}


def _start_and_load(names: WorldNames, host: str, archive: Path | None, binaries: Path | None = None,
                    seed: Seed | None = None) -> None:
    """Start a host's engine and load the course images into it at once (no wait for the other).
    A fresh data-root starts from the seed of this build and dockerd, if there is one; the first
    fresh one to load leaves that seed (helpers/world/image.py). `seed`: the data-root was seeded
    already, in a world torn down just before (no stale engine of it can run, none is looked for)."""
    done = seed if seed is not None else _seed(names, host, archive, binaries)
    _start_engine(names, host, binaries, stale=seed is None)
    _load_image(names, host, archive)
    if done.leaves_seed and archive is not None:
        image.save_seed(names.host(host).data_root, image.build_of(archive), _dockerd(binaries))


def _repair(names: WorldNames, missing: Missing, binaries: dict[str, Path | None] | None = None,
            seeds: dict[str, Seed] | None = None) -> None:
    """Start what does not run, load the lab image where it is missing, make the contexts: in parallel.
    `seeds`: a new world's data-roots, seeded already (`_make_topology_and_seeds`)."""
    loads_for = missing.engines + list(missing.images)
    rootfs = image.cached_archive() if loads_for else None
    with ThreadPoolExecutor(max_workers=6) as pool:
        # Each engine loads the course images as soon as it answers, while the rest goes on.
        jobs = [pool.submit(_start_and_load, names, h, rootfs, (binaries or {}).get(h), (seeds or {}).get(h))
                for h in missing.engines]
        if missing.service:
            jobs.append(pool.submit(_start_service, names))
        for host in missing.contexts:
            jobs.append(pool.submit(engine.create_context, names.context(host), names.host(host),
                                    f"dnlab lab world {names.prefix}, Docker host {host}"))
        for job in jobs:
            job.result()
        loads = [pool.submit(_load_image, names, h, rootfs) for h in missing.images]
        if missing.service:
            wait_service(names)
        for job in loads:
            job.result()


def restart_engine(names: WorldNames, host: str, grace: float = 0.0) -> list[str]:
    """Restart one host's engine in place, from the engine the world recorded for it, its data-root
    (images, networks, containers) kept; the containers that were running on it are started again.

    For a state that only a new dockerd process clears: a swarm's gossip agent that outlived its
    swarm and holds 7946 (helpers/world/swarm.py). Returns the names of the containers started again."""
    from docker.errors import APIError as DockerAPIError  # the SDK (60 ms of imports): not on `up`'s path

    paths = names.host(host)
    with _locked(names, "restart"):
        client = engine.client(paths)
        try:
            running = [c.id for c in client.containers.list()]
        finally:
            client.close()
        binaries = engines.bin_dir(engines.resolve({}, engines.read_record(names.state_dir))[host])
        lifecycle.world_site(names, host).stop(grace=grace)
        _start_engine(names, host, binaries)
    client = engine.client(paths)
    try:
        started = []
        for container_id in running:
            container = client.containers.get(container_id)
            try:
                if container.status != "running":
                    container.start()
            except DockerAPIError:  # on a network that went meanwhile (a swarm's, after leaving it)
                continue
            started.append(container.name)
        return started
    finally:
        client.close()


def _repaired(names: WorldNames, missing: Missing, choice: dict[str, str] | None = None) -> list[str]:
    """What `_repair` made, as `up` reports it."""
    made = []
    if missing.engines:
        hosts = [f"{h} (engine {(choice or {}).get(h, engines.SYSTEM)})" for h in missing.engines]
        made.append(f"dockerd on {', '.join(hosts)} with images {', '.join(image.COURSE_TAGS)}")
    if missing.images:
        made += [f"{', '.join(tags)} loaded on {host} (its engine answered without)"
                 for host, tags in missing.images.items()]
    if missing.service:
        made.append(f"internet service at {INET_IP} (tcp {SERVICE_TCP_PORT}, http {SERVICE_HTTP_PORT})")
    if missing.contexts:
        made.append("docker contexts " + ", ".join(names.context(h) for h in missing.contexts))
    return made


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
    site = lifecycle.world_site(names, SCRATCH)
    site.remove()  # an earlier lesson's, killed before its own tidy-up
    site.make_namespace()
    # A fresh engine of the release the world's host1 runs (the chapters compare it with host1's).
    recorded = engines.read_record(names.state_dir)
    wanted = engines.parse_spec(os.environ.get(engines.ENGINE_ENV))
    binaries = engines.bin_dir(engines.resolve({} if recorded else wanted, recorded)["host1"])
    client = None
    try:
        site.start(binaries=binaries, fix=repair_fix(names))
        client = engine.client(site.paths)
        yield ScratchEngine(client, site.paths.base_url)
    finally:
        if client is not None:
            client.close()
        site.remove()
        _remove_if_unused(names)


def _remove_if_unused(names) -> None:
    """The world's own folders, where a scratch engine alone made them (`dnlab doctor` on a machine
    with no world up): left empty, `status --all` would call them a crashed world's leftovers."""
    if any(netns.exists(ns) for ns in names.namespaces.values()):
        return
    for folder in (names.state_dir, names.data_dir):
        if folder.is_dir() and not any(folder.iterdir()):
            with suppress(OSError):  # something was made there meanwhile: it is someone's
                folder.rmdir()


# --- reporting --------------------------------------------------------------------------------

def status(world_id: str | None = None) -> dict:
    """What of the world runs, part by part; `missing` names each part a running world needs and
    lacks (an engine, the lab image on an engine, the service, a context), `up` is true without any."""
    names = _names(world_id)
    contexts = _world_contexts(names)
    images = {h: _images_lacking(names.host(h)) for h in HOSTS}
    missing = _missing(names, images, contexts)
    chosen = engines.resolve({}, engines.read_record(names.state_dir))
    report = {
        "prefix": names.prefix,
        "namespaces": {role: {"name": ns, "exists": netns.exists(ns),
                              "labelled": netns.exists(ns) and netns.marker_of(ns) == names.marker}
                       for role, ns in names.namespaces.items()},
        "engines": {h: {"pid": engine.pid(names.host(h)), "socket": str(names.host(h).socket),
                        "answers": images[h] is not None, "image": images[h] == [],
                        # The engine's own word (API `GET /version`), and the choice the world recorded.
                        "version": engine.server_version(names.host(h)) if images[h] is not None else None,
                        "engine": chosen[h],
                        "images lacking": images[h] or [],
                        "context": names.context(h) if _context_ok(names, h, contexts) else None}
                    for h in HOSTS},
        "service": {"pid": _service_pid(names), "address": str(INET_IP),
                    "tcp": SERVICE_TCP_PORT, "http": SERVICE_HTTP_PORT},
    }
    report["missing"] = [f"namespace {ns['name']} is absent" for ns in report["namespaces"].values()
                         if not ns["labelled"]] + missing.lines(names)
    report["up"] = not report["missing"]
    return report


def _context_ok(names: WorldNames, host: str, contexts: dict[str, str]) -> bool:
    """True if the host's docker context exists and points at its engine."""
    return contexts.get(names.context(host)) == names.host(host).base_url


# --- removing ---------------------------------------------------------------------------------

def _manifest_namespaces(names: WorldNames) -> set[str]:
    try:
        return set(json.loads(names.manifest.read_text())["namespaces"])
    except (OSError, ValueError, KeyError, TypeError):  # gone, or a malformed leftover: trust labels alone
        return set()


def end_captures(names: WorldNames) -> None:
    """End every capture of this world, in any namespace (Docker's own too, which deleting the
    machines never reaches): each tcpdump names the world's capture folder on its command line
    (helpers/capture/tcpdump.py), so another world's captures are never hit."""
    from helpers.world.naming import CAPTURE_DIR

    mark = f"{names.state_dir / CAPTURE_DIR}/".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        with suppress(OSError):
            # Our pid namespace only: a course container here runs worlds with the same folders.
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "tcpdump" \
                    and mark in (entry / "cmdline").read_bytes() and engine.in_own_pid_namespace(entry.name):
                pids.append(int(entry.name))
    netns.kill_all(pids)


def _teardown(names: WorldNames) -> list[str]:
    """Remove every trace of one world. Touches only what carries its names and label."""
    removed = []
    end_captures(names)
    sites = [lifecycle.world_site(names, h) for h in HOSTS + (SCRATCH,)]
    lifecycle.stop_all(sites)
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
    contexts = _world_contexts(names)  # by name: a malformed context elsewhere does not hide ours
    for host in HOSTS:
        context = names.context(host)
        if contexts.get(context) == names.host(host).base_url:
            engine.remove_context(context)
            removed.append(f"context {context}")
    for site in sites:  # its folders and cgroups (its namespace went above, with the world's)
        site.remove(stopped=True)
    engine.unmount_below(names.state_dir, names.data_dir)
    for directory in (names.state_dir, names.data_dir):
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(f"directory {directory}")
    return removed


SIDE_WORLDS_FILE = "side-worlds"  # in a world's state folder: ids of the worlds made for it, one a line


def adopt(world_id: str | None, side_world_id: str) -> None:
    """Record world `side_world_id` as made for world `world_id` (a lesson's side world, chapter 7's on two
    engines): the `down` of `world_id` removes it too, so a kernel killed before its own tidy-up (no
    atexit runs on SIGKILL) leaves nothing behind once its world goes."""
    names = _names(world_id)
    record = names.state_dir / SIDE_WORLDS_FILE
    if side_world_id not in side_worlds(world_id):
        with open(record, "a") as out:
            out.write(side_world_id + "\n")
        _private_file(record)


def side_worlds(world_id: str | None) -> list[str]:
    """The ids `adopt` recorded for world `world_id`, each a valid world id (anything else is skipped)."""
    from helpers.world.naming import NamingError, validate_world_id

    try:
        lines = (_names(world_id).state_dir / SIDE_WORLDS_FILE).read_text().split()
    except OSError:
        return []
    valid = []
    for line in lines:
        with suppress(NamingError):
            valid.append(validate_world_id(line))
    return [v for v in valid if v and v != world_id]


def down(world_id: str | None = None) -> list[str]:
    """Remove this world entirely (engines, containers, namespaces, contexts, files), and the side
    worlds made for it (`adopt`)."""
    require_root()
    names = _names(world_id)
    removed = []
    for side in side_worlds(world_id):
        removed += [f"side world {side}: {what}" for what in down(side) if what.startswith("namespace")]
    with _locked(names, "down") as held:
        removed += _teardown(names)
        # What a world id with a control character left (`--world $'w\n'` before ids were matched whole).
        strays = lifecycle.sweep(leftovers.owners({names.prefix}, roots=(RUN_ROOT, DATA_ROOT)))
        for stray_removed in strays.removed.values():
            removed += stray_removed
        if strays.failed:
            name, why = next(iter(strays.failed.items()))
            raise LabError(f"could not remove the leftovers {name} of world {names.prefix}: {why}",
                           dnlab_command("down", names.world_id))
        held.remove()  # while held: a waiting `up` then takes the lock afresh, never beside a newcomer
    lifecycle.remove_empty_roots((RUN_ROOT, DATA_ROOT))
    return removed


def _is_prefix(name: str) -> bool:
    """True if `name` is a world's prefix (not someone else's file, nor a malformed leftover)."""
    try:
        WorldNames.from_prefix(name)
    except ValueError:  # NamingError
        return False
    return True


def _context_endpoints(warnings: list[str]) -> dict[str, str]:
    """Every docker CLI context: name -> endpoint. One malformed context makes `docker context ls`
    fail as a whole: that becomes a warning, and worlds are still found by their folders and namespaces."""
    if not _docker_cli_present():
        return {}
    try:
        listed = engine.run_docker(["context", "ls", "--format", "{{json .}}"], check=False)
    except DockerCliError as failed:
        warnings.append(f"docker context ls: {failed.problem}")
        return {}
    if listed.returncode != 0:
        warnings.append(f"docker context ls failed, so worlds known only by their contexts are not listed: "
                        f"{listed.stderr.strip()}")
    found = {}
    for line in listed.stdout.splitlines():
        with suppress(ValueError, KeyError, TypeError, AttributeError):
            entry = json.loads(line)
            found[entry["Name"]] = entry.get("DockerEndpoint", "")
    return found


def discover(warnings: list[str] | None = None, marked: lifecycle.Marked | None = None) -> list[str]:
    """Prefixes of every world of the course that left anything on this machine: a namespace carrying
    its marker or a folder (`lifecycle.find_marked`), or a docker context aimed at its folder. What
    could not be read (a malformed context) goes into `warnings`, never stops the search."""
    warnings = warnings if warnings is not None else []
    marked = marked if marked is not None else lifecycle.find_marked((RUN_ROOT, DATA_ROOT))
    prefixes = set(marked.worlds)
    for endpoint in _context_endpoints(warnings).values():
        if endpoint.startswith(f"unix://{RUN_ROOT}/"):
            candidate = endpoint[len(f"unix://{RUN_ROOT}/"):].split("/")[0]
            if _is_prefix(candidate):
                prefixes.add(candidate)
    return sorted(prefixes)


def running_reason(names: WorldNames) -> str | None:
    """Why a world counts as running (one of its engines answers, or its dockerd process lives), or
    None. A busy engine (loading images on a loaded machine) can miss a short ping: a live dockerd
    of the world's pidfile counts as well, so a slow world is never swept as a crashed one."""
    answering = [h for h in HOSTS + (SCRATCH,) if engine.ping(names.host(h), timeout=3)]
    if answering:
        return f"dockerd answers on {', '.join(answering)}"
    alive = [h for h in HOSTS + (SCRATCH,) if engine.pid(names.host(h))]
    return f"dockerd runs on {', '.join(alive)} (pid alive, not answering yet)" if alive else None


@dataclass
class CleanReport:
    """What `clean` did: worlds swept, running worlds left alone (with why), worlds it could not sweep."""

    swept: dict[str, list[str]] = field(default_factory=dict)
    running: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Throwaway engines (helpers/hosting/sandbox.py) whose owner crashed, and those still in use.
    sandboxes: dict[str, list[str]] = field(default_factory=dict)
    sandboxes_in_use: list[str] = field(default_factory=list)


@contextmanager
def _world_claim(names: WorldNames) -> Iterator[str | None]:
    """A world is free to sweep when no `up`/`down` holds its lock (taken here, without waiting, and
    held while it is swept, then removed) and no engine of it answers or lives; else why it is busy."""
    with worldlock.locked(names.prefix, "clean", wait=False, root=RUN_ROOT) as free:
        reason = running_reason(names) if free else "an `up` or `down` of it is under way"
        yield reason
        if not reason:
            free.remove()


def world_owner(prefix: str) -> lifecycle.Owner:
    """World `prefix` as the sweep (`lifecycle.sweep`) sees it: claimed by its lock, removed by `_teardown`."""
    names = WorldNames.from_prefix(prefix)
    return lifecycle.Owner(prefix, lambda: _world_claim(names), lambda: _teardown(names))


def clean(only: set[str] | None = None) -> CleanReport:
    """Sweep every world and throwaway engine of the course that is NOT running (a crash's leftovers),
    in one sweep (`lifecycle.sweep`) of what carries the course's marks; running ones (another
    learner's session) are left alone and named. Nothing else is touched. `only` limits the sweep to
    those prefixes (and the sandboxes named after their world ids)."""
    require_root()
    report = CleanReport()
    marked = lifecycle.find_marked((RUN_ROOT, DATA_ROOT))
    worlds = [world_owner(p) for p in discover(report.warnings, marked) if only is None or p in only]
    ids = None if only is None else {WorldNames.from_prefix(p).world_id or "" for p in only}
    sandboxes = list(lifecycle.sandboxes(ids, marked))
    # Namespaces and folders with the course's marks whose names no command accepts (issue 23.3).
    strays = leftovers.owners(only, marked, (RUN_ROOT, DATA_ROOT))
    done = lifecycle.sweep([*worlds, *sandboxes, *strays])
    sandbox_names = {owner.name for owner in sandboxes}
    for name, removed in done.removed.items():
        (report.sandboxes if name in sandbox_names else report.swept)[name] = removed
    for name, reason in done.busy.items():
        if name in sandbox_names:
            report.sandboxes_in_use.append(name)
        else:
            report.running[name] = reason
    report.failed.update(done.failed)
    lifecycle.remove_empty_roots((RUN_ROOT, DATA_ROOT))
    return report


def status_all(warnings: list[str] | None = None) -> list[dict]:
    """One line of status per world of the course on this machine (a workshop server has several).
    A world whose status cannot be read gets a row with its `error`; the others are still listed."""
    rows = []
    marked = lifecycle.find_marked((RUN_ROOT, DATA_ROOT))
    for prefix in discover(warnings, marked):
        world_id = WorldNames.from_prefix(prefix).world_id
        try:
            report = status(world_id)
        except Exception as error:  # noqa: BLE001 - one broken world must not hide the others
            rows.append({"prefix": prefix, "world": world_id, "up": False, "engines answering": [],
                         "missing": [], "error": f"{type(error).__name__}: {error}"})
            continue
        rows.append({"prefix": prefix, "world": world_id, "up": report["up"],
                     "engines answering": [h for h, e in report["engines"].items() if e["answers"]],
                     "missing": report["missing"]})
    # A malformed id's leftovers: only a bare `clean` can name them.
    for raw in sorted(marked.strays):
        rows.append({"prefix": repr(raw), "world": repr(raw), "up": False, "engines answering": [], "missing": [],
                     "error": "leftovers of a world id no command accepts (a control character in it): "
                              f"`{dnlab_command('clean', None)}` removes them"})
    return rows


__all__ = ["UpReport", "CleanReport", "Missing", "up", "down", "clean", "status", "status_all", "lab",
           "discover", "running_reason", "asdict"]
