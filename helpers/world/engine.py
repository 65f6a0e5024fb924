"""One dockerd per Docker host of a world, inside that host's namespace, with its own files."""
from __future__ import annotations

import fcntl
import http.client
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

from helpers.errors import DockerCliError, LabError, dnlab_command, env_world
from helpers.world import netns
from helpers.world.naming import (
    DATA_ROOT,
    ENGINE_PRIVATE_DIR,
    INET_IP,
    MACHINE_IPS,
    MADE_MOUNTPOINTS_RECORD,
    RUN_ROOT,
    HostPaths,
)
from helpers.world.proc import NETNS_DIR, which

# Folders an engine writes whatever its flags say (dockerd 20.10 and 26.1, containerd 1.6/1.7):
# libnetwork's load-balancer sandboxes (/var/lib/docker/network/files/lb_<net>), dockerd's plugin
# exec-root (/run/docker/plugins), containerd's shim sockets (/run/containerd/s), 20.10's trust key
# (/etc/docker/key.json). In each engine's own mount namespace, each is bind-mounted from
# <host state>/ENGINE_PRIVATE_DIR/<name with "/" as "-">, so nothing lands in the machine's folders.
ENGINE_FIXED_DIRS = ("/var/lib/docker", "/run/docker", "/run/containerd", "/etc/docker")
# Files an engine reads as "its machine's": in its own mount namespace they name the lab (resolver
# INET_IP, its hostname), so dockerd itself never resolves through the machine's resolver.
ENGINE_MACHINE_FILES = ("/etc/resolv.conf", "/etc/hosts")
CGROUP_ROOT = Path("/sys/fs/cgroup")   # where engines' cgroup parents live (v1 controllers or v2)

# The environment variable that sets the lab engines' log level (dockerd `log-level`; default warn).
ENGINE_LOG_LEVEL_ENV = "DNLAB_ENGINE_LOG_LEVEL"
# The group of each lab engine's socket (dockerd `group`): root alone. dockerd's default, `docker`,
# would give every member of that group root on the machine through the lab engines.
ENGINE_SOCKET_GROUP = "root"


def daemon_config(cgroup_parent: str) -> dict:
    """dockerd settings: names that are the course's, and nothing that reaches outside the lab."""
    return {
        # Resolvers point into the lab, so even a learner's `nslookup example.com` stays inside.
        "dns": [str(INET_IP)],
        "cgroup-parent": cgroup_parent,
        # The cgroupfs driver, always: on a cgroup v2 machine run by systemd (Debian 13, Docker Desktop's
        # VM) dockerd would default to the systemd driver, which refuses a cgroup-parent that is not a
        # `.slice` and does not start. cgroupfs is already the default on cgroup v1 and in containers.
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        # Containers of the lab image ignore SIGTERM as PID 1; don't wait 15 s for each on stop.
        "shutdown-timeout": 1,
        # `DNLAB_ENGINE_LOG_LEVEL=debug` keeps what a failing run needs (gossip, networkdb) in dockerd.log.
        "log-level": os.environ.get(ENGINE_LOG_LEVEL_ENV) or "warn",
        # The socket is root's alone (dockerd's default group `docker` would make that group root).
        "group": ENGINE_SOCKET_GROUP,
    }


