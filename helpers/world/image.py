"""The lab image, built offline: one static busybox and its applet links, nothing pulled."""
from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from helpers.errors import MissingToolError
from helpers.world.naming import CACHE_ROOT, COURSE, IMAGE, LABEL_COURSE

BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
# What the chapters use; the image links every applet the binary has, these must be among them.
REQUIRED_APPLETS = ("sh", "ip", "ping", "wget", "nc", "httpd", "nslookup", "traceroute", "arping")
ROOTFS_TAR = CACHE_ROOT / "box-rootfs.tar"
FIX = "sudo apt-get install -y busybox-static"


def find_busybox() -> Path:
    """The static busybox from Debian's busybox-static (a dynamic one cannot run in `scratch`)."""
    for candidate in BUSYBOX_CANDIDATES:
        if candidate.exists() and _is_static(candidate):
            return candidate
    raise MissingToolError("no static busybox found (the lab image is built from it)", FIX)


def _is_static(binary: Path) -> bool:
    # A dynamic ELF has a PT_INTERP program header naming its loader; a static one has none.
    head = binary.read_bytes()[:65536]
    return head[:4] == b"\x7fELF" and b"ld-linux" not in head


def applets(busybox: Path) -> list[str]:
    import subprocess

    listed = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    names = listed.stdout.split()
    missing = [name for name in REQUIRED_APPLETS if name not in names]
    if missing:
        raise MissingToolError(f"this busybox lacks {', '.join(missing)}", FIX)
    return names


def rootfs_tar(busybox: Path | None = None) -> bytes:
    """A root filesystem as a tar archive: /bin/busybox, a link per applet, a web root."""
    busybox = busybox or find_busybox()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for directory in ("bin", "etc", "root", "www", "var", "proc", "sys", "dev"):
            add_dir(directory)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", busybox.read_bytes(), 0o755)
        for name in applets(busybox):
            if name == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{name}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file("www/index.html", b"hello from a dnlab container\n")
    return buffer.getvalue()


def cached_rootfs() -> bytes:
    """The rootfs tar, built once and kept in the cache (rebuilt if busybox changes)."""
    busybox = find_busybox()
    digest = hashlib.sha256(busybox.read_bytes()).hexdigest()[:16]
    stamp = ROOTFS_TAR.with_suffix(".busybox-sha")
    if ROOTFS_TAR.exists() and stamp.exists() and stamp.read_text() == digest:
        return ROOTFS_TAR.read_bytes()
    data = rootfs_tar(busybox)
    ROOTFS_TAR.parent.mkdir(parents=True, exist_ok=True)
    ROOTFS_TAR.write_bytes(data)
    stamp.write_text(digest)
    return data


IMAGE_CHANGES = [
    f"LABEL {LABEL_COURSE}={COURSE}",
    "ENV PATH=/bin",
    'CMD ["sh"]',
    "WORKDIR /",
]


def load_into(client, data: bytes | None = None) -> None:
    """Import the lab image into an engine (a local `docker import`: no registry involved)."""
    if any(IMAGE in (image.tags or []) for image in client.images.list(filters={"label": f"{LABEL_COURSE}={COURSE}"})):
        return
    repository, tag = IMAGE.split(":")
    client.api.import_image_from_data(data or cached_rootfs(), repository=repository, tag=tag,
                                      changes=IMAGE_CHANGES)
