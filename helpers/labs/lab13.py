"""Lab 13: Troubleshooting: small packets pass, large ones vanish.

Troubleshooting: across an overlay, small packets pass and large ones vanish. The check, the broken
start, the staged hints, the reference solution and why it broke, all in this module (listed in
helpers/labs/registry.py).
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from helpers.errors import LabError, dnlab_command
from helpers.labs import state
from helpers.labs.common import at_once, need_attached, need_reach, reach, wait_for_name
from helpers.labs.model import Checks, Lab
from helpers.labs.trouble import (
    TOOLS,
    container_or_start,
    fix_later,
    fresh_start,
    last_line,
    make_network,
    name_the_cause,
    run_box,
    shell,
    stage_of,
    staged,
    start_hint,
    start_task,
)
from helpers.language import translate
from helpers.lessons import facts
from helpers.world import engine_facts, swarm
from helpers.world import mtu as link_mtu
from helpers.world.guard import probe
from helpers.world.manager import command_for
from helpers.world.mtu import OVERLAY_DEFAULT_UNDERLAY_MTU, VXLAN_OVERHEAD
from helpers.world.naming import IMAGE
from helpers.world.swarm import OVERLAY_MTU_OPTION

# Lab 13's "cloud": what the LAN between host1 and host2 carries while the hosts' NICs still say
# 1500 (a common cloud/OpenStack tenant-network size), and where the lab records the MTUs it found.
LAB13_PATH_MTU = 1450
LAB13_MTU_RECORD = "lab13-underlay-mtu.json"   # in the world's state dir (tmpfs, gone with the world)

# What the first check reports while the fault is in place: what the learner sees, never the cause.
SYMPTOM = "lab13-b reaches lab13-a with full-size packets (1450 bytes)"
# Words that name the cause: no text the learner meets before the fix may contain them.
CAUSE_WORDS = ["mtu", "fragment", "underlay", "vxlan", "1500 bytes"]


def _record_path(world) -> Path:
    return world.names.state_dir / LAB13_MTU_RECORD


def path_mtu(world) -> int:
    """What the LAN between host1 and host2 carries: the smallest MTU of the router's ports on the way."""
    return min(link_mtu.read(world, link_mtu.PATH_ONLY).values())


def break_mtu(world) -> None:
    """lab13-a (host1) and lab13-b (host2) on an overlay made as everyone makes one (no options), in a
    "cloud" whose network between the hosts carries LAB13_PATH_MTU bytes while the hosts' eth0 say
    1500. The MTUs found are recorded first, and put back if anything here fails."""
    fresh_start(world, 13)
    record = _record_path(world)
    record.write_text(json.dumps(link_mtu.read(world, link_mtu.UNDERLAY)))
    try:
        # The swarm and the overlay first, the cloud's smaller path last: on a path that drops full-size
        # frames the hosts' own TCP (swarm join over TLS, large gossip syncs) stalls too, which would
        # make the start slow and flaky rather than teach anything.
        swarm.ensure(world)
        make_network(world, "host1", "lab13-overlay", driver="overlay", attachable=True)
        run_box(world, "host1", "lab13-a", network="lab13-overlay")
        b = run_box(world, "host2", "lab13-b", network="lab13-overlay")
        if not wait_for_name(world, b, "lab13-a"):
            raise LabError(translate("labs:lab13:gossip-failed", "the swarm's gossip did not carry lab13-a's name "
                                     "to host2, so the lab cannot start (what each engine knew: {diagnosis})",
                                     diagnosis=swarm.last_diagnosis(world)),
                           f"{command_for(world.names, 'down')} && {command_for(world.names, 'up')}")
        link_mtu.lower(world, link_mtu.PATH_ONLY, LAB13_PATH_MTU)
    except BaseException:
        restore_underlay(world)
        raise


