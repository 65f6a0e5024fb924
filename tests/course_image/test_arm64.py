"""The arm64 course image (`make course-image ARCH=arm64`) under emulation, in a throwaway engine.

An amd64 machine runs the image's arm64 programs through qemu-user-static (binfmt_misc, F flag: the
interpreter is opened at registration, so it works inside containers). What runs under emulation here:
the import with `--platform linux/arm64` (the image's config names arm64), the entrypoint (its
privilege check and cgroup step, then the command), `dnlab doctor`, and then `dnlab up` and one traced
path as far as qemu-user carries them: each step's outcome is reported as it was, the first that
fails is named, and the test fails only where a step that emulation does carry fails.
Tier `course_image_arm64` (make test-course-image-arm64; opt-in).
"""
from __future__ import annotations

import json
import os
import time

import pytest

from helpers.hosting import sandbox
from helpers.hosting.course_image import (
    COURSE_IMAGE,
    COURSE_IMAGE_CHANGES,
    COURSE_IMAGE_ROOTFS,
    course_image_dir,
    import_args,
)
from helpers.world.naming import IMAGE, WORLD_ENV, WorldNames

INNER = WorldNames(None)


def _report(name: str, value: str) -> None:
    print(f"\n[course-image arm64] {name}: {value}", flush=True)


@pytest.fixture(scope="module")
def box():
    folder = course_image_dir(arch="arm64")
    rootfs, changes = folder / COURSE_IMAGE_ROOTFS, folder / COURSE_IMAGE_CHANGES
    if not (rootfs.exists() and changes.exists()):
        pytest.fail(f"no arm64 course image in {folder}: run `sudo make test-course-image-arm64` (it builds one)")
    if not os.path.exists("/proc/sys/fs/binfmt_misc/qemu-aarch64"):
        pytest.fail("arm64 programs do not run here (no qemu-aarch64 in binfmt_misc): "
                    "sudo make course-image ARCH=arm64   # installs qemu-user-static and registers it")
    # Docker 28 (fetched): the machine's 20.10 ignores `import --platform` and would call the image amd64.
    with sandbox.ThrowawayEngine(f"{os.environ.get(WORLD_ENV) or 'ci'}-arm", engine="28") as engine_box:
        started = time.monotonic()
        args = ["import", *import_args("arm64")]
        for change in json.loads(changes.read_text()):
            args += ["--change", change]
        engine_box.docker(*args, str(rootfs), COURSE_IMAGE, timeout=900)
        _report("docker import --platform linux/arm64", f"{time.monotonic() - started:.0f} s, "
                f"rootfs tar {rootfs.stat().st_size / 2**20:.0f} MiB")
        yield engine_box
    assert sandbox.leftovers(engine_box.netns) == []


def _run(box, *argv: str, privileged: bool = True, timeout: float = 1800):
    started = time.monotonic()
    # No --platform: the image is local and says arm64; asking for a platform may send an engine to a registry.
    result = box.docker("run", "--rm", *(["--privileged"] if privileged else []), COURSE_IMAGE, *argv,
                        timeout=timeout, check=False)
    return result, time.monotonic() - started


def test_the_image_says_arm64(box):
    attrs = box.client.images.get(COURSE_IMAGE).attrs
    assert (attrs["Os"], attrs["Architecture"]) == ("linux", "arm64")


def test_entrypoint_runs_under_emulation(box):
    refused, _ = _run(box, privileged=False, timeout=300)
    assert refused.returncode == 2 and "not privileged" in refused.stderr, refused.stdout + refused.stderr
    ran, seconds = _run(box, "sh", "-c", "uname -m; dpkg --print-architecture; "
                        "/var/cache/dnlab/engines/28.*/bin/dockerd --version", timeout=300)
    _report("entrypoint + uname, dockerd --version", f"{seconds:.0f} s: {ran.stdout.strip()!r}")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.split()[:2] == ["aarch64", "arm64"] and "version 28." in ran.stdout


def test_doctor_runs_under_emulation(box):
    result, seconds = _run(box, "dnlab", "doctor", "--json", timeout=900)
    checks = json.loads(result.stdout) if result.stdout.strip().startswith("[") else []
    failed = [f"{c['name']}: {c['detail']}" for c in checks if c["required"] and not c["ok"]]
    _report("dnlab doctor", f"{seconds:.0f} s, exit {result.returncode}; required checks failing: "
            f"{'; '.join(failed) or 'none'}")
    assert checks, result.stdout[-2000:] + result.stderr[-2000:]
    tools = {c["name"]: c for c in checks if c["name"].startswith("tool ")}
    assert all(c["ok"] for c in tools.values()), tools      # every program it needs is there, arm64's


def test_up_and_a_traced_path_as_far_as_emulation_goes(box):
    script = (f"dnlab up >&2 || exit 11; docker --context {INNER.context('host1')} run -d --name arm-probe {IMAGE} "
              f"sleep 600 >&2 || exit 12; dnlab trace arm-probe inet --json || exit 13")
    result, seconds = _run(box, "sh", "-c", script, timeout=2400)
    stage = {0: "up, container, trace: all ran", 11: "dnlab up failed", 12: "docker run on host1 failed",
             13: "dnlab trace failed"}.get(result.returncode, f"exit {result.returncode}")
    _report("dnlab up + docker run + dnlab trace", f"{seconds:.0f} s: {stage}")
    print(result.stderr[-4000:])
    assert result.returncode == 0, f"{stage}\n{result.stderr[-4000:]}"
    path = json.loads(result.stdout)
    assert path["reached"] is True, path["output"]
