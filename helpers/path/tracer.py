"""`trace(world, scenario, probe) -> Path`: run one ProbeSpec with captures around it.

Generic over ProbeSpec, so every driver's scenarios work: it captures on every interface of the
namespaces the probe can cross (the world's machines, the scenario's containers on every host,
and the engines' own namespaces such as an overlay's), reads their state before and after, sends
the probe through `helpers.world.guard.probe`, and builds the Path from what was captured.

`keep=DIR` saves the whole run (tool outputs and pcaps) so `rebuild(DIR)` gives the same Path
without a world: that is how the unit tests replay real runs.
"""
from __future__ import annotations

import ipaddress
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path as FsPath

from helpers.capture.decode import read_pcap
from helpers.capture.tcpdump import Capture, Point
from helpers.errors import LabError
from helpers.observe import collect
from helpers.observe.collect import ContainerInfo, Proxy, Target, WorldState, live_netns
from helpers.observe.nftrace import LEDGER_DIR, NfTrace, flow_of
from helpers.path.build import Observed, build_path
from helpers.path.model import Path
from helpers.path.rules import attach
from helpers.world import guard, userfile
from helpers.world.naming import SERVICE_TCP_PORT
from helpers.world.proc import NETNS_DIR

BEFORE_MACHINE = ("links", "routes", "neighbours", "fdb", "rules")
AFTER_MACHINE = ("rules", "conntrack", "fdb", "neighbours")
BEFORE_CONTAINER = ("links", "routes", "neighbours")
AFTER_CONTAINER = ("neighbours",)


def _scenario(world, scenario):
    from helpers import scenarios

    return scenarios.get(world, scenario) if isinstance(scenario, str) else scenario


def _engine_namespaces(world, host: str, containers: list[ContainerInfo]) -> list[Target]:
    """An engine's own namespaces (overlay networks' `1-xxxx`, ingress), not its containers'."""
    directory = world.hosts[host].paths.exec_root / "netns"
    if not directory.is_dir():
        return []
    taken = set()
    for c in containers:
        with suppress(FileNotFoundError):
            taken.add(os.stat(c.netns_path).st_ino)
    found = []
    for entry in sorted(directory.iterdir()):
        try:
            if entry.stat().st_ino in taken or not entry.name[:1].isdigit() and entry.name != "ingress_sbox":
                continue
        except OSError:
            continue
        if live_netns(entry):  # an engine leaves an empty file behind a namespace that went
            found.append(Target(f"{host}:{entry.name}", "docker", str(entry)))
    return found


def _observed_addresses(ours: list[ContainerInfo]):
    """The endpoint resolver's reader of container addresses, from what the tracer just observed
    (docker inspect of every scenario container, read once): no second inspect per lookup."""
    by_key = {(c.name, c.host): c for c in ours}

    def read(name: str, host: str) -> dict[str, str] | None:
        info = by_key.get((name, host))
        return None if info is None else {e.network: e.ip for e in info.endpoints}

    return read


def _raw_all(targets: list[Target], parts_machine, parts_container) -> dict[str, dict[str, str]]:
    def one(t: Target):
        parts = parts_machine if t.kind in ("machine", "docker") else parts_container
        return t.name, collect.raw_outputs(t.path, parts)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(one, targets))


def _state(targets: list[Target], raw: dict[str, dict[str, str]], base: WorldState | None = None) -> WorldState:
    state = WorldState()
    for t in targets:
        extra = {}
        if t.container is not None:
            c = t.container
            extra = dict(host=c.host, container=c.name, container_id=c.id, pid=c.pid)
        ns = collect.from_outputs(t.name, t.kind, t.path, raw.get(t.name, {}), **extra)
        if base is not None and t.name in base.namespaces:
            old = base.namespaces[t.name]
            # What the "after" pass did not re-read stays as it was read before.
            for attr in ("interfaces", "routes", "neighbours", "fdb", "rules", "conntrack"):
                if not getattr(ns, attr):
                    setattr(ns, attr, getattr(old, attr))
        state.namespaces[t.name] = ns
    state.containers = {t.name: t.container for t in targets if t.container is not None}
    return state


