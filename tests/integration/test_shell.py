"""`dnlab shell HOST -- CMD` runs CMD on that lab machine: its namespace, its own engine."""
from __future__ import annotations

import json

from helpers import cli
from helpers.world.naming import IMAGE


def shell(capfd, world, *argv: str) -> tuple[int, str]:
    code = cli.main(["--world", world.names.world_id or "", "shell", *argv]) if world.names.world_id \
        else cli.main(["shell", *argv])
    return code, capfd.readouterr().out


def test_docker_ps_lists_a_container_made_on_host1s_engine(world, capfd):
    box = world.host1.docker.containers.run(IMAGE, ["sleep", "60"], name=f"{world.prefix}-shelltest",
                                            labels=world.label, detach=True)
    try:
        code, out = shell(capfd, world, "host1", "--", "docker", "ps", "--format", "{{.Names}}")
        assert code == 0 and box.name in out.split()
        code, out = shell(capfd, world, "host2", "--", "docker", "ps", "--format", "{{.Names}}")
        assert code == 0 and box.name not in out.split()   # host2's engine is another engine
    finally:
        box.remove(force=True)


def test_docker_info_is_the_engine_of_that_host(world, capfd):
    for host in ("host1", "host2"):
        code, out = shell(capfd, world, host, "--", "docker info --format '{{.DockerRootDir}}'")
        assert code == 0 and out.strip() == str(world.names.host(host).data_root)


def test_ip_shows_the_machines_own_address(world, capfd):
    for machine in ("host1", "lanpc"):
        expected = json.loads(world[machine].run(["ip", "-j", "-4", "addr", "show", "eth0"]).stdout)
        code, out = shell(capfd, world, machine, "--", "ip", "-j", "-4", "addr", "show", "eth0")
        seen = json.loads(out)
        assert code == 0
        assert seen[0]["addr_info"][0]["local"] == expected[0]["addr_info"][0]["local"]


def test_exit_status_of_the_command_is_returned(world, capfd):
    code, _ = shell(capfd, world, "router", "--", "exit 7")
    assert code == 7


def test_docker_on_a_machine_without_an_engine_reaches_none(world, capfd):
    code = cli.main(["--world", world.names.world_id, "shell", "lanpc", "--", "docker", "ps"]) \
        if world.names.world_id else cli.main(["shell", "lanpc", "--", "docker", "ps"])
    assert code != 0
    assert "no-docker-engine-on-lanpc" in capfd.readouterr().err


def test_a_docker_hosts_shell_has_its_hostname_and_the_labs_resolver(world, capfd):
    """On host1 and host2 the shell shares its engine's UTS and mount namespaces: `hostname` is the
    host's, /etc/resolv.conf names the lab's DNS, so a name resolves inside the lab."""
    from helpers.world.naming import INET_IP

    for host in ("host1", "host2"):
        code, out = shell(capfd, world, host, "--", "hostname")
        assert code == 0 and out.strip() == host
        code, out = shell(capfd, world, host, "--", "cat /etc/resolv.conf")
        assert code == 0 and f"nameserver {INET_IP}" in out, out
    code, out = shell(capfd, world, "router", "--", "hostname")
    assert code == 0 and out.strip() not in ("host1", "host2")  # no engine: the machine's own name
