"""`dnlab doctor`: is this machine ready for the lab world? Each failed check names its fix."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

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


def missing_capabilities() -> str:
    """Capabilities this machine withholds from every process (absent from the bounding set), named
    by `capsh --decode` when it is installed: a privileged container asks for all of them."""
    lines = Path("/proc/self/status").read_text().splitlines()
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    bounding = int(status.get("CapBnd", "0"), 16)
    missing = sum(1 << bit for bit in range(last + 1) if not bounding >> bit & 1)
    if not missing:
        return ""
    capsh = shutil.which("capsh") or shutil.which("capsh", path="/usr/sbin:/sbin")
    if capsh:
        decoded = subprocess.run([capsh, f"--decode={missing:x}"], capture_output=True, text=True).stdout
        return decoded.strip().partition("=")[2] or f"mask {missing:#x}"
    return f"mask {missing:#x}"


def _exec_privileged(client, labels: dict[str, str]) -> tuple[int, str]:
    """Run `true` through `docker exec --privileged` in a throwaway container of the lab image."""
    from helpers.world.naming import IMAGE

    container = client.containers.run(IMAGE, ["sleep", "60"], detach=True, labels=labels)
    try:
        code, output = container.exec_run(["true"], privileged=True)
        return code, output.decode(errors="replace").strip()
    finally:
        container.remove(force=True)


def _privileged_exec_check(world_id: str | None) -> Check:
    """Does `docker exec --privileged` work here? Tried for real: on the world's host1 engine when it
    runs, else on a scratch engine (about a second). Some machines (containers, sandboxes) withhold
    capabilities, and runc then fails with "unable to apply caps"; the labs never need it."""
    from helpers.errors import LabError
    from helpers.world import engine, image, manager
    from helpers.world.naming import WorldNames

    names = WorldNames(world_id)
    name = "docker exec --privileged"
    fix = ("not needed: run tools from the lab machine's shell (`sudo .venv/bin/dnlab shell host1`) or "
           "`nsenter -t <container pid> -n` instead")
    try:
        if engine.ping(names.host("host1"), timeout=1):
            client, where = engine.client(names.host("host1")), f"{names.prefix}'s host1 engine"
            code, output = _exec_privileged(client, dict(names.label))
        else:
            with manager.scratch_engine(world_id) as scratch:
                image.load_into(scratch.client)
                where = "a scratch engine"
                code, output = _exec_privileged(scratch.client, dict(names.label))
    except (LabError, OSError, RuntimeError) as error:  # no engine could be started: say so, untried
        return Check(name, False, f"not tried: {error}", "run `dnlab doctor` again once the checks above pass",
                     required=False)
    except Exception as error:  # docker.errors.* : the engine refused the container itself
        return Check(name, False, f"not tried on {where}: {error}"[:200], fix, required=False)
    if code == 0:
        return Check(name, True, f"works on {where}", required=False)
    # runc's message ends with the reason ("... container process: unable to apply caps: ...").
    reason = (output.splitlines() or [f"exit status {code}"])[-1].split("container process: ")[-1]
    reason = reason.removesuffix(": unknown")
    missing = missing_capabilities()
    lacks = f"; this machine withholds {missing}" if missing else ""
    return Check(name, False, f"{reason} (on {where}{lacks})", fix, required=False)


def run_checks(world_id: str | None = None) -> list[Check]:
    """Every check; `world_id` (default: $DNLAB_WORLD) picks the engine the privileged exec is tried on."""
    from helpers.world.naming import world_id_from_env

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
    if root and ready(checks):
        checks.append(_privileged_exec_check(world_id if world_id is not None else world_id_from_env()))
    return checks


def ready(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.required)


def table(checks: list[Check]) -> str:
    rows = [("check", "result", "detail", "fix")]
    rows += [(c.name, c.verdict, c.detail[:110], "" if c.ok else c.fix) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
