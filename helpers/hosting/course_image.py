"""The course image built offline: the Dockerfile's image settings as `docker import --change` lines.

`make course-image` runs the Dockerfile's build steps (scripts/course-image/steps.sh) in a
debootstrapped Debian 13 root and imports its tar with `docker import`. Whatever the Dockerfile sets
on the image (ENV, WORKDIR, VOLUME, EXPOSE, ENTRYPOINT, CMD) is read from the Dockerfile itself here,
so the two builds cannot drift apart; an instruction that `docker import` cannot carry is an error.

    python -m helpers.hosting.course_image changes [Dockerfile]     the lines, as a JSON list
    python -m helpers.hosting.course_image command [changes.json [rootfs.tar [ARCH]]]   the `docker import` to run

A root of another architecture than the machine's (`make course-image ARCH=arm64`) is imported with
`--platform linux/ARCH`, so the image's config names its architecture (a tar carries none).
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

from helpers.errors import LabError
from helpers.world.naming import CACHE_ROOT

# The course image (Dockerfile; `make course-image` builds it offline as a root filesystem tar plus the
# Dockerfile's `docker import --change` lines, cached here and keyed on the repository's tree).
COURSE_IMAGE = "dnlab/course:latest"
COURSE_IMAGE_DIR = CACHE_ROOT / "course-image"
COURSE_IMAGE_ROOTFS = "rootfs.tar"
COURSE_IMAGE_CHANGES = "changes.json"
# Beside them: an engine's image store holding the course image, kept by the first engine that imported
# it (the classroom's), for the next engine of the same dockerd (`engine_store`); a rebuild removes them.
ENGINE_STORE_PREFIX = "engine-store-"
COURSE_IMAGE_PORT = 8888
# The learner image (what learners and the classroom run) of this machine's architecture is built in
# COURSE_IMAGE_DIR; `make course-image VARIANT=test` (adds what `make test` inside needs) and ARCH=arm64
# in folders of their own beside it (scripts/course-image/build.sh names them the same way).
COURSE_IMAGE_VARIANTS = ("learner", "test")
COURSE_IMAGE_DIR_ENV = "DNLAB_COURSE_IMAGE_DIR"   # another folder than COURSE_IMAGE_DIR (a developer's own build)


def course_image_dir(variant: str = "learner", arch: str | None = None) -> Path:
    """Where `make course-image VARIANT=variant ARCH=arch` leaves its rootfs tar (arch None: the machine's)."""
    base = os.environ.get(COURSE_IMAGE_DIR_ENV) or str(COURSE_IMAGE_DIR)
    return Path(base + ("" if variant == "learner" else f"-{variant}") + (f"-{arch}" if arch else ""))


def engine_store(image_dir: Path, dockerd: Path) -> Path | None:
    """Where an engine run from `dockerd` keeps (and a new one finds) its image store holding the course
    image built in `image_dir`: named after that build (its rootfs tar's size and time) and the dockerd
    binary, so a rebuilt image or another engine never starts from a stale one. None if no image is built."""
    try:
        built = (image_dir / COURSE_IMAGE_ROOTFS).stat()
    except FileNotFoundError:
        return None
    # Here, not at the top: the hub's configuration and `dnlab`'s parser read this module, not the world's.
    from helpers.world.image import dockerd_identity  # the world's seeds name their dockerd the same way

    build = hashlib.sha256(f"{built.st_size}:{built.st_mtime_ns}".encode()).hexdigest()[:12]
    return image_dir / f"{ENGINE_STORE_PREFIX}{build}-{dockerd_identity(dockerd)}"


# What `docker import --change` applies (Docker's documented list), and what only a build runs.
IMPORTABLE = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "ONBUILD", "USER", "VOLUME", "WORKDIR")
BUILD_ONLY = ("FROM", "COPY", "ADD", "RUN", "ARG")


def logical_lines(text: str) -> list[str]:
    """A Dockerfile's instructions, one per entry: comments and blank lines gone, `\\` continuations joined."""
    lines, pending = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        lines.append((pending + stripped).strip())
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return lines


def import_changes(text: str) -> list[str]:
    """The `--change` lines of a Dockerfile's final stage, in the Dockerfile's order."""
    changes: list[str] = []
    for line in logical_lines(text):
        instruction = line.split(None, 1)[0].upper()
        if instruction == "FROM":
            changes = []  # a later stage starts afresh: only the final image's settings count
        elif instruction in IMPORTABLE:
            changes.append(line)
        elif instruction not in BUILD_ONLY:
            raise LabError(f"the Dockerfile's {instruction} cannot be carried by `docker import --change` "
                           f"(it takes {', '.join(IMPORTABLE)}), so `make course-image` would differ from "
                           "`docker build`", "express it with ENV or in scripts/course-image/steps.sh")
    return changes


# Debian's architecture names -> the OCI platform's (those the course image is built for).
OCI_ARCH = {"amd64": "amd64", "arm64": "arm64"}


def import_args(arch: str | None) -> list[str]:
    """`--platform linux/ARCH` for a root of another architecture than the machine's (build.sh passes
    ARCH only then; inside an emulated root the machine would answer ARCH itself); none for None."""
    if arch is None:
        return []
    if arch not in OCI_ARCH:
        raise LabError(f"no course image for the architecture {arch}", "make course-image ARCH=arm64")
    return ["--platform", f"linux/{OCI_ARCH[arch]}"]


def import_command(changes: list[str], rootfs: Path | None = None, tag: str = COURSE_IMAGE,
                   arch: str | None = None) -> str:
    """The `docker import` command line that makes the course image from the built root's tar."""
    rootfs = rootfs or COURSE_IMAGE_DIR / COURSE_IMAGE_ROOTFS
    parts = ["docker", "import", *import_args(arch)]
    for change in changes:
        parts += ["--change", change]
    return " ".join(shlex.quote(part) for part in [*parts, str(rootfs), tag])


def main(argv: list[str]) -> int:
    """`changes [Dockerfile]` prints the lines as JSON; `command [changes.json [rootfs]]` the import command."""
    if argv[:1] == ["changes"]:
        path = Path(argv[1] if len(argv) > 1 else "Dockerfile")
        print(json.dumps(import_changes(path.read_text()), indent=2))
        return 0
    if argv[:1] == ["command"]:
        path = Path(argv[1] if len(argv) > 1 else COURSE_IMAGE_DIR / COURSE_IMAGE_CHANGES)
        rootfs = Path(argv[2]) if len(argv) > 2 else path.parent / COURSE_IMAGE_ROOTFS
        arch = argv[3] if len(argv) > 3 else None
        print(import_command(json.loads(path.read_text()), rootfs, arch=arch))
        return 0
    print(__doc__.strip().splitlines()[-2:], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
