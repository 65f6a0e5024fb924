"""The swarm of a world: host1 a manager advertising its eth0 address, host2 a worker of it.

One place for it, used by the overlay scenario, the overlay chapter and the overlay labs, so they
can share one swarm and leave it the same way.
"""
from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import docker.errors

from helpers.language import translate

# The options of an overlay network (`docker network create -o KEY=VALUE`, `docker network inspect`'s
# Options): the MTU Docker gives its containers (less VXLAN's bytes, `mtu.VXLAN_OVERHEAD`; unset, it
# assumes `mtu.OVERLAY_DEFAULT_UNDERLAY_MTU`), and the VNI(s) Docker chose for it.
OVERLAY_MTU_OPTION = "com.docker.network.driver.mtu"
OVERLAY_VXLANID_OPTION = "com.docker.network.driver.overlay.vxlanid_list"

# How long the course waits for a swarm's gossip to carry a container's name to the other engine's
# embedded DNS. Usually under a second; after many swarm leave/join rounds on the same addresses (the test
# suite) it was seen to take far longer, so waits are generous and end as soon as the name resolves.
GOSSIP_WAIT = 60.0
# After this many seconds without the name, its container rejoins its overlay networks once
# (helpers.world.swarm.wait_for_name says why); a failure is described in this file of the state folder.
GOSSIP_REJOIN_AFTER = 8.0
GOSSIP_DIAGNOSIS = "gossip-diagnosis.jsonl"
# How long a swarm member's gossip agent may take to count every member among the peers of `ingress`
# after a join (about 1 s here); past it, helpers.world.swarm.heal_gossip re-forms the worker's membership.
GOSSIP_FORM_WAIT = 10.0


def info(client) -> dict:
    """The engine's swarm section of `docker info` (node id, state, manager flag, address)."""
    return client.info().get("Swarm") or {}


def state(client) -> str:
    """inactive | pending | active | error | locked."""
    return info(client).get("LocalNodeState", "inactive")


def eth0_address(world, host: str) -> str:
    """The host's LAN address, read from its namespace (not taken from the address plan), by the
    one reader of a machine's address."""
    return world[host].read_address("eth0")


def ensure(world, labels: dict[str, str] | None = None, form_wait: float = GOSSIP_FORM_WAIT,
           settle: bool = True) -> bool:
    """Make (or reuse) the swarm; True if this call initialised it. Idempotent. A swarm made here and
    not completed (host2 could not join) is left again before the error goes on: a half-made swarm
    would claim 10.0.0.0/24 for its `ingress` and break every later `swarm init` of the world.
    `form_wait`: how long every member may take to count every other among its gossip peers before
    the swarm is healed (heal_gossip); a test that has already shown the loss passes less, so it does
    not wait out the course's bound again. `settle=False` returns once host2 has joined, without that
    wait: the caller waits for the gossip itself (wait_gossip, then heal_gossip if a member is missing)
    while it attaches its containers (the overlay scenario); heal_gossip reconnects host2's containers."""
    h1, h2 = world.host1.docker, world.host2.docker
    addr = eth0_address(world, "host1")
    made = False
    if state(h1) != "active":
        h1.swarm.init(advertise_addr=addr, listen_addr=f"{addr}:2377", labels=labels or {})
        made = True
    try:
        members = {node.id for node in h1.nodes.list()}
        info2 = info(h2)
        if info2.get("LocalNodeState") == "active" and info2.get("NodeID") not in members:
            h2.swarm.leave(force=True)  # a worker of an earlier swarm
            info2 = {}
        elif info2.get("LocalNodeState") in ("pending", "error", "locked"):
            h2.swarm.leave(force=True)  # a join that never completed: a new one is refused until it goes
            info2 = {}
        if info2.get("LocalNodeState") != "active":
            _join_host2(world)
        if settle:
            settle_gossip(world, form_wait)
    except BaseException:
        if made:
            with suppress(Exception):
                leave(world)
        raise
    return made


