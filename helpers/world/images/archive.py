"""An image archive in `docker save`'s format, written offline, for `docker load` on every engine.

`docker import --change` cannot set an image's StopSignal (Docker 20.10 refuses "stopsignal is not a
valid change command"); `docker load` takes a whole image config, so the course writes one. Images
that share a layer share its file in the archive, and the engine stores it once.
"""
from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass, field

# What every course image runs with. Docker 26's `docker exec` adds no PATH of its own: the image's
# Env must have one (Docker 20.10's exec did add a default, which hid the missing PATH).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# `docker stop` sends this. The course's PID 1s (sleep, busybox httpd, an interactive sh) ignore
# SIGTERM as PID 1, so the default would wait the whole 10 s grace time before killing them.
STOP_SIGNAL = "SIGKILL"
# Docker's names for this machine's architecture (the binaries in the layers are this machine's).
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


@dataclass(frozen=True)
class ImageConfig:
    """One image: its tag, the layers it stacks (by name, lowest first) and its run-time config."""

    tag: str
    layers: tuple[str, ...]
    cmd: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = (f"PATH={DEFAULT_PATH}",)
    # A date taken from the inputs (never "now"): the same inputs give the same image id.
    created: str = "1970-01-01T00:00:00Z"

    def config_json(self, diff_ids: list[str]) -> bytes:
        """The image config as `docker inspect` shows it under Config, plus its rootfs."""
        config = {
            "Env": list(self.env),
            "Cmd": list(self.cmd),
            "WorkingDir": "/",
            "Labels": dict(self.labels),
            "StopSignal": STOP_SIGNAL,
        }
        if self.exposed_ports:
            config["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        document = {
            "architecture": ARCHITECTURES.get(platform.machine(), platform.machine()),
            "os": "linux",
            "created": self.created,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": self.created, "created_by": f"dnlab: layer {name}"} for name in self.layers],
        }
        return json.dumps(document, sort_keys=True).encode()


def digest(data: bytes) -> str:
    """sha256:<hex> of a layer tar or a config, as Docker names them."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def write(out, layers: dict[str, bytes], images: list[ImageConfig]) -> None:
    """Write the archive of `images` (each stacking named `layers`) to the binary file `out`."""
    diff_ids = {name: digest(data) for name, data in layers.items()}
    manifest = []
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in layers.items():
            _add(tar, f"{diff_ids[name][7:]}/layer.tar", data)
        for image in images:
            config = image.config_json([diff_ids[name] for name in image.layers])
            config_name = f"{digest(config)[7:]}.json"
            _add(tar, config_name, config)
            manifest.append({"Config": config_name, "RepoTags": [image.tag],
                             "Layers": [f"{diff_ids[name][7:]}/layer.tar" for name in image.layers]})
        _add(tar, "manifest.json", json.dumps(manifest).encode())


def image_id(image: ImageConfig, layers: dict[str, bytes]) -> str:
    """The id the engine will give `image` (the digest of its config): how a test checks a load."""
    return digest(image.config_json([digest(layers[name]) for name in image.layers]))