def capture_points(state: WorldState, source_ns: str, target: str) -> list[Point]:
    """Every UP interface of every namespace read (and loopback where the probe stays local).

    Host-side veths of containers that are not being traced are left out: nothing of the probe
    can cross them, and each capture costs a tcpdump.
    """
    traced_peers: set[tuple[int, int]] = set()
    for ns in state.namespaces.values():
        if ns.kind == "container":
            for iface in ns.interfaces:
                if iface.kind == "veth" and iface.peer_ifindex is not None:
                    traced_peers.add((iface.peer_ifindex, iface.ifindex))
    loopback = _is_loopback(target)
    points = []
    for ns in state.namespaces.values():
        for iface in ns.interfaces:
            if not iface.up:
                continue
            if iface.kind == "loopback":
                if loopback and ns.name == source_ns:
                    points.append(Point(ns.name, ns.path, iface.name))
                continue
            if (ns.kind == "machine" and iface.kind == "veth" and iface.master and ns.name not in ("router",)
                    and (iface.ifindex, iface.peer_ifindex) not in traced_peers):
                continue
            points.append(Point(ns.name, ns.path, iface.name))
    return points


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _rule_trace(world, targets: list[Target], spec, target: str) -> NfTrace | None:
    """The kernel's rule trace of the probe's flow in every namespace read (None: the target is
    a name, not an address, so no rule can match it). Its ledger goes in the world's run folder."""
    flow = flow_of(spec.kind, target, spec.port, SERVICE_TCP_PORT)
    if flow is None:
        return None
    return NfTrace({t.name: t.path for t in targets}, flow, ledger_dir=world.names.state_dir / LEDGER_DIR)


def _rule_run(nft: NfTrace | None, targets: list[Target]) -> dict:
    """What `rules.attach` and a saved run need of a rule trace."""
    if nft is None:
        return {"flow": None, "texts": {}, "untraced": {"all": "the target is a name, not an address"}}
    return {"flow": asdict(nft.flow), "texts": nft.texts, "native": nft.native, "untraced": nft.untraced,
            "swept": nft.swept, "counted": [t.name for t in targets if t.kind != "container"]}


def _probe(world, source, target: str, spec, points: list[Point], nft: NfTrace | None, timeout: int | None, lap):
    """The probe, inside the captures and (with `nft`) the rule trace; every TRACE rule is removed
    and every monitor ended whatever happens (the captures stop in any case too). The TRACE rules go
    in beside the captures' start (both wait on their own processes), the monitors before both."""
    if nft is not None:
        nft.launch()  # in this thread: its monitors die with it
        lap("rules_start")
    try:
        capture = Capture(points)
        with ThreadPoolExecutor(max_workers=1) as pool:
            arming = pool.submit(nft.arm) if nft is not None else None
            capture.start()  # in this thread too (its tcpdumps die with it)
            try:
                if arming is not None:
                    arming.result()
                    nft.wait_ready()
            except BaseException:
                capture.stop()
                raise
        lap("capture_start")
        try:
            result = guard.probe(world, source, target, spec.kind, spec.port,
                                 timeout=timeout or (2 if spec.expect else 1))
            lap("probe")
        finally:
            files = capture.stop()
    finally:
        if nft is not None:
            nft.stop()
    return result, capture, files


