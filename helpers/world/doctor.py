"""`dnlab doctor`: is this machine ready for the lab world? Each failed check names its fix."""
from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from helpers.errors import LabError, dnlab_command, env_world
from helpers.world.proc import PACKAGE_OF


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def verdict(self) -> str:
        if self.ok:
            return "ok"
        return "MISSING" if self.required else "optional"


TOOLS = ("ip", "nsenter", "dockerd", "containerd", "runc", "docker-proxy", "iptables",
         "iptables-save", "tcpdump", "conntrack", "bridge")
# Link types the chapters make, and those only an optional extra uses.
LINK_TYPES = {
    "bridge": ("type bridge", True),
    "veth": ("type veth peer name dnlab-v1", True),
    "macvlan": ("link dnlab-v1 type macvlan mode bridge", True),
    "vxlan": ("type vxlan id 42 dstport 4789 dev lo", True),
    "ipvlan": ("link dnlab-v1 type ipvlan mode l2", False),
    "dummy": ("type dummy", False),
    "vlan": ("link dnlab-v1 type vlan id 10", False),
}
# What will not work without each optional kernel feature (the "fix" column of its line).
WITHOUT = {
    "ipvlan": "without it: the ipvlan driver (`docker network create -d ipvlan`); the chapter skips it",
    "dummy": "without it: nothing; the lab uses veth pairs where a dummy device would do",
    "vlan": "without 802.1Q: macvlan trunk mode (`-o parent=eth0.10`: Docker cannot make the eth0.10 "
            "sub-interface, 'operation not supported'); plain macvlan works",
    "ipvs": "without IPVS: swarm services' routing mesh (`docker service create -p`: published ports do "
            "not answer, VIP load balancing is absent); standalone containers on an overlay work",
}
MODULES = Path("/lib/modules")
NAME_WIDTH = 32   # the check column of `table`: longer names wrap


# What an engine runs: a fetched engine's `bin/` holds its own (runc only where it runs), the machine's
# engine (`system`) the ones on PATH.
ENGINE_TOOLS = ("dockerd", "containerd", "runc", "docker-proxy")


def _tool(name: str, first: list[Path] | None = None) -> Check:
    """`name` in the folders `first` (a fetched engine's bin/), else on PATH."""
    path = next((str(folder / name) for folder in first or [] if os.access(folder / name, os.X_OK)), None)
    path = path or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    return Check(f"tool {name}", bool(path), path or "not found",
                 f"sudo apt-get install -y {PACKAGE_OF.get(name, name)}")


def _engine_tool(name: str, world_id: str | None) -> Check:
    """An engine's tool for every engine the world's next `up` runs ($DNLAB_ENGINE, else its record,
    else the machine's): a course image that carries only Docker 28 needs no dockerd on PATH."""
    from helpers.world import engines
    from helpers.world.naming import WorldNames, world_id_from_env

    names = WorldNames(world_id if world_id is not None else world_id_from_env())
    try:
        wanted = engines.parse_spec(os.environ.get(engines.ENGINE_ENV), world_id=world_id)
    except LabError:
        wanted = {}   # `up` says what is wrong with the variable; here, the machine's tools count
    checks = []
    for choice in sorted(set(engines.resolve(wanted, engines.read_record(names.state_dir)).values())):
        try:
            folder = engines.bin_dir(choice, fetch_missing=False)
        except LabError:
            folder = None   # not fetched: `up` fetches it; its tools are then the package's
        checks.append(_tool(name, [folder] if folder else []))
    missing = [c for c in checks if not c.ok]
    return missing[0] if missing else Check(f"tool {name}", True, ", ".join(sorted({c.detail for c in checks})),
                                            checks[0].fix)


def _busybox() -> Check:
    from helpers.errors import LabError
    from helpers.world import image

    try:
        binary = image.find_busybox()
        image.applets(binary)
        return Check("static busybox (lab image)", True, str(binary))
    except LabError as error:
        return Check("static busybox (lab image)", False, error.problem, image.FIX)


@contextmanager
def _throwaway_namespace():
    """A namespace of this process's own, deleted on exit: features are tried there, never on the host.
    Yields its name, or None when it cannot be made (not root)."""
    namespace = f"dnlab-doctor-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
    try:
        yield namespace if made.returncode == 0 else None
    finally:
        if made.returncode == 0:
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)


