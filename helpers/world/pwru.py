"""Whether this machine can trace one probe through the kernel's functions with `pwru` (issue 19.6): a
machine check of `dnlab doctor`, so it lives in the world room.

pwru (Cilium's "packet, where are you?") attaches BPF programs to every kernel function that takes a
socket buffer, by kprobes, and reads the kernel's types from its BTF. So it needs three things: the
pwru binary (Debian packages it from 13 on, the course image is Debian 13; Debian 12 has no package),
BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF) and kprobes (CONFIG_KPROBES: the kernel then
registers the perf kprobe event source, /sys/bus/event_source/devices/kprobe). `availability` reads
them; `judge` (pure) says what is there or why not, and the one fix, as `dnlab doctor` prints it.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BTF = Path("/sys/kernel/btf/vmlinux")
# Registered by the kernel when it has kprobe events (CONFIG_KPROBES + CONFIG_KPROBE_EVENTS); pwru's
# kprobe backend attaches through it (its kprobe-multi backend needs fprobe, which needs them too).
KPROBE_PMU = Path("/sys/bus/event_source/devices/kprobe")
DEBIAN_VERSION = Path("/etc/debian_version")
NAME = "kernel-function trace (pwru)"
# The first Debian release that packages pwru (trixie: pwru 1.0.5).
PWRU_SINCE_DEBIAN = 13


@dataclass(frozen=True)
class Availability:
    ok: bool
    detail: str
    fix: str = ""


def debian_major(text: str | None) -> int | None:
    """Debian's major release from /etc/debian_version ("12.11" -> 12; "trixie/sid" -> None)."""
    head = (text or "").strip().split(".")[0]
    return int(head) if head.isdigit() else None


def judge(pwru_version: str | None, btf: bool, kprobes: bool, debian: int | None,
          kernel: str) -> Availability:
    """What the doctor says of the kernel-function trace: pwru's version, or every reason it cannot run
    here (all of them: installing pwru on a kernel without kprobes would not help), and the fix."""
    reasons, fixes = [], []
    if pwru_version is None:
        if debian is not None and debian < PWRU_SINCE_DEBIAN:
            reasons.append(f"pwru is not packaged for Debian {debian}: the course image and Debian 13 have it")
            fixes.append("use the course image or a Debian 13 machine")
        else:
            reasons.append("pwru is not installed")
            fixes.append("sudo apt-get install -y pwru")
    if not btf:
        reasons.append(f"this kernel ({kernel}) has no BTF ({BTF} absent)")
        fixes.append("boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's own kernels are)")
    if not kprobes:
        reasons.append(f"this kernel ({kernel}) has no kprobes ({KPROBE_PMU} absent: CONFIG_KPROBES unset), "
                       "which pwru attaches by")
        fixes.append("boot a kernel built with CONFIG_KPROBES=y (Debian's own kernels are)")
    if reasons:
        have = f"pwru {pwru_version} is installed, but " if pwru_version is not None else ""
        return Availability(False, have + "; ".join(reasons), "; ".join(dict.fromkeys(fixes)))
    return Availability(True, f"pwru {pwru_version}, BTF and kprobes present ({kernel})")


def pwru_version() -> str | None:
    """pwru's version: the Debian package's (Debian's build prints "pwru version unknown"), else its own
    --version; None without a pwru."""
    path = shutil.which("pwru") or shutil.which("pwru", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        return None
    query = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "pwru"], capture_output=True, text=True,
                           check=False) if shutil.which("dpkg-query") else None
    if query is not None and query.returncode == 0 and query.stdout.strip():
        return query.stdout.strip()
    own = subprocess.run([path, "--version"], capture_output=True, text=True, check=False, timeout=10)
    words = (own.stdout or own.stderr).split()
    return words[-1] if words and words[-1] != "unknown" else path


def availability() -> Availability:
    """`judge` on this machine as it is now."""
    import platform

    debian = debian_major(DEBIAN_VERSION.read_text()) if DEBIAN_VERSION.exists() else None
    return judge(pwru_version(), BTF.exists(), KPROBE_PMU.exists(), debian, platform.release())
