"""Engine versions: which dockerd each Docker host of a world runs, and where its binaries come from.

Two choices today:

- `system`: the machine's own dockerd (Debian 12: docker.io 20.10, Debian 13: 26.1), as before;
- `28`: Debian's docker.io 28.5.x with its containerd 2.1.x, from the forky (else sid) suite of the
  Debian archive the machine's apt already uses. Fetched once per machine by `apt-get download` with a
  private apt configuration (its own sources, lists and cache under the engine cache: the machine's
  apt sources and state are untouched, nothing is installed), `dpkg -x`'d into a temporary folder,
  checked (`dockerd --version` answers 28.), then renamed into `CACHE_ROOT/<version>/`: a failed
  fetch leaves nothing half-made, and afterwards the engine runs offline.

A cached release holds `root/` (the extracted packages, without the programs `bin/` does not link) and
`bin/` (relative links to the binaries dockerd runs: dockerd, containerd and its shim, docker-proxy,
docker-init, runc). `bin/` is the one
thing `engine.start` is given: first on dockerd's PATH, so containerd, the shim and docker-proxy are
the package's. The package's runc goes into `bin/` only if it runs here: runc 1.3.6 needs glibc 2.38,
so on Debian 12 `bin/` has none and the machine's runc (1.1.5) is used; on Debian 13 the package's.

The spec syntax (`dnlab up --engine SPEC`, `$DNLAB_ENGINE`): `28` (every host), `host2=28` (that host;
the others keep their engine, a new world gives them `system`), `host1=system,host2=28`. A world's
choice is recorded in its state folder (`RECORD_FILE`), so a later plain `up` repairs each host on its
own engine. Asking a running world for another engine than a host runs is an error whose fix is
`down` then `up --engine SPEC`: an engine's data-root is not carried across versions.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import LabError, UsageError, dnlab_command, env_world, with_env
from helpers.world.naming import CACHE_ROOT as DNLAB_CACHE
from helpers.world.naming import HOSTS

SYSTEM = "system"
ENGINE_ENV = "DNLAB_ENGINE"                    # same syntax as `dnlab up --engine`
MIRROR_ENV = "DNLAB_ENGINE_MIRROR"             # a Debian archive to fetch from, where apt has none
CACHE_ROOT = DNLAB_CACHE / "engines"
RECORD_FILE = "engines.json"                   # in a world's state folder: host -> choice
MANIFEST = "manifest.json"                     # in a cached release: written last, so it marks a whole one
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
APT_SOURCES = Path("/etc/apt")


@dataclass(frozen=True)
class Release:
    """A Docker release fetched from Debian's archive."""

    key: str                       # what `--engine` says: "28"
    suites: tuple[str, ...]        # where docker.io of this major is, first found wins
    packages: tuple[str, ...]      # docker.io first: its version picks the suite


RELEASES = {"28": Release("28", ("forky", "sid"), ("docker.io", "containerd", "runc", "tini-static"))}
CHOICES = (SYSTEM, *RELEASES)

# bin/ name -> path in the extracted packages. runc is added only if it runs on this machine.
BINARIES = {
    "dockerd": "usr/sbin/dockerd",
    "docker-proxy": "usr/sbin/docker-proxy",
    "containerd": "usr/bin/containerd",
    "containerd-shim-runc-v2": "usr/bin/containerd-shim-runc-v2",
    "docker-init": "usr/bin/tini-static",
}
RUNC = "usr/sbin/runc"


def fetch_command(key: str) -> str:
    """The command that fetches release `key` ahead of time."""
    return dnlab_command(f"engines fetch {key}")


# --- the spec -----------------------------------------------------------------------------------

def _up(options: str, world_id: str | None) -> str:
    """The `up` a wrong engine spec is fixed by, for world `world_id` (None: the one $DNLAB_WORLD names)."""
    return dnlab_command(f"up {options}", world_id or env_world())


def _check_choice(value: str, origin: str, world_id: str | None) -> str:
    if value not in CHOICES:
        raise UsageError(f"unknown engine {value!r} in {origin}: the engines are {', '.join(CHOICES)} "
                         f"({SYSTEM} = this machine's dockerd; 28 = Debian's docker.io 28.5)",
                         _up("--engine 28", world_id) + "   # or: --engine host2=28")
    return value


