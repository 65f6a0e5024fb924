"""`docker exec` runs inside the container's own root filesystem (issue 10: Debian 13 leg).

Measured on the first Debian 13 runs (scripts/debian13.sh): with the test root entered by a bare
chroot, every process `docker exec` started joined the container's mount namespace at that
namespace's root mount, which was the machine's own root, not the container's: it read Debian 12's
/etc/debian_version and found no `ping` in PATH. The chapters' probes all go through exec, so this
is checked directly here, against what the container's main process wrote and `docker inspect`.
"""
from __future__ import annotations

import uuid

from helpers.world.naming import IMAGE

MARK = "/dnlab-exec-root-mark"


def test_exec_sees_the_files_of_the_containers_main_process_and_its_hostname(world):
    client = world.host1.docker
    name = f"exec-root-{uuid.uuid4().hex[:6]}"
    # The main process marks the root it runs in, then only stays up.
    container = client.containers.run(IMAGE, ["sh", "-c", f"touch {MARK} && exec sleep 1000000"],
                                      name=name, detach=True, labels=world.label)
    try:
        marked = container.exec_run(["sh", "-c", f"for i in 1 2 3 4 5 6 7 8 9 10; do "
                                                  f"test -e {MARK} && exit 0; sleep 0.2; done; exit 1"])
        assert marked.exit_code == 0, "an exec'd process does not see the file the container wrote in /"
        container.reload()
        hostname = container.exec_run(["cat", "/etc/hostname"]).output.decode().strip()
        assert hostname == container.attrs["Config"]["Hostname"]
    finally:
        container.remove(force=True)
