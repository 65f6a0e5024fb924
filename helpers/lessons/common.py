"""What every chapter's helpers share: sending through the guard, the packet-path figure, the
kernel's rule trace, a version note, table rows.

Each chapter's own demonstrations live in `helpers/lessons/chNN.py`, beside its notebook source
`notebooks/src/chNN.py` and its claim tests `tests/integration/test_claims_chNN.py`. Each function
does the real thing on the lab world (probes through the guard, captures, state read with `facts`)
and returns what it saw; the notebook's claim cells decide, with `helpers.lessons.claims`, so a
claim that stops being true fails CI.
"""
from __future__ import annotations

import textwrap
from typing import Any

from helpers.lessons import facts
from helpers.lessons.claims import measured
from helpers.lessons.lesson import Lesson, who_sees
from helpers.scenarios.endpoint import sdk_networks
from helpers.world.guard import ProbeResult, check_target, container_names, probe, world_networks
from helpers.world.naming import INET_IP, SERVICE_TCP_PORT

# What the chapters' modules re-export to their notebooks, and what they share.
__all__ = [
    "docker_addresses", "engine_drivers", "engine_major", "ENGINE_TOPICS", "guarded_exec", "host_egress",
    "ip_forward", "lesson_labels", "masquerade_packets", "met_rule", "network_drivers", "on_this_engine", "probe_row",
    "probe_summary", "remove_container", "rows_of", "rule_trace", "same_rule", "short", "show_path"
]


@measured
def guarded_exec(world, container, target: str, argv: list[str]) -> tuple[int, str]:
    """Run `argv` in a container after the traffic guard accepted `target` (for commands `probe`
    has no kind for, e.g. a fixed local port or a timed transfer)."""
    check_target(target, world_networks(world), container_names(world))
    code, out = container.exec_run(argv)
    return code, out.decode(errors="replace")


@measured
def network_drivers(client) -> dict[str, str]:
    """name -> driver of every network an engine lists (what `docker network ls` shows)."""
    return {n["Name"]: n["Driver"] for n in client.api.networks()}


@measured
def engine_drivers(client) -> list[str]:
    """The network drivers an engine has (`docker info`'s Plugins.Network), sorted."""
    return sorted(client.info()["Plugins"]["Network"])


# Each topic a chapter prints a version note for, and the facts of the engine table it renders
# (helpers/world/engine_facts.py: the course's one statement of each engine-dependent fact).
ENGINE_TOPICS = {
    "unpublished": ("direct-access", "forward-policy", "loopback-publish"),
    "loopback": ("userland-proxy",),
    "chains": ("chains",),
}


@measured
def on_this_engine(world, topic: str, host: str = "host1") -> str:
    """What holds for `topic` on the running engine (its version read now), then the course's one
    sentence on every engine, both from the engine table."""
    from helpers.world import engine_facts

    version = world.hosts[host].docker.version()["Version"]
    ids = ENGINE_TOPICS[topic]
    here = "\n".join(f"This engine ({host}): {engine_facts.on_engine(i, version)}" for i in ids)
    return here + "\nAcross releases: " + " ".join(engine_facts.say(i) for i in ids)


@measured
def engine_major(world, host: str = "host1") -> int:
    """The major version of a host's engine (20 for Debian 12's 20.10, 26 for Debian 13's 26.1)."""
    return int(world.hosts[host].docker.version()["Version"].split(".")[0])


@measured
def ip_forward(world, host: str = "host1") -> int:
    """host's net.ipv4.ip_forward (1: it routes between its interfaces)."""
    return int(world[host].run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip())


def probe_summary(result) -> dict:
    """A probe as a table row: whole lines, never cut mid-word."""
    return {"from": result.source, "to": f"{result.target} ({result.kind})", "reached": result.ok,
            "output": result.output.strip().splitlines()[-1] if result.output.strip()
            else ("(no answer)" if not result.ok else "(no output)")}


@measured
def show_path(world, scenario, probe_name: str, view: str = "L3", rules: bool = False):
    """Trace one probe of a running scenario and draw its packet path (helpers.path, helpers.draw): one
    line of verdict and rewrites, the hop-by-hop text folded under it (one click), then the figure
    (a `Drawing`: an image in the notebook whatever was imported before). `rules=True`: the kernel's
    trace of every netfilter rule the probe met too (`dnlab path ... --rules`), drawn under its rows."""
    from helpers.draw import draw_path
    from helpers.draw.display import show_folded
    from helpers.path import trace

    traced = trace(world, scenario, probe_name, rules=rules)
    show_path.last = traced  # the Path object, for a claim on its hops
    text = traced.summary()
    rewrites = [f"{r['field']} {r['before']} -> {r['after']} at {r['namespace']} {r['interface']}"
                for r in traced.rewrites()]
    headline = text.splitlines()[0] + (f"; rewritten: {'; '.join(rewrites[:2])}" if rewrites else "")
    if rules:
        text += "\n" + "\n".join(traced.rules_lines())
    show_folded(headline + ("; ..." if len(rewrites) > 2 else ""), text)
    return draw_path(traced, view=view)


