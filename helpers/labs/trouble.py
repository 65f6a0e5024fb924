"""What the troubleshooting labs (8-13, helpers/labs/labNN.py) share. Each lab's `break_*` builds a
working setup, then breaks it in a hidden way.

The learner diagnoses with the tools of a real Docker host (`dnlab shell host1`, then `docker`,
`ip`, `iptables-save`, `tcpdump`) and fixes it. The labs keep their mystery:

- a check first reports the SYMPTOM the learner would observe ("the shop does not answer from the
  internet"), never the cause; each further check (counted in the progress record since the lab's
  start) gives a more precise hint, from where to look to what to run;
- hints are built from what the check observed (a learner's half-fix is named as it is), never
  fixed text that could be false;
- once the symptom is gone, the check tests the fix by its effect (a second internet address, the
  address the internet sees, a rule's counter, the next container's address) and only then names
  the cause, as evidence.
"""
from __future__ import annotations

import time

from helpers.errors import dnlab_command
from helpers.labs import progress
from helpers.labs.common import need_container
from helpers.labs.model import Checks
from helpers.language import translate
from helpers.world.guard import ProbeResult, probe
from helpers.world.naming import IDLE, IMAGE


def start_hint(world, number: int) -> str:
    """Where a missing piece of a troubleshooting lab's setup comes from: the lab's start."""
    return translate("labs:trouble:start-hint", "run the lab's start cell (or `{command}`) to get the broken setup",
                     command=dnlab_command(f"lab start {number}", world.names.world_id))


def fix_later() -> str:
    """What the symptom's pending items say before the symptom is gone: nothing about the cause."""
    return translate("labs:trouble:fix-later", "the fix itself")


# The same tools for every troubleshooting lab, so the list points at no particular fault
# ({dnlab}: the lab's `Lab.tools_markdown` writes the command line for the learner's world).
TOOLS = ("a terminal on a lab machine: `{dnlab} shell host1` (or host2, lanpc, router, inet), "
         "then what you would use on a real Docker host: `docker ps`, `docker inspect`, "
         "`docker exec NAME ...` (the containers have busybox: ping, nc, wget, ip), `ip addr`, `ip route`, "
         "`ip neigh`, `iptables-save`, `tcpdump -ni IFACE`, `conntrack -L`, `bridge fdb`. "
         "The machines themselves have `curl`, `wget` and `busybox nc`, no `ping`.")


def run_box(world, host: str, name: str, command=IDLE, **kwargs):
    return world.hosts[host].docker.containers.run(IMAGE, command, name=name, hostname=name, detach=True,
                                                   labels=world.label, **kwargs)


def make_network(world, host: str, name: str, **kwargs):
    return world.hosts[host].docker.networks.create(name, labels=world.label, **kwargs)


def container_or_start(world, c: Checks, host: str, name: str, number: int):
    return need_container(world, c, host, name, hint=start_hint(world, number))


def shell(world, machine: str, command: str = "") -> str:
    """How a learner runs `command` on a lab machine from a terminal (Markdown code)."""
    where = dnlab_command(f"shell {machine}", world.names.world_id)
    return f"`{where} -- {command}`" if command else f"`{where}`"


def stage_of(world, number: int) -> int:
    """How many times this lab was checked since its start (1 = the first check)."""
    return progress.count_check(world.prefix, number)


def staged(stage: int, steps: list[str]) -> str:
    """The hint for this check: one step more precise at each further check, the last one kept."""
    hint = steps[min(stage, len(steps)) - 1]
    return hint if stage >= len(steps) else hint + translate("labs:trouble:check-again",
                                                             " (check again for a more precise hint)")


def fresh_start(world, number: int) -> None:
    """A new start gives the first, vaguest hint again, and undoes what another troubleshooting lab
    left broken in host1 itself (its default route, its NAT rule) or on the LAN (lab 13's MTU): a learner
    who leaves lab 11 half done and starts lab 8 would otherwise meet two faults at once."""
    from helpers.labs import all_labs

    progress.reset_checks(world.prefix, number)
    for lab in all_labs():   # each lab's own `host_repair` (labs 8, 11 and 13 change host1 or the LAN)
        if lab.host_repair is not None and lab.number != number:
            lab.host_repair(world)


def probe_again(world, source, target: str, kind: str = "ping", port: int | None = None,
           size: int | None = None) -> ProbeResult:
    """One probe through the guard; a server that refuses right after a restart gets two more tries."""
    result = probe(world, source, target, kind, port, size=size)
    for _ in range(2):
        if result.ok or "refused" not in result.output.lower():
            break
        time.sleep(0.3)
        result = probe(world, source, target, kind, port, size=size)
    return result


def last_line(result: ProbeResult) -> str:
    none = translate("labs:common:no-answer", "no answer")
    return (result.output.strip().splitlines() or [none])[-1][:160] or none


def name_the_cause(c: Checks, cause: str) -> None:
    """Once everything passes, name the cause (never before: the learner finds it)."""
    if c.all_ok:
        c.expect(translate("labs:trouble:what-broke", "what had broken"), True, evidence=cause)


def start_task(number: int, extra: str = "") -> str:
    return f"Start the lab (the start cell or `{{dnlab}} lab start {number}`{extra})."


def traced_probe(world, source: str, target: str, kind: str = "ping", port: int | None = None):
    """One probe with the kernel's rule trace around it, as `dnlab trace SOURCE TARGET --rules` runs
    it (helpers/path, helpers/observe/nftrace.py): its Path, `netfilter` filled."""
    from helpers.path import trace
    from helpers.scenarios.own import own_trace

    scenario = own_trace(world, source, target, kind, port)
    return trace(world, scenario, scenario.probe, start=False, rules=True)


def rule_verdict(world, path, source: str, target: str, kind: str = "ping", port: int | None = None) -> str:
    """A later hint's quote of the kernel's trace of one probe (a `traced_probe`): the command that
    shows it, then the rule that dropped the probe, where and with which verdict, as the kernel
    reported it; or that it got through, or that nothing traced dropped it. What the trace saw,
    never the fix."""
    option = f" --{kind} {port}" if kind in ("tcp", "udp") and port else ""
    command = f"`{dnlab_command(f'trace {source} {target}{option} --rules', world.names.world_id)}`"
    rules = path.netfilter.get("rules", [])
    dropped = next((e for e in rules if e["acted"] and e["verdict"].split(":")[0] in ("DROP", "REJECT")), None)
    if dropped is not None:
        return translate("labs:trouble:trace-dropped", "{command} (the kernel's own account of that probe) says it "
                         "was dropped in {namespace} by `{rule}` ({table} {hook}, verdict {verdict})",
                         command=command, namespace=dropped["namespace"],
                         rule=dropped["rule"] or dropped["chain"] + " policy", table=dropped["table"],
                         hook=dropped["hook"], verdict=dropped["verdict"])
    if path.reached:
        return translate("labs:trouble:trace-through", "{command} (the kernel's own account of that probe) says it "
                         "got through", command=command)
    untraced = path.netfilter.get("untraced", {})
    return translate("labs:trouble:trace-nothing", "{command} (the kernel's own account of that probe): no rule "
                     "dropped it where it was traced", command=command) + (
        translate("labs:trouble:untraced", " (not traced: {where})", where=", ".join(sorted(untraced)))
        if untraced else "")
