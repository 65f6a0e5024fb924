"""The image store written offline (helpers/world/imagestore.py): what `docker load` of the course
archive leaves in an overlay2 data-root. Checked here against the formats themselves (the CRC-64 Go's
tar-split uses, the tar put back together from the tar-split); against real engines (Docker 28.5 and
26.1 starting on it, `docker save` of its layers) in tests/course_image/test_course_image.py."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from helpers.world import imagestore
from helpers.world.images import archive
from helpers.world.images.archive import ImageConfig


def test_crc64_is_gos_iso_table():
    # The CRC catalogue's CRC-64/GO-ISO check value (Go's crc64.ISO, as tar-split uses it).
    assert imagestore.crc64_iso(b"123456789") == bytes.fromhex("b90956c775a41001")


def _tar(entries: list[tuple[str, bytes | str | None, str]]) -> bytes:
    """A layer tar: (name, content, kind) with kind file, dir, symlink (content: target) or hardlink."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname, info.mode = tarfile.LNKTYPE, content, 0o755  # the target's mode
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o755
                tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


LAYER = [("bin/", None, "dir"), ("bin/tool", b"\x7fELF" + bytes(2000), "file"),
         ("bin/exact", b"x" * 512, "file"), ("bin/empty", b"", "file"),
         ("bin/sh", "tool", "symlink"), ("bin/again", "bin/tool", "hardlink")]


def test_tar_split_puts_the_layer_back_together_byte_for_byte():
    layer = _tar(LAYER)
    contents = {name: data for name, data, kind in LAYER if kind == "file"}
    lines = [json.loads(line) for line in gzip.decompress(imagestore.tar_split(layer)).splitlines()]
    assert [line["position"] for line in lines] == list(range(len(lines)))
    rebuilt = b""
    for line in lines:
        if line["type"] == 2:
            rebuilt += base64.b64decode(line["payload"])
        elif line.get("size"):
            data = contents[line["name"]]
            assert line["size"] == len(data)
            assert base64.b64decode(line["payload"]) == imagestore.crc64_iso(data)
            rebuilt += data
        else:
            assert line["payload"] is None  # directories, links, empty files: no content
    assert rebuilt == layer
    assert "bin/" in [line.get("name") for line in lines]  # a directory keeps its slash, as Go reads it


def test_diff_size_counts_files_and_symlinks_once():
    assert imagestore.diff_size(_tar(LAYER)) == 2004 + 512 + len("tool")


@pytest.fixture
def saved(tmp_path) -> tuple[Path, dict[str, bytes], list[ImageConfig]]:
    layers = {"base": _tar(LAYER), "top": _tar([("etc/", None, "dir"), ("etc/motd", b"hello\n" * 300, "file")])}
    images = [ImageConfig("dnlab/box:latest", ("base",), ("/idle",)),
              ImageConfig("dnlab/tools:latest", ("base", "top"), ("/idle",))]
    path = tmp_path / "images.tar"
    with path.open("wb") as out:
        archive.write(out, layers, images)
    return path, layers, images


def test_the_store_holds_each_image_under_its_tag_and_each_layer_once(saved, tmp_path):
    path, layers, images = saved
    store = tmp_path / "store"
    imagestore.write(path, store)
    meta = store / "image" / "overlay2"
    tags = json.loads((meta / "repositories.json").read_text())["Repositories"]
    for spec in images:
        image_id = archive.image_id(spec, layers)
        assert tags[spec.tag.rsplit(":", 1)[0]] == {spec.tag: image_id}
        assert (meta / "imagedb" / "content" / "sha256" / image_id[7:]).is_file()
    base_id, top_id = archive.digest(layers["base"]), archive.digest(layers["top"])
    top_chain = "sha256:" + hashlib.sha256(f"{base_id} {top_id}".encode()).hexdigest()
    entries = sorted(p.name for p in (meta / "layerdb" / "sha256").iterdir())
    assert entries == sorted([base_id[7:], top_chain[7:]])
    base, top = meta / "layerdb" / "sha256" / base_id[7:], meta / "layerdb" / "sha256" / top_chain[7:]
    assert (top / "parent").read_text() == base_id and not (base / "parent").exists()
    assert (top / "diff").read_text() == top_id
    base_home = store / "overlay2" / (base / "cache-id").read_text()
    top_home = store / "overlay2" / (top / "cache-id").read_text()
    assert (base_home / "diff" / "bin" / "tool").read_bytes() == LAYER[1][1]
    assert os.readlink(base_home / "diff" / "bin" / "sh") == "tool"
    assert os.path.samefile(base_home / "diff" / "bin" / "tool", base_home / "diff" / "bin" / "again")
    assert (base_home / "committed").exists() and not (base_home / "lower").exists()
    assert (top_home / "lower").read_text() == f"l/{(base_home / 'link').read_text()}"
    assert (top_home / "work").is_dir()
    link = (top_home / "link").read_text()
    assert len(link) == 26 and os.path.samefile(store / "overlay2" / "l" / link, top_home / "diff")
    assert not list(tmp_path.glob(".store-*"))  # written aside, renamed into place


def test_files_identical_to_the_roots_are_hard_links_others_written(saved, tmp_path):
    path, _, _ = saved
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_bytes(LAYER[1][1])
    (root / "bin" / "tool").chmod(0o755)
    (root / "etc").mkdir()
    (root / "etc" / "motd").write_bytes(b"another motd\n" * 200)
    (root / "etc" / "motd").chmod(0o755)
    store = tmp_path / "store"
    imagestore.write(path, store, link_from=root)
    tool = next(store.glob("overlay2/*/diff/bin/tool"))
    motd = next(store.glob("overlay2/*/diff/etc/motd"))
    assert os.path.samefile(tool, root / "bin" / "tool")
    assert not os.path.samefile(motd, root / "etc" / "motd") and motd.read_bytes() == b"hello\n" * 300


def test_a_layer_not_matching_its_digest_is_refused(saved, tmp_path):
    path, layers, images = saved
    bad = tmp_path / "bad.tar"
    with tarfile.open(path) as src, tarfile.open(bad, "w") as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("layer.tar") and archive.digest(layers["top"])[7:] in member.name:
                data = data[:-1] + b"\x01"
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(ValueError, match="digest"):
        imagestore.write(bad, tmp_path / "store")
    assert not (tmp_path / "store").exists() and not list(tmp_path.glob(".store-*"))
