"""Troubleshooting labs 8-13 against the fixes a learner really tries, as steps of each lab's journey
(tests/integration/test_lab_journeys.py): each case of the lesson audit (§8) applied as a learner
would, on the one start the journey makes (the solution notebook's start cell), and the check's
verdict and words asserted.

- Wrong fixes fail, and the hint names what is actually wrong (observed, not fixed text). WRONG[n]
  run after the start and before the solution notebook's fix; each undoes itself, back to the
  lab's fault exactly as the start left it (lab 12's shims through the reset's repair, whose
  words are asserted).
- Valid fixes pass, however they are written. RIGHT[n] run after the solution notebook's fix: each
  puts the fault back (or undoes the fix before it) and leaves its own fix in place.
- Resets remove what a learner added (any shim, any NAT rule of theirs, a wrong default route).
  LAST[n] run just before the notebook's reset cell and leave something for it to remove; AFTER[n]
  assert what that reset did (its list of what it did is their argument).
"""
from __future__ import annotations

import ipaddress
from functools import partial

from helpers import labs
from helpers.labs import common, lab12, lab13, state
from helpers.labs.lab13 import LAB13_PATH_MTU
from helpers.lessons import ch01, facts
from helpers.world import mtu as link_mtu
from helpers.world.naming import IMAGE, ROUTER_LAN_IP, ROUTER_WAN_IP
from tests.integration.lab_journey import WEB, check, items, text
from tests.integration.lab_symptoms import SYMPTOM

# --- 8. no way out -----------------------------------------------------------------------------------

def lab8_a_route_to_one_address_is_not_a_default_route(world):
    """A /32 route to 203.0.113.10 makes the symptom go away, but host1 still has no way to anything
    else beyond the LAN: the check tries another internet address and reads the route table. Undone:
    both routes deleted, host1 without a default route as the start left it."""
    try:
        world["host1"].run(["ip", "route", "add", "203.0.113.10/32", "via", str(ROUTER_LAN_IP)])
        result = check(world, 8)
        found = items(result)
        assert found[SYMPTOM[8]].ok, str(result)
        beyond = found["host1 reaches any address beyond the LAN, not only the internet service"]
        assert not beyond.ok and "no default route" in beyond.problem, str(result)
        assert "203.0.113.10 via" in beyond.problem and f"{ROUTER_WAN_IP}, another" in beyond.problem, str(result)
        assert not result.passed
        # The same route table plus the real fix passes.
        world["host1"].run(["ip", "route", "add", "default", "via", str(ROUTER_LAN_IP)])
        assert check(world, 8).passed
    finally:
        world["host1"].run(["ip", "route", "del", "203.0.113.10/32"], check=False)
        world["host1"].run(["ip", "route", "del", "default"], check=False)
    assert facts.default_route(world, "host1") is None


def lab8_a_default_route_to_a_wrong_gateway_fails(world):
    """Left for the reset: the default route replaced by one via lanpc, a machine of the LAN that
    routes nothing."""
    lanpc = facts.address(world, "lanpc")
    world["host1"].run(["ip", "route", "replace", "default", "via", lanpc])
    result = check(world, 8)
    assert not result.passed
    assert result.failed[0].what == SYMPTOM[8], str(result)


def lab8_the_reset_undid_the_wrong_gateway(world, done):
    assert "default route of host1" in done, done
    assert facts.default_route(world, "host1")["via"] == str(ROUTER_LAN_IP)


# --- 9. a name that does not resolve ---------------------------------------------------------------

def _lab9_api_on_the_default_bridge_only(world) -> None:
    """Back to the fault: lab9-api on the default bridge and nothing else, as the start made it."""
    api = world.host1.docker.containers.get("lab9-api")
    if "lab9-net" in state.networks_of(api):
        facts.sh(world, "host1", "docker network disconnect lab9-net lab9-api")
    if "bridge" not in state.networks_of(world.host1.docker.containers.get("lab9-api")):
        facts.sh(world, "host1", "docker network connect bridge lab9-api")
    assert list(state.networks_of(world.host1.docker.containers.get("lab9-api"))) == ["bridge"]


def _lab9_passes(world) -> None:
    result = check(world, 9)
    assert result.passed, str(result)
    assert "default bridge" in items(result)["what had broken"].evidence


def lab9_connect_only_passes(world):
    """`network connect` without leaving the default bridge."""
    _lab9_api_on_the_default_bridge_only(world)
    facts.sh(world, "host1", "docker network connect lab9-net lab9-api")
    _lab9_passes(world)