def settle_gossip(world, form_wait: float = GOSSIP_FORM_WAIT) -> str | None:
    """Wait until every member counts every other among its gossip peers; past `form_wait`, heal the
    swarm (heal_gossip) and return its one line. A swarm that says "active" may still have a member whose
    gossip never started (see heal_gossip)."""
    return heal_gossip(world) if wait_gossip(world, form_wait) else None


def _join_host2(world) -> None:
    """host2 joins host1's swarm as a worker, both advertising their eth0 addresses."""
    h1, h2 = world.host1.docker, world.host2.docker
    addr, addr2 = eth0_address(world, "host1"), eth0_address(world, "host2")
    # A join while 7946 is still held (the agent of a swarm just left) leaves host2 without gossip
    # (see heal_gossip): one `ss` when it is free, as it was in every leave measured here.
    _gossip_port_free(world, "host2", GOSSIP_FORM_WAIT)
    token = h1.api.inspect_swarm()["JoinTokens"]["Worker"]
    h2.swarm.join(remote_addrs=[f"{addr}:2377"], join_token=token, advertise_addr=addr2,
                  listen_addr=f"{addr2}:2377")


@contextmanager
def borrowed(world) -> Iterator[bool]:
    """The world's swarm for a while: made if there is none (yields True then), and left afterwards
    only if it was made here and no overlay uses it any more."""
    made = ensure(world)
    try:
        yield made
    finally:
        if made:
            leave_if_unused(world)


def labels(world) -> dict[str, str]:
    if state(world.host1.docker) != "active":
        return {}
    try:
        return (world.host1.docker.api.inspect_swarm().get("Spec") or {}).get("Labels") or {}
    except docker.errors.APIError:  # a worker cannot inspect the swarm
        return {}


def overlays_in_use(world) -> list[str]:
    """Overlay networks (other than `ingress`) that still exist on the manager."""
    client = world.host1.docker
    if not info(client).get("ControlAvailable"):
        return []
    return [n.name for n in client.networks.list(filters={"driver": "overlay"}) if n.name != "ingress"]


def remove_when_released(network, timeout: float = 5) -> bool:
    """Remove a network once the engine has released its endpoints (it answers "has active
    endpoints" for a moment after their containers are gone). False if a container still uses it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            network.remove()
            return True
        except docker.errors.NotFound:
            return True
        except docker.errors.APIError:
            network.reload()
            # The swarm's own ingress sandbox lingers for a moment after leaving: not a user.
            users = [c for c in (network.attrs.get("Containers") or {}).values()
                     if "ingress-sbox" not in c.get("Name", "")]
            if users or time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def remove_overlay(world, network, timeout: float = 20) -> None:
    """Remove a swarm-scoped network on the manager and wait until no engine of the world lists it.

    The manager answers "has active endpoints" for a moment after the containers are gone, and
    after it accepts the removal each engine drops its own copy a little later (0.1-0.3 s here,
    longer on a loaded machine). Until then `overlays_in_use` would still see it, so the swarm
    would stay up.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            network.remove()
            break
        except docker.errors.NotFound:
            break
        except docker.errors.APIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    wait_forgotten(world, network.id, deadline - time.monotonic())


def wait_forgotten(world, network_id: str, timeout: float) -> None:
    """Wait until no Docker host of the world lists the network `network_id` any more."""
    deadline = time.monotonic() + max(timeout, 1.0)
    while True:
        holding = [role for role, host in world.hosts.items()
                   if any(n.id == network_id for n in host.docker.networks.list())]
        if not holding:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"network {network_id[:12]} is still listed on {', '.join(holding)} "
                               f"after its removal; see `dnlab status` and the engines' logs")
        time.sleep(0.1)