@measured
def rule_trace(world, source: str, target: str, tcp: int | None = None, shown: tuple[str, ...] = ("host1",),
               quiet: bool = False) -> dict:
    """What `dnlab trace SOURCE TARGET [--tcp PORT] --rules` does (the same `own_trace` and `trace`),
    printed as the learner's terminal shows it, trimmed to the namespaces in `shown`: the command, the
    verdict line, then every rule the probe's own packets met there, as the kernel's trace reported
    it (helpers/observe/nftrace.py); `quiet`: nothing printed (a table shows several). Returns what
    the claims read: the rules met in `shown`, the DROP if one stopped the probe, and where trace
    and counters disagree; "path" is the Path."""
    from helpers.errors import dnlab_command
    from helpers.path import trace
    from helpers.scenarios.own import own_trace

    words = f"trace {source} {target}" + (f" --tcp {tcp}" if tcp else "") + " --rules"
    scenario = own_trace(world, source, target, "tcp" if tcp else "ping", tcp)
    path = trace(world, scenario, scenario.probe, start=False, rules=True)
    lines, keep, left = path.rules_lines(), True, 0
    trimmed = lines[:1]
    for line in lines[1:]:
        if not line.startswith("    "):   # a namespace's heading (or a closing note): keep it if shown
            keep = line.strip().split(",")[0] in shown
        if keep and not line.startswith("  no rule met in"):
            trimmed.append(line)
        else:
            left += 1
    if not quiet:
        print(f"$ {dnlab_command(words, world.names.world_id)}")
        print(path.summary().splitlines()[0])
        print("  ...  (the hops: as `dnlab path` prints them)")
        more = f"\n  ...  ({left} more line{'s' if left > 1 else ''}: the other namespaces)" if left else ""
        print("\n".join(trimmed) + more)
    met = [e for e in path.netfilter.get("rules", []) if e["namespace"] in shown]
    dropped = next((e for e in met if e["verdict"] == "DROP" and (e["acted"] or e["kind"] == "policy")), None)
    return {"command": words, "port": tcp, "reached": path.reached, "met": met,
            "decided": [e for e in met if e["acted"]], "dropped": dropped,
            "disagreements": path.netfilter.get("disagreements", []),
            "untraced": path.netfilter.get("untraced", {}), "path": path}


@measured
def met_rule(traced: dict, namespace: str, table: str, hook: str, target: str) -> dict | None:
    """The first rule of `traced` (a `rule_trace`) that acted in `namespace`'s `table` at `hook`
    with `-j target` (DNAT, MASQUERADE, ACCEPT, DROP): what the trace says decided there."""
    return next((e for e in traced["met"] if e["acted"] and e["namespace"] == namespace and e["table"] == table
                 and e["hook"] == hook and e["target"] == target), None)


@measured
def same_rule(a: str | None, b: str | None) -> bool:
    """Two rules as iptables-save prints them (spacing aside)."""
    return a is not None and b is not None and a.split() == b.split()


def rows_of(mapping: dict[str, Any]) -> list[dict]:
    return [{"what": k, "value": v} for k, v in mapping.items()]


def short(text: str, width: int = 110) -> str:
    """Probe output on one line, cut at a word boundary (never mid-word)."""
    return textwrap.shorten(" ".join(text.split()), width=width, placeholder=" …")


def probe_row(name: str, result: ProbeResult) -> dict:
    """One row of a reachability table: who sent what to whom, whether it got through, and what came
    back (no "expected" column: the chapter's claim says what should happen)."""
    return {"probe": name, "from": result.source, "to": result.target, "kind": result.kind,
            "reached": result.ok, "output": short(result.output)}


@measured
def lesson_labels(lesson: Lesson) -> str:
    """`--label k=v ...` of a lesson, for a docker CLI command (so `lesson.stop()` removes it)."""
    return " ".join(f"--label {k}={v}" for k, v in lesson.labels.items())


@measured
def docker_addresses(container) -> dict[str, str]:
    """network -> the IPv4 address Docker gave the container there ('' where it gave none)."""
    container.reload()
    return sdk_networks(container)


@measured
def remove_container(world, name: str) -> None:
    for c in world.host1.docker.containers.list(all=True, filters={"name": f"^/{name}$"}):
        c.remove(force=True)


# --- shared by chapters 3 and 5 (a host-network container's way out) ---------------------------------

@measured
def masquerade_packets(world, host: str = "host1") -> dict[str, int]:
    """Every MASQUERADE rule of the host's nat table with its packet counter (`iptables-save -c`)."""
    return {str(r): r.packets for r in facts.iptables(world, host) if r.target == "MASQUERADE"}


@measured
def host_egress(world, container) -> dict:
    """The container connects to the internet service; who the internet saw, and whether any
    MASQUERADE rule of host1 counted a packet meanwhile."""
    before = masquerade_packets(world)
    out = probe(world, container, str(INET_IP), "tcp", SERVICE_TCP_PORT)
    after = masquerade_packets(world)
    return {"source": container.name, "reached": out.ok, "output": short(out.output),
            "internet saw": who_sees(out.output) if out.ok else None,
            "host1 address": facts.address(world, "host1"),
            "MASQUERADE packets counted": {rule: after.get(rule, 0) - n for rule, n in before.items()}}
