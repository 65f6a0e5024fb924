"""The arm64 course image (`make course-image ARCH=arm64`) under emulation.

qemu-user, in a throwaway engine: an amd64 machine runs the image's arm64 programs through
qemu-user-static (binfmt_misc, F flag: the interpreter is opened at registration, so it works inside
containers). What runs: the import with `--platform linux/arm64` (the image's config names arm64), the
entrypoint (its privilege check and cgroup step, then the command), `dnlab doctor`, and then `dnlab
up`, a container on host1 and one traced path. qemu-user does not carry nftables' netlink (nor some
rtnetlink requests): a step that fails with exactly one of those known limitations
(helpers/hosting/emulation.py KNOWN, matched on the error the step ended on) is reported "not run
under qemu-user: <reason>" (an xfail naming it, and the steps after it); any other failure fails.

Full-system emulation (scripts/course-image/arm64-system.sh: Debian 13's arm64 kernel under
qemu-system-aarch64, no network device, on a disk made of the image's root, no engine of this machine):
the same three steps, which must all run there (that kernel carries what qemu-user does not) and the
path reach. The VM's clock counts its instructions (1 GHz to the programs, whatever this machine's load:
dockerd's own 15 s wait for containerd ran out on the machine's clock; docs/COURSE_IMAGE.md "arm64").
Tier `course_image_arm64` (make test-course-image-arm64; opt-in).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers.hosting import emulation, sandbox
from helpers.hosting.course_image import (
    COURSE_IMAGE,
    COURSE_IMAGE_CHANGES,
    COURSE_IMAGE_ROOTFS,
    course_image_dir,
    import_args,
)
from helpers.world.naming import IMAGE, WORLD_ENV, WorldNames

INNER = WorldNames(None)
SYSTEM_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "course-image" / "arm64-system.sh"
# The VM's own limit (arm64-system.sh --timeout; 124 past it) and ours on the script (disk, boot, power-off
# around it). Measured 2026-12-07: disk 17-66 s, the VM 320 s, at load 6-9.
SYSTEM_VM_TIMEOUT = 1500


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


SMOKE = emulation.smoke_script(INNER.context("host1"), IMAGE)


def _outcomes(stderr: str) -> list[tuple[str, emulation.Outcome]]:
    return emulation.smoke_outcomes(stderr, INNER.context("host1"), IMAGE)


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
    not_run, failed = emulation.doctor_checks(checks)
    _report("dnlab doctor", f"{seconds:.0f} s, exit {result.returncode}; required checks not run under "
            f"qemu-user: {'; '.join(not_run) or 'none'}; failing otherwise: {'; '.join(failed) or 'none'}")
    assert checks, result.stdout[-2000:] + result.stderr[-2000:]
    tools = {c["name"]: c for c in checks if c["name"].startswith("tool ")}
    assert all(c["ok"] for c in tools.values()), tools      # every program it needs is there, arm64's
    assert failed == [], failed                             # only qemu-user's known limitations may fail


def test_up_and_a_traced_path_under_qemu_user(box):
    result, seconds = _run(box, "sh", "-c", SMOKE, timeout=2400)
    outcomes = _outcomes(result.stderr)
    _report("dnlab up + docker run + dnlab trace (qemu-user)", f"{seconds:.0f} s, exit {result.returncode}: "
            + "; ".join(f"{name}: {outcome}" for name, outcome in outcomes))
    print(result.stderr[-4000:])
    assert outcomes, f"no step ended (exit {result.returncode})\n{result.stderr[-4000:]}"
    failed = [f"{name}: {outcome.reason}" for name, outcome in outcomes if outcome.status == emulation.FAILED]
    assert failed == [], f"{failed}\n{result.stderr[-4000:]}"
    names = [name for name, _, _ in emulation.smoke_steps(INNER.context("host1"), IMAGE)]
    for name, outcome in outcomes:
        if outcome.status == emulation.NOT_RUN:
            after = names[names.index(name) + 1:]
            pytest.xfail(f"{emulation.NOT_RUN}: {name}: {outcome.reason}"
                         + (f"; hence not run: {', '.join(after)}" if after else ""))
    assert [name for name, _ in outcomes] == names and result.returncode == 0, result.stderr[-4000:]
    path = json.loads(result.stdout)
    assert path["reached"] is True, path["output"]


def test_up_and_a_traced_path_under_full_system_emulation():
    folder = course_image_dir(arch="arm64")
    if not (folder / COURSE_IMAGE_ROOTFS).exists():
        pytest.fail(f"no arm64 course image in {folder}: run `sudo make test-course-image-arm64` (it builds one)")
    started = time.monotonic()
    # At the lowest priority: every instruction emulated, on a machine others share.
    result = subprocess.run(["nice", "-n", "19", "bash", str(SYSTEM_SCRIPT), "--timeout", str(SYSTEM_VM_TIMEOUT),
                             "--", "sh", "-c", SMOKE], capture_output=True, text=True,
                            timeout=SYSTEM_VM_TIMEOUT + 600, check=False)
    seconds = time.monotonic() - started
    outcomes = _outcomes(result.stderr)
    # The script's own lines: the disk, the VM's time, when the command and each step ended (this machine's clock).
    timeline = [line.strip() for line in result.stderr.splitlines() if line.startswith(("==> disk", "==> the VM",
                                                                                        "    console at"))]
    _report("dnlab up + docker run + dnlab trace (full-system)", f"{seconds:.0f} s, exit {result.returncode}: "
            + "; ".join(f"{name}: {outcome}" for name, outcome in outcomes) + "\n  " + "\n  ".join(timeline))
    print(result.stderr[-4000:])
    names = [name for name, _, _ in emulation.smoke_steps(INNER.context("host1"), IMAGE)]
    # No step may end otherwise here: nothing of qemu-user's stands between the image and the kernel.
    assert [(name, outcome.status) for name, outcome in outcomes] == [(name, emulation.RAN) for name in names], \
        f"exit {result.returncode}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, result.stderr[-4000:]
    path = json.loads(result.stdout)
    assert path["reached"] is True, path["output"]