def trace(world, scenario, probe_name: str, *, keep: str | os.PathLike | None = None,
          start: bool = True, timeout: int | None = None, rules: bool = False) -> Path:
    """Run the scenario's probe `probe_name` with captures around it; the packet's Path.

    `scenario` is a name ("user-bridge") or a Scenario. The scenario is started if needed.
    `rules=True` also traces, in every namespace read, each netfilter rule the probe's own flow met
    (helpers/observe/nftrace.py): `path.netfilter` and each hop's `rules_met`.
    """
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    sc = _scenario(world, scenario)
    specs = sc.probe_specs()
    if probe_name not in specs:
        raise LabError(f"scenario {sc.name} has no probe {probe_name!r}; it has {', '.join(specs)}",
                       f"dnlab path {sc.name} {next(iter(specs))}")
    spec = specs[probe_name]
    if start:
        sc.start()
    lap("scenario")

    # Who is who: containers of the scenario on every host, the machines, the engines' namespaces.
    hosts = list(world.hosts)
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        per_host = dict(zip(hosts, pool.map(lambda h: collect.docker_containers(world, h), hosts), strict=True))
    ours = [c for h in hosts for c in per_host[h] if sc.includes(c)]
    targets = collect.machine_targets(world)
    targets += collect.container_targets(ours)
    for host in hosts:
        targets += _engine_namespaces(world, host, per_host[host])
    raw_before = _raw_all(targets, BEFORE_MACHINE, BEFORE_CONTAINER)
    before = _state(targets, raw_before)
    lap("observe_before")

    # The probe's two ends, resolved from what was just read.
    source_info: ContainerInfo | None = None
    source_end = spec.source_end
    if source_end.is_container:
        name, host = sc.container_name(source_end.name), spec.source_container_host
        source_info = next((c for c in ours if c.name == name and c.host == host), None)
        if source_info is None:
            raise LabError(f"scenario {sc.name} has no running container {source_end.name} on {host}",
                           f"dnlab path {sc.name} {probe_name}")
        if source_info.network_mode == "host":
            source_ns = source_info.host
        else:
            source_ns = next((t.name for t in targets if t.container is source_info), source_info.name)
    else:
        source_ns = source_end.name
    # The one resolver and address rule (helpers.scenarios.endpoint), fed what was just observed;
    # a bare container name becomes its address too, since frames are matched by address.
    shared = [e.network for e in source_info.endpoints] if source_info else []
    target = spec.target_end.resolve(sc, default_host=spec.source_host, prefer=shared,
                                     addresses=_observed_addresses(ours), names=True)
    points = capture_points(before, source_ns, target)
    proxies = collect.docker_proxies({t.name: t.path for t in targets if t.kind == "machine"})
    lap("resolve")

    if source_info is not None:
        source = world.hosts[source_info.host].docker.containers.get(source_info.id)
    else:
        source = source_end.name  # a machine role
    nft = _rule_trace(world, targets, spec, target) if rules else None
    result, capture, files = _probe(world, source, target, spec, points, nft, timeout, lap)
    lap("capture_stop")
    raw_after = _raw_all([t for t in targets if t.kind != "container"], AFTER_MACHINE, AFTER_CONTAINER)
    after = _state(targets, raw_after, base=before)
    lap("observe_after")
    frames = {(p.namespace, p.interface): read_pcap(f) for p, f in files.items()}
    lap("decode")
    observed = Observed(scenario=sc.name, probe=probe_name, kind=spec.kind, port=spec.port, expect=spec.expect,
                        description=spec.description, source=source_ns, target=target, reached=result.ok,
                        output=result.output, before=before, after=after, frames=frames, proxies=proxies)
    path = build_path(observed)
    rule_run = _rule_run(nft, targets) if rules else None
    if rule_run is not None:
        attach(path, rule_run)
    path.evidence.update(evidence(world, path, result.output))
    lap("build")
    path.timings = {**timings, "total": round(sum(timings.values()), 3)}
    if capture.errors:
        path.evidence["capture_errors"] = {p.label: e for p, e in capture.errors.items()}
    if keep is not None:
        _save(FsPath(keep), observed, targets, raw_before, raw_after, files, path, rule_run)
    capture.cleanup()
    return path


