"""The explorer's NAT panel marks the rules the probe went through (their packet counters rose
while it ran, as the tracer read them) and says what the marks mean; the other listed rules are
marked as not hit. Rules from saved real outputs (tests/unit/data/explorer_host1_nat.txt)."""
from __future__ import annotations

from pathlib import Path

from helpers.observe.parse import parse_iptables_save
from helpers.widgets.explorer import Explorer
from helpers.widgets.facts import Facts, mark_hits, nat_lines, nat_rules

DATA = Path(__file__).parent / "data"
MASQ = "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"


def _facts() -> Facts:
    table = parse_iptables_save((DATA / "explorer_host1_nat.txt").read_text())
    return Facts("default-bridge", "bridge", nat=nat_rules(table, ["172.17.0.2", "172.17.0.0/16", "docker0"]))


def _rules(*entries):
    return [{"namespace": ns, "table": table, "rule": rule, "delta": delta} for ns, table, rule, delta in entries]


def test_only_the_rules_whose_counter_rose_are_marked_hit():
    facts = mark_hits(_facts(), _rules(("host1", "nat", MASQ, 2), ("host1", "filter", "-A FORWARD -j DOCKER-USER", 9),
                                       ("router", "nat", "-A POSTROUTING -o wan0 -j MASQUERADE", 1)))
    sentence, marked = nat_lines(facts)
    hit = [rule for rule, is_hit, _ in marked if is_hit]
    assert hit == [MASQ] and len(marked) == len(facts.nat) > 1
    assert f"1 of the {len(facts.nat)} rules" in sentence and "before and after the probe" in sentence
    assert facts.nat_elsewhere == ["router: -A POSTROUTING -o wan0 -j MASQUERADE (+1)"]
    page = Explorer._nat_html(facts)
    assert page.count('data-hit="true"') == 1 and page.count('data-hit="false"') == len(facts.nat) - 1
    assert "✔ hit (+2)" in page and "also hit in router" in page


def test_a_hit_rule_missing_from_the_list_is_added_and_no_probe_marks_nothing():
    facts = Facts("macvlan", "macvlan", nat=["(none: Docker installed no NAT rule for this macvlan container)"])
    mark_hits(facts, _rules(("host1", "nat", MASQ, 1)))
    assert facts.nat == [MASQ] and facts.nat_hits == {MASQ: 1}
    untouched = _facts()
    sentence, marked = nat_lines(untouched)            # no probe ran: nothing claims a hit
    assert "No probe ran" in sentence and not any(is_hit for _, is_hit, _ in marked)


def test_a_probe_that_hit_nothing_says_so():
    facts = mark_hits(_facts(), [])
    sentence, marked = nat_lines(facts)
    assert sentence.startswith("Counters read") and f"0 of the {len(facts.nat)}" in sentence
    assert not any(is_hit for _, is_hit, _ in marked)


def test_a_probe_carried_by_docker_proxy_says_why_no_rule_was_hit():
    facts = mark_hits(_facts(), [], proxied=True)
    sentence, marked = nat_lines(facts)
    assert "docker-proxy" in sentence and not any(is_hit for _, is_hit, _ in marked)
    assert "docker-proxy" not in nat_lines(mark_hits(_facts(), []))[0]


def test_an_empty_nat_list_says_whether_docker_has_rules_in_iptables_at_all():
    from helpers.widgets.facts import _no_rule

    table = parse_iptables_save((DATA / "explorer_host1_nat.txt").read_text())
    assert _no_rule(table, "macvlan") == "(none: Docker installed no NAT rule for this macvlan container)"
    plain = [rule for rule in table if not rule.chain.startswith("DOCKER")]    # an nftables-backend engine
    assert "nftables" in _no_rule(plain, "bridge")


def test_a_counter_raised_by_other_traffic_where_the_probe_never_entered_is_not_a_hit():
    """Seen in CI: a macvlan container's egress, while a swarm's gossip opened a TCP connection to host1
    (PREROUTING -m addrtype --dst-type LOCAL -j DOCKER rose by 1). The probe's flow left no conntrack
    entry in host1 (its packets never enter host1's stack), so the rule is not the probe's."""
    from helpers.widgets.explorer import rules_hit

    gossip = "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"
    noise = [{"namespace": "host1", "table": "nat", "rule": gossip, "delta": 1, "flow": False}]
    facts = mark_hits(Facts("macvlan", "macvlan", host="host1",
                            nat=["(none: Docker installed no NAT rule for this macvlan container)"]), noise)
    assert facts.nat[0].startswith("(none") and facts.nat_hits == {}

    class Path:
        rules = noise

    assert rules_hit(Path()) == []
    counted = mark_hits(Facts("default-bridge", "bridge", host="host1", nat=[MASQ]),
                        [{**noise[0], "rule": MASQ, "flow": True}])
    assert counted.nat_hits == {MASQ: 1}
