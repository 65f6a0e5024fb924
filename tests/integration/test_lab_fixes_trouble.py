"""Troubleshooting labs 8-13 on a real world: each case of the lesson audit (§8) applied as a learner
would, and the check's verdict and words asserted.

- The mystery holds: the first check after `start` reports the symptom, never the cause; each further
  check gives another hint; the list, the titles, the tasks and the tools name no cause.
- Wrong fixes fail, and the hint names what is actually wrong (observed, not fixed text).
- Valid fixes pass, however they are written.
- Resets remove what a learner added (any shim, any NAT rule of theirs).
Every test starts its lab afresh and resets it in `finally`, so the world is as before.
"""
from __future__ import annotations

import ipaddress

import pytest

from helpers import labs
from helpers.labs import progress, state, troubleshoot
from helpers.lessons import facts
from helpers.world.naming import IMAGE, LAB13_MTU_RECORD, LAB13_PATH_MTU, ROUTER_LAN_IP, ROUTER_WAN_IP
from tests.integration.lab_symptoms import SYMPTOM

# Words that name each lab's cause: the learner must not meet them before the fix.
CAUSE_WORDS = {
    8: ["default route", "gateway", "routing table"],
    9: ["default bridge", "embedded dns answers", "network connect"],
    10: ["publish", "-p 9081", "dnat", "docker-proxy"],
    11: ["masquerade", "snat", "nat table", "postrouting"],
    12: ["shim", "parent", "aux", "bridge mode"],
    13: ["mtu", "fragment", "underlay", "vxlan", "1500 bytes"],
}




def _items(result) -> dict:
    return {item.what: item for item in result.items}


def _text(result) -> str:
    return "\n".join(f"{i.what} {i.problem} {i.hint}" for i in result.items).lower()


def _check(world, number: int):
    return labs.get(number).check(world, record=False)


# --- the mystery -------------------------------------------------------------------------------------