def _link_check(namespace: str, kind: str) -> Check:
    """Make one link of `kind` in `namespace` (macvlan, ipvlan and vlan go on top of the veth)."""
    spec, required = LINK_TYPES[kind]
    result = subprocess.run(["ip", "-n", namespace, "link", "add", f"dnlab-{kind}", *spec.split()],
                            capture_output=True, text=True)
    detail = "supported" if result.returncode == 0 else result.stderr.strip() or "not supported"
    fix = f"sudo modprobe {kind}" if required else WITHOUT[kind]
    label = "802.1Q VLAN" if kind == "vlan" else kind
    return Check(f"kernel: {label} links", result.returncode == 0, detail, fix, required)


def _kernel_checks() -> list[Check]:
    """Try each link type and a NAT rule inside a throwaway namespace (never on the real host)."""
    with _throwaway_namespace() as namespace:
        if namespace is None:
            return [Check("network namespaces", False, "ip netns add failed", dnlab_command("doctor", env_world()))]
        checks = [Check("network namespaces", True, "ip netns add works")]
        # veth first: macvlan, ipvlan and vlan are tried on top of it.
        checks += [_link_check(namespace, kind) for kind in sorted(LINK_TYPES, key=lambda k: k != "veth")]
        checks.append(ipvs_check(_ipvs_in(namespace), _modules_dep()))
        nat = subprocess.run(["nsenter", f"--net=/run/netns/{namespace}", "iptables", "-t", "nat", "-A",
                              "POSTROUTING", "-s", "10.99.0.0/16", "-j", "MASQUERADE"],
                             capture_output=True, text=True)
        checks.append(Check("kernel: netfilter NAT (MASQUERADE)", nat.returncode == 0,
                            "supported" if nat.returncode == 0 else nat.stderr.strip(),
                            "sudo modprobe iptable_nat nf_nat"))
    return checks


def optional_feature(kind: str) -> Check:
    """One optional kernel feature (a key of WITHOUT: "ipvs", "vlan", "ipvlan", "dummy"), tried now in
    a throwaway namespace (about 50 ms): what a chapter asks before the extra that needs it."""
    if kind not in WITHOUT:
        raise ValueError(f"unknown optional feature {kind!r}: one of {', '.join(WITHOUT)}")
    with _throwaway_namespace() as namespace:
        if namespace is None:
            return Check(kind, False, "not tried: making a namespace needs root",
                         dnlab_command("doctor", env_world()), False)
        if kind == "ipvs":
            return ipvs_check(_ipvs_in(namespace), _modules_dep())
        _link_check(namespace, "veth")
        return _link_check(namespace, kind)


def feature_line(kind: str) -> str:
    """The one line a chapter prints about an optional kernel feature: here or absent, and what
    will not work without it."""
    check = optional_feature(kind)
    name = check.name.removeprefix("kernel: ")
    if check.ok:
        return f"{name}: present on this kernel ({check.detail})"
    return f"{name}: absent on this kernel ({check.detail}); {check.fix}"


def _ipvs_in(namespace: str) -> bool:
    """IPVS is in the running kernel (built in or loaded): each namespace then has /proc/net/ip_vs."""
    shown = subprocess.run(["nsenter", f"--net=/run/netns/{namespace}", "sh", "-c", "test -e /proc/net/ip_vs"],
                           capture_output=True)
    return shown.returncode == 0


def _modules_dep() -> str | None:
    """modules.dep of the running kernel (None when the machine has no modules: all built in, or none)."""
    try:
        return (MODULES / os.uname().release / "modules.dep").read_text()
    except OSError:
        return None


def ipvs_check(present: bool, modules_dep: str | None) -> Check:
    """IPVS, which dockerd asks for on its own (generic netlink) when a swarm service is made: present,
    loadable (the kernel loads ip_vs on that first request), or missing."""
    name = "kernel: IPVS (swarm routing mesh)"
    if present:
        return Check(name, True, "supported (/proc/net/ip_vs)", required=False)
    if modules_dep and any(line.split(":", 1)[0].endswith(("/ip_vs.ko", "/ip_vs.ko.xz", "/ip_vs.ko.zst"))
                           for line in modules_dep.splitlines()):
        return Check(name, True, "module ip_vs available (loaded on first use)", required=False)
    where = "no /proc/net/ip_vs and no ip_vs module" if modules_dep is not None else \
        "no /proc/net/ip_vs, and this kernel has no modules"
    return Check(name, False, where, WITHOUT["ipvs"], required=False)


