"""Check items every lab needs: a named container runs, a named network exists, a probe gets through.

Each adds one `Item` to the lab's `Checks` and returns what it found (or None / False), so a lab's
check reads as a list of expectations and stops adding noise after the first missing piece.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import TypeVar

from helpers.errors import dnlab_command
from helpers.labs import state
from helpers.labs.model import Checks
from helpers.language import translate
from helpers.world import swarm
from helpers.world.guard import ProbeResult, check_target, container_names, probe, world_networks
from helpers.world.naming import IMAGE
from helpers.world.swarm import GOSSIP_WAIT

WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]   # busybox's web server, as a container's command
WEB_CMD = "httpd -f -p 80 -h /www"                 # the same, as a hint writes it

T = TypeVar("T")


def cli(world, host: str) -> str:
    """How the learner addresses that engine from a terminal: the words of a hint, not a runner
    (the course runs the CLI through `helpers.world.engine.run_docker`)."""
    return f"docker --context {world.hosts[host].context}"


def in_shell(world, machine: str, command: str) -> str:
    """A hint's terminal form of running `command` on a lab machine (never a Python argv list).
    `sudo` drops $DNLAB_WORLD, so a world other than the default one is named with `--world`."""
    return translate("labs:common:in-shell", "`{shell}`, then `{command}`",
                     shell=dnlab_command(f"shell {machine}", world.names.world_id), command=command)


def need_container(world, c: Checks, host: str, name: str, hint: str = "") -> object | None:
    """Item "container NAME runs on HOST"; the Container if it does."""
    what = translate("labs:common:container-runs", "container {name} runs on {host}", name=name, host=host)
    found = state.container(world.hosts[host].docker, name)
    if found is None:
        elsewhere = [h for h in world.hosts if h != host and state.container(world.hosts[h].docker, name)]
        where = translate("labs:common:container-elsewhere", " (there is one on {other}, but the task wants it "
                          "on {host})", other=elsewhere[0], host=host) if elsewhere else ""
        c.expect(what, False, translate("labs:common:no-container", "there is no container named {name} on "
                                        "{host}{where}", name=name, host=host, where=where),
                 hint or translate("labs:common:start-one", "start one from {image} with exactly this name "
                                   "(`{docker} run --name ...`)", image=IMAGE, docker=cli(world, host)))
        return None
    if found.status != "running":
        c.expect(what, False, translate("labs:common:container-stopped", "{name} exists on {host} but is {status}",
                                        name=name, host=host, status=found.status),
                 translate("labs:common:keep-running", "its command must keep running (e.g. `sleep 1000000`); "
                           "`{docker} logs {name}` shows why it stopped", docker=cli(world, host), name=name))
        return None
    c.expect(what, True, evidence=f"{found.short_id}, {found.attrs['Config']['Image']}")
    return found


def need_network(world, c: Checks, host: str, name: str, driver: str, hint: str = "") -> object | None:
    """Item "network NAME (DRIVER) exists on HOST"; the Network (full attrs) if it does."""
    what = translate("labs:common:network-exists", "network {name} ({driver}) exists on {host}",
                     name=name, driver=driver, host=host)
    found = state.network(world.hosts[host].docker, name)
    if found is None:
        c.expect(what, False, translate("labs:common:no-network", "{host}'s engine has no network called {name}",
                                        host=host, name=name),
                 hint or translate("labs:common:network-create", "networks are made with `{docker} network create`",
                                   docker=cli(world, host)))
        return None
    actual = found.attrs.get("Driver")
    if actual != driver:
        c.expect(what, False, translate("labs:common:wrong-driver", "{name} uses the {actual} driver, the task asks "
                                        "for {driver}", name=name, actual=actual, driver=driver),
                 translate("labs:common:driver-fixed",
                           "a network's driver is fixed when it is made: remove it and make it again"))
        return None
    c.expect(what, True, evidence=translate("labs:common:subnet", "subnet {subnets}",
                                            subnets=", ".join(map(str, state.subnets(found))) or "-"))
    return found


def need_attached(c: Checks, container_obj, network_name: str, hint: str = "") -> bool:
    attached = state.networks_of(container_obj)
    mode = container_obj.attrs["HostConfig"]["NetworkMode"]
    # The engine refuses `network connect` beside `none`, and for a container in another's (or the
    # host's) namespace: say what it takes instead of suggesting a refused command.
    if mode.startswith("container:") or mode == "host":
        hint = translate("labs:common:shared-namespace", "{name} was started with `--network {mode}`, which no "
                         "network can join: remove it and start it again with `--network {network}`",
                         name=container_obj.name, mode=mode.split(":")[0], network=network_name)
    elif "none" in attached:
        hint = translate("labs:common:on-none", "{name} is on `none`, beside which Docker connects nothing: "
                         "`docker network disconnect none {name}` first, then `docker network connect`",
                         name=container_obj.name)
    return c.expect(
        translate("labs:common:attached", "{name} is attached to {network}", name=container_obj.name,
                  network=network_name),
        network_name in attached,
        translate("labs:common:not-attached", "{name} is on {networks}, not on {network}", name=container_obj.name,
                  networks=", ".join(attached) or translate("labs:common:no-network-at-all", "no network"),
                  network=network_name),
        hint or translate("labs:common:connect", "a running container joins another network with "
                          "`docker network connect`"),
        evidence=translate("labs:common:address", "address {address}",
                           address=state.address_on(container_obj, network_name) or "-"))


def need_only_on(c: Checks, container_obj, network_names: set[str]) -> bool:
    attached = set(state.networks_of(container_obj))
    extra, missing = attached - network_names, network_names - attached
    problem = "; ".join(filter(None, [
        translate("labs:common:also-on", "it is also on {networks}", networks=", ".join(sorted(extra)))
        if extra else "",
        translate("labs:common:not-on", "it is not on {networks}", networks=", ".join(sorted(missing)))
        if missing else ""]))
    return c.expect(translate("labs:common:only-on", "{name} is on {networks} and nothing else",
                              name=container_obj.name, networks=", ".join(sorted(network_names))),
                    not extra and not missing, problem,
                    translate("labs:common:connect-disconnect",
                              "`docker network connect` / `docker network disconnect` change a container's networks"))


def reach(world, source, target: str, kind: str = "ping", port: int | None = None, expect: bool = True,
          size: int | None = None) -> ProbeResult:
    """One real probe (through the traffic guard), as `need_reach` judges it: a server started a moment
    ago may not listen yet, so a quick refusal where an answer is expected is tried again (a silent
    drop already waited for the probe's timeout and is not retried)."""
    result = probe(world, source, target, kind, port, size=size)
    for _ in range(3):
        if result.ok or not expect or kind == "ping" or "refused" not in result.output.lower():
            break
        time.sleep(0.3)
        result = probe(world, source, target, kind, port, size=size)
    return result


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Independent observations of one check, made at the same time; their results in the order given.

    A check's probes that depend on nothing the others do (different flows, read-only) need not wait
    for each other: a probe that is expected to fail waits its whole timeout (2 s) for an answer that
    never comes, and the others' `docker exec`s (0.1-0.4 s each) run meanwhile. The first exception
    raised (in the order given) is raised here, after all have ended."""
    if len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        wait(futures)
    return [future.result() for future in futures]


def need_reach(world, c: Checks, what: str, source, target: str, kind: str = "ping",
               port: int | None = None, expect: bool = True, problem: str = "", hint: str = "",
               size: int | None = None, result: ProbeResult | None = None):
    """Item from one real probe (through the traffic guard); `expect=False` for isolation.

    `result`: the probe already made by `reach` with these arguments (see `need_reaches`).
    Returns the ProbeResult when the item passes (its output is evidence), else None.
    """
    if result is None:
        result = reach(world, source, target, kind, port, expect, size)
    last_line = (result.output.strip().splitlines() or [""])[-1][:160]
    if result.ok == expect:
        c.expect(what, True, evidence=last_line)
        return result
    telling = telling_line(result.output) or last_line
    default = (translate("labs:common:probe-failed", "the probe did not get through: {output}",
                         output=telling or translate("labs:common:no-answer", "no answer")) if expect
               else translate("labs:common:probe-passed", "the probe got through, but it should not: {output}",
                              output=last_line))
    c.expect(what, False, problem or default, hint or probe_hint(world, source, target, result.output, expect))
    return None


_PROBE_ARGS = ("source", "target", "kind", "port", "expect", "size")


def need_reaches(world, c: Checks, *items: dict) -> list:
    """Several `need_reach` items whose probes are independent (each a dict of need_reach's keyword
    arguments: what, source, target, kind, port, expect, problem, hint, size): the probes run at once
    (`at_once`), the items are added in the order given. What each need_reach returns, in order."""
    results = at_once(*(partial(reach, world, **{k: v for k, v in item.items() if k in _PROBE_ARGS})
                        for item in items))
    return [need_reach(world, c, result=result, **item) for item, result in zip(items, results, strict=True)]


# What a failed probe's output says, most telling first (busybox ping, nc and wget wording; stderr
# and stdout of one exec interleave in any order, so the last line may be the harmless first one).
_TELLING = ("bad address", "unreachable", "refused", "timed out", "packet loss")


def telling_line(output: str) -> str:
    """The line of a probe's output that says why it failed ("" if none does)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line[:160] for key in _TELLING for line in lines if key in line.lower()), "")


def probe_hint(world, source, target: str, output: str, expect: bool) -> str:
    """A hint chosen from what the probe printed: a name that does not resolve, a refusal (the
    address answers, the port does not), or silence (look at the route), or, for isolation, the
    networks that let the packet through."""
    text = output.lower()
    name = source if isinstance(source, str) else source.name
    if isinstance(source, str):
        look = inspect = in_shell(world, source, f"ip route get {target}")
    else:
        host = next((h for h, m in world.hosts.items() if state.container(m.docker, name) is not None), "host1")
        look = f"`{cli(world, host)} exec {name} ip route`"
        inspect = f"`{cli(world, host)} inspect -f '{{{{json .NetworkSettings.Networks}}}}' {name}`"
    if not expect:
        if isinstance(source, str):
            return translate("labs:common:connected-route", "something connects {name} to {target}: {inspect} shows "
                             "the route it took", name=name, target=target, inspect=inspect)
        return translate("labs:common:connected-networks", "something connects {name} to {target}: {inspect} shows "
                         "its networks", name=name, target=target, inspect=inspect)
    if "bad address" in text:
        if isinstance(source, str):
            return translate("labs:common:machine-no-names", "{name} cannot resolve the name {target}: lab machines "
                             "know no container names, use an address", name=name, target=target)
        return translate("labs:common:dns-scope", "{name} cannot resolve the name {target}: the embedded DNS answers "
                         "only names of containers on a network {name} shares with them", name=name, target=target)
    if "refused" in text:
        return translate("labs:common:refused", "{target} answers, but nothing listens on that port there (is the "
                         "server the container's command?)", target=target)
    if "unreachable" in text:
        return translate("labs:common:no-route", "{name} has no route towards {target}: {look} shows its routes",
                         name=name, target=target, look=look)
    return translate("labs:common:silence", "no answer came back from {target}: {look} shows where {name} sends "
                     "its packets", target=target, look=look, name=name)


def wait_for_name(world, source, name: str, limit: float = GOSSIP_WAIT) -> bool:
    """Wait until `source` reaches container `name` by name (small pings). Seen here: a container made
    on host1 is known to host2's embedded DNS only once the swarm's gossip has carried it there, a
    moment after `docker run` returns; the lab's setup must work for small packets when start ends
    (helpers.world.swarm.wait_for_name: it also repairs a table the gossip lost)."""
    check_target(name, world_networks(world), container_names(world))
    return swarm.wait_for_name(world, source, name, limit)
