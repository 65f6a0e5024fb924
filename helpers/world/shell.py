"""`dnlab shell HOST [-- CMD ...]`: be ON a machine of the lab world, in a terminal.

A machine of the world is a network namespace (`<prefix>-<role>`). The shell enters only its
network namespace with `nsenter --net=/run/netns/<prefix>-<role>` (not `ip netns exec`, which
remounts /sys and hides the cgroups dockerd needs: see lab-world.md), so the files and tools of this
machine stay visible, while `ip`, `iptables-save`, `tcpdump`, `conntrack` and `bridge` see the lab
machine's interfaces and rules. On host1 and host2, `DOCKER_HOST` points at that host's own engine,
so `docker ps` lists its containers, and the shell also enters the engine's UTS and mount
namespaces (its hostname, its /etc/resolv.conf naming the lab's DNS); elsewhere DOCKER_HOST points at
no engine at all, so a stray `docker` command can never reach this machine's own (real) Docker engine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from helpers.errors import LabError, UsageError, dnlab_command, env_world
from helpers.world import engine
from helpers.world.naming import HOSTS, ROLES, WORLD_ENV, WorldNames
from helpers.world.proc import NETNS_DIR, require_root, which

# Where `docker` points on a machine without an engine: a socket path that cannot exist (its
# parent is a character device), named so that the CLI's error says what is going on.
NO_ENGINE = "unix:///dev/null/no-docker-engine-on-{machine}"


def check_machine(machine: str) -> str:
    """Return `machine` if the world has it, else a LabError that lists the machines it has."""
    if machine not in ROLES:
        raise UsageError(f"unknown machine {machine!r}; a lab world has {', '.join(ROLES)}",
                         dnlab_command("shell host1", env_world()) + "   # or host2, lanpc, router, inet")
    return machine


def up_command(names: WorldNames) -> str:
    """The one command that brings this world up."""
    return dnlab_command("up", names.world_id)


def check_up(names: WorldNames, machine: str) -> None:
    """LabError (with the command that fixes it) unless the machine's namespace, and on a Docker
    host its engine, are there."""
    from helpers.world import engine, netns

    namespace = names.namespace(machine)
    if not netns.exists(namespace) or netns.marker_of(namespace) != names.marker:
        raise LabError(f"world {names.prefix} is not up: there is no namespace {namespace}",
                       up_command(names))
    if machine in HOSTS and not engine.ping(names.host(machine)):
        raise LabError(f"world {names.prefix} is up, but {machine}'s dockerd does not answer",
                       up_command(names) + "   # restarts what died")


def prompt(names: WorldNames, machine: str) -> str:
    """`[dnlab host1]# ` for the default world, `[dnlab-w2 host1]# ` for world w2."""
    return f"[{names.prefix} {machine}]# "


def shell_env(names: WorldNames, machine: str, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the shell: the prompt, the world, and `docker` aimed at this machine's
    engine (or at none). The caller's DOCKER_* variables are dropped: a DOCKER_CONTEXT would win."""
    env = {k: v for k, v in base.items() if not k.startswith("DOCKER_")}
    env["PS1"] = prompt(names, machine)
    env["DOCKER_HOST"] = names.host(machine).base_url if machine in HOSTS else NO_ENGINE.format(machine=machine)
    env["DNLAB_MACHINE"] = machine
    if names.world_id:
        env[WORLD_ENV] = names.world_id
    return env


def shell_argv(names: WorldNames, machine: str, command: Sequence[str] = ()) -> list[str]:
    """nsenter into the machine's network namespace, then: an interactive shell (bash without rc
    files, so no ~/.bashrc overrides the prompt; sh if there is no bash), one shell command line
    (a single argument, so pipes work: `-- "iptables-save -t nat | grep DNAT"`), or argv as given."""
    enter = [which("nsenter"), f"--net={NETNS_DIR}/{names.namespace(machine)}"]
    dockerd = engine.pid(names.host(machine)) if machine in HOSTS else None
    if dockerd:
        # A Docker host's engine has its own hostname and resolver (helpers.world.engine): so has its
        # shell, where `hostname` says host1 and a name resolves through the lab's DNS, never the machine's.
        enter += [f"--uts=/proc/{dockerd}/ns/uts", f"--mount=/proc/{dockerd}/ns/mnt"]
    if not command:
        bash = shutil.which("bash")
        return enter + ([bash, "--noprofile", "--norc", "-i"] if bash else [which("sh"), "-i"])
    if len(command) == 1:
        return enter + [which("sh"), "-c", command[0]]
    return enter + list(command)


def run_shell(world_id: str | None, machine: str, command: Sequence[str] = ()) -> int:
    """Open the shell (or run `command`) on `machine` of the world; return its exit status."""
    from helpers.world.naming import world_id_from_env

    check_machine(machine)
    names = WorldNames(world_id if world_id is not None else world_id_from_env())
    require_root()
    check_up(names, machine)
    if command and command[0] == "--":
        command = command[1:]
    argv = shell_argv(names, machine, command)
    if not command:
        where = f"{machine}'s own engine" if machine in HOSTS else "no engine (this machine runs none)"
        print(f"dnlab shell: you are on {machine} of world {names.prefix} (its network namespace); "
              f"docker talks to {where}. Leave with `exit`.")
    return subprocess.call(argv, env=shell_env(names, machine, os.environ))