def start(namespace: str, paths: HostPaths, cgroup_parent: str, hostname: str | None = None,
          extra_config: dict | None = None, lab_dns: bool = True,
          binaries: Path | None = None) -> subprocess.Popen:
    """Start dockerd in `namespace`, in a mount and UTS namespace of its own (see `launch_argv`).

    `hostname` (default: the host's folder name, i.e. its role) is what `docker info` and
    `docker node ls` call the engine. `extra_config`: daemon.json settings added to `daemon_config`'s
    (a throwaway engine's runtime, helpers/hosting/sandbox.py). `lab_dns=False` (a throwaway engine,
    outside any world): neither the engine nor its containers are given the lab's DNS server, whose
    address means nothing there (a course container would take the inner world's `inet` for its resolver).
    `binaries`: a folder of dockerd, containerd, its shim, docker-proxy (and runc, if the release's runs
    here) to run instead of the machine's (`engines.bin_dir`: another Docker release); first on
    dockerd's PATH, so what dockerd and containerd start is that release's too.
    """
    for directory in (paths.state, paths.exec_root, paths.data_root):
        directory.mkdir(parents=True, exist_ok=True)
    config = {**daemon_config(cgroup_parent), **(extra_config or {})}
    if not lab_dns:
        config.pop("dns", None)
    paths.config.write_text(json.dumps(config, indent=2))
    # Callers stop the engine first; a pidfile left by a killed one (whose pid may linger as a
    # zombie) would make dockerd refuse to start.
    # The same holds for the containerd that dockerd supervises: given a live-looking pid in its
    # pidfile, dockerd waits for that containerd's socket instead of starting its own.
    containerd_state = paths.exec_root / "containerd"
    for stale in (paths.socket, paths.pidfile, containerd_state / "containerd.pid",
                  containerd_state / "containerd.sock"):
        stale.unlink(missing_ok=True)
    program = str(binaries / "dockerd") if binaries else which("dockerd")
    dockerd = [
        program, "--host", paths.base_url, "--data-root", str(paths.data_root),
        "--exec-root", str(paths.exec_root), "--pidfile", str(paths.pidfile),
        "--config-file", str(paths.config),
    ]
    argv = launch_argv(namespace, paths, hostname or paths.state.name, dockerd, lab_dns=lab_dns)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    # dockerd finds containerd, runc and docker-proxy on its PATH: make sure the system dirs are on it,
    # after the release's own folder (whose runc, if it has none, is the machine's).
    env["PATH"] = ":".join(filter(None, [str(binaries or ""), env.get("PATH", ""),
                                         "/usr/local/sbin:/usr/local/bin", "/usr/sbin:/usr/bin:/sbin:/bin"]))
    with open(paths.log, "ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)


# --- the engine's own environment: network, mount and UTS namespaces --------------------------
#
# dockerd runs `nsenter --net` (not `ip netns exec`, which remounts /sys and hides the cgroups)
# then `unshare --mount --uts --propagation unchanged` and a few lines of sh that set the hostname,
# bind the world's files over the machine's (ENGINE_MACHINE_FILES, ENGINE_FIXED_DIRS) and exec
# dockerd (same pid all along: nsenter and unshare exec, they don't fork).
#
# Mount propagation: the namespaces dockerd mounts under its exec-root (containers', overlay
# networks' `1-xxxx`) must be seen from the machine's namespace (the tracer enters them there), so
# the exec-root is a *shared* bind mount made on the machine's side first, which the engine's
# namespace copies as a peer. The binds over machine paths must stay inside: the mounts that hold
# those paths are made *slave* (non-recursively) in the engine's namespace before binding, so
# nothing propagates back even where the machine's `/` is shared (systemd).


def _flat(target: str) -> str:
    """The name of a machine path's stand-in in the engine's private folder: /etc/docker -> etc-docker."""
    return target.strip("/").replace("/", "-")


_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def mount_points() -> list[str]:
    """Mount points of this process's mount namespace (`/proc/self/mountinfo`, field 5), unescaped: the
    kernel writes a space, tab, newline or backslash in a path as \\ooo (a leftover of a world id with a
    newline has `\\012` in its folders' mount points)."""
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [_OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4]) for line in lines]


def containing_mount(path: str, points: list[str]) -> str:
    """The mount `path` lies on: the longest mount point that is `path` or one of its parents."""
    found = "/"
    for point in points:
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(found):
            found = point
    return found


def resolv_conf() -> str:
    """The engine's /etc/resolv.conf: the lab's DNS only, never the machine's resolver."""
    return f"# dnlab: this engine resolves through the lab's DNS (the internet machine)\nnameserver {INET_IP}\n"


