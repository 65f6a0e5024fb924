"""The entrypoint's cgroup v2 step (nest_cgroup_v2) on the kernel's own cgroup v2 hierarchy.

Docker Desktop and recent Linux run containers on cgroup v2 with a private cgroup namespace; this
machine is cgroup v1 for every controller it mounts, but its kernel also has the v2 hierarchy (hybrid:
/sys/fs/cgroup/unified), where `hugetlb` is free. The test makes a cgroup of its own there, enters a
private cgroup and mount namespace rooted at it (what a container gets), mounts cgroup2 (the
container's /sys/fs/cgroup) and runs the entrypoint's function on it, with a process sitting in the
namespace's root as the container's processes do. Checked against the kernel: enabling a controller
there first fails (the "no internal processes" rule, EBUSY), and after nest_cgroup_v2 every process is
in `init`, the controller is on for the children, and a child cgroup like the lab's engines'
(`/dnlab-host1`) takes a process and has the controller's files.

For the controller to reach the test's cgroup, the v2 root must pass it down: `+hugetlb` is written to
the root's cgroup.subtree_control only if it is not there yet, and taken back afterwards (the only
change outside the test's own cgroup, for the test's duration; nothing here uses hugetlb limits).
What it cannot show here: the memory, cpu, io and pids controllers (bound to v1 hierarchies on this
machine) and the lab's engines themselves on cgroup v2 (they use v1 here).

Tier `course_image` (make test-course-image): root, a few seconds, no image needed.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts/course-image/entrypoint.sh"
CONTROLLER = "hugetlb"

INSIDE = r"""
set -euo pipefail
M=$1 CG=$2 ENTRYPOINT=$3 CONTROLLER=$4
mount -t cgroup2 cgroup2 "$M"
echo $$ > "$M/$CG/cgroup.procs"           # this shell, then everything it starts, in the test's cgroup
unshare --cgroup --fork bash -c '
  set -euo pipefail
  M=$1 CONTROLLER=$2 ENTRYPOINT=$3
  umount "$M"; mount -t cgroup2 cgroup2 "$M"   # the namespace'"'"'s view: its root is the test cgroup
  sleep 60 & sleeper=$!                       # a process in the root, as a container'"'"'s are
  grep "^0::" /proc/self/cgroup > /tmp/self   # a hybrid host lists its v1 hierarchies too: the v2 line
  echo "self: $(cat /tmp/self)"
  echo "controllers: $(cat "$M/cgroup.controllers")"
  if echo "+$CONTROLLER" > "$M/cgroup.subtree_control" 2>/tmp/err; then echo "before: enabled"
  else echo "before: refused ($(sed "s/.*: //" /tmp/err))"; fi
  export DNLAB_CGROUP_ROOT=$M DNLAB_SELF_CGROUP=/tmp/self
  source "$ENTRYPOINT"
  nest_cgroup_v2
  echo "root procs: $(cat "$M/cgroup.procs" | wc -l)"
  echo "init has sleeper: $(grep -qx "$sleeper" "$M/init/cgroup.procs" && echo yes || echo no)"
  echo "subtree_control: $(cat "$M/cgroup.subtree_control")"
  mkdir "$M/dnlab-host1"
  echo "$sleeper" > "$M/dnlab-host1/cgroup.procs"
  echo "engine cgroup controllers: $(cat "$M/dnlab-host1/cgroup.controllers")"
  echo "engine cgroup has sleeper: $(grep -qx "$sleeper" "$M/dnlab-host1/cgroup.procs" && echo yes || echo no)"
  kill "$sleeper"; wait "$sleeper" 2>/dev/null || true
  rmdir "$M/dnlab-host1"
' _ "$M" "$CONTROLLER" "$ENTRYPOINT"
"""


def _v2_root() -> Path | None:
    for candidate in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
        if (candidate / "cgroup.controllers").is_file() and (candidate / "cgroup.subtree_control").is_file():
            return candidate
    return None


def _remove_tree(path: Path) -> None:
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        child.rmdir()
    path.rmdir()


def test_nest_cgroup_v2_on_the_kernels_cgroup2(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("needs root (cgroups, namespaces): sudo make test-course-image")
    v2 = _v2_root()
    if v2 is None:
        pytest.fail("no cgroup v2 hierarchy mounted: mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified")
    if CONTROLLER not in (v2 / "cgroup.controllers").read_text().split():
        pytest.fail(f"{CONTROLLER} is not free for cgroup v2 here ({v2}/cgroup.controllers): "
                    "this test needs one controller that no v1 hierarchy holds")
    enabled_here = CONTROLLER not in (v2 / "cgroup.subtree_control").read_text().split()
    cgroup = f"dnlab-cg2test-{os.getpid()}"
    mount = tmp_path / "cgroup"
    mount.mkdir()
    try:
        if enabled_here:
            (v2 / "cgroup.subtree_control").write_text(f"+{CONTROLLER}")
        (v2 / cgroup).mkdir()
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "--fork", "bash", "-c", INSIDE,
                                 "_", str(mount), cgroup, str(ENTRYPOINT), CONTROLLER],
                                capture_output=True, text=True, timeout=60)
    finally:
        if (v2 / cgroup).exists():
            _remove_tree(v2 / cgroup)
        if enabled_here:
            (v2 / "cgroup.subtree_control").write_text(f"-{CONTROLLER}")
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert seen["self"] == "0::/"                                  # a private cgroup namespace, as in a container
    assert CONTROLLER in seen["controllers"].split()
    # The kernel's rule the step exists for: no controller for children while the root holds processes.
    assert seen["before"].startswith("refused") and "busy" in seen["before"].lower(), seen["before"]
    assert seen["root procs"] == "0" and seen["init has sleeper"] == "yes"
    assert CONTROLLER in seen["subtree_control"].split()
    assert CONTROLLER in seen["engine cgroup controllers"].split() and seen["engine cgroup has sleeper"] == "yes"
    assert not (v2 / cgroup).exists()
