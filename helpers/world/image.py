"""The course's images, built offline and loaded into every lab engine: nothing is pulled.

- `dnlab/box` (the lab image) and the stand-ins `alpine` and `nginx`: one busybox layer
  (`images/busybox.py`), three configs;
- `dnlab/tools`: Debian's tcpdump, curl, dig, ip, ss, iptables, nc and their libraries on top of it
  (`images/toolbox.py`).

All four go into one `docker save`-format archive (`images/archive.py`), built once per machine in
CACHE_ROOT and rebuilt when busybox, a tool or this code changes; `up` loads it with one
`docker load` per engine, skipped when the engine already has this very build.

A `docker load` costs about a second of CPU per engine (hashing and unpacking 75 MB), every time a
world comes up. So the first engine of a dockerd version to load a build leaves a *seed*: a copy of
its image store (`image/` and the graph driver's `overlay2/`, nothing else) in CACHE_ROOT. A fresh
data-root of the same dockerd version starts from a copy of it instead: the metadata copied (dockerd
rewrites it), the layers hard-linked (overlayfs never writes a lower layer; a container's changes go
to its own upper folder, and `docker rmi` only unlinks). 60 ms instead of a load. Where the seed and
the data-root are on different file systems, the layers are copied instead (a tenth of a load's CPU).

The course image cannot leave a seed at build time (no dockerd runs in `docker build`), and its engines'
data-roots are on its VOLUME, new at every `docker run`: its build writes the store a load would leave,
`store-<build>` (helpers/world/imagestore.py), and a fresh data-root with no seed of its dockerd starts
from a copy of that.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from helpers.world import engine
from helpers.world.images import archive, busybox, toolbox
from helpers.world.images.archive import ImageConfig
from helpers.world.images.busybox import (  # noqa: F401  (the lab image's API, used by the doctor)
    BUSYBOX_CANDIDATES,
    FIX,
    IDLE_SCRIPT,
    NGINX_ROOT,
    REQUIRED_APPLETS,
    applets,
    find_busybox,
)
from helpers.world.naming import (
    ALPINE_IMAGE,
    CACHE_ROOT,
    COURSE,
    IMAGE,
    LABEL_BUILD,
    LABEL_COURSE,
    LABEL_STANDS_IN,
    NGINX_IMAGE,
    TOOLS_IMAGE,
    HostPaths,
)

ARCHIVE_GLOB = "images-*.tar"
COURSE_TAGS = (IMAGE, ALPINE_IMAGE, NGINX_IMAGE, TOOLS_IMAGE)   # what every lab engine holds after `up`
IDLE_CMD = (f"/{IDLE_SCRIPT}",)
NGINX_CMD = ("httpd", "-f", "-v", "-p", "80", "-h", f"/{NGINX_ROOT}")

# `docker import --change` lines giving an imported busybox rootfs the lab image's config, for a
# hand-made import; the course itself loads a whole config (`docker load`), StopSignal included.
IMAGE_CHANGES = [
    f"LABEL {LABEL_COURSE}={COURSE}",
    f"ENV PATH={archive.DEFAULT_PATH}",
    f'CMD ["{IDLE_CMD[0]}"]',
    "WORKDIR /",
]


def course_images(build: str, created: str = "1970-01-01T00:00:00Z") -> list[ImageConfig]:
    """The images every lab engine gets, labelled with the course and this build."""
    mine = {LABEL_COURSE: COURSE, LABEL_BUILD: build}
    return [
        ImageConfig(IMAGE, ("busybox",), IDLE_CMD, mine, created=created),
        ImageConfig(ALPINE_IMAGE, ("busybox",), IDLE_CMD, {**mine, LABEL_STANDS_IN: "alpine"}, created=created),
        ImageConfig(NGINX_IMAGE, ("busybox",), NGINX_CMD, {**mine, LABEL_STANDS_IN: "nginx"}, ("80/tcp",),
                    created=created),
        ImageConfig(TOOLS_IMAGE, ("busybox", "tools"), IDLE_CMD, mine, created=created),
    ]


def created_from(busybox_binary: Path) -> str:
    """The images' date: when Debian's busybox was installed here (stable for a given build)."""
    stamp = datetime.fromtimestamp(busybox_binary.stat().st_mtime, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def rootfs_tar(busybox_binary: Path | None = None) -> bytes:
    """The busybox layer: the whole root filesystem of the lab image."""
    return busybox.layer(busybox_binary)


def _source_digest() -> str:
    # The layers' files are written by this code: a change to it is a new build.
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for source in [here / "image.py", *sorted((here / "images").glob("*.py"))]:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def build_id(busybox_binary: Path, tools: list[toolbox.Tool]) -> str:
    """What the archive is made of: busybox, the tools' binaries, this code."""
    digest = hashlib.sha256(busybox_binary.read_bytes())
    digest.update(toolbox.fingerprint(tools).encode())
    digest.update(_source_digest().encode())
    return digest.hexdigest()[:16]