def leave(world) -> list[str]:
    """Both hosts leave the swarm (the worker first), `docker_gwbridge` goes, names come back. Returns
    once each engine that left has let go of its gossip port (7946): `swarm leave` can return while the
    old agent still holds it, and a join in that moment (`swarm.ensure`'s, or a learner's own `docker
    swarm join` in lab 6) would start an engine without gossip."""
    left = []
    for host in ("host2", "host1"):
        client = world.hosts[host].docker
        if state(client) in ("active", "pending", "error", "locked"):
            client.swarm.leave(force=True)
            _gossip_port_free(world, host, GOSSIP_FORM_WAIT)
            left.append(translate("world:reset:swarm", "swarm on {host}", host=host))
        for network in client.networks.list(names=["docker_gwbridge"]):
            # The swarm made it; it goes once no container uses it (a learner's may still).
            if network.name == "docker_gwbridge" and remove_when_released(network):
                left.append(translate("world:reset:gwbridge", "network docker_gwbridge on {host}", host=host))
        _restore_names(world, host)
    return left


def leave_if_unused(world) -> list[str]:
    """Leave unless an overlay network still uses the swarm (a chapter or a lab may share it)."""
    return [] if overlays_in_use(world) else leave(world)


def _restore_names(world, host: str) -> None:
    """Restart the course's containers that publish ports on user-defined networks.

    Seen on Docker 20.10 here: after `swarm leave --force`, the embedded DNS (127.0.0.11) no
    longer answers for containers with published ports on user-defined bridges; a restart
    registers their names again. Only the world's own labelled containers are restarted.
    """
    from concurrent.futures import ThreadPoolExecutor

    from helpers.world.naming import LABEL_WORLD

    client = world.hosts[host].docker
    restart = []
    for container in client.containers.list(filters={"label": f"{LABEL_WORLD}={world.prefix}"}):
        settings = container.attrs["NetworkSettings"]
        user_defined = [n for n in settings["Networks"] if n not in ("bridge", "host", "none")]
        if user_defined and any(settings.get("Ports") or {}):
            restart.append(container)
    # side by side: each restart waits on its own container's stop and start, not on the others'
    with ThreadPoolExecutor(max_workers=max(1, min(len(restart), 8))) as pool:
        list(pool.map(lambda container: container.restart(timeout=0), restart))


# --- names across the hosts ------------------------------------------------------------------------
# A container on host1 is known to host2's embedded DNS once the swarm's gossip (NetworkDB over
# 7946) has carried its endpoint there: usually well under a second after `docker run` returns. Seen in
# CI on Docker 20.10 after many swarm rounds: host2 never learned the names of a network for minutes,
# while traffic by address worked and a restart of the engines healed it (moby#30314 and moby#53141
# describe NetworkDB dropping a peer's entries once it counts that peer out of the network). Leaving
# the network and joining it again (the one container of that host disconnected and connected) makes
# the engine announce its endpoints again and sync the table with its peers.

def pings_by_name(source, name: str) -> bool:
    """One small ping from container `source` to `name`, resolved by its own resolver."""
    code, _ = source.exec_run(["timeout", "2", "ping", "-c", "1", "-W", "1", name])
    return code == 0


def wait_for_name(world, source, name: str, limit: float = GOSSIP_WAIT,
                  rejoin_after: float = GOSSIP_REJOIN_AFTER) -> bool:
    """Wait until container `source` reaches container `name` by name across the swarm. After
    `rejoin_after` seconds without an answer, `name` rejoins its overlay networks once (see above);
    if the name still does not resolve by `limit`, what each engine knew is written to the world's
    GOSSIP_DIAGNOSIS file and False is returned."""
    started = time.monotonic()
    rejoined = False
    while True:
        if pings_by_name(source, name):
            return True
        waited = time.monotonic() - started
        if waited > limit:
            record_diagnosis(world, source, name)
            return False
        if not rejoined and waited > rejoin_after:
            rejoined = True
            # A member without gossip (see heal_gossip) is not helped by a rejoin: re-form it instead.
            if gossip_missing(world):
                heal_gossip(world)
            else:
                rejoin_overlays(world, name)
        time.sleep(0.3)