def parse_spec(spec: str | None, hosts: tuple[str, ...] = HOSTS, world_id: str | None = None) -> dict[str, str]:
    """host -> choice for the hosts `spec` names: `28` names all, `host2=28` one, items joined by
    commas (`28,host1=system`: a host's own item wins over the bare one). Empty: {}. UsageError
    (exit 2) on an unknown engine or host, a host named twice, two bare engines or an empty item; its
    fix is the `up` of world `world_id` (None: the world $DNLAB_WORLD names)."""
    if spec is None or not spec.strip():
        return {}
    origin = f"--engine {spec!r} (or ${ENGINE_ENV})"
    bare: str | None = None
    own: dict[str, str] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise UsageError(f"empty item in {origin}", _up("--engine host1=system,host2=28", world_id))
        host, sep, value = item.rpartition("=")
        if not sep:
            if bare is not None:
                raise UsageError(f"two engines for every host in {origin}", _up("--engine 28", world_id))
            bare = _check_choice(item, origin, world_id)
            continue
        if host not in hosts:
            raise UsageError(f"unknown Docker host {host!r} in {origin}: the hosts are {', '.join(hosts)}",
                             _up("--engine host2=28", world_id))
        if host in own:
            raise UsageError(f"{host} named twice in {origin}", _up("--engine host1=system,host2=28", world_id))
        own[host] = _check_choice(value, origin, world_id)
    return {h: own.get(h, bare) for h in hosts if h in own or bare is not None}  # type: ignore[misc]


def resolve(wanted: dict[str, str], recorded: dict[str, str] | None,
            hosts: tuple[str, ...] = HOSTS) -> dict[str, str]:
    """Every host's choice: what was asked, else what the world recorded, else `system`."""
    recorded = recorded or {}
    return {h: wanted.get(h) or recorded.get(h) or SYSTEM for h in hosts}


def conflicts(wanted: dict[str, str], recorded: dict[str, str] | None) -> dict[str, tuple[str, str]]:
    """host -> (runs, asked) for each host asked to run another engine than its world recorded."""
    recorded = recorded or {}
    return {h: (recorded.get(h, SYSTEM), v) for h, v in wanted.items() if recorded.get(h, SYSTEM) != v}


def spec_of(choice: dict[str, str]) -> str:
    """The `--engine` spec that asks for `choice` again (for a fix line)."""
    values = set(choice.values())
    if len(values) == 1:
        return values.pop()
    return ",".join(f"{h}={v}" for h, v in choice.items())


# --- a world's record ---------------------------------------------------------------------------

