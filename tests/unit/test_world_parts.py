"""Pieces of the world that need no root: the image rootfs, the service protocol, the doctor table,
the daemon config."""
import io
import json
import tarfile
from pathlib import Path

import pytest

from helpers.world import doctor, engine, image, service


def test_rootfs_has_busybox_and_every_applet_the_chapters_use():
    data = image.rootfs_tar()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/busybox"].isfile() and members["bin/busybox"].mode & 0o111
    for applet in image.REQUIRED_APPLETS:
        assert members[f"bin/{applet}"].issym() and members[f"bin/{applet}"].linkname == "busybox"
    assert members["tmp"].mode == 0o1777
    assert len(data) < 4 * 1024 * 1024


def test_image_is_labelled_as_the_course_s():
    assert "LABEL org.dnlab.course=dnlab" in image.IMAGE_CHANGES


def test_service_reply_round_trips():
    line = service.reply_line("198.51.100.11", 40312)
    assert service.parse_reply("HTTP/1.0 200 OK\r\n\r\n" + line) == ("198.51.100.11", 40312)
    with pytest.raises(ValueError):
        service.parse_reply("hello")


def test_daemon_config_keeps_dns_inside_the_lab():
    config = engine.daemon_config("/dnlab-host1")
    assert config["dns"] == ["203.0.113.10"]
    assert config["cgroup-parent"] == "/dnlab-host1"


def test_doctor_table_lists_the_fix_of_each_failure():
    checks = [doctor.Check("tool dockerd", False, "not found", "sudo apt-get install -y docker.io"),
              doctor.Check("kernel: ipvlan links", False, "not supported", "skipped", required=False),
              doctor.Check("root", True, "running as root")]
    text = doctor.table(checks)
    assert "MISSING" in text and "sudo apt-get install -y docker.io" in text
    assert "optional" in text
    assert not doctor.ready(checks)
    assert doctor.ready(checks[1:])


# `dnlab doctor`'s checks as run on this machine (Debian 12, docker.io 20.10, in a sandbox that withholds
# cap_sys_resource), and the privileged-exec line as it reads when a world's host1 engine runs: chapter
# 00 printed it cut mid-word ("... withholds cap_sys_res").
SAVED_CHECKS = Path(__file__).parent / "data" / "doctor_checks_debian12.json"
ON_A_WORLD = ("unable to apply caps: operation not permitted (on dnlab-e28's host1 engine; this machine "
              "withholds cap_sys_resource)")


def test_doctor_table_wraps_between_words_and_cuts_nothing():
    checks = [doctor.Check(**row) for row in json.loads(SAVED_CHECKS.read_text())]
    (privileged,) = [c for c in checks if c.name == "docker exec --privileged"]
    privileged.detail = ON_A_WORLD
    text = doctor.table(checks)
    words = set(text.split())
    for check in checks:
        assert set(check.detail.split()) <= words, f"{check.name}: detail cut: {check.detail}"
        if not check.ok and check.fix:
            assert set(check.fix.split()) <= words, f"{check.name}: fix cut: {check.fix}"
    assert max(map(len, text.splitlines())) <= 100, "wider than JupyterLab's output at its default width"
    assert "cap_sys_res\n" not in text and "cap_sys_resource)" in text