def lab9_recreate_passes(world):
    """The container made again on lab9-net."""
    _lab9_api_on_the_default_bridge_only(world)
    labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
    facts.sh(world, "host1", "docker rm -f lab9-api")
    facts.sh(world, "host1", f"docker run -d --name lab9-api --network lab9-net {labels} {IMAGE} sleep 1000000")
    _lab9_passes(world)


# --- 10. the shop is closed -------------------------------------------------------------------------

def _lab10_shop_as_started(world) -> None:
    """lab10-shop made again as the start makes it: the server on port 80, nothing published."""
    client = world.host1.docker
    state.remove_container(client, "lab10-shop")
    client.containers.run(IMAGE, WEB, name="lab10-shop", hostname="lab10-shop", detach=True, labels=world.label)


def lab10_another_process_on_9081_is_not_the_shop(world):
    """Something else answering on host1:9081 (a host-network container that is not lab10-shop)."""
    other = world.host1.docker.containers.run(IMAGE, ["httpd", "-f", "-p", "9081", "-h", "/www"],
                                              name="lab10-other", network_mode="host", detach=True,
                                              labels=world.label)
    try:
        result = check(world, 10)
        it = items(result)["host1's port 9081 leads to lab10-shop"]
        assert items(result)[SYMPTOM[10]].ok and not it.ok, str(result)
        assert "not from lab10-shop" in it.problem
    finally:
        other.remove(force=True)


def lab10_published_to_the_wrong_container_port(world):
    """-p 9081:8080 while the server listens on 80: the hint names both ports, as observed."""
    try:
        labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
        facts.sh(world, "host1", "docker rm -f lab10-shop")
        facts.sh(world, "host1", f"docker run -d --name lab10-shop -p 9081:8080 {labels} {IMAGE} "
                                 "httpd -f -p 80 -h /www")
        result = check(world, 10)
        it = items(result)[SYMPTOM[10]]
        assert not it.ok, str(result)
        assert "8080/tcp" in it.hint and "listens on 80" in it.hint, it.hint
    finally:
        _lab10_shop_as_started(world)


def lab10_network_host_shop_passes(world):
    """`--network host` with the server on port 9081 answers from the internet: a valid route; the
    check proves the listener on host1:9081 is lab10-shop's own process."""
    labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
    facts.sh(world, "host1", "docker rm -f lab10-shop")
    facts.sh(world, "host1", f"docker run -d --name lab10-shop --network host {labels} {IMAGE} "
                             "httpd -f -p 9081 -h /www")
    result = check(world, 10)
    assert result.passed, str(result)
    assert "--network host" in items(result)["host1's port 9081 leads to lab10-shop"].evidence


# --- 11. the internet does not answer ---------------------------------------------------------------

def _bridge_subnet(world) -> str:
    return str(state.subnets(state.network(world.host1.docker, "bridge"))[0])


def _docker_rule(world) -> list[str]:
    """Docker's own masquerade of the default bridge (the rule the start deletes)."""
    return ["POSTROUTING", "-s", _bridge_subnet(world), "!", "-o", "docker0", "-j", "MASQUERADE"]


def _break_masquerade(world) -> None:
    """The lab's fault again, as the start makes it: Docker's rule deleted (the notebook's fix, or the
    one the reset's repair put back; `-D` fails if it is not there), and no other rule masquerades
    the bridge's subnet."""
    world["host1"].run(["iptables", "-t", "nat", "-D", *_docker_rule(world)])
    assert state.masquerade(facts.state(world, "host1", "rules"), _bridge_subnet(world)) is None


def lab11_a_rule_that_matches_nothing_says_which_match_missed(world):
    rule = ["POSTROUTING", "-s", "10.99.0.0/16", "-o", "eth0", "-j", "MASQUERADE"]
    world["host1"].run(["iptables", "-t", "nat", "-A", *rule])
    try:
        result = check(world, 11)
        it = items(result)[SYMPTOM[11]]
        assert not it.ok and "counted none of its packets" in it.problem, str(result)
        assert "-s 10.99.0.0/16" in it.problem and "source match" in it.problem
        assert "out-interface" not in it.problem  # -o eth0 is the way out: that match is fine
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", *rule], check=False)


