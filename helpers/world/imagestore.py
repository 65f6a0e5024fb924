"""The image store a `docker load` of the course archive leaves in an overlay2 data-root, written
offline: for the course image, whose build cannot run a dockerd (`docker build`'s RUN steps have no
privileges), and whose engines' data-roots are on its VOLUME, where no seed can be hard-linked.

Each `docker load` of the 45 MiB archive costs about half a second of CPU in the container, and the
course container made one per engine at every start (issue 21: `docker run` to JupyterLab with the
world up <= 3 s). `python -m helpers.world.imagestore` (scripts/course-image/steps.sh) writes
`CACHE_ROOT/store-<build>` at build time; `dnlab up` copies it into each fresh data-root as it does a
seed (helpers/world/image.py), and dockerd starts with the images held.

What dockerd itself writes for a load (overlay2 graph driver; the layout of Docker 20.10 to 28.5, read
from their seeds): `image/overlay2/` with the images' configs under `imagedb/content/sha256/<id>`,
`repositories.json` naming the tags, and per layer `layerdb/sha256/<chain id>/` (`diff`, `size`,
`cache-id`, `parent`, and `tar-split.json.gz`: the layer tar's headers and each file's CRC-64, from
which `docker save` puts the exact tar back together and checks it against the layer's digest: the JSON
here is byte for byte what Docker 28.5 wrote for the same archive); and
`overlay2/<cache id>/` with the unpacked `diff/`, its short `link` name (and `l/<link>` pointing to
it), the `lower` chain and a `work/` folder for a layer with a parent, `committed` for a base layer.
The cache ids and link names are derived from the chain ids here (dockerd draws them at random): any
unique names serve.

`link_from`: a regular file of a layer that is byte for byte a file of that root at the same path
(mode and owner too: the toolbox's libraries are the image's own) is hard-linked to it, not written
again: the store then costs the image ~2 MiB, not 45. Such a file shows that file's modification time
inside a container, not the layer's (1970): the one difference from a `docker load`.
"""
from __future__ import annotations

import base64
import filecmp
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

DRIVER = "overlay2"
# Go's hash/crc64 with the ISO polynomial, as tar-split checksums each file (reversed form).
_CRC64_ISO = 0xD800000000000000
_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ _CRC64_ISO if _crc & 1 else _crc >> 1
    _TABLE.append(_crc)


def crc64_iso(data: bytes) -> bytes:
    """CRC-64/ISO of `data` as Go's `crc64.New(crc64.MakeTable(crc64.ISO)).Sum(nil)`: 8 bytes, big-endian."""
    crc = 0xFFFFFFFFFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def _raw_name(member: tarfile.TarInfo, header: bytes) -> str:
    """The entry's name as Go's archive/tar gives it: a directory keeps its trailing slash."""
    if member.isdir() and not member.name.endswith("/"):
        ustar_name = header[:100].split(b"\0", 1)[0]
        if ustar_name.endswith(b"/"):
            return member.name + "/"
    return member.name


