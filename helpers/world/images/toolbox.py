"""The toolbox layer of `dnlab/tools`: Debian's own network tools, copied with their libraries.

Used the way nicolaka/netshoot is (`docker run --rm -it --network container:web dnlab/tools`), but
built offline: each tool's binary as this machine's Debian packages installed it, every shared
library `ldd` lists for it, and the iptables extensions it loads at run time. It sits on the
busybox layer, which brings the shell and the small applets.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import MissingToolError
from helpers.world.images.rootfs import RootfsTar, canonical

# Command -> the Debian package that installs it (the same names on Debian 12 and 13).
TOOLS = {
    "tcpdump": "tcpdump",
    "curl": "curl",
    "dig": "bind9-dnsutils",
    "nslookup": "bind9-dnsutils",
    "host": "bind9-dnsutils",
    "ip": "iproute2",
    "ss": "iproute2",
    "bridge": "iproute2",
    "iptables": "iptables",
    "iptables-save": "iptables",
    "ip6tables": "iptables",
    "nc": "netcat-openbsd",
    "bash": "bash",
}
# The toolbox's shell. Not busybox sh: it runs its own applets before searching PATH, so `ip` or
# `nc` typed in it would be busybox's, not Debian's.
SHELL = "bash"
# Where iptables finds its match and target extensions (loaded with dlopen: ldd does not see them).
XTABLES_DIRS = (Path("/usr/lib/x86_64-linux-gnu/xtables"), Path("/usr/lib/aarch64-linux-gnu/xtables"),
                Path("/usr/lib/xtables"))
# Small text tables from netbase that name ports and protocols in `ss` and `iptables -L`.
HOST_TABLES = (Path("/etc/services"), Path("/etc/protocols"), Path("/etc/ethertypes"))
SEARCH_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Debian's tcpdump drops root for this user after opening the device, and stops if it is unknown.
TCPDUMP_USER = b"tcpdump:x:101:101::/nonexistent:/bin/false\n"


@dataclass(frozen=True)
class Tool:
    """One command: the name the learner types, where it lives, and the file that runs."""

    name: str
    path: Path     # e.g. /usr/sbin/iptables (directory resolved, as the image stores it)
    binary: Path   # e.g. /usr/sbin/xtables-nft-multi (every link followed)


def find_tools() -> list[Tool]:
    """Every tool of TOOLS on this machine; MissingToolError naming the packages that are not."""
    found, missing = [], []
    for name, package in TOOLS.items():
        where = shutil.which(name, path=SEARCH_PATH)
        if where is None:
            missing.append(package)
            continue
        found.append(Tool(name, canonical(Path(where)), Path(os.path.realpath(where))))
    if missing:
        packages = " ".join(sorted(set(missing)))
        raise MissingToolError(f"the toolbox image dnlab/tools needs Debian's {packages}",
                               f"sudo apt-get install -y {packages}")
    return found


def xtables_dir() -> Path | None:
    """The directory of iptables' extensions on this machine, if any."""
    return next((d for d in XTABLES_DIRS if d.is_dir()), None)


def shared_libraries(files: list[Path]) -> list[Path]:
    """The libraries (and the loader) these ELF files need, by `ldd`, all in one run."""
    run = subprocess.run(["ldd", *map(str, files)], capture_output=True, text=True, check=False)
    libraries = set()
    for line in run.stdout.splitlines():
        # "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
        words = line.split()
        path = words[2] if "=>" in words and len(words) > 3 else (words[0] if words else "")
        if line.startswith("\t") and path.startswith("/"):
            libraries.add(Path(path))
    return sorted(libraries)


def fingerprint(tools: list[Tool]) -> str:
    """Changes when a package upgrade replaces a tool's binary: the cached layer is then rebuilt."""
    digest = hashlib.sha256()
    for tool in tools:
        stat = tool.binary.stat()
        digest.update(f"{tool.name}={tool.binary}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _add_tools(tar: RootfsTar, tools: list[Tool]) -> None:
    for tool in tools:
        tar.host_file(tool.binary, str(canonical(tool.binary)).lstrip("/"))
        if tool.path != canonical(tool.binary):
            tar.symlink(str(tool.path).lstrip("/"), str(canonical(tool.binary)))


def _add_libraries(tar: RootfsTar, libraries: list[Path]) -> None:
    for library in libraries:
        tar.host_file(library, str(canonical(library)).lstrip("/"))


def layer(tools: list[Tool] | None = None) -> bytes:
    """The toolbox files as a tar, to lay over the busybox layer."""
    tools = tools or find_tools()
    tar = RootfsTar()
    # The ELF loader is asked for by its absolute path (/lib64/ld-linux-x86-64.so.2): merged /usr.
    for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64")):
        tar.symlink(link, target)
    elves = sorted({tool.binary for tool in tools})
    plugins = xtables_dir()
    if plugins is not None:
        extensions = sorted(plugins.glob("*.so"))
        elves += extensions
        for extension in extensions:
            tar.host_file(extension, str(canonical(extension)).lstrip("/"))
    _add_tools(tar, tools)
    shell = next(tool for tool in tools if tool.name == SHELL)
    tar.symlink("bin/sh", str(canonical(shell.binary)))
    _add_libraries(tar, shared_libraries(elves))
    for table in HOST_TABLES:
        if table.exists():
            tar.host_file(table, str(table).lstrip("/"))
    tar.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
             + TCPDUMP_USER)
    tar.file("etc/group", b"root:x:0:\ntcpdump:x:101:\nnogroup:x:65534:\n")
    return tar.getvalue()