def _root_addresses() -> list[dict]:
    """`ip -j addr` of the machine's own namespace (read only: the lab never touches it)."""
    import json

    shown = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True)
    return json.loads(shown.stdout or "[]") if shown.returncode == 0 else []


def _root_nameservers() -> list[str]:
    """The machine's resolvers: resolv.conf, and systemd-resolved's upstreams when it runs."""
    from helpers.world.dns import RESOLV_CONF
    from helpers.world.guard import nameservers

    found: list[str] = []
    for path in RESOLV_CONF:
        with suppress(OSError):
            found += nameservers(path.read_text())
    return list(dict.fromkeys(found))


def plan_overlap(links: list[dict], resolvers: list[str]) -> Check:
    """Does the machine's own network (its addresses, its DNS servers) use the lab plan's ranges?
    Nothing collides (no lab link reaches this namespace), but inside the lab such an address is a
    lab machine's, and a guard or lesson must never assume "documentation ranges are never real"."""
    import ipaddress

    from helpers.world.naming import INTERNET, LAN

    plan = {"the lab LAN": LAN, "the lab internet": INTERNET}
    found = []
    for link in links:
        for info in link.get("addr_info", []):
            interface = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")
            found += [f"{link['ifname']} {interface} overlaps {what} {net}" for what, net in plan.items()
                      if interface.version == 4 and interface.network.overlaps(net)]
    for server in resolvers:
        with suppress(ValueError):
            found += [f"DNS server {server} is in {what} {net}" for what, net in plan.items()
                      if ipaddress.ip_address(server) in net]
    name = "machine's addresses and DNS vs the lab plan"
    if not found:
        return Check(name, True, f"no overlap with {LAN} or {INTERNET}", required=False)
    return Check(name, False, "; ".join(found),
                 "nothing to fix (the lab never links to this machine's network), but from a lab shell those "
                 "addresses are the lab's: reach the real ones from the machine itself", required=False)


def missing_capabilities() -> str:
    """Capabilities this machine withholds from every process (absent from the bounding set), named
    by `capsh --decode` when it is installed: a privileged container asks for all of them."""
    lines = Path("/proc/self/status").read_text().splitlines()
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    bounding = int(status.get("CapBnd", "0"), 16)
    missing = sum(1 << bit for bit in range(last + 1) if not bounding >> bit & 1)
    if not missing:
        return ""
    capsh = shutil.which("capsh") or shutil.which("capsh", path="/usr/sbin:/sbin")
    if capsh:
        decoded = subprocess.run([capsh, f"--decode={missing:x}"], capture_output=True, text=True).stdout
        return decoded.strip().partition("=")[2] or f"mask {missing:#x}"
    return f"mask {missing:#x}"


def _exec_privileged(client, labels: dict[str, str]) -> tuple[int, str]:
    """Run `true` through `docker exec --privileged` in a throwaway container of the lab image."""
    from helpers.world.naming import IMAGE

    container = client.containers.run(IMAGE, ["sleep", "60"], detach=True, labels=labels)
    try:
        code, output = container.exec_run(["true"], privileged=True)
        return code, output.decode(errors="replace").strip()
    finally:
        container.remove(force=True)


