"""The doctor's kernel-function trace line (issue 19.6) on this machine, on each leg (Debian 12: no pwru
package; Debian 13: install.sh installed it), against what the machine shows independently: dpkg,
/sys/kernel/btf, and the kernel's own configuration (/proc/config.gz) for kprobes."""
from __future__ import annotations

import gzip
import platform
import subprocess
from pathlib import Path

from helpers.world import doctor, pwru


def _installed_pwru() -> str | None:
    query = subprocess.run(["dpkg-query", "-W", "-f", "${Status} ${Version}", "pwru"], capture_output=True,
                           text=True, check=False)
    words = query.stdout.split()
    return words[-1] if query.returncode == 0 and "installed" in words[:3] else None


def _kernel_option(name: str) -> bool | None:
    """CONFIG_<name> as the running kernel was built (None where it does not publish its config)."""
    try:
        config = gzip.decompress(Path("/proc/config.gz").read_bytes()).decode()
    except OSError:
        return None
    return f"CONFIG_{name}=y" in config.splitlines()


def test_doctor_says_whether_the_kernel_function_trace_runs_and_why_not():
    checks = {check.name: check for check in doctor.run_checks()}
    line = checks[pwru.NAME]
    assert not line.required  # optional: never makes the machine "not ready"
    debian = pwru.debian_major(Path("/etc/debian_version").read_text())
    installed = _installed_pwru()
    if debian is not None and debian >= pwru.PWRU_SINCE_DEBIAN:
        assert installed, "install.sh installs pwru where Debian packages it (Debian 13)"
        assert line.detail.startswith(f"pwru {installed}")
    if debian == 12:
        assert installed is None
        assert "pwru is not packaged for Debian 12: the course image and Debian 13 have it" in line.detail
    kprobes = _kernel_option("KPROBES")
    if kprobes is not None:   # the kernel's own word, against the doctor's reading of /sys
        assert (f"({platform.release()}) has no kprobes" in line.detail) == (not kprobes)
        assert pwru.KPROBE_PMU.exists() == kprobes
    assert ("has no BTF" in line.detail) == (not Path("/sys/kernel/btf/vmlinux").exists())
    if installed and pwru.KPROBE_PMU.exists() and Path("/sys/kernel/btf/vmlinux").exists():
        assert line.ok and line.detail.startswith(f"pwru {installed},")
    else:
        assert not line.ok and line.fix
