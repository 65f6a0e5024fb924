"""The course images, built without an engine: the busybox and toolbox layers, the `docker save`
archive and the configs the engines get (issue 11.3; issue 10: PATH for Docker 26's exec)."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from helpers.errors import MissingToolError
from helpers.world import image
from helpers.world.images import archive, busybox, toolbox
from helpers.world.images.rootfs import RootfsTar, canonical
from helpers.world.naming import (
    ALPINE_IMAGE,
    IMAGE,
    LABEL_BUILD,
    LABEL_COURSE,
    LABEL_STANDS_IN,
    NGINX_IMAGE,
    TOOLS_IMAGE,
)


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def extract(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.extractfile(name).read()


@pytest.fixture(scope="module")
def busybox_layer() -> bytes:
    return busybox.layer()


def test_busybox_layer_has_the_idle_command_the_nginx_page_and_an_apk_that_explains(busybox_layer):
    found = members(busybox_layer)
    assert found[busybox.IDLE_SCRIPT].mode & 0o111 and found["bin/apk"].mode & 0o111
    assert b"Welcome to nginx!" in extract(busybox_layer, f"{busybox.NGINX_ROOT}/index.html")
    assert b"stand-in" in extract(busybox_layer, "bin/apk")
    for applet in ("sleep", "timeout", "readlink"):  # what the idle command itself runs
        assert found[f"bin/{applet}"].linkname == "busybox"


def test_the_image_busybox_survives_wget_T(busybox_layer, tmp_path):
    # Debian 12's busybox 1.35 segfaults on `wget -T`; the image's copy must not (offline: the URL is
    # refused before any network use). On a busybox without the bug the copy is the original.
    copy = tmp_path / "busybox"   # a multi-call binary dispatches on its own name
    copy.write_bytes(extract(busybox_layer, "bin/busybox"))
    copy.chmod(0o755)
    run = subprocess.run([str(copy), "wget", "-T", "1", "-q", "-O", "/dev/null", "none://"],
                         capture_output=True, text=True, timeout=10)
    assert run.returncode == 1 and "not an http or ftp url" in run.stderr
    assert not busybox.wget_timeout_crashes(copy)


def test_the_wget_fix_keeps_the_option_string_s_length_and_its_option_order():
    crashing, fixed = busybox.WGET_SPEC_CRASHING, busybox.WGET_SPEC_FIXED
    assert len(crashing) == len(fixed)
    letters = [c for c in crashing.decode().strip("^\0") if c.isalpha()]
    assert [c for c in fixed.decode().strip("^\0") if c.isalpha()][:len(letters)] == letters
    assert "T:+" not in fixed.decode()


def test_a_machine_busybox_with_the_crash_is_patched_one_without_is_copied(tmp_path):
    fake = tmp_path / "busybox"
    fake.write_bytes(b"\x7fELF" + b"x" * 64)   # not runnable: no crash can be observed, so no patch
    fake.chmod(0o755)
    assert busybox.image_busybox(fake) == fake.read_bytes()


def test_every_course_image_has_path_stop_signal_and_the_course_labels():
    specs = {spec.tag: spec for spec in image.course_images("b1")}
    assert set(specs) == {IMAGE, ALPINE_IMAGE, NGINX_IMAGE, TOOLS_IMAGE} == set(image.COURSE_TAGS)
    for spec in specs.values():
        config = json.loads(spec.config_json(["sha256:" + "0" * 64] * len(spec.layers)))["config"]
        assert config["Env"] == [f"PATH={archive.DEFAULT_PATH}"]
        assert config["StopSignal"] == "SIGKILL"
        assert config["Labels"][LABEL_COURSE] == "dnlab" and config["Labels"][LABEL_BUILD] == "b1"
    assert specs[ALPINE_IMAGE].labels[LABEL_STANDS_IN] == "alpine"
    assert specs[NGINX_IMAGE].labels[LABEL_STANDS_IN] == "nginx"
    assert specs[NGINX_IMAGE].exposed_ports == ("80/tcp",) and "httpd" in specs[NGINX_IMAGE].cmd
    assert specs[TOOLS_IMAGE].layers == ("busybox", "tools")
    assert LABEL_STANDS_IN not in specs[IMAGE].labels


def test_archive_is_docker_save_format_with_shared_layers_and_matching_digests():
    layers = {"base": b"base layer bytes", "top": b"top layer bytes"}
    images = [archive.ImageConfig("a:latest", ("base",), ("sh",)),
              archive.ImageConfig("b:latest", ("base", "top"), ("sh",), {"k": "v"}, ("80/tcp",))]
    out = io.BytesIO()
    archive.write(out, layers, images)
    found = members(out.getvalue())
    manifest = json.loads(extract(out.getvalue(), "manifest.json"))
    assert [entry["RepoTags"] for entry in manifest] == [["a:latest"], ["b:latest"]]
    assert len([name for name in found if name.endswith("/layer.tar")]) == 2   # "base" stored once
    for entry, spec in zip(manifest, images, strict=True):
        config_bytes = extract(out.getvalue(), entry["Config"])
        assert entry["Config"] == hashlib.sha256(config_bytes).hexdigest() + ".json"
        assert "sha256:" + entry["Config"][:-5] == archive.image_id(spec, layers)
        diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
        assert diff_ids == ["sha256:" + hashlib.sha256(extract(out.getvalue(), name)).hexdigest()
                            for name in entry["Layers"]]
    assert json.loads(extract(out.getvalue(), manifest[1]["Config"]))["config"]["ExposedPorts"] == {"80/tcp": {}}


def test_rootfs_tar_keeps_each_path_once_and_canonical_resolves_only_the_directory(tmp_path):
    tar = RootfsTar()
    tar.file("etc/a", b"first")
    tar.file("etc/a", b"second")
    data = tar.getvalue()
    assert extract(data, "etc/a") == b"first" and members(data)["etc"].isdir()
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    (tmp_path / "real" / "file").write_text("x")
    (tmp_path / "real" / "link").symlink_to("file")
    assert canonical(tmp_path / "alias" / "link") == tmp_path.resolve() / "real" / "link"


def test_toolbox_names_the_debian_package_of_a_missing_tool(monkeypatch):
    monkeypatch.setattr(toolbox, "TOOLS", {"dnlab-no-such-tool": "dnlab-no-such-package"})
    with pytest.raises(MissingToolError) as raised:
        toolbox.find_tools()
    assert raised.value.fix == "sudo apt-get install -y dnlab-no-such-package"


def test_shared_libraries_lists_the_loader_and_libc_of_a_real_binary():
    curl = next(tool for tool in toolbox.find_tools() if tool.name == "curl")
    libraries = {path.name for path in toolbox.shared_libraries([curl.binary])}
    assert "libc.so.6" in libraries and "libcurl.so.4" in libraries
    assert any(name.startswith("ld-linux") for name in libraries)


def test_toolbox_layer_holds_each_tool_its_libraries_and_bash_as_sh():
    tools = [tool for tool in toolbox.find_tools() if tool.name in ("iptables", "nc", "bash")]
    data = toolbox.layer(tools)
    found = members(data)
    for tool in tools:
        path = str(tool.path).lstrip("/")
        target = found[path].linkname if found[path].issym() else path
        assert found[target.lstrip("/")].isfile() and found[target.lstrip("/")].mode & 0o111
    assert found["bin/sh"].linkname.endswith("/bash")
    assert any(name.endswith("/libc.so.6") for name in found)
    plugins = toolbox.xtables_dir()
    assert plugins is None or any(name.endswith("xtables/libxt_tcp.so") for name in found)
    assert b"tcpdump:" in extract(data, "etc/passwd")


def test_build_id_changes_with_the_tools_binaries(monkeypatch, tmp_path):
    binary = tmp_path / "tool"
    binary.write_bytes(b"one")
    tool = toolbox.Tool("tool", binary, binary)
    before = image.build_id(busybox.find_busybox(), [tool])
    binary.write_bytes(b"two!")
    assert image.build_id(busybox.find_busybox(), [tool]) != before
    assert image.build_of(image.archive_path(before)) == before


def test_loading_skips_an_engine_that_has_this_build_and_loads_one_that_does_not(tmp_path):
    path = tmp_path / "images-b1.tar"
    path.write_bytes(b"archive")

    class Images:
        def __init__(self, held):
            self.held, self.loaded, self.pruned = held, [], []

        def list(self, filters):
            label = filters["label"].split("=", 1)[1]
            return [type("I", (), {"tags": [tag]}) for tag, build in self.held if build == label]

        def load(self, data):
            self.loaded.append(data.read())

        def prune(self, filters):
            self.pruned.append(filters)

    current = type("Client", (), {"images": Images([(tag, "b1") for tag in image.COURSE_TAGS])})()
    image.load_course_images(current, path)
    assert current.images.loaded == []
    stale = type("Client", (), {"images": Images([(tag, "b0") for tag in image.COURSE_TAGS])})()
    image.load_course_images(stale, path)
    assert stale.images.loaded == [b"archive"] and stale.images.pruned


def test_the_lab_image_api_the_doctor_uses_is_still_there():
    assert Path(image.find_busybox()).exists()
    assert set(image.REQUIRED_APPLETS) <= set(image.applets(image.find_busybox()))
    assert image.FIX.startswith("sudo apt-get install")


def test_load_into_loads_the_lab_image_alone_from_the_busybox_layer(busybox_layer):
    class Images:
        loaded: list[bytes] = []

        def list(self, filters):
            return []

        def load(self, data):
            self.loaded.append(data)

    client = type("Client", (), {"images": Images()})()
    image.load_into(client, busybox_layer)
    manifest = json.loads(extract(client.images.loaded[0], "manifest.json"))
    assert [entry["RepoTags"] for entry in manifest] == [[IMAGE]]
    layer = extract(client.images.loaded[0], manifest[0]["Layers"][0])
    assert layer == busybox_layer


def test_sweep_keeps_the_current_build_and_young_archives_and_removes_old_ones(tmp_path):
    import os

    keep, young, old, half = (tmp_path / name for name in
                              ("images-b2.tar", "images-b1.tar", "images-b0.tar", ".images-x"))
    for path in (keep, young, old, half):
        path.write_bytes(b"")
    for path in (keep, old, half):
        os.utime(path, (0, 0))
    image._sweep(keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images-b1.tar", "images-b2.tar"]