def archive_path(build: str) -> Path:
    return CACHE_ROOT / f"images-{build}.tar"


def _write_archive(path: Path, build: str, busybox_binary: Path, tools: list[toolbox.Tool]) -> None:
    layers = {"busybox": busybox.layer(busybox_binary), "tools": toolbox.layer(tools)}
    path.parent.mkdir(parents=True, exist_ok=True)
    # Other worlds on this machine may build at the same moment: write aside, then rename.
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".images-", delete=False) as out:
        archive.write(out, layers, course_images(build, created_from(busybox_binary)))
    os.replace(out.name, path)
    _sweep(path)


def _sweep(keep: Path, age: float = 600.0) -> None:
    """Remove other builds' archives and half-written ones, once they are `age` seconds old: a
    process still running older code (a notebook kernel) may be about to load its own build."""
    now = time.time()
    for old in [*keep.parent.glob(ARCHIVE_GLOB), *keep.parent.glob(".images-*")]:
        with suppress(FileNotFoundError):
            if old != keep and now - old.stat().st_mtime > age:
                old.unlink()


def cached_archive() -> Path:
    """The archive of every course image, built on first use and after anything in it changed."""
    busybox_binary, tools = find_busybox(), toolbox.find_tools()
    build = build_id(busybox_binary, tools)
    path = archive_path(build)
    if not path.exists():
        _write_archive(path, build, busybox_binary, tools)
    return path


def build_of(path: Path) -> str:
    """The build id an archive's name carries."""
    return path.stem.removeprefix("images-")


def cached_rootfs() -> bytes:
    """Build every course image's archive if needed; return the lab image's busybox layer."""
    cached_archive()
    return rootfs_tar()


def has_build(client, build: str) -> bool:
    """Whether this engine already holds every course image of this build, under its tag."""
    held = client.images.list(filters={"label": f"{LABEL_BUILD}={build}"})
    tags = {tag for image in held for tag in (image.tags or [])}
    return all(spec.tag in tags for spec in course_images(build))


def engine_has_build(paths: HostPaths, build: str) -> bool:
    """`has_build` asked on the engine's socket (`engine.get_json`), without the docker SDK: False if
    the engine does not answer, so the caller goes on to load (and reports what fails there)."""
    query = quote(json.dumps({"label": [f"{LABEL_BUILD}={build}"]}))
    held = engine.get_json(paths, f"/images/json?filters={query}", timeout=5.0)
    if not isinstance(held, list):
        return False
    tags = {tag for found in held if isinstance(found, dict) for tag in (found.get("RepoTags") or [])}
    return all(spec.tag in tags for spec in course_images(build))


def load_course_images(client, path: Path | None = None) -> None:
    """`docker load` every course image into an engine (a local load: no registry involved)."""
    path = path or cached_archive()
    if has_build(client, build_of(path)):
        return
    with path.open("rb") as data:
        client.images.load(data)
    # Images of an older build lost their tags to this one: don't let them pile up in data-root.
    client.images.prune(filters={"dangling": True, "label": f"{LABEL_COURSE}={COURSE}"})


def load_into(client, data: bytes | None = None) -> None:
    """Load the lab image alone into an engine (a scratch engine's check needs no toolbox): an
    archive of its one layer, made in memory from `data` (the busybox layer) or a fresh build."""
    busybox_binary = find_busybox()
    build = build_id(busybox_binary, toolbox.find_tools())
    if client.images.list(filters={"label": f"{LABEL_BUILD}={build}", "reference": IMAGE}):
        return
    lab_image = [spec for spec in course_images(build, created_from(busybox_binary)) if spec.tag == IMAGE]
    out = io.BytesIO()
    archive.write(out, {"busybox": data or busybox.layer(busybox_binary)}, lab_image)
    client.images.load(out.getvalue())


# --- seeds: a loaded image store, copied into fresh data-roots --------------------------------

SEED_GLOB = "seed-*"