def lab11_a_route_back_is_not_a_source_rewrite(world):
    """A route back to the bridge on the router lets the internet answer: the symptom goes, but the
    internet sees 172.x; the hint must not say the internet cannot answer (it just did). Where the
    engine drops packets to a container's own address that come from outside its bridge (fact
    "direct-access", a raw-table rule), the answers are dropped on host1 instead: the symptom stays,
    and that rule's counter shows where they went."""
    subnet = _bridge_subnet(world)
    host1 = facts.address(world, "host1")
    app = state.address_on(world.host1.docker.containers.get("lab11-app"), "bridge")
    if ch01.direct_access_in_raw(world.host1.docker.version()["Version"]):
        dropped_before = sum(r.packets for r in ch01.raw_drops(world, app))
        try:
            world["router"].run(["ip", "route", "add", subnet, "via", host1])
            result = check(world, 11)
        finally:
            world["router"].run(["ip", "route", "del", subnet], check=False)
        assert not items(result)[SYMPTOM[11]].ok, str(result)
        assert sum(r.packets for r in ch01.raw_drops(world, app)) > dropped_before, \
            "the internet's answers to the container's own address were not dropped by the raw-table rule"
        return
    try:
        world["router"].run(["ip", "route", "add", subnet, "via", host1])
        result = check(world, 11)
        found = items(result)
        assert found[SYMPTOM[11]].ok, str(result)
        rewrite = found["host1 rewrites lab11-app's source on the way out"]
        seen = found["the internet sees lab11-app as host1"]
        assert not rewrite.ok and not seen.ok, str(result)
        assert app in rewrite.problem and f"`{subnet} via {host1}" in rewrite.problem, rewrite.problem
        assert app in seen.problem
        assert "cannot answer" not in text(result)
    finally:
        world["router"].run(["ip", "route", "del", subnet], check=False)


def _lab11_rule_passes(world, rule: str) -> None:
    """Judged by the rule's counter rising during the probe and by what the internet sees, not by
    the rule's text; the reset's repair then removes the learner's rule (and puts Docker's back)."""
    _break_masquerade(world)
    spec = rule.format(subnet=_bridge_subnet(world), host1=facts.address(world, "host1"))
    facts.sh(world, "host1", f"iptables -t nat -A POSTROUTING {spec}")
    result = check(world, 11)
    assert result.passed, str(result)
    rewrote = items(result)["host1 rewrites lab11-app's source on the way out"]
    assert spec.split(" -j ")[0] in rewrote.evidence and "counted" in rewrote.evidence, rewrote.evidence
    labs.get(11).repair_fn(world)
    assert not any(spec in str(r) for r in facts.state(world, "host1", "rules").rules)


def lab11_masquerade_out_of_eth0_passes(world):
    _lab11_rule_passes(world, "-o eth0 -j MASQUERADE")


def lab11_masquerade_of_a_wider_source_passes(world):
    _lab11_rule_passes(world, "-s 172.16.0.0/12 ! -o docker0 -j MASQUERADE")


def lab11_snat_to_host1_passes(world):
    _lab11_rule_passes(world, "-s {subnet} -o eth0 -j SNAT --to-source {host1}")


def _docker_rules(world) -> list[str]:
    """Docker's own masquerades on host1: a bridge's (`! -o <bridge>`), a published port's hairpin."""
    return sorted(str(r) for r in facts.state(world, "host1", "rules").rules
                  if r.target == "MASQUERADE" and r.src and (r.src == r.dst or "out_if" in r.negated))


def lab11_reset_removes_only_the_learners_rules(world):
    """The reset removes a learner's rule (a wide one left behind would leave the next start of the
    lab unbroken) and keeps Docker's own: each bridge's masquerade and a published port's hairpin rule
    (where the engine writes one: Docker 28.5 with its userland proxy writes none). Then the lab starts
    again (the journey's second start of lab 11), broken."""
    lab = labs.get(11)
    client = world.host1.docker
    _break_masquerade(world)
    published = client.containers.run(IMAGE, ["httpd", "-f", "-p", "80", "-h", "/www"], name="lab11-pub",
                                      ports={"80/tcp": 9099}, detach=True, labels=world.label)
    try:
        dockers = _docker_rules(world)  # before the learner's rule: Docker's own (docker0's is the lab's break)
        facts.sh(world, "host1", "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE")
        done = lab.reset(world)
        assert "your nat rule `-A POSTROUTING -o eth0 -j MASQUERADE` of host1" in done, done
        assert set(dockers) <= set(_docker_rules(world)), (dockers, _docker_rules(world))
        assert not any(d.startswith("your nat rule `-A POSTROUTING -s") for d in done)
        lab.start(world)  # and the lab starts broken again
        assert not check(world, 11).passed
    finally:
        published.remove(force=True)


