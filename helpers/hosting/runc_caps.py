"""runc, for a machine that withholds capabilities: a throwaway engine's runtime (stdlib only).

Some machines (containers, CI sandboxes; this project's own, which withholds CAP_SYS_RESOURCE) run
every process with a reduced capability bounding set. `docker run --privileged` asks runc for every
capability the kernel knows, and runc then fails with "unable to apply caps: operation not
permitted". On such a machine only, a throwaway engine (helpers/hosting/sandbox.py) runs containers
through this wrapper: it removes from the container's capability sets the ones this machine does not
have (no process here could hold them anyway) and execs the real runc with the same arguments.
Everything else --privileged gives (devices, writable /sys and cgroups, no seccomp, no masked paths)
is runc's own. On a machine with the full set the engine uses runc directly and this never runs.

    runc_caps.py RUNC [runc arguments...]
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Linux capability numbers (include/uapi/linux/capability.h), as OCI configs name them.
CAPABILITIES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
)


def withheld(status_text: str, last_cap: int) -> set[str]:
    """OCI names (CAP_...) of the capabilities the kernel has (up to `last_cap`) and the bounding set lacks."""
    fields = dict(line.split(":\t", 1) for line in status_text.splitlines() if ":\t" in line)
    bounding = int(fields.get("CapBnd", "0"), 16)
    return {f"CAP_{name}" for bit, name in enumerate(CAPABILITIES[:last_cap + 1]) if not bounding >> bit & 1}


def machine_withholds() -> set[str]:
    """What this machine withholds from every process (empty on a machine with the full set)."""
    return withheld(Path("/proc/self/status").read_text(), int(Path("/proc/sys/kernel/cap_last_cap").read_text()))


def filter_process(process: dict, drop: set[str]) -> bool:
    """Remove `drop` from an OCI process's capability sets, in place. True if anything was removed."""
    changed = False
    for kind, names in (process.get("capabilities") or {}).items():
        kept = [name for name in names if name not in drop]
        if len(kept) != len(names):
            process["capabilities"][kind] = kept
            changed = True
    return changed


def _option(args: list[str], *names: str) -> str | None:
    """The value of a runc option (`--bundle DIR`, `--bundle=DIR`, `-b DIR`) in `args`."""
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def spec_file(args: list[str]) -> Path | None:
    """The JSON runc reads the container's process from: config.json for create/run, --process for exec."""
    for command in ("create", "run"):
        if command in args:
            bundle = _option(args[args.index(command):], "--bundle", "-b") or os.getcwd()
            return Path(bundle) / "config.json"
    if "exec" in args:
        found = _option(args[args.index("exec"):], "--process", "-p")
        return Path(found) if found else None
    return None


def rewrite(path: Path, drop: set[str]) -> None:
    """Drop the withheld capabilities from a config.json (its `process`) or a process.json."""
    data = json.loads(path.read_text())
    process = data.get("process", data) if "ociVersion" in data else data
    if filter_process(process, drop):
        path.write_text(json.dumps(data))


def main(argv: list[str]) -> None:
    runc, args = argv[0], argv[1:]
    drop = machine_withholds()
    path = spec_file(args)
    if drop and path is not None and path.exists():
        rewrite(path, drop)
    os.execv(runc, [runc, *args])


if __name__ == "__main__":
    main(sys.argv[1:])
