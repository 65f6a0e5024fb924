"""helpers/hosting/emulation.py: what qemu-user cannot carry, told from the error a step ended on,
on saved real outputs (tests/unit/data/arm64/README.md: the same arm64 commands under qemu-user and
under full-system emulation) and dnlab's own error format."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.hosting import emulation

DATA = Path(__file__).parent / "data" / "arm64"
STEP = re.compile(r"^STEP rc=(\d+) :: (.*?) :: (.*)$")
CONTEXT, IMAGE = "dnlab-host1", "dnlab/box:latest"


def _steps(name: str) -> dict[str, tuple[int, str]]:
    """command -> (exit status, its output) of a saved probe run (the first run of each command)."""
    steps: dict[str, tuple[int, str]] = {}
    current = None
    for line in (DATA / name).read_text().splitlines():
        match = STEP.match(line)
        if match:
            current = match.group(2)
            steps.setdefault(current, (int(match.group(1)), match.group(3)))
        elif current is not None and steps[current][1] is not None:
            code, text = steps[current]
            steps[current] = (code, text + "\n" + line)
    return steps


def test_nftables_is_the_known_limitation_under_qemu_user_and_runs_on_a_real_arm64_kernel():
    user, system = _steps("probe_qemu_user.txt"), _steps("probe_full_system.txt")
    for command in ("iptables -t nat -A POSTROUTING -s 10.99.0.0/24 -j MASQUERADE",
                    "iptables -t nat -S POSTROUTING", "nft list tables"):
        code, output = user[command]
        outcome = emulation.command_step(code, output)
        assert outcome.status == emulation.NOT_RUN and "nftables' netlink" in outcome.reason, (command, outcome)
        assert system[command][0] == 0 and emulation.limitation(system[command][1]) is None
    assert "MASQUERADE" in system["iptables -t nat -S POSTROUTING"][1]


def test_what_qemu_user_carries_is_not_excused_and_another_failure_is_a_failure():
    user = _steps("probe_qemu_user.txt")
    # qemu-user carries these (measured): they ran.
    for command in ("ip netns add p1", "ip link add pb0 type bridge", "ip link add pv0 type veth peer name pv1",
                    "ip link set pv1 netns p1", "ip addr add 10.99.0.1/24 dev pb0"):
        assert emulation.command_step(*user[command]).status == emulation.RAN, command
    # The chroot's own failure (not qemu's): no known limitation in it, so it fails.
    outcome = emulation.command_step(*user["ip -n p1 addr add 10.99.0.2/24 dev pv1"])
    assert outcome.status == emulation.FAILED and "mount --make-rslave" in outcome.reason


def test_the_rtnetlink_text_is_known_and_absent_where_a_real_kernel_ran():
    text = (DATA / "probe2_qemu_user.txt").read_text()
    assert "Cannot talk to rtnetlink: Operation not supported" in text
    assert "rtnetlink request" in emulation.limitation(text)
    assert emulation.limitation((DATA / "probe_full_system.txt").read_text()) is None


# Real stderr: the earlier arm64 image's `dnlab up` (2026-12-07), which stopped on a PATH check, not on
# qemu; and the smoke script's under qemu-user in the image of 25ba373 (dockerd stopped at its first
# iptables rule), docker's platform warning first.
DOCKERD_MISSING = "dnlab: `dockerd` is not installed\n  fix: sudo apt-get install -y docker.io\n"
NFT_END = (DATA / "smoke_qemu_user.stderr").read_text().split(emulation.STEP_MARK)[0]


@pytest.mark.parametrize(("code", "stderr", "status"), [
    (0, "", emulation.RAN),
    (4, NFT_END, emulation.NOT_RUN),
    (4, DOCKERD_MISSING, emulation.FAILED),                               # not qemu's: a real failure
    (1, NFT_END, emulation.FAILED),                                       # not the lab's error exit
    (4, "Cannot talk to rtnetlink: Operation not supported\n" + DOCKERD_MISSING, emulation.FAILED),  # said on the way
    (4, "", emulation.FAILED),
    (137, "Killed\n", emulation.FAILED),
])
def test_a_dnlab_step_is_judged_by_the_error_it_ended_on(code, stderr, status):
    assert emulation.dnlab_step(code, stderr).status == status


def test_doctor_checks_split_the_known_limitation_from_other_failures():
    checks = json.loads((Path(__file__).parent / "data" / "doctor_checks_debian12.json").read_text())
    nat = {"name": "kernel: netfilter NAT (MASQUERADE)", "ok": False, "required": True, "fix": "",
           "detail": "iptables: Failed to initialize nft: Protocol not supported"}  # the arm64 image's, under qemu-user
    assert emulation.doctor_checks(checks) == ([], [])
    not_run, failed = emulation.doctor_checks([*checks, nat])
    assert failed == [] and len(not_run) == 1 and "nftables' netlink" in not_run[0]
    other = dict(nat, name="tool dockerd", detail="not found")
    assert emulation.doctor_checks([*checks, other])[1] == ["tool dockerd: not found"]


def test_the_smoke_script_marks_each_step_and_stops_at_the_first_failure(tmp_path):
    import subprocess

    script = emulation.smoke_script(CONTEXT, IMAGE)
    fake = tmp_path / "bin"
    fake.mkdir()
    (tmp_path / "up.err").write_text(NFT_END)
    (fake / "dnlab").write_text(f'#!/bin/sh\n[ "$1" = up ] && {{ cat {tmp_path}/up.err >&2; exit 4; }}\necho "{{}}"\n')
    (fake / "docker").write_text("#!/bin/sh\necho container-id\n")
    for program in fake.iterdir():
        program.chmod(0o755)
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False,
                            env={"PATH": f"{fake}:/usr/bin:/bin"})
    outcomes = emulation.smoke_outcomes(result.stderr, CONTEXT, IMAGE)
    assert result.returncode == 10
    assert [(name, outcome.status) for name, outcome in outcomes] == [("up", emulation.NOT_RUN)]


def test_the_saved_qemu_user_smoke_run_is_not_run_at_up():
    outcomes = emulation.smoke_outcomes((DATA / "smoke_qemu_user.stderr").read_text(), CONTEXT, IMAGE)
    assert [(name, outcome.status) for name, outcome in outcomes] == [("up", emulation.NOT_RUN)]
    assert "Failed to initialize nft" in outcomes[0][1].reason


def test_smoke_outcomes_when_every_step_ran():
    stderr = "".join(f"{emulation.STEP_MARK}{name} exit 0\n" for name in ("up", "container", "trace"))
    assert [(n, o.status) for n, o in emulation.smoke_outcomes(stderr, CONTEXT, IMAGE)] == \
        [("up", emulation.RAN), ("container", emulation.RAN), ("trace", emulation.RAN)]