def lab11_masquerade_check_reads_the_rule_counter(world):
    """Left for the reset: a MASQUERADE rule that exists but matches nothing on the way out
    (`-o docker0`): the rule's packet counter, read around the probe, tells the learner so."""
    wrong = ["POSTROUTING", "-s", _bridge_subnet(world), "-o", "docker0", "-j", "MASQUERADE"]
    world["host1"].run(["iptables", "-t", "nat", "-A", *wrong])
    result = check(world, 11)
    reach = items(result)["lab11-app reaches the internet service"]
    assert not reach.ok and "counted none of its packets" in reach.problem, str(result)
    assert "-o docker0" in reach.problem


def lab11_the_reset_put_dockers_rule_back(world, done):
    """The reset puts Docker's own rule back even though the learner's wrong one was still there."""
    subnet = _bridge_subnet(world)
    try:
        assert world["host1"].run(["iptables", "-t", "nat", "-C", *_docker_rule(world)],
                                  check=False).returncode == 0, done
    finally:
        world["host1"].run(["iptables", "-t", "nat", "-D", "POSTROUTING", "-s", subnet, "-o", "docker0",
                            "-j", "MASQUERADE"], check=False)
    assert state.masquerade(facts.state(world, "host1", "rules"), subnet) is not None


# --- 12. everyone but its own host -------------------------------------------------------------------

def _shim(world, name: str, address: str, mode: str = "bridge") -> None:
    web = state.address_on(world.host1.docker.containers.get("lab12-web"), "lab12-lan")
    for command in (f"ip link add {name} link eth0 type macvlan mode {mode}", f"ip addr add {address}/32 dev {name}",
                    f"ip link set {name} up", f"ip route add {web}/32 dev {name}"):
        facts.sh(world, "host1", command)


def _plan(world) -> tuple[str, ipaddress.IPv4Network]:
    pool = state.network(world.host1.docker, "lab12-lan").attrs["IPAM"]["Config"][0]
    return pool["AuxiliaryAddresses"]["host1-shim"], ipaddress.ip_network(pool["IPRange"])


def _remove_shims(world) -> list[str]:
    """Undone by what the lab's reset runs after removing its names (Lab.repair_fn): every macvlan
    link on host1's eth0, whatever its name, and its routes with it. lab12-web forgets its neighbours
    too: a shim that held another machine's address (lanpc's) left lab12-web's ARP entry for it
    pointing at the shim's MAC, and until that entry goes stale (about 30 s) lanpc's requests get
    their answers sent nowhere; the lab's reset removes lab12-web itself."""
    done = labs.get(12).repair_fn(world)
    assert lab12.host_macvlans(world) == []
    facts.forget_neighbours(world, world.host1.docker.containers.get("lab12-web"))
    return done


def lab12_a_shim_with_another_name_fails_and_reset_removes_it(world):
    try:
        aux, _ = _plan(world)
        _shim(world, "myshim", aux)
        result = check(world, 12)
        found = items(result)
        assert found[SYMPTOM[12]].ok, str(result)
        named = found["host1's way onto lab12-lan is called lab12-fix"]
        assert not named.ok and "myshim" in named.problem, str(result)
    finally:
        done = _remove_shims(world)
    assert "link myshim of host1" in done
    assert not any(r.dev == "myshim" for r in facts.state(world, "host1", "routes").routes)


def lab12_a_shim_address_inside_the_range_is_given_to_the_next_container(world):
    """The check fails on a shim address Docker may hand out, and the reason is real: the next
    container on lab12-lan gets exactly that address."""
    client = world.host1.docker
    nxt = None
    try:
        aux, ip_range = _plan(world)
        web = state.address_on(client.containers.get("lab12-web"), "lab12-lan")
        taken = next(str(a) for a in ip_range.hosts() if str(a) not in (web, aux))
        _shim(world, "lab12-fix", taken)
        result = check(world, 12)
        found = items(result)
        assert found[SYMPTOM[12]].ok, str(result)
        where = found["lab12-fix's address is one Docker never gives a container on lab12-lan"]
        assert not where.ok and taken in where.problem and "next container" in where.problem, str(result)
        nxt = client.containers.run(IMAGE, ["sleep", "1000000"], name="lab12-next", network="lab12-lan",
                                    detach=True, labels=world.label)
        nxt.reload()
        assert state.address_on(nxt, "lab12-lan") == taken
    finally:
        if nxt is not None:
            nxt.remove(force=True)
        _remove_shims(world)