# --- a swarm member whose gossip never started ------------------------------------------------------
# Seen in CI under load (issue 24.5) and made here on demand (tests/integration/test_gossip_names.py,
# bench/gossip_repro.py): Docker 20.10 starts an engine's gossip agent (NetworkDB: a memberlist on TCP
# and UDP 7946 at the advertised address) once, when the engine joins a swarm. If that start fails,
# dockerd.log says "error in agentInit: failed to create memberlist: ... bind: address already in use"
# (it logs at error level, so even at the default `warn`), and nothing tries again: the engine still says
# "active", its containers still attach to overlays, but its NetworkDB joins no network. `network inspect
# --verbose` then lists no peers at all on it and only themselves on the others, for every new overlay,
# and names never cross (a container rejoining its overlay changes nothing). The bind fails while the
# address's 7946 is still held, as it is by the agent of the swarm the engine has just left:
# `swarm leave` can return before that agent has closed (libnetwork's AgentStopWait returns at once if
# the agent's stop has not begun yet), and the suite leaves and joins again many times. Only a new
# membership starts the agent again: the worker leaves and joins once 7946 is free.

def gossip_peers(world) -> dict[str, list[str] | None]:
    """Each swarm-active engine's NetworkDB peers (addresses) of the swarm's `ingress` network, which
    every member joins; None where the engine has no `ingress` (its agent never made it)."""
    seen: dict[str, list[str] | None] = {}
    for role, host in world.hosts.items():
        if state(host.docker) != "active":
            continue
        try:
            verbose = host.docker.api.inspect_network("ingress", verbose=True, scope="swarm")
        except docker.errors.NotFound:
            seen[role] = None
            continue
        seen[role] = sorted(p.get("IP") for p in (verbose.get("Peers") or []))
    return seen


def gossip_missing(world) -> dict[str, list[str]]:
    """{role: [members' addresses its NetworkDB does not count among the peers of `ingress`]} for each
    active member of a swarm of two or more that has `ingress`; empty when every such member counts every
    member. (A member without gossip has no `ingress` of its own: the others' views show it missing. A
    swarm whose `ingress` someone removed shows nothing here.)"""
    seen = gossip_peers(world)
    if len(seen) < 2:
        return {}
    members = {eth0_address(world, role) for role in seen}
    missing = {role: sorted(members - set(peers)) for role, peers in seen.items() if peers is not None}
    return {role: addresses for role, addresses in missing.items() if addresses}


def wait_gossip(world, timeout: float) -> dict[str, list[str]]:
    """Poll gossip_missing until it is empty (returned at once then) or `timeout` seconds pass: a
    member that has just joined counts the others a moment later (about 1 s here)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = gossip_missing(world)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.2)


def _gossip_listeners(world, host: str) -> str:
    """What listens on TCP 7946 in the host's namespace, as `ss -Hltnp` prints it ('' for nothing)."""
    return world[host].run(["ss", "-Hltnp", "sport = :7946"], check=False).stdout.strip()