def test_names_titles_tasks_and_tools_name_no_cause():
    """What a learner reads before starting (the `lab list` slug and title, goal, tasks, tools, the
    README's table) names no cause."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "labs" / "README.md").read_text().lower()
    table = [line for line in readme.splitlines() if line.startswith("| ") and "trouble" in line]
    assert len(table) == 6, table
    for number, words in CAUSE_WORDS.items():
        lab = labs.get(number)
        text = " ".join([lab.slug, lab.title, lab.goal, *lab.tasks, lab.tools]).lower()
        row = next(line for line in table if lab.slug in line)
        for word in words:
            if word in ("mtu", "parent", "gateway"):
                continue  # too common to forbid in the tools line; the check texts below are strict
            assert word not in text and word not in row, (number, word)


@pytest.mark.parametrize("number", sorted(CAUSE_WORDS))
def test_first_check_reports_the_symptom_and_hints_grow(lab_world, number):
    world, lab = lab_world, labs.get(number)
    try:
        fresh = lab.check(world, record=False)  # before start: pending titles name no cause either
        assert not any(w in _text(fresh) for w in CAUSE_WORDS[number]), str(fresh)
        lab.start(world)
        hints = []
        for _ in range(4):
            result = lab.check(world, record=False)
            failed = result.failed
            assert [item.what for item in failed] == [SYMPTOM[number]], str(result)
            assert failed[0].problem and failed[0].hint, str(result)
            hints.append(failed[0].hint)
        assert len(set(hints[:3])) == 3 and hints[3] == hints[2], hints
        assert "check again" in hints[0] and "check again" not in hints[2]
        # The first check's words: the symptom only.
        progress.reset_checks(world.prefix, number)
        result = lab.check(world, record=False)
        assert not any(w in _text(result) for w in CAUSE_WORDS[number]), str(result)
    finally:
        lab.reset(world)


# --- 8. no way out -----------------------------------------------------------------------------------

def test_lab8_a_route_to_one_address_is_not_a_default_route(lab_world):
    """A /32 route to 203.0.113.10 makes the symptom go away, but host1 still has no way to anything
    else beyond the LAN: the check tries another internet address and reads the route table."""
    world, lab = lab_world, labs.get(8)
    lab.start(world)
    try:
        world["host1"].run(["ip", "route", "add", "203.0.113.10/32", "via", str(ROUTER_LAN_IP)])
        result = _check(world, 8)
        items = _items(result)
        assert items[SYMPTOM[8]].ok, str(result)
        beyond = items["host1 reaches any address beyond the LAN, not only the internet service"]
        assert not beyond.ok and "no default route" in beyond.problem, str(result)
        assert "203.0.113.10 via" in beyond.problem and f"{ROUTER_WAN_IP}, another" in beyond.problem, str(result)
        assert not result.passed
        # The same route table plus the real fix passes.
        world["host1"].run(["ip", "route", "add", "default", "via", str(ROUTER_LAN_IP)])
        assert _check(world, 8).passed
    finally:
        world["host1"].run(["ip", "route", "del", "203.0.113.10/32"], check=False)
        lab.reset(world)


def test_lab8_a_default_route_to_a_wrong_gateway_fails(lab_world):
    world, lab = lab_world, labs.get(8)
    lab.start(world)
    try:
        lanpc = facts.address(world, "lanpc")  # a machine of the LAN that routes nothing
        world["host1"].run(["ip", "route", "add", "default", "via", lanpc])
        result = _check(world, 8)
        assert not result.passed
        assert result.failed[0].what == SYMPTOM[8], str(result)
    finally:
        lab.reset(world)
    assert facts.default_route(world, "host1")["via"] == str(ROUTER_LAN_IP)  # the reset undid theirs


# --- 9. a name that does not resolve ---------------------------------------------------------------

@pytest.mark.parametrize("how", ["connect-only", "recreate"])
def test_lab9_valid_fixes_pass(lab_world, how):
    """`network connect` without leaving the default bridge, or the container made again on lab9-net."""
    world, lab = lab_world, labs.get(9)
    lab.start(world)
    try:
        if how == "connect-only":
            facts.sh(world, "host1", "docker network connect lab9-net lab9-api")
        else:
            labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
            facts.sh(world, "host1", "docker rm -f lab9-api")
            facts.sh(world, "host1", f"docker run -d --name lab9-api --network lab9-net {labels} {IMAGE} sleep 1000000")
        result = _check(world, 9)
        assert result.passed, str(result)
        assert "default bridge" in _items(result)["what had broken"].evidence
    finally:
        lab.reset(world)


# --- 10. the shop is closed -------------------------------------------------------------------------

def test_lab10_network_host_shop_passes(lab_world):
    """`--network host` with the server on port 9081 answers from the internet: a valid route; the
    check proves the listener on host1:9081 is lab10-shop's own process."""
    world, lab = lab_world, labs.get(10)
    lab.start(world)
    try:
        labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
        facts.sh(world, "host1", "docker rm -f lab10-shop")
        facts.sh(world, "host1", f"docker run -d --name lab10-shop --network host {labels} {IMAGE} "
                                 "httpd -f -p 9081 -h /www")
        result = _check(world, 10)
        assert result.passed, str(result)
        assert "--network host" in _items(result)["host1's port 9081 leads to lab10-shop"].evidence
    finally:
        lab.reset(world)


def test_lab10_another_process_on_9081_is_not_the_shop(lab_world):
    """Something else answering on host1:9081 (a host-network container that is not lab10-shop)."""
    world, lab = lab_world, labs.get(10)
    lab.start(world)
    client = world.host1.docker
    other = client.containers.run(IMAGE, ["httpd", "-f", "-p", "9081", "-h", "/www"], name="lab10-other",
                                  network_mode="host", detach=True, labels=world.label)
    try:
        result = _check(world, 10)
        item = _items(result)["host1's port 9081 leads to lab10-shop"]
        assert _items(result)[SYMPTOM[10]].ok and not item.ok, str(result)
        assert "not from lab10-shop" in item.problem
    finally:
        other.remove(force=True)
        lab.reset(world)