def lab12_a_shim_with_another_machines_address_fails(world):
    """Outside the ip-range but lanpc's own address: two machines would answer for it."""
    try:
        lanpc = facts.address(world, "lanpc")
        _shim(world, "lab12-fix", lanpc)
        result = check(world, 12)
        it = items(result)["lab12-fix's address belongs to no other machine of the LAN"]
        assert not it.ok and lanpc in it.problem and "lanpc" in it.problem, str(result)
    finally:
        _remove_shims(world)


def lab12_a_vepa_shim_gets_its_own_hint(world):
    try:
        aux, _ = _plan(world)
        _shim(world, "lab12-fix", aux, mode="vepa")
        result = check(world, 12)
        it = items(result)[SYMPTOM[12]]
        assert not it.ok, str(result)
        assert "vepa mode" in it.hint and "bridge mode" in it.hint, it.hint
    finally:
        _remove_shims(world)


def lab12_the_reset_removed_the_shim(world, done):
    assert "link lab12-fix of host1" in done, done
    assert lab12.host_macvlans(world) == []


# --- 13. small packets pass, large ones vanish ----------------------------------------------------
# The break: the cloud's network between host1 and host2 (the router's ports) carries
# LAB13_PATH_MTU while the hosts' eth0 still say 1500, and the overlay is made without options.

def _set_mtu(world, host: str, name: str, mtu: int) -> None:
    # `docker exec --privileged` fails on this machine ("unable to apply caps"): enter from the host.
    container = world.hosts[host].docker.containers.get(name)
    facts.run_in(world, container, ["ip", "link", "set", "dev", "eth0", "mtu", str(mtu)])


def _remake_overlay(world, mtu_option: str | None) -> None:
    """What a learner does with the SDK: both containers and the network made again, with an mtu
    option (None: without options, as the start makes it). Each host's engine removes and starts its
    own container at the same time as the other's (an overlay attach takes seconds on each)."""
    ends = (("host1", "lab13-a"), ("host2", "lab13-b"))
    common.at_once(*(partial(state.remove_container, world.hosts[host].docker, name) for host, name in ends))
    state.remove_network(world, "host1", "lab13-overlay")
    options = {} if mtu_option is None else {"com.docker.network.driver.mtu": mtu_option}
    world.host1.docker.networks.create("lab13-overlay", driver="overlay", attachable=True, labels=world.label,
                                       options=options)
    common.at_once(*(partial(world.hosts[host].docker.containers.run, IMAGE, ["sleep", "1000000"], name=name,
                             network="lab13-overlay", detach=True, labels=world.label) for host, name in ends))


def _lab13_as_started(world) -> None:
    """The fault again, as the start leaves it: the overlay made without options (its containers get
    1450), lab13-b knowing lab13-a's name, the cloud's ports at the path's size (smaller)."""
    _remake_overlay(world, None)
    b = world.host2.docker.containers.get("lab13-b")
    assert common.wait_for_name(world, b, "lab13-a"), "host2 never learnt lab13-a's name again"
    for machine, names in link_mtu.PATH_ONLY.items():
        for name in names:
            world[machine].run(["ip", "link", "set", "dev", name, "mtu", str(LAB13_PATH_MTU)])
    assert facts.mtu(world, b) == 1450 and lab13.path_mtu(world) == LAB13_PATH_MTU < 1450 + 50