def hosts_file(hostname: str) -> str:
    """The engine's /etc/hosts (host-network containers copy it): its own name, not the machine's."""
    own = MACHINE_IPS.get(hostname)
    return ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{own if own is not None else '127.0.1.1'}\t{hostname}\n")


def private_binds(paths: HostPaths, hostname: str, lab_dns: bool = True) -> list[tuple[Path, str]]:
    """(world source, machine path) of each bind of the engine's mount namespace; sources made here.
    Without `lab_dns` the machine's /etc/resolv.conf stays (a throwaway engine: see `start`)."""
    root = paths.state / ENGINE_PRIVATE_DIR
    binds = []
    for target in ENGINE_FIXED_DIRS:
        source = root / _flat(target)
        source.mkdir(parents=True, exist_ok=True)
        binds.append((source, os.path.realpath(target)))
    texts = {"/etc/resolv.conf": resolv_conf(), "/etc/hosts": hosts_file(hostname)}
    for target in ENGINE_MACHINE_FILES:
        if target == "/etc/resolv.conf" and not lab_dns:
            continue
        # A machine without the file (a bare chroot) has nothing to hide; making one would change its tree.
        if os.path.exists(target):
            source = root / _flat(target)
            source.write_text(texts[target])
            binds.append((source, os.path.realpath(target)))
    return binds


def _made_record() -> Path:
    return RUN_ROOT / MADE_MOUNTPOINTS_RECORD