def _privileged_exec_check(world_id: str | None) -> Check:
    """Does `docker exec --privileged` work here? Tried for real: on the world's host1 engine when it
    runs, else on a scratch engine (about a second). Some machines (containers, sandboxes) withhold
    capabilities, and runc then fails with "unable to apply caps"; the labs never need it."""
    from helpers.errors import LabError
    from helpers.world import engine, image, manager
    from helpers.world.naming import WorldNames

    names = WorldNames(world_id)
    name = "docker exec --privileged"
    fix = (f"not needed: run tools from the lab machine's shell (`{dnlab_command('shell host1', world_id)}`) or "
           "`nsenter -t <container pid> -n` instead")
    try:
        if engine.ping(names.host("host1"), timeout=1):
            client, where = engine.client(names.host("host1")), f"{names.prefix}'s host1 engine"
            code, output = _exec_privileged(client, dict(names.label))
        else:
            with manager.scratch_engine(world_id) as scratch:
                image.load_into(scratch.client)
                where = "a scratch engine"
                code, output = _exec_privileged(scratch.client, dict(names.label))
    except (LabError, OSError, RuntimeError) as error:  # no engine could be started: say so, untried
        again = dnlab_command("doctor", world_id)
        return Check(name, False, f"not tried: {error}", f"run `{again}` again once the checks above pass",
                     required=False)
    except Exception as error:  # docker.errors.* : the engine refused the container itself
        return Check(name, False, f"not tried on {where}: {error}"[:200], fix, required=False)
    if code == 0:
        return Check(name, True, f"works on {where}", required=False)
    # runc's message ends with the reason ("... container process: unable to apply caps: ...").
    reason = (output.splitlines() or [f"exit status {code}"])[-1].split("container process: ")[-1]
    reason = reason.removesuffix(": unknown")
    missing = missing_capabilities()
    lacks = f"; this machine withholds {missing}" if missing else ""
    return Check(name, False, f"{reason} (on {where}{lacks})", fix, required=False)


def _kernel_trace_check() -> Check:
    """Optional: can one probe be traced through the kernel's functions (pwru, BTF, kprobes)?"""
    from helpers.world import pwru

    found = pwru.availability()
    return Check(pwru.NAME, found.ok, found.detail, found.fix, required=False)


def run_checks(world_id: str | None = None) -> list[Check]:
    """Every check; `world_id` (default: $DNLAB_WORLD) picks the engine the privileged exec is tried on."""
    from helpers.world.naming import world_id_from_env

    root = os.geteuid() == 0
    checks = [Check("root", root, "running as root" if root else f"running as uid {os.geteuid()}",
                    dnlab_command("doctor", world_id if world_id is not None else env_world()))]
    checks += [_engine_tool(name, world_id) if name in ENGINE_TOOLS else _tool(name) for name in TOOLS]
    checks.append(_busybox())
    cli = shutil.which("docker")
    checks.append(Check("docker CLI (for `docker --context dnlab-host1`)", bool(cli), cli or "not found",
                        "sudo apt-get install -y docker.io", required=False))
    if shutil.which("ip"):
        checks.append(plan_overlap(_root_addresses(), _root_nameservers()))
    if root and shutil.which("ip"):
        checks += _kernel_checks()
    checks.append(_kernel_trace_check())
    if root and ready(checks):
        checks.append(_privileged_exec_check(world_id if world_id is not None else world_id_from_env()))
    return checks


# Statements of the chapters (and labs) that hold on some engines only live in one table,
# helpers/world/engine_facts.py: doctor prints, per fact, what holds on this machine's engine.


def _first_line(argv: list[str]) -> str:
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (run.stdout or run.stderr).strip().splitlines()[0] if (run.stdout or run.stderr).strip() else ""


def engine_versions() -> dict[str, str]:
    """The distribution, and the versions of the dockerd and docker CLI binaries this machine has
    (`dockerd --version`, `docker --version`: the lab engines are this dockerd)."""
    import platform

    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        distro = ""
    return {"distribution": distro or "unknown",
            "dockerd": _first_line(["dockerd", "--version"]) if shutil.which("dockerd") else "not installed",
            "docker CLI": _first_line(["docker", "--version"]) if shutil.which("docker") else "not installed"}


def engine_major(version_line: str) -> int | None:
    """20 from "Docker version 20.10.24+dfsg1, build 297e128", None if there is no version."""
    import re

    found = re.search(r"version (\d+)\.", version_line)
    return int(found.group(1)) if found else None


def engine_version(version_line: str) -> str | None:
    """The "20.10.24" of "Docker version 20.10.24+dfsg1, build 297e128", None if there is no version."""
    import re

    found = re.search(r"version (\d+\.\d+(?:\.\d+)?)", version_line)
    return found.group(1) if found else None


def version_notes(version: str | None) -> list[str]:
    """One line per engine-dependent fact of the course (helpers/world/engine_facts.py): where the
    course states it and what holds on an engine of `version`."""
    from helpers.world.engine_facts import engine_notes

    return engine_notes(version)