def evidence(world, path: Path, output: str) -> dict:
    """What the far end says it saw: the service's (or the scenario web server's) own words, and
    the internet service's log line for this very connection."""
    from helpers.world.service import parse_reply

    found: dict = {}
    try:
        address, port = parse_reply(output)
    except ValueError:
        return found  # no "you are ADDR:PORT" answer: nothing the far end said
    found["reply_says_client_is"] = f"{address}:{port}"
    log = world.names.service_log
    if path.kind in ("tcp", "http") and log.exists():
        for line in reversed(log.read_text().splitlines()[-50:]):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("client") == address and entry.get("port") == port:
                found["inet_log"] = entry
                found["inet_log_file"] = str(log)
                break
    return found


# --- saving and replaying a run ------------------------------------------------------------------

def _save(directory: FsPath, obs: Observed, targets: list[Target], raw_before, raw_after, files, path: Path,
          rule_run: dict | None = None) -> None:
    """Write the run into the user's folder through its descriptor (helpers/world/userfile.py): root
    never writes through a link planted in it, nor in a folder it was handed."""
    with userfile.OutputDir(directory) as out, out.sub("pcaps") as pcap_dir:
        _save_into(out, pcap_dir, obs, targets, raw_before, raw_after, files, path, rule_run)


def _save_into(out, pcap_dir, obs: Observed, targets: list[Target], raw_before, raw_after, files, path: Path,
               rule_run: dict | None = None) -> None:
    pcaps = {}
    for n, (point, file) in enumerate(files.items()):
        name = f"{n:02d}-{point.namespace}-{point.interface}.pcap".replace("/", "_").replace(":", "_")
        pcap_dir.write(name, FsPath(file).read_bytes())
        pcaps[name] = [point.namespace, point.interface]
    meta = {
        "scenario": obs.scenario, "probe": obs.probe, "kind": obs.kind, "port": obs.port, "expect": obs.expect,
        "description": obs.description, "source": obs.source, "target": obs.target, "reached": obs.reached,
        "output": obs.output, "pcaps": pcaps,
        "targets": [{"name": t.name, "kind": t.kind, "path": t.path,
                     "container": asdict(t.container) if t.container else None} for t in targets],
        "proxies": {ns: [asdict(p) for p in ps] for ns, ps in obs.proxies.items()},
        "raw_before": raw_before, "raw_after": raw_after, "evidence": path.evidence,
    }
    if rule_run is not None:
        meta["nftrace"] = rule_run  # what each xtables-monitor printed: `rebuild` lays it on again
    out.write("run.json", json.dumps(meta, indent=1).encode())


def load(directory: str | os.PathLike) -> Observed:
    """The Observed of a saved run (no world needed)."""
    directory = FsPath(directory)
    meta = json.loads((directory / "run.json").read_text())
    targets = []
    for t in meta["targets"]:
        container = None
        if t["container"]:
            data = dict(t["container"])
            data["endpoints"] = [collect.Endpoint(**e) for e in data["endpoints"]]
            container = ContainerInfo(**data)
        targets.append(Target(t["name"], t["kind"], t["path"], container))
    before = _state(targets, meta["raw_before"])
    after = _state(targets, meta["raw_after"], base=before)
    frames = {tuple(where): read_pcap(directory / "pcaps" / name) for name, where in meta["pcaps"].items()}
    proxies = {ns: [Proxy(**p) for p in ps] for ns, ps in meta["proxies"].items()}
    return Observed(scenario=meta["scenario"], probe=meta["probe"], kind=meta["kind"], port=meta["port"],
                    expect=meta["expect"], description=meta["description"], source=meta["source"],
                    target=meta["target"], reached=meta["reached"], output=meta["output"], before=before,
                    after=after, frames=frames, proxies=proxies)


def rebuild(directory: str | os.PathLike) -> Path:
    """The Path of a saved run, rebuilt from its saved outputs and pcaps."""
    path = build_path(load(directory))
    meta = json.loads((FsPath(directory) / "run.json").read_text())
    if meta.get("nftrace") is not None:
        attach(path, meta["nftrace"])
    path.evidence.update(meta.get("evidence", {}))
    return path


__all__ = ["trace", "rebuild", "load", "capture_points", "NETNS_DIR"]