def dockerd_identity(dockerd: Path) -> str:
    """A short name of the binary `dockerd` (its path, size and time): each release, and each upgrade
    of the machine's docker.io, keeps its own seeds (its store's layout is that release's)."""
    binary = dockerd.resolve()
    stat = binary.stat()
    return hashlib.sha256(f"{binary}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]


def seed_path(build: str, dockerd: Path) -> Path:
    """The seed of `build` for engines run from the binary `dockerd`."""
    return CACHE_ROOT / f"seed-{build}-{dockerd_identity(dockerd)}"


def store_path(build: str) -> Path:
    """The image store of `build` written offline (helpers/world/imagestore.py: the course image's build),
    valid for every dockerd with the overlay2 driver."""
    return CACHE_ROOT / f"store-{build}"


def is_fresh(data_root: Path) -> bool:
    """No image metadata yet: no dockerd ever ran there (dockerd makes `image/` as it starts), so a seed
    may be copied in, or saved from it once loaded. Whatever else is there is a killed seeding's half."""
    return not (data_root / "image").exists()


def seed_data_root(data_root: Path, build: str, dockerd: Path) -> bool:
    """Give a fresh data-root the course images before its dockerd starts: True if it was seeded,
    False if it must load them (no seed of this build and dockerd nor a store of this build, or a
    used data-root). The seed of the data-root's own dockerd first, else the store written offline."""
    seed = next((s for s in (seed_path(build, dockerd), store_path(build)) if s.is_dir()), None)
    return copy_store(seed, data_root)


def copy_store(seed: Path | None, data_root: Path) -> bool:
    """Copy the image store `seed` (a seed, a store written offline; None: there is none) into the fresh
    `data_root` before its dockerd starts: True if done, False if the engine must load its images itself
    (no seed, or a used data-root). Layers hard-linked on the same file system, copied across two.

    Made in a staging folder and moved into place layers first, `image/` last: an `up` killed on the
    way leaves no metadata naming layers that are not there (dockerd would believe it has the images
    and fail on them), and the next `up` removes the half and seeds or loads again."""
    if not is_fresh(data_root):
        return False
    staging = data_root / ".seeding"
    for half in (staging, data_root / "overlay2"):
        shutil.rmtree(half, ignore_errors=True)
    if seed is None:
        return False
    data_root.mkdir(parents=True, exist_ok=True)
    same_file_system = os.stat(seed).st_dev == os.stat(data_root).st_dev
    try:
        staging.mkdir()
        shutil.copytree(seed / "image", staging / "image", symlinks=True)
        subprocess.run(["cp", "-a", *(["--link"] if same_file_system else []), str(seed / "overlay2"), str(staging)],
                       check=True, capture_output=True, timeout=60)
        os.rename(staging / "overlay2", data_root / "overlay2")
        os.rename(staging / "image", data_root / "image")
        staging.rmdir()
    except (OSError, subprocess.SubprocessError):
        for half in (staging, data_root / "image", data_root / "overlay2"):  # the engine loads instead
            shutil.rmtree(half, ignore_errors=True)
        return False
    return True


def save_seed(data_root: Path, build: str, dockerd: Path) -> None:
    """Keep a just-loaded data-root's image store as the seed of its build and dockerd binary (`keep_store`),
    and sweep other builds' seeds."""
    seed = seed_path(build, dockerd)
    if keep_store(data_root, seed):
        _sweep_seeds(seed)


def keep_store(data_root: Path, seed: Path) -> bool:
    """Keep a just-loaded data-root's image store (`image/`, the graph driver's `overlay2/`; layers
    hard-linked) as `seed`. Only for a data-root that was fresh when its engine started, right after the
    load, before any container exists. Written aside, then renamed: two engines loading at once both try,
    one wins. True if this call made it."""
    if seed.exists():
        return False
    seed.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(dir=seed.parent, prefix=f".{seed.name}-"))
    try:
        shutil.copytree(data_root / "image", aside / "image", symlinks=True)
        subprocess.run(["cp", "-a", "--link", str(data_root / "overlay2"), str(aside)], check=True,
                       capture_output=True, timeout=60)
        os.rename(aside, seed)
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(aside, ignore_errors=True)  # seeds are an optimisation: loading still works
        return False
    return True


def _sweep_seeds(keep: Path, age: float = 600.0) -> None:
    """Remove other builds' seeds and half-made ones once they are `age` seconds old (a world of an
    older build may still be copying one)."""
    now = time.time()
    for old in [*keep.parent.glob(SEED_GLOB), *keep.parent.glob(".seed-*")]:
        with suppress(FileNotFoundError):
            if old != keep and now - old.stat().st_mtime > age:
                shutil.rmtree(old, ignore_errors=True)