def world_engines(world_id: str | None = None) -> dict[str, dict[str, str | None]]:
    """host -> {"engine": the world's recorded choice, "version": the engine's own answer (API
    `GET /version`; None if it does not run)} of the world `world_id` (else $DNLAB_WORLD's); {} when
    no engine of it answers."""
    from helpers.world import engine, engines
    from helpers.world.naming import HOSTS, WorldNames, world_id_from_env

    names = WorldNames(world_id if world_id is not None else world_id_from_env())
    chosen = engines.resolve({}, engines.read_record(names.state_dir))
    found = {h: {"engine": chosen[h], "version": engine.server_version(names.host(h))} for h in HOSTS}
    return found if any(row["version"] for row in found.values()) else {}


def available_engines() -> list[str]:
    """One line per engine a world's host can run (`dnlab up --engine`), fetched or not."""
    from helpers.world import engines

    lines = []
    for key, found in engines.available().items():
        if key == engines.SYSTEM:
            lines.append(f"{key}: this machine's dockerd")
        elif found:
            lines.append(f"{key}: Docker {found['dockerd']} fetched (docker.io {found['packages'].get('docker.io')}, "
                         f"runc: {found['runc'].split(' (')[0]})")
        else:
            lines.append(f"{key}: not fetched; fetch it once: {engines.fetch_command(key)}")
    return lines


def engine_report(world_id: str | None = None) -> str:
    """The engine section of `dnlab doctor`: the machine's versions, the engines a world can run, each
    host's engine in the running world, and per engine version the statements that depend on it."""
    versions = engine_versions()
    head = [f"{name}: {value}" for name, value in versions.items()]
    version = engine_version(versions["dockerd"])
    hosts = world_engines(world_id)
    running = [f"  {h}: Docker {row['version'] or '(not running)'} (engine {row['engine']})"
               for h, row in hosts.items()]
    lines = ["Engine", *head, "", "Engines a host can run (dnlab up --engine SPEC):",
             *(f"  {line}" for line in available_engines())]
    if running:
        lines += ["", "This world's engines:", *running]
    shown = [version] + sorted({engine_version(f"version {row['version']}") for row in hosts.values()
                                if row["version"]} - {version, None})
    for each in shown:
        which = "this machine's" if each == version else "a host's"
        title = (f"Statements that differ between engines ({which} is Docker {each}; each chapter asserts "
                 "what holds on the engine it runs on; the table: helpers/world/engine_facts.py):")
        lines += ["", title, *(f"  {line}" for line in version_notes(each))]
    return "\n".join(lines)


def ready(checks: list[Check]) -> bool:
    return all(check.ok for check in checks if check.required)


def _wrapped(text: str, width: int, indent: str = "") -> list[str]:
    """`text` in lines of at most `width` characters, broken between words only (a path or a command
    longer than the column stays whole on its own line)."""
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def table(checks: list[Check], width: int = 100) -> str:
    """The checks as a text table `width` characters wide (JupyterLab's output at its default width,
    a terminal): the check, its result, and its detail with, under a failure, its fix. Long cells wrap
    between words onto further lines of their row; nothing is cut."""
    name_w = min(NAME_WIDTH, max(len(c.name) for c in checks)) if checks else len("check")
    result_w = max(len("optional"), len("MISSING"))
    detail_w = max(30, width - name_w - result_w - 4)
    lines = [f"{'check'.ljust(name_w)}  {'result'.ljust(result_w)}  detail",
             f"{'-' * name_w}  {'-' * result_w}  {'-' * detail_w}"]
    for c in checks:
        details = _wrapped(c.detail, detail_w)
        if not c.ok and c.fix:
            details += _wrapped(f"fix: {c.fix}", detail_w, indent="     ")
        names = _wrapped(c.name, name_w, indent="  ")
        for n in range(max(len(names), len(details))):
            name = names[n] if n < len(names) else ""
            result = c.verdict if n == 0 else ""
            detail = details[n] if n < len(details) else ""
            lines.append(f"{name.ljust(name_w)}  {result.ljust(result_w)}  {detail}".rstrip())
    return "\n".join(lines)