def tar_split(layer: bytes) -> bytes:
    """The gzipped `tar-split.json.gz` dockerd keeps for a layer: alternating raw segments (headers,
    padding, the end blocks) and file entries (name, size, CRC-64 of the content), which together are
    the layer tar byte for byte."""
    lines: list[dict] = []

    def segment(payload: bytes) -> None:
        if payload:
            lines.append({"type": 2, "payload": base64.b64encode(payload).decode(), "position": len(lines)})

    done = 0
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as tar:
        for member in tar:
            segment(layer[done:member.offset_data])
            entry: dict = {"type": 1, "name": _raw_name(member, layer[member.offset:member.offset + 512])}
            payload = None
            if member.isreg() and member.size:
                entry["size"] = member.size
                content = layer[member.offset_data:member.offset_data + member.size]
                payload = base64.b64encode(crc64_iso(content)).decode()
            entry["payload"] = payload
            entry["position"] = len(lines)
            lines.append(entry)
            done = member.offset_data + (member.size if member.isreg() else 0)
    # As Go's reader splits the end: the last content's padding with the two zero blocks that end the
    # archive, then whatever follows them.
    end = -(-done // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE
    segment(layer[done:end])
    segment(layer[end:])
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
    return gzip.compress(text, mtime=0)


def diff_size(layer: bytes) -> int:
    """What dockerd records as the layer's size (its directory walk of `diff/`): every regular file's
    and symlink's size (a symlink's is its target's length), a hard-linked file once."""
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as tar:
        return sum(m.size if m.isreg() else len(m.linkname) for m in tar if m.isreg() or m.issym())


def _extract(layer: bytes, diff: Path, link_from: Path | None) -> None:
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as tar:
        members = tar.getmembers()
        whiteouts = [m.name for m in members if Path(m.name).name.startswith(".wh.")]
        if whiteouts:  # the course's layers delete nothing; a whiteout would need overlay's own form
            raise ValueError(f"layer has whiteouts, which this writer does not convert: {whiteouts[:3]}")
        tar.extractall(diff, numeric_owner=True, filter="fully_trusted")
    if link_from is None:
        return
    for member in members:
        if not member.isreg() or member.size < 1024:
            continue
        ours, theirs = diff / member.name, link_from / member.name
        try:
            mine, other = ours.lstat(), theirs.lstat()
        except FileNotFoundError:
            continue
        if (stat.S_ISREG(other.st_mode) and other.st_size == mine.st_size
                and stat.S_IMODE(other.st_mode) == stat.S_IMODE(mine.st_mode)
                and (other.st_uid, other.st_gid) == (mine.st_uid, mine.st_gid)
                and filecmp.cmp(ours, theirs, shallow=False)):
            staged = ours.with_name(f".{ours.name}.link")
            os.link(theirs, staged)
            os.replace(staged, ours)


def _short(chain: str) -> str:
    """A 26-character link name like dockerd's (base32 of 16 bytes), from the chain id."""
    return base64.b32encode(hashlib.sha256(f"link:{chain}".encode()).digest()[:16]).decode().rstrip("=")


def write(archive: Path, target: Path, link_from: Path | None = None) -> None:
    """Write the image store of `archive` (a `docker save` tar) at `target` (`image/`, `overlay2/`),
    as a data-root after `docker load` of it holds them. Written aside, then renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        _write(archive, aside, link_from)
        os.rename(aside, target)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise


def _write(archive: Path, root: Path, link_from: Path | None) -> None:
    meta = root / "image" / DRIVER
    layerdb, imagedb, graph = meta / "layerdb" / "sha256", meta / "imagedb", root / DRIVER
    for folder in (meta / "distribution", layerdb.parent / "tmp", imagedb / "content" / "sha256",
                   imagedb / "metadata" / "sha256", graph / "l"):
        folder.mkdir(parents=True, exist_ok=True)
    for folder in (root / "image", meta, meta / "distribution", imagedb, imagedb / "content",
                   imagedb / "content" / "sha256", imagedb / "metadata", imagedb / "metadata" / "sha256",
                   meta / "layerdb", graph / "l"):
        folder.chmod(0o700)
    graph.chmod(0o710)
    repositories: dict[str, dict[str, str]] = {}
    made: dict[str, tuple[str, str]] = {}   # chain id -> (cache id, lower chain of link names)
    with tarfile.open(archive, mode="r:") as saved:
        manifest = json.load(saved.extractfile("manifest.json"))
        for image in manifest:
            config = saved.extractfile(image["Config"]).read()
            image_id = hashlib.sha256(config).hexdigest()
            content = imagedb / "content" / "sha256" / image_id
            content.write_bytes(config)
            content.chmod(0o600)
            diff_ids = json.loads(config)["rootfs"]["diff_ids"]
            if len(diff_ids) != len(image["Layers"]):
                raise ValueError(f"{image['Config']}: {len(image['Layers'])} layers for {len(diff_ids)} diff ids")
            parent = ""
            for diff_id, layer_name in zip(diff_ids, image["Layers"], strict=True):
                # The chain id, as the layer store names a layer: its diff id on top of its parent's chain.
                chain = "sha256:" + hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest() if parent else diff_id
                if chain not in made:
                    layer = saved.extractfile(layer_name).read()
                    if "sha256:" + hashlib.sha256(layer).hexdigest() != diff_id:
                        raise ValueError(f"{layer_name}: its digest is not the config's {diff_id}")
                    made[chain] = _write_layer(layer, diff_id, chain, parent, made, layerdb, graph, link_from)
                parent = chain
            for tag in image.get("RepoTags") or []:
                repository = tag.rsplit(":", 1)[0]
                repositories.setdefault(repository, {})[tag] = f"sha256:{image_id}"
    names = meta / "repositories.json"
    names.write_text(json.dumps({"Repositories": repositories}, separators=(",", ":")))
    names.chmod(0o600)


def _write_layer(layer: bytes, diff_id: str, chain: str, parent: str, made: dict[str, tuple[str, str]],
                 layerdb: Path, graph: Path, link_from: Path | None) -> tuple[str, str]:
    cache_id = hashlib.sha256(f"cache:{chain}".encode()).hexdigest()
    link = _short(chain)
    home = graph / cache_id
    (home / "diff").mkdir(parents=True)
    home.chmod(0o710)
    _extract(layer, home / "diff", link_from)
    (home / "diff").chmod(0o755)
    (home / "link").write_text(link)
    (graph / "l" / link).symlink_to(f"../{cache_id}/diff")
    lower = ""
    if parent:
        parent_cache, parent_lower = made[parent]
        lower = ":".join(filter(None, [f"l/{(graph / parent_cache / 'link').read_text()}", parent_lower]))
        (home / "lower").write_text(lower)
        (home / "work").mkdir(mode=0o700)
    else:
        (home / "committed").write_text("")
    entry = layerdb / chain.removeprefix("sha256:")
    entry.mkdir(parents=True, mode=0o700)
    entry.chmod(0o700)
    (entry / "diff").write_text(diff_id)
    (entry / "size").write_text(str(diff_size(layer)))
    (entry / "cache-id").write_text(cache_id)
    if parent:
        (entry / "parent").write_text(parent)
    (entry / "tar-split.json.gz").write_bytes(tar_split(layer))
    for name in ("diff", "size", "cache-id", "parent", "tar-split.json.gz"):
        if (entry / name).exists():
            (entry / name).chmod(0o644)
    return cache_id, lower


def main() -> None:
    """Write the store of this machine's current archive (built if needed) in CACHE_ROOT, its files
    linked to the root's own where identical: the course image's build (scripts/course-image/steps.sh)."""
    from helpers.world import image

    archive = image.cached_archive()
    target = image.store_path(image.build_of(archive))
    if target.exists():
        return
    write(archive, target, link_from=Path("/"))
    print(f"image store of {archive.name} written to {target}")


if __name__ == "__main__":
    main()
