"""The pure evaluations behind chapter claims that truth audit 2 found could pass on a false world,
on real outputs saved from world tc (Docker 20.10.24, tests/unit/data/claims/):

- ch02:dns: `facts.lookup_outcome` tells the resolver's NXDOMAIN from a resolver that refused;
- ch02:isolation / docker0-isolated: `ch02.drops_between` names the DROP that counted the
  probe, and none when host1 does not forward;
- ch01:default-route: `facts.route_for` is the kernel's longest-prefix choice, so a specific route
  to the internet's /24 is not taken for the default route;
- ch07:nat: `ch07.source_nat_for` sees `-o eth0 -j MASQUERADE`, not only Docker's `-s SUBNET` rules;
- ch00:fresh-engine: the claim cell itself, on a real fresh engine's drivers and networks, and on the
  article's world (two drivers, bridge and overlay).
"""
from __future__ import annotations

import json
from pathlib import Path

from helpers.lessons import ch02, ch07, facts
from helpers.observe.parse import parse_iptables_save, parse_routes
from tests.claimcells import assert_claim_fails, run_claim

DATA = Path(__file__).parent / "data" / "claims"
INET = "203.0.113.10"
LAN = "198.51.100.0/24"


def _text(name: str) -> str:
    return (DATA / name).read_text()


def test_lookup_outcome_tells_nxdomain_from_a_refused_resolver():
    assert facts.lookup_outcome(_text("nslookup_nxdomain.txt"), "default-bridge-b") == \
        {"server": INET, "outcome": "NXDOMAIN"}
    assert facts.lookup_outcome(_text("nslookup_refused.txt"), "default-bridge-b") == \
        {"server": None, "outcome": "refused"}
    assert facts.lookup_outcome(_text("nslookup_answered.txt"), "user-bridge-b") == \
        {"server": "127.0.0.11", "outcome": "answered"}
    # NXDOMAIN for another name is not this name's answer
    assert facts.lookup_outcome(_text("nslookup_nxdomain.txt"), "other")["outcome"] != "NXDOMAIN"


def _crossing(name: str) -> tuple[dict, dict]:
    saved = json.loads(_text(name))
    rules = [parse_iptables_save(saved[k]) for k in ("before", "after")]
    return saved, ch02.drops_between(*rules, (saved["source_bridge"], saved["target_bridge"]))


def test_the_drop_into_bs_bridge_counted_the_ping():
    saved, found = _crossing("isolation_forwarding.json")
    assert not saved["reached"]
    assert found["dropped_by"] == [f"-A DOCKER-ISOLATION-STAGE-2 -o {saved['target_bridge']} -j DROP"]
    assert any(f"-i {saved['source_bridge']} ! -o {saved['source_bridge']}" in r for r in found["counted"])


def test_without_forwarding_no_rule_counts_the_ping():
    saved, found = _crossing("isolation_no_forwarding.json")
    assert not saved["reached"]            # c did not reach b: the old check's only probe condition
    assert found["dropped_by"] == [] and found["counted"] == []


def test_a_drop_of_the_reply_or_in_the_administrators_chain_does_not_count():
    saved = json.loads(_text("isolation_forwarding.json"))
    before, after = (parse_iptables_save(saved[k]) for k in ("before", "after"))
    # read the other way round (b -> c): the DROP that counted is `-o` the *source* bridge, a reply's
    found = ch02.drops_between(before, after, (saved["target_bridge"], saved["source_bridge"]))
    assert found["dropped_by"] == [] and found["counted"]


def test_on_docker28_the_raw_table_filter_of_bs_address_is_the_drop_that_acted():
    """Docker 28.5 drops c -> b in raw PREROUTING (`-d B/32 ! -i BRIDGE -j DROP`) before any filter
    chain sees it: that rule is named, with its table."""
    saved = json.loads(_text("isolation_docker28.json"))
    before, after = (parse_iptables_save(saved[k]) for k in ("before", "after"))
    bridges = (saved["source_bridge"], saved["target_bridge"])
    found = ch02.drops_between(before, after, bridges, saved["target_address"])
    assert not saved["reached"]
    assert found["dropped_by"] == [f"-A PREROUTING -d {saved['target_address']}/32 ! -i {bridges[1]} -j DROP [raw]"]
    # without the target's address the raw rule is not known to be the target's own filter
    assert ch02.drops_between(before, after, bridges)["dropped_by"] == []


def _routes(name: str):
    return parse_routes(_text(name))


def test_route_for_picks_the_default_route_for_the_internet():
    assert facts.route_for(_routes("host1_routes.json"), INET) == \
        {"dst": "default", "via": "198.51.100.1", "dev": "eth0"}


def test_route_for_picks_a_more_specific_route_over_the_default():
    routes = _routes("host1_routes_specific.json")
    assert any(r.dst == "default" for r in routes)         # the default route is still there
    assert facts.route_for(routes, INET) == {"dst": "203.0.113.0/24", "via": "198.51.100.1", "dev": "eth0"}


def test_source_nat_for_sees_only_dockers_rule_on_the_true_world():
    rules = parse_iptables_save(_text("host1_nat.txt"))
    docker0 = [str(r) for r in ch07.source_nat_for(rules, "172.17.0.0/16", "eth0")]
    assert docker0 and all("-s 172.17.0.0/16" in r for r in docker0)
    assert ch07.source_nat_for(rules, LAN, "eth0") == []    # the host driver's way out: no NAT


def test_source_nat_for_sees_a_catch_all_masquerade_out_of_eth0():
    rules = parse_iptables_save(_text("host1_nat_eth0_masquerade.txt"))
    assert [str(r) for r in ch07.source_nat_for(rules, LAN, "eth0")] == ["-A POSTROUTING -o eth0 -j MASQUERADE"]
    assert ch07.source_nat_for(rules, LAN, "eth1") == []    # it names another exit


def _fresh() -> dict:
    saved = json.loads(_text("fresh_engine.json"))
    return {"networks": saved["networks"], "drivers": sorted(saved["drivers"])}


def test_fresh_engine_claim_holds_on_a_real_fresh_engine_and_quotes_the_article():
    claim = run_claim("ch00:fresh-engine", **_fresh())
    article = (Path(__file__).parent / "data" / "article.ja.txt").read_text(encoding="utf-8")
    assert claim.article_says.strip("「」") in article          # verbatim, not a paraphrase
    assert "二つのドライバー" in claim.article_says              # the article speaks of drivers


def test_fresh_engine_claim_fails_on_an_engine_with_only_bridge_and_overlay_drivers():
    """The article's world: two drivers. The old cell compared networks only and held here."""
    assert_claim_fails("ch00:fresh-engine", {**_fresh(), "drivers": ["bridge", "overlay"]},
                       mentions="its drivers are more than bridge and overlay")


def test_fresh_engine_claim_fails_when_the_hosts_ethernet_is_a_network():
    networks = {**_fresh()["networks"], "eth0": "host"}
    assert_claim_fails("ch00:fresh-engine", {**_fresh(), "networks": networks},
                       mentions="its networks are exactly bridge")
