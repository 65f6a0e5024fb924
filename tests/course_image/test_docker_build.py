"""`docker build -t dnlab/course .` as the README documents it, from a clean clone, on a throwaway engine.

The engine gets Debian 13 as `debian:trixie` without a registry: the debootstrapped base that
`make course-image` and `make test-debian13` cache (/var/cache/dnlab/debian13/base.tar), imported, with
this machine's local CA certificates added where it has any (its TLS egress needs them).
The build is the Dockerfile's own (the docker CLI's builder, the legacy one where buildx is absent),
with host networking for the build only (`--network host`): its RUN steps share the engine's network
namespace, where tests/course_image/registry_relay.py relays them to the package mirrors this machine
reaches (its http_proxy/https_proxy build arguments, which the image does not keep). Then the built
image runs as `docker run --rm --privileged --network none dnlab/course ...`: the world comes up inside
and one path is traced (a container on the inner host1 pinging the inner internet service).

Tier `course_image` (tests/tiers.py; `make test-course-image`), not part of .ci/run: the build
downloads and installs everything afresh (~10 min here; docs/MEASUREMENTS.md).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers.hosting import sandbox
from helpers.hosting.course_image import COURSE_IMAGE
from helpers.world.naming import IMAGE, WORLD_ENV, WorldNames
from helpers.world.proc import NETNS_DIR
from tests.course_image.registry_relay import RegistryRelay

ROOT = Path(__file__).resolve().parents[2]
BASE = Path(os.environ.get("DNLAB_DEBIAN13_CACHE", "/var/cache/dnlab/debian13")) / "base.tar"
LOCAL_CAS = Path("/usr/local/share/ca-certificates")
BUILD_TIMEOUT = 5400.0      # a loaded 2-core machine; the time is reported, not asserted
INNER = WorldNames(None)    # the world `dnlab up` makes inside the container (no DNLAB_WORLD there)


def _report(name: str, value: str) -> None:
    print(f"\n[docker build] {name}: {value}", flush=True)


def _base_image(box: sandbox.ThrowawayEngine, context: Path) -> None:
    """`debian:trixie` in the engine: the debootstrapped base, plus this machine's own local CA certificates
    if it has any (its egress may re-sign TLS, as here: pip reaches PyPI only with them; `make course-image`
    copies the machine's bundle into its root for the same reason)."""
    local = sorted(LOCAL_CAS.glob("*.crt")) if LOCAL_CAS.is_dir() else []
    if not local:
        box.import_rootfs(BASE, "debian:trixie", [])
        return
    box.import_rootfs(BASE, "dnlab-test/debootstrapped:trixie", [])
    for cert in local:
        (context / cert.name).write_bytes(cert.read_bytes())
    (context / "Dockerfile").write_text("FROM dnlab-test/debootstrapped:trixie\n"
                                        "COPY *.crt /usr/local/share/ca-certificates/\n"
                                        "RUN update-ca-certificates\n")
    box.docker("build", "-t", "debian:trixie", str(context), timeout=600)
    _report("debian:trixie", f"the debootstrapped base + this machine's {', '.join(c.name for c in local)}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not BASE.is_file():
        pytest.fail(f"no debootstrapped Debian 13 base at {BASE}: run `sudo make course-image` (it makes one)")
    clone = tmp_path_factory.mktemp("clone") / "dnlab"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", head], check=True)
    with sandbox.ThrowawayEngine(f"{os.environ.get(WORLD_ENV) or 'ci'}-build") as box:
        _base_image(box, tmp_path_factory.mktemp("base"))
        with RegistryRelay(f"{NETNS_DIR}/{box.netns}") as relay:
            started = time.monotonic()
            result = box.docker("build", "--network", "host", "--build-arg", f"http_proxy={relay.url}",
                                "--build-arg", f"https_proxy={relay.url}", "-t", "dnlab/course", str(clone),
                                timeout=BUILD_TIMEOUT, check=False)
            seconds = time.monotonic() - started
        _report("docker build -t dnlab/course . (clean clone of HEAD)", f"{seconds:.0f} s, exit {result.returncode}")
        _report("mirrors the build reached through the relay", ", ".join(sorted(relay.reached)) or "none")
        assert result.returncode == 0, (result.stdout[-6000:] + result.stderr[-3000:])
        image = box.client.images.get(COURSE_IMAGE)
        _report("image size", f"{image.attrs['Size'] / 2**20:.0f} MiB")
        yield box, image, result.stdout + result.stderr
        box.stop()
        assert sandbox.leftovers(box.netns) == []


def test_the_build_ran_the_steps_and_set_the_dockerfiles_settings(built):
    _, image, output = built
    assert "course image steps (learner," in output   # steps.sh's last line, from the RUN step
    config = image.attrs["Config"]
    assert config["Entrypoint"] == ["/opt/dnlab/scripts/course-image/entrypoint.sh"]
    assert "DNLAB_ENGINE=28" in config["Env"] and config["WorkingDir"] == "/opt/dnlab"
    # The relay's address was a build argument only: nothing of it is in the image.
    assert not [line for line in config["Env"] if "proxy" in line.lower()], config["Env"]


def test_run_without_network_brings_the_world_up_and_traces_a_path(built):
    box, _, _ = built
    script = (f"dnlab up >&2 && docker --context {INNER.context('host1')} run -d --name door-probe {IMAGE} "
              f"sleep 600 >&2 && dnlab trace door-probe inet --json; rc=$?; dnlab down >&2; exit $rc")
    started = time.monotonic()
    result = box.docker("run", "--rm", "--privileged", "--network", "none", COURSE_IMAGE, "sh", "-c", script,
                        timeout=900, check=False)
    _report("docker run --network none: up, trace, down", f"{time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    path = json.loads(result.stdout)
    assert path["reached"] is True, path["output"]
    machines = [hop["namespace"] for hop in path["hops"]]   # the path names the lab's machines by role
    assert "host1" in machines and "router" in machines, machines
    # host1's MASQUERADE: the request leaves host1 with another source than the container's own.
    assert any(r["field"] == "src" and r["leg"] == "request" for r in path["rewrites"]), path["rewrites"]