def restore_underlay(world) -> list[str]:
    """Put every link lab 13 may have changed back to the MTU recorded at its start; without a record
    (a world made again, a record lost), to the MTU of the LAN port no lab touches (the router's
    p-lanpc), so nothing in the world stays smaller than the LAN it was made with."""
    record = _record_path(world)
    try:
        before = {key: int(value) for key, value in json.loads(record.read_text()).items()}
    except (FileNotFoundError, ValueError):
        reference = facts.mtu(world, "router", "p-lanpc")
        before = {key: reference for key in link_mtu.read(world, link_mtu.UNDERLAY)}
    now = link_mtu.read(world, link_mtu.UNDERLAY)
    done = link_mtu.restore(world, {key: before.get(key, mtu) for key, mtu in now.items()})
    record.unlink(missing_ok=True)
    return done


def _overlay_interface(world, container, network: str):
    """The container's interface that carries its address on `network` (an observe Interface), or None."""
    address = state.address_on(container, network)
    return next((iface for iface in facts.state(world, container, "links").interfaces
                 if address and any(a.address == address for a in iface.addresses)), None)


def overlay_mtu(network) -> int:
    """The MTU Docker's overlay driver gives the network's containers: the underlay MTU it is told
    (`-o com.docker.network.driver.mtu=N`, else a fixed 1500; it never reads the real underlay)
    minus the 50 bytes of VXLAN headers."""
    option = (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    return int(option or OVERLAY_DEFAULT_UNDERLAY_MTU) - VXLAN_OVERHEAD


def _ends_mtu(ends: dict) -> dict[str, int | None]:
    """Each end's MTU on lab13-overlay, from its interface as `ip -j link` in the container read it
    (`_overlay_interface`, by container name)."""
    return {name: (iface.mtu if iface else None) for name, iface in ends.items()}


def _mtu_hint(world, network, ends: dict[str, int | None], stage: int) -> str:
    """The hint for the lost full-size ping: a learner's half-fix as observed (one end set by hand,
    an mtu option the path does not carry), else the next step of the staged hints."""
    full, option = overlay_mtu(network), (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    if len(set(ends.values())) > 1:
        seen = ", ".join(translate("labs:lab13:end-seen", "{name}'s eth0 mtu {mtu}", name=name, mtu=mtu)
                         for name, mtu in ends.items())
        return translate("labs:lab13:ends-differ", "the two ends differ ({seen}): a packet fits on the way out from "
                         "one end, and the answer from the other end is as large as before. What gives both ends "
                         "their size?", seen=seen)
    measure = shell(world, "host1", "docker exec lab13-a ping -c 1 -W 1 -s SIZE HOST2-ADDRESS")
    if option:
        return translate("labs:lab13:option-set", "lab13-overlay was made with `-o {name}={option}`: its containers "
                         "get {full} and send VXLAN packets of up to {packet} bytes; measure what the LAN between the "
                         "hosts carries: {measure}", name=OVERLAY_MTU_OPTION, option=option, full=full,
                         packet=full + VXLAN_OVERHEAD, measure=measure)
    return staged(stage, [
        translate("labs:lab13:hint1", "small packets pass and large ones vanish, with no error: somewhere on the way "
                  "a packet of that size does not fit, and nobody tells the sender. Which interfaces and machines "
                  "does it cross?"),
        translate("labs:lab13:hint2", "watch where the large ping goes: {tcpdump} and the same on host1, while you "
                  "ping; compare {inside} with {outside}",
                  tcpdump=shell(world, "host2", "tcpdump -ni eth0 udp port 4789"),
                  inside=shell(world, "host2", "docker exec lab13-b ip link show eth0"),
                  outside=shell(world, "host2", "ip link show eth0")),
        translate("labs:lab13:hint3", "the overlay wraps each frame in 50 bytes of VXLAN: a {full}-byte frame leaves "
                  "host2 as a {packet}-byte packet. Find the largest packet the LAN between the hosts carries "
                  "({measure}, packet = SIZE + 28), then read Docker's overlay driver options (`docker network "
                  "create --help`, Docker docs: \"Overlay network driver\")", full=full, packet=full + VXLAN_OVERHEAD,
                  measure=measure)])


def check_mtu(world, c: Checks) -> None:
    stage = stage_of(world, 13)
    a = container_or_start(world, c, "host1", "lab13-a", 13)
    b = container_or_start(world, c, "host2", "lab13-b", 13)
    network = state.network(world.host1.docker, "lab13-overlay")
    small = translate("labs:lab13:small", "lab13-b reaches lab13-a (small packets)")
    if not (a and b and network):
        if a and b:
            c.expect(translate("labs:lab13:network-exists", "network lab13-overlay exists"), False,
                     translate("labs:lab13:no-network", "host1's engine has no network lab13-overlay"),
                     start_hint(world, 13))
        return c.pending(small, translate("labs:lab13:full-size-pending", "lab13-b reaches lab13-a with full-size "
                                          "packets"), fix_later())
    for container in (a, b):
        need_attached(c, container, "lab13-overlay", start_hint(world, 13))
    if not c.all_ok:
        return c.pending(small, translate("labs:lab13:full-size-pending", "lab13-b reaches lab13-a with full-size "
                                          "packets"), fix_later())
    full = overlay_mtu(network)
    full_size = translate("labs:lab13:full-size", "lab13-b reaches lab13-a with full-size packets ({size} bytes)",
                          size=full)
    # The small ping, the full-size one and the look at both ends' interfaces are independent: made at
    # once (the full-size ping waits its whole timeout while the fault is there). The full-size result
    # counts only once the small one passed; the ends are read once, for the hint and for their items.
    # The proof a learner would give: a packet of the overlay's full MTU gets there and back. A lost one
    # is lost for good (no server to retry), and an answer takes well under a millisecond here: 1 s.
    reached, big, *found = at_once(partial(reach, world, b, "lab13-a"),
                                   partial(probe, world, b, "lab13-a", size=full - 28, timeout=1),
                                   *(partial(_overlay_interface, world, end, "lab13-overlay") for end in (a, b)))
    ends = {end.name: iface for end, iface in zip((a, b), found, strict=True)}
    if not need_reach(world, c, small, b, "lab13-a",
                      hint=translate("labs:lab13:small-hint", "the lab's setup no longer works even for small "
                                     "packets: start it again"), result=reached):
        return c.pending(full_size, fix_later())
    c.expect(full_size, big.ok,
             translate("labs:lab13:big-lost", "a {size}-byte ping (payload {payload}) from lab13-b gets no answer, "
                       "though small ones do", size=full, payload=full - 28),
             "" if big.ok else _mtu_hint(world, network, _ends_mtu(ends), stage), evidence=last_line(big))
    if not big.ok:
        return c.pending(fix_later())
    path = _check_cloud(world, c)
    option = (network.attrs.get("Options") or {}).get(OVERLAY_MTU_OPTION)
    c.expect(translate("labs:lab13:whole", "lab13-overlay's full-size packets cross the LAN whole ({full} + "
                       "{overhead} ≤ {path})", full=full, overhead=VXLAN_OVERHEAD, path=path),
             full + VXLAN_OVERHEAD <= path,
             translate("labs:lab13:fragmented", "lab13-overlay gives its containers {full}, so their full-size frames "
                       "leave as {packet}-byte VXLAN packets; the LAN between the hosts carries {path}: the ping "
                       "passed only because something on the way cut it into fragments", full=full,
                       packet=full + VXLAN_OVERHEAD, path=path),
             translate("labs:lab13:tell-docker", "tell Docker the size of the path: the overlay's `-o {name}=...` (it "
                       "never reads the underlay itself); the containers on it get that minus 50",
                       name=OVERLAY_MTU_OPTION),
             evidence=translate("labs:lab13:option-evidence", "{name}={option}, containers {full}, LAN {path}",
                                name=OVERLAY_MTU_OPTION,
                                option=option or translate("labs:lab13:unset", "unset (1500)"), full=full, path=path))
    for container in (a, b):
        _check_end_mtu(world, c, container, full, ends[container.name])
    name_the_cause(c, translate("labs:lab13:cause", "the LAN between host1 and host2 carries only {path} bytes while "
                                "their eth0 say {eth0}; Docker's overlay gave its containers 1500 − 50 = 1450 (it "
                                "never reads the underlay), so a full-size frame left host2 as a 1500-byte VXLAN "
                                "packet that the cloud's network dropped without a word: no ICMP \"fragmentation "
                                "needed\" reached lab13-b (a path-MTU black hole). Now lab13-overlay says "
                                "{name}={option}, its containers get {full}", path=path,
                                eth0=facts.mtu(world, "host1"), name=OVERLAY_MTU_OPTION, option=option, full=full))


def _router_ports_evidence(ports: dict[str, int], made: dict[str, int]) -> str:
    """The router ports' MTUs now (`ports`, as read), and those the lab made (when recorded): what the
    cloud check saw."""
    now = ", ".join(f"{k} mtu {v}" for k, v in ports.items())
    before = ", ".join(f"{k} {v}" for k, v in made.items() if k.startswith("router"))
    return translate("labs:lab13:router-ports", "router ports {now}", now=now) + (
        translate("labs:lab13:before-lab", " (before the lab: {before})", before=before) if made else "")


def _check_cloud(world, c: Checks) -> int:
    """The cloud's network is the provider's: the lab's fix is Docker's side. Returns the path MTU."""
    ports = link_mtu.read(world, link_mtu.PATH_ONLY)   # read once: the path's MTU, what changed, the evidence
    path = min(ports.values())                           # as path_mtu(world) reads it
    try:
        made = {key: int(value) for key, value in json.loads(_record_path(world).read_text()).items()}
    except (FileNotFoundError, ValueError):
        made = {}
    changed = {key: mtu for key, mtu in ports.items() if mtu != LAB13_PATH_MTU}
    c.expect(translate("labs:lab13:cloud",
                       "the LAN between the hosts (the cloud's network) is as the provider runs it"),
             not changed,
             translate("labs:lab13:cloud-changed", "the router's ports were changed ({changed}): in a real cloud you "
                       "cannot change the provider's network, so this fix does not exist there",
                       changed=", ".join(f"{k} mtu {v}" for k, v in changed.items())),
             translate("labs:lab13:cloud-hint", "put the router's ports back (`{command}` makes the lab again) and "
                       "make Docker fit the network instead",
                       command=dnlab_command("lab start 13", world.names.world_id)),
             evidence=_router_ports_evidence(ports, made))
    return path


def _check_end_mtu(world, c: Checks, container, full: int, found) -> None:
    """Each end's interface has the MTU the network gives it (what it gets again at a restart);
    `found`: its interface on lab13-overlay as read during the check (`_overlay_interface`)."""
    if found is None:
        c.expect(translate("labs:lab13:end-mtu-pending", "{name}'s interface has the overlay's MTU",
                           name=container.name), False,
                 translate("labs:lab13:interface-gone", "its overlay interface is gone"), start_hint(world, 13))
        return
    mtu, ifname = found.mtu, found.name
    if mtu < full:
        problem = translate("labs:lab13:end-smaller", "{name}'s {ifname} has MTU {mtu}, lab13-overlay gives its "
                            "containers {full}: the full-size ping passed only because each sender cut its packets "
                            "into fragments of {mtu}", name=container.name, ifname=ifname, mtu=mtu, full=full)
    else:
        problem = translate("labs:lab13:end-larger", "{name}'s {ifname} has MTU {mtu}, more than lab13-overlay "
                            "carries ({full}): what it sends above {full} bytes is dropped at the overlay's VXLAN "
                            "port", name=container.name, ifname=ifname, mtu=mtu, full=full)
    c.expect(translate("labs:lab13:end-mtu", "{name}'s {ifname} has the MTU lab13-overlay gives its containers "
                       "({full})", name=container.name, ifname=ifname, full=full), mtu == full,
             problem, translate("labs:lab13:by-hand", "an MTU set by hand inside a running container is replaced when "
                                "it restarts: the network must give both ends the right size"),
             evidence=f"{ifname} mtu {mtu}")


def repair_mtu(world) -> list[str]:
    """The underlay's MTUs as recorded at the lab's start, then leave the swarm if nothing uses it."""
    return restore_underlay(world) + swarm.leave_if_unused(world)


def solution(world):
    r"""sudo .venv/bin/dnlab shell host2 -- docker exec lab13-b ping -c 1 -W 1 -s 1422 lab13-a   # no answer
    sudo .venv/bin/dnlab shell host2 -- docker exec lab13-b ping -c 1 -W 1 lab13-a             # small: fine
    sudo .venv/bin/dnlab shell host2 -- tcpdump -ni eth0 udp port 4789
        # meanwhile: leaves host2 (and on host1: never arrives)
    sudo .venv/bin/dnlab shell host2 -- docker exec lab13-b ip link show eth0
        # mtu 1450 (1500 - 50, the driver's default)
    sudo .venv/bin/dnlab shell host2 -- ip link show eth0                       # mtu 1500: what the NIC says
    sudo .venv/bin/dnlab shell host1 -- docker exec lab13-a ping -c 1 -W 1 -s 1422 <host2>   # 1450 bytes cross the LAN
    sudo .venv/bin/dnlab shell host1 -- docker exec lab13-a ping -c 1 -W 1 -s 1423 <host2>   # 1451 do not
    sudo .venv/bin/dnlab shell host1 -- docker rm -f lab13-a
    sudo .venv/bin/dnlab shell host2 -- docker rm -f lab13-b
    sudo .venv/bin/dnlab shell host1 -- docker network rm lab13-overlay
    sudo .venv/bin/dnlab shell host1 -- docker network create -d overlay --attachable \
        -o com.docker.network.driver.mtu=1450 lab13-overlay
    sudo .venv/bin/dnlab shell host1 -- docker run -d --name lab13-a --network lab13-overlay \
        dnlab/box:latest sleep 1000000
    sudo .venv/bin/dnlab shell host2 -- docker run -d --name lab13-b --network lab13-overlay \
        dnlab/box:latest sleep 1000000
    sudo .venv/bin/dnlab shell host2 -- docker exec lab13-b ping -c 1 lab13-a
        # "bad address" for a moment: the name travels by gossip
    """
    # %% The symptom: a ping as large as the containers' MTU (1450 = 1422 + 28 bytes of IP and ICMP headers)
    # %%+ gets no answer; a small one passes.
    print(facts.sh(world, "host2", "docker exec lab13-b ping -c 1 -W 1 -s 1422 lab13-a", check=False))
    facts.sh(world, "host2", "docker exec lab13-b ping -c 1 -W 1 lab13-a")
    # %% Where does it vanish? Captured at once on host2's eth0, on host1's eth0 and in lab13-b: the ping
    # %%+ leaves host2 wrapped in VXLAN (UDP 4789), 50 bytes larger than the frame inside, and never arrives
    # %%+ at host1.
    # %%+ Nothing comes back to lab13-b either: no ICMP "fragmentation needed" (type 3), so it never learns to
    # %%+ send smaller packets.
    b = world.host2.docker.containers.get("lab13-b")
    _, (sent, arrived, inside) = facts.capture(
        world, [("host2", "eth0"), ("host1", "eth0"), (b, "eth0")],
        lambda: facts.sh(world, "host2", "docker exec lab13-b ping -c 1 -W 1 -s 1422 lab13-a", check=False),
        keep=lambda frame: frame.innermost.proto == "icmp")
    for where, frames in (("host2 eth0 (leaves)", sent), ("host1 eth0 (arrives)", arrived), ("lab13-b eth0", inside)):
        print(where, *[f.summary() for f in frames] or ["nothing"], sep="\n  ")
    # %% How large is what leaves host2? `tcpdump -v` prints each IP header's total length: the outer VXLAN
    # %%+ packet is 1500 bytes, the container's packet inside it 1450.
    facts.sh(world, "host2", "timeout 5 tcpdump -ni eth0 -c 1 -v udp port 4789 2>/dev/null & sleep 1; "
                             "docker exec lab13-b ping -c 1 -W 1 -s 1422 lab13-a >/dev/null; wait", check=False)
    # %% The sizes each side believes in: the containers got 1450 from the overlay (`docker network inspect`
    # %%+ shows no mtu option: this engine's driver uses a fixed 1500 − 50), and the hosts' NICs say 1500.
    # %%+ Neither says anything about the network between the hosts.
    print(facts.sh(world, "host2", "docker exec lab13-b ip link show eth0"))
    print(facts.sh(world, "host2", "ip link show eth0"))
    facts.sh(world, "host1", "docker version -f 'Docker {{.Server.Version}}'; "
                             "docker network inspect -f '{{json .Options}}' lab13-overlay")
    # %% Measure the network between the hosts: lab13-a also reaches host2's own address (through host1, as
    # %%+ any container reaches the LAN). 1450 bytes cross, 1451 do not: the cloud carries 1450, 50 less than
    # %%+ the NICs say.
    host2 = facts.address(world, "host2")
    print(facts.sh(world, "host1", f"docker exec lab13-a ping -c 1 -W 1 -s 1422 {host2}"))
    facts.sh(world, "host1", f"docker exec lab13-a ping -c 1 -W 1 -s 1423 {host2}", check=False)
    # %% The fix on Docker's side: make the overlay again, telling the driver the size of the underlay. An
    # %%+ option of a network is set when it is made, so the containers go first and come back on the new
    # %%+ network. `docker network rm` of a swarm's network returns before host1 has let go of it: wait until
    # %%+ host1 no longer finds it, or making it again at once can fail with "already exists".
    labels = " ".join(f"--label {key}={value}" for key, value in world.label.items())
    print(facts.sh(world, "host1", "docker rm -f lab13-a"))
    print(facts.sh(world, "host2", "docker rm -f lab13-b"))
    print(facts.sh(world, "host1", "docker network rm lab13-overlay"))
    facts.sh(world, "host1", "for i in $(seq 50); do docker network inspect lab13-overlay >/dev/null 2>&1 || break; "
                             "sleep 0.2; done; ! docker network inspect lab13-overlay >/dev/null 2>&1")
    print(facts.sh(world, "host1", f"docker network create -d overlay --attachable {labels} "
                                   "-o com.docker.network.driver.mtu=1450 lab13-overlay"))
    print(facts.sh(world, "host1", f"docker run -d --name lab13-a --network lab13-overlay {labels} "
                                   f"{IMAGE} sleep 1000000"))
    facts.sh(world, "host2", f"docker run -d --name lab13-b --network lab13-overlay {labels} {IMAGE} sleep 1000000")
    # %% host2's engine learns the name of the new lab13-a from the swarm's gossip, a moment after `docker
    # %%+ run` returns (until then: `bad address`): try until it answers.
    facts.sh(world, "host2", "for i in $(seq 30); do "
                             "docker exec lab13-b ping -c 1 -W 1 lab13-a >/dev/null 2>&1 && break; "
                             "sleep 0.5; done; docker exec lab13-b ping -c 1 -W 1 lab13-a")
    # %% The containers now get 1450 − 50 = 1400: a full-size frame leaves as a 1450-byte VXLAN packet, which
    # %%+ the cloud carries. A 1400-byte ping passes, and so does the 1450-byte one of the symptom (lab13-b
    # %%+ now sends it in two fragments of its own).
    print(facts.sh(world, "host2", "docker exec lab13-b ip link show eth0"))
    print(facts.sh(world, "host2", "docker exec lab13-b ping -c 1 -W 1 -s 1372 lab13-a"))
    facts.sh(world, "host2", "docker exec lab13-b ping -c 1 -W 1 -s 1422 lab13-a")


# Why the fault happens, where a real one comes from, and the evidence that finds it (the solution
# notebook shows it after the fix: the learner's notebook never does).
WHY = """**Why.** An overlay carries each container frame inside a VXLAN packet over the hosts' own
network (the underlay). """ + engine_facts.say("overlay-mtu") + """
Here the hosts' NICs say 1500, but the network between them carries only 1450: a full-size 1450-byte
frame left host2 as a 1500-byte UDP packet, and the cloud's network dropped it. Small packets fit, so
pings and short requests work; anything large (a file, a TLS certificate, a
big HTTP answer) hangs. Re-creating the overlay with the mtu option set to what the path carries gives
the containers 1400, and every VXLAN packet fits.

**Why nobody tells the sender.** A switch or a cloud's virtual network that gets a frame larger than it
carries drops it: it is not an IP hop, so it sends no ICMP "fragmentation needed". Where a router on the
path does send one, it is about the *outer* packet and goes to host2, not to lab13-b, whose packet was
inside (and cloud firewalls often filter ICMP). So lab13-b's path-MTU discovery never learns the smaller
size: a path-MTU black hole. The captures show it: the packet leaves host2, never reaches host1, and
nothing comes back to lab13-b.

**Where a real one comes from.** A cloud or OpenStack tenant network built on its own VXLAN/GRE (often
1450) whose VMs are not told the smaller MTU (no DHCP MTU option), a site-to-site VPN or IPsec between
the hosts, a provider that changed its network under running VMs. There the hosts' own large TCP
transfers (a swarm join's TLS certificates, `docker pull`) stall as well, for the same reason; this lab
makes the swarm before it shrinks the path, so only the overlay shows it. When the host's NIC does report the
smaller MTU (most clouds' DHCP does, e.g. 1460 on Google Cloud), this lab's kernel (Linux 5.9 and later)
copes after one lost packet: the VXLAN port answers the container itself with ICMP "fragmentation
needed" and splits outer packets that are too large, so the symptom is a slower network and a first
lost packet, not a black hole; measured here, lab 13 is the case that still fails. Either way the fix is
the same: tell Docker the underlay, `docker network create -d overlay -o com.docker.network.driver.mtu=<path
MTU> ...`; on a swarm, the same for its `ingress` overlay and the `docker_gwbridge` bridge (Docker docs:
"Overlay network driver", its options, and "Manage swarm service networks"). The solution prints
`docker version`; on any engine, read the MTU as here: `ip link` in a container of a fresh overlay.

**Wrong fixes.** Setting one container's MTU by `nsenter` fixes one direction only: the answer from the
other end is as large as before. Setting both by hand works until a restart (the network makes the
interface again with its own MTU). An mtu option larger than the path (`=1500`) changes nothing.
Raising the path is not yours to do in a cloud; lowering the hosts' eth0 to the path's size makes the
host split every full-size VXLAN packet in two (slower, and lost wherever fragments are dropped).

**The evidence.** A ping with `-s` (payload = packet − 28) at the containers' MTU fails while small
ones pass; `tcpdump -ni eth0 udp port 4789` on both hosts shows it leave one and never reach the other;
`ip link` in the containers (1450) and on the hosts (1500); a ping from a container to the other host's
own address finds the largest packet that crosses (1450 here)."""

LAB = Lab(13, "trouble-large-packets", "Troubleshooting: small packets pass, large ones vanish",
    "`lab13-a` (host1) and `lab13-b` (host2), two containers on an overlay across two machines in a "
    "cloud, answer each other's pings; larger packets between them never arrive.",
    [start_task(13, "; it makes the swarm if needed"),
     "Show the problem: a small ping from `lab13-b` to `lab13-a` passes, a large one (`ping -s 1422`) "
     "gets no answer.",
     "Find out why, and fix it so that it stays fixed when a container restarts (keep the names "
     "`lab13-a`, `lab13-b` and the network `lab13-overlay`). host1 and host2 stand for two virtual "
     "machines you rent in a cloud: they are yours; the network between them (the LAN and its router) "
     "is the cloud provider's, and you cannot change it."],
    check_mtu, containers=[("host1", "lab13-a"), ("host2", "lab13-b")],
    networks=[("host1", "lab13-overlay")], setup_fn=break_mtu, repair_fn=repair_mtu, kind="troubleshoot",
    tools=TOOLS,
    summary="troubleshooting: across an overlay, small packets pass and large ones vanish",
    solution=solution,
    why=WHY,
    symptom=SYMPTOM,
    cause_words=CAUSE_WORDS,
    host_repair=restore_underlay)
