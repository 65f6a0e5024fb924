"""Chapter 0 (setup): the world's machines and cables, a fresh engine's drivers, `dnlab shell`.

One call, one idea, evidence as a dict; the chapter's claim cells decide (helpers/lessons/common.py).
"""
from __future__ import annotations

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.common import engine_drivers, network_drivers

# What the chapter's notebook calls (as ch00.NAME): its own demonstrations and the shared helpers it uses.
__all__ = [
    "dnlab_command", "doctor_checks", "engine_drivers", "lan_members", "network_drivers", "shell_facts",
    "typed_on_this_machine"
]


@measured
def doctor_checks() -> list:
    """What `dnlab doctor` checks on this machine (helpers/world/doctor.py), read now."""
    from helpers.world import doctor

    return doctor.run_checks()


@measured
def lan_members(state) -> list[str]:
    """Machines whose cable (veth pair) ends on a port of the router's LAN bridge `lan0`, read
    from an observed world (`helpers.draw.world_map.observe_world`): both the pair and the port."""
    from helpers.draw.world_map import cables

    router = {iface.name: iface for iface in state["router"].interfaces}
    found = set()
    for cable in cables(state):
        if "router" not in (cable.a, cable.b):
            continue
        other, port = (cable.b, cable.a_interface) if cable.a == "router" else (cable.a, cable.b_interface)
        if router.get(port) is not None and router[port].master == "lan0":
            found.add(other)
    return sorted(found)


@measured
def typed_on_this_machine(command: str, timeout: float = 60) -> facts.Shown:
    """Run `command` in a shell on this machine (the root namespace, as root), shown as a terminal
    transcript: for the `dnlab shell ...` and `nsenter ...` lines a learner types to get ON a lab
    machine. It sends no packet; whatever it runs inside the lab stays in the lab's namespaces."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # the venv's dnlab
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=timeout, env=env)
    return facts.Shown("root@machine", command, (result.stdout + result.stderr).rstrip("\n"), result.returncode)


@measured
def dnlab_command(world, args: str) -> str:
    """`dnlab ARGS` as the learner types it for this world (`--world ID` unless it is the default one)."""
    return f"dnlab --world {world.names.world_id} {args}" if world.names.world_id else f"dnlab {args}"


@measured
def shell_facts(world, machine: str = "host1") -> dict:
    """What `dnlab shell MACHINE -- ...` reports: the engine `docker` talks to (its data root) and
    the machine's eth0 address (`ip -j`), with the commands shown as typed."""
    import json

    root_dir = "docker info --format '{{.DockerRootDir}}'"
    engine = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- {root_dir}"))
    shown = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- ip -4 -br addr show eth0"))
    raw = typed_on_this_machine(dnlab_command(world, f"shell {machine} -- ip -j -4 addr show eth0")).output
    try:
        eth0 = json.loads(raw)[0]["addr_info"][0]["local"]
    except (ValueError, IndexError, KeyError):
        eth0 = None
    return {"machine": machine, "commands": [engine, shown],
            "docker_root": engine.output.strip() if engine.returncode == 0 else None, "eth0": eth0}