def _gossip_port_free(world, host: str, timeout: float) -> None:
    """Wait until nothing listens on TCP 7946 in the host's namespace (the left swarm's agent is closed).

    If the host's own engine still holds it after `timeout` seconds, its gossip agent has outlived the
    swarm (moby#31913 describes it after repeated leaves; once in CI's Debian 13 leg under load, 10 s and
    more after `swarm leave` returned, so host2 could not join and every later overlay failed): only a
    new dockerd process lets go of it, so that engine is restarted, saying so in one line on stderr. A
    holder that is not the engine is an error naming it."""
    from helpers.errors import LabError
    from helpers.world import engine
    from helpers.world.manager import command_for, restart_engine

    deadline = time.monotonic() + timeout
    while listeners := _gossip_listeners(world, host):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    else:
        return
    paths = world.hosts[host].paths
    holders = {int(pid) for pid in re.findall(r"pid=(\d+)", listeners)}
    if not holders or not holders <= set(engine.processes_of(paths)):
        raise LabError(f"{host}'s TCP 7946 (the swarm's gossip) is held by another process than its engine "
                       f"{timeout:.0f} s after it left the swarm: {listeners}",
                       f"{command_for(world.names, 'down')} && {command_for(world.names, 'up')}")
    started = time.monotonic()
    restarted = restart_engine(world.names, host)
    if _gossip_listeners(world, host):
        raise LabError(f"{host}'s engine still holds TCP 7946 after a restart: {_gossip_listeners(world, host)}",
                       f"{command_for(world.names, 'down')} && {command_for(world.names, 'up')}")
    print(f"swarm gossip: {host}'s engine still held 7946 {timeout:.0f} s after leaving the swarm (its gossip "
          f"agent outlived the swarm): engine restarted in {time.monotonic() - started:.1f} s"
          f"{f', containers started again: {len(restarted)}' if restarted else ''}", file=sys.stderr, flush=True)


def heal_gossip(world, timeout: float = GOSSIP_WAIT) -> str:
    """host2 leaves the swarm and joins it again (once its 7946 is free), so its gossip agent starts
    afresh; its containers rejoin the swarm-scoped networks the leave took them off. Says so in one
    line on stderr, and returns that line. The manager's own agent is not re-formed here: a member
    missing on host1 alone heals with host2's new join; host1 without gossip needs `down && up`."""
    from helpers.errors import LabError
    from helpers.world.manager import command_for

    before = gossip_missing(world)
    h1, h2 = world.host1.docker, world.host2.docker
    attached = []
    for container in h2.containers.list():
        for net_name, endpoint in (container.attrs["NetworkSettings"]["Networks"] or {}).items():
            if net_name != "ingress" and _is_swarm_scoped(h2, endpoint.get("NetworkID") or net_name):
                attached.append((container, endpoint.get("NetworkID") or net_name, endpoint.get("Aliases")))
    old_node = info(h2).get("NodeID")
    h2.swarm.leave(force=True)
    _gossip_port_free(world, "host2", timeout)
    with suppress(docker.errors.APIError):
        h1.nodes.get(old_node).remove(force=True)  # its old node would stay listed as Down
    _join_host2(world)
    missing = wait_gossip(world, GOSSIP_FORM_WAIT)
    for container, network_id, aliases in attached:
        h2.api.connect_container_to_network(container.id, network_id,
                                            aliases=[a for a in aliases or [] if a != container.id[:12]])
    line = (f"swarm gossip: NetworkDB peers missing on ingress {before or '(none now)'}: "
            f"host2 left the swarm and joined it again"
            f"{f', {len(attached)} container network(s) reconnected' if attached else ''}: "
            f"{'healed' if not missing else f'still missing {missing}'}")
    print(line, file=sys.stderr, flush=True)
    if missing:
        raise LabError(f"{line}; see each engine's dockerd.log for 'error in agentInit'",
                       f"{command_for(world.names, 'down')} && {command_for(world.names, 'up')}")
    return line


def _is_swarm_scoped(client, network_id: str) -> bool:
    try:
        return client.networks.get(network_id).attrs.get("Scope") == "swarm"
    except docker.errors.NotFound:
        return False


def _find(world, name: str):
    for role, host in world.hosts.items():
        try:
            return role, host.docker.containers.get(name)
        except docker.errors.NotFound:
            continue
    return None, None


def rejoin_overlays(world, name: str) -> list[str]:
    """Disconnect container `name` from each swarm-scoped network it is on and connect it again (it
    may get another address); returns the networks it rejoined."""
    role, container = _find(world, name)
    if container is None:
        return []
    client = world.hosts[role].docker
    done = []
    for net_name, endpoint in (container.attrs["NetworkSettings"]["Networks"] or {}).items():
        network = client.networks.get(endpoint.get("NetworkID") or net_name)
        if network.attrs.get("Scope") != "swarm":
            continue
        network.disconnect(container, force=True)
        network.connect(container)
        done.append(network.name)
    return done


