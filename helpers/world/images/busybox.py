"""The busybox layer: one static busybox, a link per applet, and the few files the course adds.

It is the whole of `dnlab/box` and of the `alpine` and `nginx` stand-ins, and the base of
`dnlab/tools`. Built offline from Debian's busybox-static.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from helpers.errors import MissingToolError
from helpers.world.images.rootfs import RootfsTar

BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
# What the chapters use; the image links every applet the binary has, these must be among them.
REQUIRED_APPLETS = ("sh", "ip", "ping", "wget", "nc", "httpd", "nslookup", "traceroute", "arping",
                    "timeout", "sleep")
FIX = "sudo apt-get install -y busybox-static"
# The default command of every course image: stays up when started detached with no command.
IDLE_SCRIPT = "bin/dnlab-idle"
NGINX_ROOT = "usr/share/nginx/html"

# `docker run -it IMAGE` gets a shell, like alpine's CMD; with no stdin at all (`docker run -d`),
# where a shell would exit at once, it idles instead, so `docker run -d --name web alpine` stays up.
# A trapped signal interrupts `wait`, so Ctrl-C ends a foreground run (PID 1 ignores untrapped ones).
IDLE = b"""#!/bin/sh
# dnlab: the default command of the course's images (see README, "Images").
if [ -t 0 ] || [ "$(readlink /proc/self/fd/0)" != /dev/null ]; then exec sh; fi
trap 'exit 0' INT TERM
while :; do sleep 2147483647 & wait $!; done
"""

# Debian 12's busybox 1.35 is built without wget's timeout feature, yet its option spec still
# reads -T as a number into the (absent, NULL) timeout variable: `wget -T N` dies of SIGSEGV while
# parsing options. The lab image's copy reads -T as a string option with no variable, which getopt32
# skips, so -T is accepted (and, with no timeout code in this build, has no effect). The padding
# `T` keeps the string's length; as a second `T` after every real option it shifts no option bit.
# A wrapper script could not fix it: busybox sh runs its own applets before searching PATH.
WGET_SPEC_CRASHING = b"^cqSO:o:P:Y:U:T:+t:n::\0"
WGET_SPEC_FIXED = b"^cqSO:o:P:Y:U:T:t:n::T\0"

APK = b"""#!/bin/sh
echo "apk: this 'alpine' is the dnlab course's offline stand-in (busybox, no package manager)." >&2
echo "     For tcpdump, curl, dig, ss, iptables use the toolbox: docker run --rm -it dnlab/tools" >&2
exit 127
"""

NGINX_PAGE = b"""<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1>
<p>This is the dnlab course's stand-in for nginx: busybox httpd serving /usr/share/nginx/html.</p>
</body></html>
"""


def find_busybox() -> Path:
    """The static busybox from Debian's busybox-static (a dynamic one cannot run in `scratch`)."""
    for candidate in BUSYBOX_CANDIDATES:
        if candidate.exists() and _is_static(candidate):
            return candidate
    raise MissingToolError("no static busybox found (the lab image is built from it)", FIX)


def _is_static(binary: Path) -> bool:
    # A dynamic ELF has a PT_INTERP program header naming its loader; a static one has none.
    head = binary.read_bytes()[:65536]
    return head[:4] == b"\x7fELF" and b"ld-linux" not in head


def applets(busybox: Path) -> list[str]:
    """The applets this busybox has; MissingToolError if one the course uses is absent."""
    listed = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    names = listed.stdout.split()
    missing = [name for name in REQUIRED_APPLETS if name not in names]
    if missing:
        raise MissingToolError(f"this busybox lacks {', '.join(missing)}", FIX)
    return names


def wget_timeout_crashes(busybox: Path) -> bool:
    """Whether this busybox's `wget -T` dies of a signal. Offline: the URL is refused before any
    network use, and the crash (Debian 12's 1.35) happens while parsing the options."""
    run = subprocess.run([str(busybox), "wget", "-T", "1", "-q", "-O", "/dev/null", "none://"],
                         capture_output=True, timeout=10)
    return run.returncode < 0 or run.returncode >= 128


def image_busybox(busybox: Path) -> bytes:
    """The busybox binary the images get: this machine's, with the wget -T crash fixed if it has
    it (and the fix checked on a copy: if that copy still crashes, the original is used)."""
    data = busybox.read_bytes()
    if WGET_SPEC_CRASHING not in data or not wget_timeout_crashes(busybox):
        return data
    patched = data.replace(WGET_SPEC_CRASHING, WGET_SPEC_FIXED)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "busybox"   # named busybox: a multi-call binary dispatches on its name
        copy.write_bytes(patched)
        copy.chmod(0o755)
        return data if wget_timeout_crashes(copy) else patched


def layer(busybox: Path | None = None) -> bytes:
    """The busybox root filesystem as a tar: /bin/busybox, a link per applet, the course's files."""
    busybox = busybox or find_busybox()
    tar = RootfsTar()
    for directory in ("bin", "sbin", "etc", "root", "www", "var", "proc", "sys", "dev", "run",
                      "usr/bin", "usr/sbin", "usr/local/bin"):
        tar.directory(directory)
    tar.directory("tmp", 0o1777)
    tar.file("bin/busybox", image_busybox(busybox), 0o755)
    for name in applets(busybox):
        if name != "busybox":
            tar.symlink(f"bin/{name}", "busybox")
    tar.file(IDLE_SCRIPT, IDLE, 0o755)
    tar.file("bin/apk", APK, 0o755)
    tar.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    tar.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    tar.file("www/index.html", b"hello from a dnlab container\n")
    tar.file(f"{NGINX_ROOT}/index.html", NGINX_PAGE)
    return tar.getvalue()