def test_lab10_published_to_the_wrong_container_port(lab_world):
    """-p 9081:8080 while the server listens on 80: the hint names both ports, as observed."""
    world, lab = lab_world, labs.get(10)
    lab.start(world)
    try:
        labels = " ".join(f"--label {k}={v}" for k, v in world.label.items())
        facts.sh(world, "host1", "docker rm -f lab10-shop")
        facts.sh(world, "host1", f"docker run -d --name lab10-shop -p 9081:8080 {labels} {IMAGE} "
                                 "httpd -f -p 80 -h /www")
        result = _check(world, 10)
        item = _items(result)[SYMPTOM[10]]
        assert not item.ok, str(result)
        assert "8080/tcp" in item.hint and "listens on 80" in item.hint, item.hint
    finally:
        lab.reset(world)


# --- 11. the internet does not answer ---------------------------------------------------------------

def _bridge_subnet(world) -> str:
    return str(state.subnets(state.network(world.host1.docker, "bridge"))[0])


@pytest.mark.parametrize("rule", [
    "-o eth0 -j MASQUERADE",
    "-s 172.16.0.0/12 ! -o docker0 -j MASQUERADE",
    "-s {subnet} -o eth0 -j SNAT --to-source {host1}",
])
def test_lab11_every_rule_that_rewrites_the_source_passes(lab_world, rule):
    """Judged by the rule's counter rising during the probe and by what the internet sees, not by
    the rule's text."""
    world, lab = lab_world, labs.get(11)
    lab.start(world)
    spec = rule.format(subnet=_bridge_subnet(world), host1=facts.address(world, "host1"))
    try:
        facts.sh(world, "host1", f"iptables -t nat -A POSTROUTING {spec}")
        result = _check(world, 11)
        assert result.passed, str(result)
        rewrote = _items(result)["host1 rewrites lab11-app's source on the way out"]
        assert spec.split(" -j ")[0] in rewrote.evidence and "counted" in rewrote.evidence, rewrote.evidence
    finally:
        lab.reset(world)  # removes the learner's rule too (next test asserts the world is clean)
    assert not any(spec in str(r) for r in facts.state(world, "host1", "rules").rules)


def test_lab11_a_rule_that_matches_nothing_says_which_match_missed(lab_world):
    world, lab = lab_world, labs.get(11)
    lab.start(world)
    try:
        facts.sh(world, "host1", "iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -o eth0 -j MASQUERADE")
        result = _check(world, 11)
        item = _items(result)[SYMPTOM[11]]
        assert not item.ok and "counted none of its packets" in item.problem, str(result)
        assert "-s 10.99.0.0/16" in item.problem and "source match" in item.problem
        assert "out-interface" not in item.problem  # -o eth0 is the way out: that match is fine
    finally:
        lab.reset(world)


def test_lab11_a_route_back_is_not_a_source_rewrite(lab_world):
    """A route back to the bridge on the router lets the internet answer: the symptom goes, but the
    internet sees 172.x; the hint must not say the internet cannot answer (it just did)."""
    world, lab = lab_world, labs.get(11)
    lab.start(world)
    subnet = _bridge_subnet(world)
    host1 = facts.address(world, "host1")
    try:
        world["router"].run(["ip", "route", "add", subnet, "via", host1])
        result = _check(world, 11)
        items = _items(result)
        assert items[SYMPTOM[11]].ok, str(result)
        rewrite = items["host1 rewrites lab11-app's source on the way out"]
        seen = items["the internet sees lab11-app as host1"]
        assert not rewrite.ok and not seen.ok, str(result)
        app = state.address_on(world.host1.docker.containers.get("lab11-app"), "bridge")
        assert app in rewrite.problem and f"`{subnet} via {host1}" in rewrite.problem, rewrite.problem
        assert app in seen.problem
        assert "cannot answer" not in _text(result)
    finally:
        world["router"].run(["ip", "route", "del", subnet], check=False)
        lab.reset(world)


def _docker_rules(world) -> list[str]:
    """Docker's own masquerades on host1: a bridge's (`! -o <bridge>`), a published port's hairpin."""
    return sorted(str(r) for r in facts.state(world, "host1", "rules").rules
                  if r.target == "MASQUERADE" and r.src and (r.src == r.dst or "out_if" in r.negated))


