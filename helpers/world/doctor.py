"""`dnlab doctor`: is this machine ready for the lab world? Each failed check names its fix."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from helpers.world.proc import PACKAGE_OF


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def verdict(self) -> str:
        if self.ok:
            return "ok"
        return "MISSING" if self.required else "optional"


TOOLS = ("ip", "nsenter", "dockerd", "containerd", "runc", "docker-proxy", "iptables",
         "iptables-save", "tcpdump", "conntrack", "bridge")
# Link types the chapters make, and two that only an optional extra uses.
LINK_TYPES = {
    "bridge": ("type bridge", True),
    "veth": ("type veth peer name dnlab-v1", True),
    "macvlan": ("link dnlab-v1 type macvlan mode bridge", True),
    "vxlan": ("type vxlan id 42 dstport 4789 dev lo", True),
    "ipvlan": ("link dnlab-v1 type ipvlan mode l2", False),
    "dummy": ("type dummy", False),
}


def _tool(name: str) -> Check:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    return Check(f"tool {name}", bool(path), path or "not found",
                 f"sudo apt-get install -y {PACKAGE_OF.get(name, name)}")


def _busybox() -> Check:
    from helpers.errors import LabError
    from helpers.world import image

    try:
        binary = image.find_busybox()
        image.applets(binary)
        return Check("static busybox (lab image)", True, str(binary))
    except LabError as error:
        return Check("static busybox (lab image)", False, error.problem, image.FIX)


def _kernel_checks() -> list[Check]:
    """Try each link type and a NAT rule inside a throwaway namespace (never on the real host)."""
    namespace = f"dnlab-doctor-{os.getpid()}"
    checks = []
    made = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    if made.returncode != 0:
        return [Check("network namespaces", False, made.stderr.strip(), "run as root: sudo dnlab doctor")]
    try:
        checks.append(Check("network namespaces", True, "ip netns add works"))
        # veth first: macvlan and ipvlan are tried on top of it.
        for kind, (spec, required) in sorted(LINK_TYPES.items(), key=lambda kv: kv[0] != "veth"):
            name = f"dnlab-{kind}"
            result = subprocess.run(["ip", "-n", namespace, "link", "add", name, *spec.split()],
                                    capture_output=True, text=True)
            detail = "supported" if result.returncode == 0 else result.stderr.strip() or "not supported"
            fix = f"sudo modprobe {kind}" if required else "not needed: the chapter that uses it skips it"
            checks.append(Check(f"kernel: {kind} links", result.returncode == 0, detail, fix, required))
        nat = subprocess.run(["nsenter", f"--net=/run/netns/{namespace}", "iptables", "-t", "nat", "-A",
                              "POSTROUTING", "-s", "10.99.0.0/16", "-j", "MASQUERADE"],
                             capture_output=True, text=True)
        checks.append(Check("kernel: netfilter NAT (MASQUERADE)", nat.returncode == 0,
                            "supported" if nat.returncode == 0 else nat.stderr.strip(),
                            "sudo modprobe iptable_nat nf_nat"))
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
    return checks


def run_checks() -> list[Check]:
    root = os.geteuid() == 0
    checks = [Check("root", root, "running as root" if root else f"running as uid {os.geteuid()}",
                    "sudo -E $(which dnlab) doctor")]
    checks += [_tool(name) for name in TOOLS]
    checks.append(_busybox())
    cli = shutil.which("docker")
    checks.append(Check("docker CLI (for `docker --context dnlab-host1`)", bool(cli), cli or "not found",
                        "sudo apt-get install -y docker.io", required=False))
    if root and shutil.which("ip"):
        checks += _kernel_checks()
    return checks


def ready(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.required)


def table(checks: list[Check]) -> str:
    rows = [("check", "result", "detail", "fix")]
    rows += [(c.name, c.verdict, c.detail[:60], "" if c.ok else c.fix) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