def lab13_wrong_fixes_fail_with_what_was_seen(world):
    """One learner's wrong tries, one after the other:
    - one end's MTU set by nsenter: the answer is still too large; the hint names both ends as seen;
    - both ends: the full-size ping passes in fragments; the items say so, and that the overlay's
      packets still do not fit the path;
    - the overlay made again with `-o com.docker.network.driver.mtu=1500`: nothing changes (the
      containers get 1450, as lab13.overlay_mtu says); the hint quotes the option;
    - the hosts' own eth0 lowered to the path's size: the ping passes (the kernel fragments the outer
      packets), the item about whole packets fails;
    - the cloud's ports raised back: the symptom goes, the item about the cloud fails.
    Then all undone: the overlay as the start made it, the cloud's ports at the path's size."""
    try:
        _set_mtu(world, "host2", "lab13-b", 1400)
        result = check(world, 13)
        it = items(result)[SYMPTOM[13]]
        assert not it.ok and "differ" in it.hint, str(result)
        assert "mtu 1400" in it.hint and "mtu 1450" in it.hint, str(result)

        _set_mtu(world, "host1", "lab13-a", 1400)
        found = items(check(world, 13))
        assert found[SYMPTOM[13]].ok, found
        for name in ("lab13-a", "lab13-b"):
            end = found[f"{name}'s eth0 has the MTU lab13-overlay gives its containers (1450)"]
            assert not end.ok and "fragments" in end.problem and "1400" in end.problem, end
        path = lab13.path_mtu(world)
        whole = found[f"lab13-overlay's full-size packets cross the LAN whole (1450 + 50 ≤ {path})"]
        assert not whole.ok and "mtu=" in whole.hint, whole

        _remake_overlay(world, "1500")
        result = check(world, 13)
        it = items(result)[SYMPTOM[13]]
        assert not it.ok and "driver.mtu=1500" in it.hint and "1500 bytes" in it.hint, str(result)
        network = state.network(world.host1.docker, "lab13-overlay")
        b = world.host2.docker.containers.get("lab13-b")
        assert facts.mtu(world, b) == lab13.overlay_mtu(network) == 1450

        # The hosts' own NICs lowered to the path's size: this kernel (5.9+) then answers lab13-b from
        # the VXLAN port with ICMP "fragmentation needed" (the first large ping is lost) and splits the
        # outer packets; the symptom goes, but every full-size packet now crosses in fragments.
        for host in ("host1", "host2"):
            world[host].run(["ip", "link", "set", "dev", "eth0", "mtu", str(path)])
        tries = []
        for _ in range(2):
            tries.append(check(world, 13))
            if items(tries[-1])[SYMPTOM[13]].ok:
                break
        else:
            raise AssertionError("the symptom stayed with the hosts' eth0 at the path's size:\n"
                                 + "\n\n".join(map(str, tries)))
        result = tries[-1]
        whole = items(result)[f"lab13-overlay's full-size packets cross the LAN whole (1450 + 50 ≤ {path})"]
        assert not whole.ok and "fragments" in whole.problem, str(result)
    finally:
        for host in ("host1", "host2"):
            world[host].run(["ip", "link", "set", "dev", "eth0", "mtu", "1500"])

    try:
        for port in ("p-host1", "p-host2"):
            world["router"].run(["ip", "link", "set", "dev", port, "mtu", "1500"])
        result = check(world, 13)
        found = items(result)
        assert found[SYMPTOM[13]].ok and not result.passed, str(result)
        cloud = found["the LAN between the hosts (the cloud's network) is as the provider runs it"]
        assert not cloud.ok and "p-host1 mtu 1500" in cloud.problem, str(result)
    finally:
        _lab13_as_started(world)


WRONG = {
    8: [lab8_a_route_to_one_address_is_not_a_default_route],
    10: [lab10_another_process_on_9081_is_not_the_shop, lab10_published_to_the_wrong_container_port],
    11: [lab11_a_rule_that_matches_nothing_says_which_match_missed, lab11_a_route_back_is_not_a_source_rewrite],
    12: [lab12_a_shim_with_another_name_fails_and_reset_removes_it,
         lab12_a_shim_address_inside_the_range_is_given_to_the_next_container,
         lab12_a_shim_with_another_machines_address_fails, lab12_a_vepa_shim_gets_its_own_hint],
    13: [lab13_wrong_fixes_fail_with_what_was_seen],
}
RIGHT = {
    9: [lab9_connect_only_passes, lab9_recreate_passes],
    10: [lab10_network_host_shop_passes],
    11: [lab11_masquerade_out_of_eth0_passes, lab11_masquerade_of_a_wider_source_passes, lab11_snat_to_host1_passes],
}
LAST = {
    8: [lab8_a_default_route_to_a_wrong_gateway_fails],
    11: [lab11_reset_removes_only_the_learners_rules, lab11_masquerade_check_reads_the_rule_counter],
}
AFTER = {
    8: [lab8_the_reset_undid_the_wrong_gateway],
    11: [lab11_the_reset_put_dockers_rule_back],
    12: [lab12_the_reset_removed_the_shim],
}