def test_lab11_reset_removes_only_the_learners_rules(lab_world):
    """The reset removes a learner's rule (a wide one left behind would leave the next start of the
    lab unbroken) and keeps Docker's own: each bridge's masquerade and a published port's hairpin rule."""
    world, lab = lab_world, labs.get(11)
    client = world.host1.docker
    lab.start(world)
    published = client.containers.run(IMAGE, ["httpd", "-f", "-p", "80", "-h", "/www"], name="lab11-pub",
                                      ports={"80/tcp": 9099}, detach=True, labels=world.label)
    try:
        facts.sh(world, "host1", "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE")
        hairpin = [rule for rule in _docker_rules(world) if "--dport 80" in rule]
        assert hairpin, _docker_rules(world)
        done = lab.reset(world)
        assert "your nat rule `-A POSTROUTING -o eth0 -j MASQUERADE` of host1" in done, done
        assert hairpin[0] in _docker_rules(world)
        assert not any(d.startswith("your nat rule `-A POSTROUTING -s") for d in done)
        lab.start(world)  # and the lab starts broken again
        assert not _check(world, 11).passed
    finally:
        published.remove(force=True)
        lab.reset(world)


# --- 12. everyone but its own host -------------------------------------------------------------------

def _shim(world, name: str, address: str, mode: str = "bridge") -> None:
    web = state.address_on(world.host1.docker.containers.get("lab12-web"), "lab12-lan")
    for command in (f"ip link add {name} link eth0 type macvlan mode {mode}", f"ip addr add {address}/32 dev {name}",
                    f"ip link set {name} up", f"ip route add {web}/32 dev {name}"):
        facts.sh(world, "host1", command)


def _plan(world) -> tuple[str, ipaddress.IPv4Network]:
    pool = state.network(world.host1.docker, "lab12-lan").attrs["IPAM"]["Config"][0]
    return pool["AuxiliaryAddresses"]["host1-shim"], ipaddress.ip_network(pool["IPRange"])


def test_lab12_a_shim_with_another_name_fails_and_reset_removes_it(lab_world):
    world, lab = lab_world, labs.get(12)
    lab.start(world)
    try:
        aux, _ = _plan(world)
        _shim(world, "myshim", aux)
        result = _check(world, 12)
        items = _items(result)
        assert items[SYMPTOM[12]].ok, str(result)
        named = items["host1's way onto lab12-lan is called lab12-fix"]
        assert not named.ok and "myshim" in named.problem, str(result)
    finally:
        done = lab.reset(world)
    assert "link myshim of host1" in done
    assert troubleshoot.host_macvlans(world) == []
    assert not any(r.dev == "myshim" for r in facts.state(world, "host1", "routes").routes)


def test_lab12_a_shim_address_inside_the_range_is_given_to_the_next_container(lab_world):
    """The check fails on a shim address Docker may hand out, and the reason is real: the next
    container on lab12-lan gets exactly that address."""
    world, lab = lab_world, labs.get(12)
    lab.start(world)
    client = world.host1.docker
    nxt = None
    try:
        aux, ip_range = _plan(world)
        web = state.address_on(client.containers.get("lab12-web"), "lab12-lan")
        taken = next(str(a) for a in ip_range.hosts() if str(a) not in (web, aux))
        _shim(world, "lab12-fix", taken)
        result = _check(world, 12)
        items = _items(result)
        assert items[SYMPTOM[12]].ok, str(result)
        where = items["lab12-fix's address is one Docker never gives a container on lab12-lan"]
        assert not where.ok and taken in where.problem and "next container" in where.problem, str(result)
        nxt = client.containers.run(IMAGE, ["sleep", "1000000"], name="lab12-next", network="lab12-lan",
                                    detach=True, labels=world.label)
        nxt.reload()
        assert state.address_on(nxt, "lab12-lan") == taken
    finally:
        if nxt is not None:
            nxt.remove(force=True)
        lab.reset(world)