def ensure_mountpoints() -> None:
    """Make the ENGINE_FIXED_DIRS the machine lacks (a bind needs a mount point), and record the
    topmost folder made of each, so `release_mountpoints` removes them once no world is left."""
    missing = [Path(d) for d in ENGINE_FIXED_DIRS if not os.path.isdir(d)]
    if not missing:
        return
    RUN_ROOT.mkdir(parents=True, exist_ok=True)
    with open(RUN_ROOT / (MADE_MOUNTPOINTS_RECORD + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = _made_record()
        made = set(json.loads(record.read_text())) if record.exists() else set()
        for directory in missing:
            top = directory
            while not top.parent.exists():
                top = top.parent
            if not top.exists():
                made.add(str(top))
            directory.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(sorted(made)))


def release_mountpoints() -> list[str]:
    """Remove the mount points `ensure_mountpoints` made, if no world is left (nothing else in
    RUN_ROOT): removing one that another engine still binds over would detach that bind.
    Only empty folders go. The folders removed."""
    record = _made_record()
    if not record.exists():
        return []
    others = [e for e in RUN_ROOT.iterdir() if not e.name.startswith(MADE_MOUNTPOINTS_RECORD)]
    if others:
        return []
    removed = []
    for top in json.loads(record.read_text()):
        below = sorted((p for p in Path(top).rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for directory in [*below, Path(top)]:
            with suppress(OSError):
                directory.rmdir()
                removed.append(str(directory))
    record.unlink(missing_ok=True)
    Path(str(record) + ".lock").unlink(missing_ok=True)
    return removed


def share_exec_root(paths: HostPaths) -> None:
    """Make the exec-root a fresh shared bind mount in the machine's namespace (see above); what a
    killed engine left mounted there (its namespaces) goes first."""
    root = str(paths.exec_root)
    unmount_below(paths.exec_root)
    for _ in range(8):  # a bind per earlier start that was never undone, at most
        if root not in mount_points():
            break
        subprocess.run([which("umount"), "-l", root], capture_output=True)
    subprocess.run([which("mount"), "--bind", "--make-shared", root, root], check=True, capture_output=True)


def own_folders(paths: HostPaths) -> list[tuple[Path, Path]]:
    """(course root, the top folder of it this engine's world owns): RUN_ROOT/<prefix> and
    DATA_ROOT/<prefix> for a world's engine, RUN_ROOT/dnlab-sbx-<name>... for a throwaway one."""
    owned = []
    for root, path in ((RUN_ROOT, paths.state), (DATA_ROOT, paths.data_root)):
        with suppress(ValueError):
            owned.append((root, root / Path(path).relative_to(root).parts[0]))
    return owned


def _hide_other_worlds(root: Path, own: Path, mount: str) -> list[str]:
    """sh lines that cover `root` with an empty tmpfs and bind `own` back (from a descriptor opened
    before), so the engine, and any container that mounts `root`, sees its own world alone (issue
    23.6: `-v /run/dnlab:/x` reached every world's engine socket). The world's shared exec-root
    comes along in the recursive bind as a peer, so its namespaces still reach the machine."""
    q_root, q_own = shlex.quote(str(root)), shlex.quote(str(own))
    return [f"exec 9< {q_own}",
            f"{mount} -t tmpfs -o mode=0700,size=64k,nosuid,nodev,noexec dnlab-own-world-only {q_root}",
            # --no-canonicalize: mount(8) would turn /proc/self/fd/9 into the (now covered) path
            f"mkdir -p {q_own}", f"{mount} --no-canonicalize --rbind /proc/self/fd/9 {q_own}", "exec 9<&-"]


def launch_script(hostname: str, binds: list[tuple[Path, str]], command: Sequence[str],
                  own: Sequence[tuple[Path, Path]] = ()) -> str:
    """The sh run inside the engine's new mount and UTS namespaces, ending in `exec command`; with
    `own` ((root, the world's folder in it), from `own_folders`), each root shows that folder alone."""
    points = mount_points()
    slaves = sorted({containing_mount(target, points) for _, target in binds}
                    | {containing_mount(str(root), points) for root, _ in own})
    mount = which("mount")
    lines = ["set -e", f"echo {shlex.quote(hostname)} > /proc/sys/kernel/hostname"]
    lines += [f"{mount} --make-slave {shlex.quote(point)}" for point in slaves]
    lines += [f"{mount} --bind {shlex.quote(str(source))} {shlex.quote(target)}" for source, target in binds]
    for root, folder in own:
        lines += _hide_other_worlds(root, folder, mount)
    lines.append("exec " + " ".join(shlex.quote(arg) for arg in command))
    return "\n".join(lines)


def launch_argv(namespace: str, paths: HostPaths, hostname: str, command: Sequence[str],
                lab_dns: bool = True) -> list[str]:
    """argv that runs `command` as the engine of `paths`: in network namespace `namespace`, in its
    own mount namespace (the world's files over the machine's) and UTS namespace (`hostname`)."""
    ensure_mountpoints()
    binds = private_binds(paths, hostname, lab_dns=lab_dns)
    share_exec_root(paths)
    return [which("nsenter"), f"--net={NETNS_DIR}/{namespace}", which("unshare"), "--mount", "--uts",
            "--propagation", "unchanged", which("sh"), "-c",
            launch_script(hostname, binds, command, own_folders(paths))]


def _get(paths: HostPaths, url: str, timeout: float,
         keep_waiting: Callable[[], bool] | None = None) -> tuple[int, bytes] | None:
    """GET `url` on the engine's socket: (status, body), None if the engine does not answer (each
    connect and read is given `timeout` seconds; with `keep_waiting`, a request not yet answered is
    held while it says True). (No docker SDK import: a warm `up` stays at ~0.1 s.)"""
    if not paths.socket.exists():
        return None
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    try:
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(timeout)
        conn.sock.connect(str(paths.socket))
        conn.request("GET", url)
        while keep_waiting is not None and not select.select([conn.sock], [], [], timeout)[0]:
            if not keep_waiting():
                return None
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return None
    finally:
        conn.close()


def get_status(paths: HostPaths, url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status of GET `url` on the engine's socket; None if the engine does not answer."""
    answer = _get(paths, url, timeout)
    return answer[0] if answer else None


def get_json(paths: HostPaths, url: str, timeout: float = 1.0) -> dict | list | None:
    """The JSON body of GET `url` on the engine's socket (None if it does not answer with 200)."""
    answer = _get(paths, url, timeout)
    if not answer or answer[0] != 200:
        return None
    try:
        return json.loads(answer[1])
    except ValueError:
        return None


def server_version(paths: HostPaths, timeout: float = 1.0) -> str | None:
    """The engine's own answer to `GET /version` ("28.5.2+dfsg4"), None if it does not answer."""
    answer = get_json(paths, "/version", timeout)
    return answer.get("Version") if isinstance(answer, dict) else None


def ping(paths: HostPaths, timeout: float = 1.0) -> bool:
    """True if the engine answers `GET /_ping` on its socket."""
    return get_status(paths, "/_ping", timeout) == 200


def wait_ready(paths: HostPaths, process: subprocess.Popen | None, timeout: float = 30) -> None:
    """Wait until the engine answers `GET /_ping`, at most `timeout` seconds; LabError if it does not.

    dockerd makes its socket early and serves it only once its start is done (~0.5 s later on Docker
    28.5): a ping sent meanwhile is held by the kernel until then, and answered the moment it serves. So
    the ping is held for the whole wait, its process looked at every 0.1 s (a dockerd that died ends the
    wait at once), not given up after a fixed time and sent again (that cost up to a poll's interval and
    a new connection after dockerd was ready)."""
    deadline = time.monotonic() + timeout

    def keep_waiting() -> bool:
        return time.monotonic() < deadline and (process is None or process.poll() is None)

    while time.monotonic() < deadline:
        answer = _get(paths, "/_ping", 0.1, keep_waiting)
        if answer and answer[0] == 200:
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.03)  # no socket yet (or a stale one refused): dockerd has not made it
    tail = paths.log.read_text(errors="replace")[-1500:] if paths.log.exists() else ""
    raise LabError(f"dockerd did not come up (socket {paths.socket}). Its log ends:\n{tail}",
                   f"{dnlab_command('down', env_world())} && {dnlab_command('up', env_world())}")
    # (the manager names the world it starts, never `clean`)


def pid(paths: HostPaths) -> int | None:
    """The engine's pid from its pidfile, if that process is still a dockerd."""
    try:
        value = int(paths.pidfile.read_text().strip())
        if "dockerd" in Path(f"/proc/{value}/cmdline").read_bytes().decode(errors="replace"):
            return value
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass
    return None


def processes_of(paths: HostPaths) -> list[int]:
    """dockerd, containerd and shims of this engine, and every process below them (`processes_of_each`).

    Found by their command lines naming this engine's exec-root or data-root (dockerd's flags,
    containerd's config, the shims' `-address`), so a foreign engine is never hit, nor a client that
    names the engine's socket (`docker context create ... host=unix://<state>/docker.sock`, made while
    the engine starts: it was killed as the engine's own); and only in this process's pid namespace:
    a course container on this machine (the course image, a classroom learner) runs its own worlds
    with the very same paths, and its engines must not be taken for ours. (Ours never leave our pid
    namespace; their containers are found as descendants.)
    """
    return processes_of_each([paths])[0]


def processes_of_each(engines: Sequence[HostPaths]) -> list[list[int]]:
    """`processes_of` of each engine, from one walk of /proc (a world's teardown asks for three: each
    walk reads two files of every process on the machine)."""
    marks = [(str(paths.exec_root), str(paths.data_root)) for paths in engines]
    own_pid_ns = _pid_namespace("self")
    parents: dict[int, int] = {}
    roots: list[list[int]] = [[] for _ in engines]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        for index, engine_marks in enumerate(marks):
            if any(mark in cmdline for mark in engine_marks) and _pid_namespace(entry) == own_pid_ns:
                roots[index].append(int(entry))
    return [_with_descendants(found, parents) for found in roots]


def _with_descendants(roots: list[int], parents: dict[int, int]) -> list[int]:
    """`roots` and every process below them (`parents`: pid -> parent pid)."""
    found = set(roots)
    changed = bool(found)
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return sorted(found)


def _pid_namespace(pid: str) -> int | None:
    """The inode of a process's pid namespace (None if it is gone)."""
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def in_own_pid_namespace(pid: str | int) -> bool:
    """True if process `pid` shares this process's pid namespace (not inside a course container)."""
    own = _pid_namespace("self")
    return own is not None and _pid_namespace(str(pid)) == own


def stop(paths: HostPaths, grace: float = 0.0) -> None:
    """Stop the engine and everything below it (containerd, shims, containers).

    The world is thrown away with its data-root, so by default nothing waits for a graceful
    shutdown (dockerd takes ~2.5 s for it); `grace` gives dockerd that many seconds after SIGTERM.
    """
    engine_pid = pid(paths)
    if engine_pid is not None and grace > 0:
        with suppress(ProcessLookupError):
            os.kill(engine_pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and Path(f"/proc/{engine_pid}").exists():
            time.sleep(0.03)
    netns.kill_all(processes_of(paths))


def mounts_below(*roots: Path | str, points: list[str] | None = None) -> list[str]:
    """The mount points (of `points`, else of this process's mount table) that are one of `roots` or lie
    below one: whole path components, so world e28's folders are not world e28b's."""
    prefixes = tuple(str(root).rstrip("/") + "/" for root in roots)
    return [point for point in (mount_points() if points is None else points)
            if (point.rstrip("/") + "/").startswith(prefixes)]


def unmount_below(*roots: Path) -> None:
    """Unmount whatever a crashed engine left mounted under its own directories, deepest first."""
    for point in sorted(set(mounts_below(*roots)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


# --- the docker CLI: one runner, and the contexts a learner types (`docker --context dnlab-host1`) --

# Debian 12's docker.io brings the CLI; Debian 13 moved it to its own package, docker-cli.
CLI_FIX = "sudo apt-get install -y docker.io   # on Debian 13 the CLI is the package docker-cli"


def _docker_cli() -> str | None:
    return shutil.which("docker")


def run_docker(args: Sequence[str], *, base_url: str | None = None, context: str | None = None,
               check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real docker CLI: the course's one runner of it (chapters' "SDK and CLI" cells,
    `facts.cli`, scratch engines, the contexts). It talks to `base_url` (else to `context`) with
    the caller's DOCKER_* variables removed, so it never reaches the machine's own engine by
    accident. `DockerCliError` (the command as the learner types it: `docker --context CONTEXT
    ...`) if the CLI is missing, times out, or (with `check`) exits non-zero."""
    target = ["-H", base_url] if base_url else ["--context", context] if context else []
    shown = " ".join(["docker", *(["--context", context] if context else []), *args])
    cli = _docker_cli()
    if cli is None:
        raise DockerCliError(shown, None, "the docker CLI is not installed", CLI_FIX)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    try:
        result = subprocess.run([cli, *target, *args], capture_output=True, text=True, timeout=timeout,
                                env=env, check=False)
    except subprocess.TimeoutExpired:
        raise DockerCliError(shown, None, f"no answer within {timeout:g} s") from None
    if check and result.returncode != 0:
        raise DockerCliError(shown, result.returncode, result.stderr or result.stdout)
    return result


def docker_cli(base_url: str, *args: str, timeout: float = 60, context: str | None = None) -> str:
    """What the real docker CLI prints against an engine (for side-by-side "SDK and CLI" cells);
    `run_docker`'s DockerCliError if it fails."""
    return run_docker(args, base_url=base_url, context=context, timeout=timeout).stdout


def create_context(name: str, paths: HostPaths, description: str) -> None:
    if _docker_cli() is None:
        return  # the SDK does not need it; `dnlab doctor` reports the missing CLI
    run_docker(["context", "rm", "-f", name], check=False)
    run_docker(["context", "create", name, "--description", description, "--docker", f"host={paths.base_url}"])


def contexts() -> dict[str, str]:
    """Every docker CLI context: name -> endpoint."""
    if _docker_cli() is None:
        return {}
    result = run_docker(["context", "ls", "--format", "{{json .}}"], check=False)
    found = {}
    for line in result.stdout.splitlines():
        entry = json.loads(line)
        found[entry["Name"]] = entry.get("DockerEndpoint", "")
    return found


def remove_context(name: str) -> None:
    if _docker_cli() is not None:
        run_docker(["context", "rm", "-f", name], check=False)


def client(paths: HostPaths):
    """A docker SDK client for this engine."""
    import docker  # imported here: the SDK costs ~0.2 s, and `dnlab up` on a warm world skips it

    return docker.DockerClient(base_url=paths.base_url, version="auto", timeout=60)


# --- recovery of a crashed swarm member ----------------------------------------------------------
#
# Seen on Docker 20.10 here (moby#32607's symptoms): an engine of the swarm killed and restarted at
# once gossips (networkdb) under a new node name at the same address while the other engine still
# counts the dead one as an active peer. The new node takes that stale peer for a newer incarnation
# of itself and marks *itself* left (its log: "is the new incarnation of the active node ...
# NodeActive --> NodeLeft"): a container's attach to an attachable overlay then fails after 20 s
# ("context deadline exceeded"), then 404 "network not found", and works once the stale peer is
# reaped (a first overlay trace after a host2 kill took 35 s, after a host1 kill 14-37 s). With the
# engine still down, the others declare it dead in a few seconds; so `up` waits for that first.


def swarm_address(paths: HostPaths) -> str | None:
    """The address a *stopped* engine advertised in its swarm (its gossip peers know it by it)."""
    try:
        state = json.loads((paths.data_root / "swarm" / "docker-state.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    advertised = state.get("AdvertiseAddr") or state.get("LocalAddr") or ""
    return advertised.rpartition(":")[0] if advertised.count(":") == 1 else (advertised or None)


def wait_peers_forget(paths: HostPaths, others: Sequence[HostPaths], timeout: float = 45) -> float:
    """Before restarting a crashed engine that was in a swarm: wait until no other engine still
    answering lists its address among the gossip peers of `ingress`. The seconds waited."""
    address = swarm_address(paths)
    started = time.monotonic()
    if address is None:
        return 0.0
    for other in others:
        if ping(other, timeout=0.5):
            _wait_not_a_peer(other, address, started + timeout)
    return time.monotonic() - started


def _wait_not_a_peer(other: HostPaths, address: str, deadline: float) -> None:
    from docker.errors import APIError

    api = client(other)
    try:
        while time.monotonic() < deadline:
            try:
                peers = api.api.inspect_network("ingress", verbose=True).get("Peers") or []
            except APIError:  # not in a swarm, or no ingress network: nobody gossips about it there
                return
            if address not in {peer.get("IP") for peer in peers}:
                return
            time.sleep(0.2)
    finally:
        api.close()


# --- cgroups an engine leaves behind ----------------------------------------------------------

def cgroup_dirs(parent: str) -> list[Path]:
    """Where a cgroup parent lives: under each v1 controller, or at the v2 root."""
    parent = parent.lstrip("/")
    places = [CGROUP_ROOT / parent]
    with suppress(OSError):
        places += [controller / parent for controller in CGROUP_ROOT.iterdir() if controller.is_dir()]
    return [p for p in places if p.is_dir()]


def remove_cgroups(parent: str) -> list[Path]:
    """Remove a stopped engine's (empty) cgroups, leaves first. The top directories removed."""
    removed = []
    for directory in cgroup_dirs(parent):
        for _ in range(20):  # a killed container's tasks leave its cgroup a moment after SIGKILL
            try:
                subs = sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True)
            except OSError:  # a folder went while being listed (another sweep, the engine's own exit)
                subs = []
            for sub in subs:
                if sub.is_dir():
                    with suppress(OSError):
                        sub.rmdir()
            with suppress(OSError):
                directory.rmdir()
            if not directory.exists():
                removed.append(directory)
                break
            time.sleep(0.05)
    return removed