def read_record(state_dir: Path) -> dict[str, str] | None:
    """host -> choice as the world recorded it; None for a world made before engines were chosen."""
    try:
        data = json.loads((state_dir / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return None
    return {h: v for h, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else None


def write_record(state_dir: Path, choice: dict[str, str]) -> None:
    (state_dir / RECORD_FILE).write_text(json.dumps(choice, indent=2))


# --- the cache ----------------------------------------------------------------------------------

def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


def cached(key: str, root: Path = CACHE_ROOT) -> Path | None:
    """The newest complete cached release of `key` (its folder holds MANIFEST), or None."""
    if not root.is_dir():
        return None
    found = [d for d in root.glob(f"{key}.*") if (d / MANIFEST).is_file()]
    return max(found, key=lambda d: _version_key(d.name)) if found else None


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def available(root: Path = CACHE_ROOT) -> dict[str, dict | None]:
    """Each choice -> the manifest of its cached release (None: not fetched; `system` maps to {})."""
    shown: dict[str, dict | None] = {SYSTEM: {}}
    for key in RELEASES:
        folder = cached(key, root)
        shown[key] = manifest(folder) if folder else None
    return shown


def bin_dir(choice: str, fetch_missing: bool = True, root: Path = CACHE_ROOT) -> Path | None:
    """The folder of binaries an engine of `choice` runs from (None: the machine's own). A release not
    cached yet is fetched first, unless `fetch_missing` is False (then a LabError naming the fetch)."""
    if choice == SYSTEM:
        return None
    folder = cached(choice, root)
    if folder is None:
        if not fetch_missing:
            raise LabError(f"Docker {choice} is not fetched on this machine", fetch_command(choice))
        folder = fetch(choice, root=root)
    return folder / "bin"


# --- fetching -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tools:
    """The programs a fetch runs (a test gives fakes)."""

    apt_get: str = "apt-get"
    apt_cache: str = "apt-cache"
    dpkg: str = "dpkg"


def machine_mirror(apt_dir: Path = APT_SOURCES) -> str | None:
    """The URI of the Debian archive this machine's apt uses (main component, not the security
    archive), from sources.list and sources.list.d (one-line and deb822 formats); None if none."""
    texts = []
    for path in [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list")),
                 *sorted((apt_dir / "sources.list.d").glob("*.sources"))]:
        try:
            texts.append((path.suffix, path.read_text()))
        except OSError:
            continue
    for suffix, text in texts:
        for uri, components in (_deb822_entries(text) if suffix == ".sources" else _one_line_entries(text)):
            if "main" in components and re.search(r"/debian/?$", uri):
                return uri.rstrip("/")
    return None


def _one_line_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 4 and words[0] == "deb":
            entries.append((words[1], words[3:]))
    return entries


def _deb822_entries(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
            entries += [(uri, fields.get("components", [])) for uri in fields.get("uris", [])]
    return entries


def apt_options(apt_dir: Path) -> list[str]:
    """apt options that read only `apt_dir`'s sources and keep lists and cache there: the machine's
    sources, preferences and lists are never read or written."""
    return [
        "-o", f"Dir::Etc::sourcelist={apt_dir / 'sources.list'}",
        "-o", f"Dir::Etc::sourceparts={apt_dir / 'empty'}",
        "-o", f"Dir::Etc::preferences={apt_dir / 'preferences'}",
        "-o", f"Dir::Etc::preferencesparts={apt_dir / 'empty'}",
        "-o", f"Dir::State::lists={apt_dir / 'lists'}",
        "-o", f"Dir::Cache={apt_dir / 'cache'}",
        "-o", "Acquire::Languages=none",
        # A mirror that is a dated snapshot (CI's, a classroom's cache) serves forky's and sid's Release
        # files past their Valid-Until date, and apt then drops the suites ("Release file ... is
        # expired"): seen in a fresh Debian 13 root, whose apt lacks the machine's own setting. The
        # signatures are still checked (Signed-By); only the freshness date is not.
        "-o", "Acquire::Check-Valid-Until=false",
        # The download folder is root's own: apt's `_apt` user could not write into it.
        "-o", "APT::Sandbox::User=root",
    ]


def _private_apt(apt_dir: Path, mirror: str, suites: tuple[str, ...]) -> None:
    for sub in ("empty", "lists/partial", "cache/archives/partial"):
        (apt_dir / sub).mkdir(parents=True, exist_ok=True)
    (apt_dir / "preferences").write_text("")
    signed = f" [signed-by={KEYRING}]" if KEYRING.exists() else ""
    (apt_dir / "sources.list").write_text("".join(f"deb{signed} {mirror} {s} main\n" for s in suites))


def _run(argv: list[str], cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as failed:
        return subprocess.CompletedProcess(argv, -1, "", str(failed))


def pick_version(madison: str, key: str, suites: tuple[str, ...]) -> tuple[str, str] | None:
    """(version, suite) of docker.io `key`.x from `apt-cache madison` output, the first of `suites`
    that has one ("docker.io | 28.5.2+dfsg4-5 | http://deb.debian.org/debian forky/main amd64 Packages")."""
    offers: dict[str, str] = {}
    for line in madison.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3 or not parts[1].startswith(f"{key}."):
            continue
        words = parts[2].split()
        suite = words[1].split("/")[0] if len(words) > 1 else ""
        offers.setdefault(suite, parts[1])
    for suite in suites:
        if suite in offers:
            return offers[suite], suite
    return None


def _fetch_error(key: str, what: str, run: subprocess.CompletedProcess, mirror: str) -> LabError:
    tail = (run.stderr or run.stdout).strip()[-600:]
    other = with_env(fetch_command(key), f"{MIRROR_ENV}=http://MIRROR/debian")
    return LabError(f"could not fetch Docker {key} (Debian's docker.io and containerd packages) from {mirror}: "
                    f"{what}" + (f"\n{tail}" if tail else ""),
                    f"check that this machine reaches {mirror}, then: {fetch_command(key)}   "
                    f"(another Debian mirror: {other})")


def _download(release: Release, work: Path, mirror: str, tools: Tools) -> dict[str, str]:
    """Download the release's packages into work/debs; package -> version."""
    apt_dir, debs = work / "apt", work / "debs"
    _private_apt(apt_dir, mirror, release.suites)
    debs.mkdir()
    options = apt_options(apt_dir)
    update = _run([tools.apt_get, *options, "-q", "update"])
    madison = _run([tools.apt_cache, *options, "madison", release.packages[0]])
    picked = pick_version(madison.stdout, release.key, release.suites)
    if picked is None:
        shown = update if update.returncode != 0 or not madison.stdout.strip() else madison
        raise _fetch_error(release.key, f"no {release.packages[0]} {release.key}.x in its suites "
                           f"{', '.join(release.suites)}", shown, mirror)
    version, suite = picked
    wanted = [f"{release.packages[0]}={version}", *(f"{p}/{suite}" for p in release.packages[1:])]
    download = _run([tools.apt_get, *options, "-q", "download", *wanted], cwd=debs)
    if download.returncode != 0:
        raise _fetch_error(release.key, f"`apt-get download {' '.join(wanted)}` failed", download, mirror)
    found = {}
    for deb in sorted(debs.glob("*.deb")):
        name, _, rest = deb.name.partition("_")
        found[name] = rest.rsplit("_", 1)[0].replace("%3a", ":")
    lacking = [p for p in release.packages if p not in found]
    if lacking:
        raise _fetch_error(release.key, f"the download lacks {', '.join(lacking)}", download, mirror)
    return {"suite": suite, **found}


def _first_line(run: subprocess.CompletedProcess) -> str:
    text = (run.stdout or run.stderr).strip()
    return text.splitlines()[0] if text else ""


def _prune(root: Path, keep: set[Path]) -> None:
    """Remove every program of the packages that `bin/` does not link (ctr, runc's and containerd's test
    tools, ~70 MiB of the 216): nothing runs them, and the course image carries this folder."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_symlink() or not path.is_file():
            continue
        if path.resolve() not in keep and os.access(path, os.X_OK):
            path.unlink()


def _extract(release: Release, work: Path, tools: Tools) -> dict[str, str]:
    """dpkg -x every package into work/stage/root, link stage/bin, check the engine; what it holds."""
    stage = work / "stage"
    root, bins = stage / "root", stage / "bin"
    bins.mkdir(parents=True)
    for deb in sorted((work / "debs").glob("*.deb")):
        run = _run([tools.dpkg, "-x", str(deb), str(root)])
        if run.returncode != 0:
            raise LabError(f"could not unpack {deb.name}: {run.stderr.strip()[-400:]}", fetch_command(release.key))
    for name, inside in BINARIES.items():
        if not (root / inside).exists():
            raise LabError(f"Docker {release.key}'s packages lack {inside}", fetch_command(release.key))
        (bins / name).symlink_to(Path("..") / "root" / inside)
    runc = _run([str(root / RUNC), "--version"]) if (root / RUNC).exists() else None
    if runc is not None and runc.returncode == 0:
        (bins / "runc").symlink_to(Path("..") / "root" / RUNC)
        runc_used = f"the package's: {_first_line(runc)}"
    else:  # runc 1.3.6 needs glibc 2.38: Debian 12's 2.36 cannot run it; dockerd finds the machine's
        why = _first_line(runc).replace(str(root / RUNC), "runc")[:160] if runc is not None else "not in the packages"
        runc_used = f"the machine's (the package's does not run here: {why})"
    _prune(root, {(bins / link).resolve() for link in os.listdir(bins)})
    answer = _first_line(_run([str(bins / "dockerd"), "--version"]))
    found = re.search(rf"version ({re.escape(release.key)}\.\d+\.\d+)", answer)
    if found is None:
        raise LabError(f"the fetched dockerd does not answer as Docker {release.key}: {answer or '(nothing)'}",
                       fetch_command(release.key))
    return {"dockerd": found.group(1), "dockerd --version": answer,
            "containerd --version": _first_line(_run([str(bins / "containerd"), "--version"])), "runc": runc_used}


def fetch(key: str, root: Path = CACHE_ROOT, tools: Tools = Tools(), apt_dir: Path = APT_SOURCES) -> Path:
    """Fetch release `key` into `root/<version>/` (see the module's docstring) and return that folder;
    an already cached one is returned as it is. LabError naming the package and the fix if it fails;
    then nothing of it is left."""
    release = RELEASES.get(key)
    if release is None:
        _check_choice(key, "the fetch")
        raise UsageError(f"{SYSTEM} is the machine's own dockerd: nothing to fetch", fetch_command("28"))
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one fetch at a time: two `up`s of new worlds fetch once
        done = cached(key, root)
        if done is not None:
            return done
        for leftover in root.glob(".fetch-*"):  # a killed fetch's (we hold the lock: none runs)
            shutil.rmtree(leftover, ignore_errors=True)
        mirror = os.environ.get(MIRROR_ENV) or machine_mirror(apt_dir)
        if mirror is None:
            raise LabError(f"this machine's apt uses no Debian archive to fetch Docker {key} "
                           f"(docker.io, containerd) from",
                           with_env(fetch_command(key), f"{MIRROR_ENV}=http://deb.debian.org/debian"))
        started = time.monotonic()
        work = root / f".fetch-{key}-{os.getpid()}"
        try:
            work.mkdir()
            packages = _download(release, work, mirror, tools)
            facts = _extract(release, work, tools)
            target = root / facts["dockerd"]
            shutil.rmtree(target, ignore_errors=True)  # an incomplete one (no manifest) of an older layout
            record = {"key": key, **facts, "mirror": mirror, "packages": packages, "fetched": time.time(),
                      "seconds": round(time.monotonic() - started, 1)}
            (work / "stage" / MANIFEST).write_text(json.dumps(record, indent=2))
            (work / "stage").rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return target


__all__ = ["SYSTEM", "CHOICES", "RELEASES", "ENGINE_ENV", "parse_spec", "resolve", "conflicts", "spec_of",
           "read_record", "write_record", "cached", "available", "bin_dir", "fetch", "machine_mirror"]