def test_lab12_a_shim_with_another_machines_address_fails(lab_world):
    """Outside the ip-range but lanpc's own address: two machines would answer for it."""
    world, lab = lab_world, labs.get(12)
    lab.start(world)
    try:
        lanpc = facts.address(world, "lanpc")
        _shim(world, "lab12-fix", lanpc)
        result = _check(world, 12)
        item = _items(result)["lab12-fix's address belongs to no other machine of the LAN"]
        assert not item.ok and lanpc in item.problem and "lanpc" in item.problem, str(result)
    finally:
        lab.reset(world)


def test_lab12_a_vepa_shim_gets_its_own_hint(lab_world):
    world, lab = lab_world, labs.get(12)
    lab.start(world)
    try:
        aux, _ = _plan(world)
        _shim(world, "lab12-fix", aux, mode="vepa")
        result = _check(world, 12)
        item = _items(result)[SYMPTOM[12]]
        assert not item.ok, str(result)
        assert "vepa mode" in item.hint and "bridge mode" in item.hint, item.hint
    finally:
        lab.reset(world)
    assert troubleshoot.host_macvlans(world) == []


# --- 13. small packets pass, large ones vanish ----------------------------------------------------
# The break: the cloud's network between host1 and host2 (the router's ports) carries
# LAB13_PATH_MTU while the hosts' eth0 still say 1500, and the overlay is made without options.

def _set_mtu(world, host: str, name: str, mtu: int) -> None:
    # `docker exec --privileged` fails on this machine ("unable to apply caps"): enter from the host.
    container = world.hosts[host].docker.containers.get(name)
    facts.run_in(world, container, ["ip", "link", "set", "dev", "eth0", "mtu", str(mtu)])


def _remake_overlay(world, mtu_option: str) -> None:
    """What a learner does with the SDK: both containers and the network made again, with an mtu option."""
    for host, name in (("host1", "lab13-a"), ("host2", "lab13-b")):
        state.remove_container(world.hosts[host].docker, name)
    state.remove_network(world, "host1", "lab13-overlay")
    world.host1.docker.networks.create("lab13-overlay", driver="overlay", attachable=True, labels=world.label,
                                       options={"com.docker.network.driver.mtu": mtu_option})
    for host, name in (("host1", "lab13-a"), ("host2", "lab13-b")):
        world.hosts[host].docker.containers.run(IMAGE, ["sleep", "1000000"], name=name, network="lab13-overlay",
                                                detach=True, labels=world.label)


def _underlay_mtus(world) -> dict[str, int]:
    """Every LAN link's MTU (the hosts' and lanpc's eth0, the router's bridge and ports), from `ip -j link`."""
    links = {"host1": ["eth0"], "host2": ["eth0"], "lanpc": ["eth0"],
             "router": ["lan0", "p-host1", "p-host2", "p-lanpc"]}
    return {f"{m}:{n}": facts.mtu(world, m, n) for m, names in links.items() for n in names}