def gossip_view(world, source, name: str) -> dict:
    """What each engine knows of the networks `name` is on: its swarm node, the network's NetworkDB
    peers (`docker network inspect --verbose`), and what `source`'s resolver answers."""
    _, target = _find(world, name)
    networks = list((target.attrs["NetworkSettings"]["Networks"] or {}) if target is not None else {})
    view: dict = {"name": name, "source": source.name, "networks": networks, "engines": {}}
    for role, host in world.hosts.items():
        node = info(host.docker)
        seen = {"node": node.get("NodeID"), "address": node.get("NodeAddr"), "state": node.get("LocalNodeState")}
        for net in networks:
            try:
                verbose = host.docker.api.inspect_network(net, verbose=True, scope="swarm")
            except docker.errors.APIError as error:
                seen[net] = f"not known here ({error.explanation})"
                continue
            seen[net] = {"peers": verbose.get("Peers"),
                         "containers here": [c.get("Name") for c in (verbose.get("Containers") or {}).values()]}
        seen["gossip agent errors"] = agent_errors(host.paths.log)
        view["engines"][role] = seen
    code, out = source.exec_run(["nslookup", name])
    view["nslookup from source"] = {"exit": code, "output": out.decode(errors="replace")[-600:]}
    return view


AGENT_ERRORS = ("error in agentInit", "Error in joining gossip cluster")  # dockerd's words, case aside


def agent_errors(log, keep: int = 3) -> list[str]:
    """The last `keep` lines of an engine's dockerd.log where its gossip agent failed to start or join
    (error level: kept at the default `warn` too), so a CI failure's diagnosis names the trigger."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    return [line[-400:] for line in lines if any(e.lower() in line.lower() for e in AGENT_ERRORS)][-keep:]


def record_diagnosis(world, source, name: str) -> str:
    """Write gossip_view to the world's GOSSIP_DIAGNOSIS file (one JSON line per failure); returns a
    short summary naming that file (a failing CI run prints only what an error says)."""
    path = world.names.state_dir / GOSSIP_DIAGNOSIS
    try:
        view = gossip_view(world, source, name)
    except Exception as error:  # the diagnosis must never hide the failure it describes
        view = {"name": name, "error": repr(error)}
    view["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(path, "a") as log:
        log.write(json.dumps(view, default=str) + "\n")
    return f"{summary(view)} (all of it: {path})"


def last_diagnosis(world) -> str:
    """The summary of the newest diagnosis in the world's GOSSIP_DIAGNOSIS file, with its path."""
    path = world.names.state_dir / GOSSIP_DIAGNOSIS
    try:
        view = json.loads(path.read_text().splitlines()[-1])
    except (FileNotFoundError, IndexError, ValueError):
        return "no diagnosis recorded"
    return f"{summary(view)} (all of it: {path})"


def summary(view: dict) -> str:
    """One line of a gossip_view: each engine's node and the peers it counts on each network."""
    if "error" in view:
        return f"no view of the engines: {view['error']}"
    parts = []
    for role, seen in view.get("engines", {}).items():
        nets = []
        for net in view.get("networks", []):
            known = seen.get(net)
            peers = ([p.get("IP") for p in (known.get("peers") or [])] if isinstance(known, dict) else known)
            nets.append(f"{net} peers {peers}")
        errors = " [gossip agent failed to start: see its dockerd.log]" if seen.get("gossip agent errors") else ""
        parts.append(f"{role} ({seen.get('state')}, node {str(seen.get('node'))[:12]}){errors}: " + "; ".join(nets))
    lookup = view.get("nslookup from source", {})
    return " | ".join(parts) + f" | nslookup {view.get('name')} from {view.get('source')}: exit {lookup.get('exit')}"