def test_lab13_wrong_fixes_fail_with_what_was_seen(lab_world):
    """One learner's wrong tries, one after the other (one start, to keep the test short):
    - one end's MTU set by nsenter: the answer is still too large; the hint names both ends as seen;
    - both ends: the full-size ping passes in fragments; the items say so, and that the overlay's
      packets still do not fit the path;
    - the overlay made again with `-o com.docker.network.driver.mtu=1500`: nothing changes (the
      containers get 1450, as troubleshoot.overlay_mtu says); the hint quotes the option;
    - the hosts' own eth0 lowered to the path's size: the ping passes (the kernel fragments the outer
      packets), the item about whole packets fails;
    - the cloud's ports raised back: the symptom goes, the item about the cloud fails."""
    world, lab = lab_world, labs.get(13)
    lab.start(world)
    try:
        _set_mtu(world, "host2", "lab13-b", 1400)
        result = _check(world, 13)
        item = _items(result)[SYMPTOM[13]]
        assert not item.ok and "differ" in item.hint, str(result)
        assert "mtu 1400" in item.hint and "mtu 1450" in item.hint, str(result)

        _set_mtu(world, "host1", "lab13-a", 1400)
        items = _items(_check(world, 13))
        assert items[SYMPTOM[13]].ok, items
        for name in ("lab13-a", "lab13-b"):
            end = items[f"{name}'s eth0 has the MTU lab13-overlay gives its containers (1450)"]
            assert not end.ok and "fragments" in end.problem and "1400" in end.problem, end
        path = troubleshoot.path_mtu(world)
        whole = items[f"lab13-overlay's full-size packets cross the LAN whole (1450 + 50 ≤ {path})"]
        assert not whole.ok and "mtu=" in whole.hint, whole

        _remake_overlay(world, "1500")
        result = _check(world, 13)
        item = _items(result)[SYMPTOM[13]]
        assert not item.ok and "driver.mtu=1500" in item.hint and "1500 bytes" in item.hint, str(result)
        network = state.network(world.host1.docker, "lab13-overlay")
        b = world.host2.docker.containers.get("lab13-b")
        assert facts.mtu(world, b) == troubleshoot.overlay_mtu(network) == 1450

        # The hosts' own NICs lowered to the path's size: this kernel (5.9+) then answers lab13-b from
        # the VXLAN port with ICMP "fragmentation needed" (the first large ping is lost) and splits the
        # outer packets; the symptom goes, but every full-size packet now crosses in fragments.
        for host in ("host1", "host2"):
            world[host].run(["ip", "link", "set", "dev", "eth0", "mtu", str(path)])
        result = next(r for r in (_check(world, 13) for _ in range(2)) if _items(r)[SYMPTOM[13]].ok)
        whole = _items(result)[f"lab13-overlay's full-size packets cross the LAN whole (1450 + 50 ≤ {path})"]
        assert not whole.ok and "fragments" in whole.problem, str(result)
        for host in ("host1", "host2"):
            world[host].run(["ip", "link", "set", "dev", "eth0", "mtu", "1500"])

        for port in ("p-host1", "p-host2"):
            world["router"].run(["ip", "link", "set", "dev", port, "mtu", "1500"])
        result = _check(world, 13)
        items = _items(result)
        assert items[SYMPTOM[13]].ok and not result.passed, str(result)
        cloud = items["the LAN between the hosts (the cloud's network) is as the provider runs it"]
        assert not cloud.ok and "p-host1 mtu 1500" in cloud.problem, str(result)
    finally:
        lab.reset(world)


def test_lab13_reset_restores_every_lan_mtu_on_every_exit_path(lab_world, monkeypatch):
    """The start shrinks only the cloud's ports (the hosts' eth0 keep what they say, lanpc is not on the
    way); the reset puts
    every LAN link back exactly; so does a start that fails half way, and a reset without the record
    (the MTU of the port no lab touches, p-lanpc, is the reference)."""
    world, lab = lab_world, labs.get(13)
    before = _underlay_mtus(world)
    lab.start(world)
    try:
        during = _underlay_mtus(world)
        assert during["router:p-host1"] == during["router:p-host2"] == LAB13_PATH_MTU < before["router:p-host1"]
        # The kernel gives a bridge the MTU of its smallest port: the router's lan0 follows.
        assert during["router:lan0"] == LAB13_PATH_MTU
        cloud = ("router:p-host1", "router:p-host2", "router:lan0")
        outside_cloud = {k: v for k, v in before.items() if k not in cloud}
        assert {k: v for k, v in during.items() if k not in cloud} == outside_cloud
    finally:
        lab.reset(world)
    assert _underlay_mtus(world) == before

    # A start that fails half way through shrinking the path (a link that is not there, after the two
    # real ports were shrunk) puts them back before it raises.
    monkeypatch.setattr(troubleshoot, "_path_links", lambda: {"router": ["p-host1", "p-host2", "no-such-port"]})
    with pytest.raises(Exception, match="no-such-port"):
        lab.start(world)
    monkeypatch.undo()
    assert _underlay_mtus(world) == before
    lab.reset(world)

    world["router"].run(["ip", "link", "set", "dev", "p-host2", "mtu", "1400"])
    (world.names.state_dir / LAB13_MTU_RECORD).unlink(missing_ok=True)
    try:
        assert "MTU 1500 of p-host2 on router (was 1400)" in troubleshoot.restore_underlay(world)
    finally:
        world["router"].run(["ip", "link", "set", "dev", "p-host2", "mtu", str(before["router:p-host2"])])
    assert _underlay_mtus(world) == before
