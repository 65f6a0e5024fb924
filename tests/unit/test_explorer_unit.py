"""The explorer's logic without a world: facts worded from saved real outputs (parsed by the
observe room, as live), and the widget's
callbacks with injected scenarios, tracer and drawer (the real ones are tested in integration)."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.errors import LabError  # noqa: E402
from helpers.observe import network_info  # noqa: E402
from helpers.observe.parse import parse_iptables_save, parse_links, parse_routes  # noqa: E402
from helpers.scenarios.base import ProbeSpec  # noqa: E402
from helpers.widgets import explorer as explorer_module  # noqa: E402
from helpers.widgets.explorer import Explorer, probe_for, probe_kind  # noqa: E402
from helpers.widgets.facts import (  # noqa: E402
    Facts,
    diff_facts,
    format_addresses,
    format_routes,
    nat_rules,
    network_summary,
)

DATA = Path(__file__).parent / "data"


# --- facts on saved real outputs (container 172.17.0.2 on the default bridge, port 8080->80) ---

def test_addresses_and_routes_from_real_ip_json():
    addresses = format_addresses(parse_links((DATA / "explorer_bridge_ip_addr.json").read_text()))
    assert addresses[0] == "lo 127.0.0.1/8"
    assert any(line.startswith("eth0 172.17.0.2/16 (mac ") for line in addresses)
    routes = format_routes(parse_routes((DATA / "explorer_bridge_ip_route.json").read_text()))
    assert routes == ["default via 172.17.0.1 dev eth0", "172.17.0.0/16 dev eth0 src 172.17.0.2"]


def test_nat_rules_of_one_container_include_the_jumps_to_docker_chain():
    table = parse_iptables_save((DATA / "explorer_host1_nat.txt").read_text())  # plain iptables-save, no counters
    rules = nat_rules(table, ["172.17.0.2", "172.17.0.0/16", "docker0"])
    assert "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in rules
    assert "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80" in rules
    assert "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER" in rules
    assert nat_rules(table, ["10.9.9.9"]) == []
    assert nat_rules(table, []) == []


def test_network_summary_of_real_inspect():
    line = network_summary(network_info(json.loads((DATA / "explorer_bridge_network.json").read_text())))
    assert line == "bridge: driver bridge, scope local, subnet 172.17.0.0/16, bridge docker0"


def test_diff_lists_gone_and_new_items_per_category():
    a = Facts("default-bridge", "bridge", addresses=["eth0 172.17.0.2/16"], nat=["-A X"])
    b = Facts("macvlan", "macvlan", addresses=["eth0 198.51.100.64/24"], nat=["-A X"])
    lines = diff_facts(a, b)
    assert "  - eth0 172.17.0.2/16" in lines and "  + eth0 198.51.100.64/24" in lines
    assert any(line.startswith("NAT rules") and line.endswith("unchanged") for line in lines)
    assert diff_facts(None, b) == []


# --- the widget with injected parts ---------------------------------------------------------------

class _World:
    prefix = "dnlab-unit"


class _Path:
    def __init__(self, scenario, probe, reached):
        self.scenario, self.probe, self.reached = scenario, probe, reached

    def summary(self):
        return f"{self.scenario}:{self.probe}"


SPECS = {  # the shapes the real scenarios use
    "c2c": ProbeSpec("c2c", "container:a", "container:b"),
    "egress": ProbeSpec("egress", "container:a", "machine:inet", "tcp", 9000),
    "publish": ProbeSpec("publish", "inet", "machine:host1", "http", 8080),
    "loopback": ProbeSpec("loopback", "host1", "127.0.0.1", "http", 8080),
    "lan": ProbeSpec("lan", "lanpc", "container:app"),
}


def _scenario_class(name, driver, probes, fail=False):
    class _Scenario:
        starts = 0

        def __init__(self, world):
            self.world, self.name, self.driver = world, name, driver

        def start(self):
            if fail:
                raise LabError(f"{name} cannot start here", "dnlab doctor")
            type(self).starts += 1
            return self

        def probe_specs(self):
            return {p: SPECS[p] for p in probes}

    return _Scenario


@pytest.fixture
def parts(monkeypatch):
    monkeypatch.setattr(explorer_module, "_CACHES", {})
    registry = {
        "default-bridge": _scenario_class("default-bridge", "bridge", ["c2c", "egress", "publish", "loopback"]),
        "macvlan": _scenario_class("macvlan", "macvlan", ["c2c", "egress"]),
        "none": _scenario_class("none", "null", ["lan"]),
        "overlay": _scenario_class("overlay", "overlay", ["c2c"], fail=True),
    }
    traced = []

    def trace(world, scenario, probe, start=True):
        traced.append((scenario.name, probe))
        return _Path(scenario.name, probe, reached=scenario.name != "none")

    def draw(path, view="L2"):
        figure = plt.figure()
        figure.text(0.1, 0.5, f"{path.scenario} {path.probe} {view}")
        return figure

    def read(world, scenario, spec):
        return Facts(scenario.name, scenario.driver, addresses=[f"eth0 of {scenario.name}"])

    return dict(world=_World(), trace=trace, draw=draw, read=read, scenarios=registry), traced


def test_switching_driver_redraws_and_diffs_against_previous(parts):
    kwargs, traced = parts
    ex = Explorer(**kwargs)
    assert 'data-scenario="default-bridge"' in ex.caption.value
    assert "default-bridge egress L2" in ex.figure.value and "<svg" in ex.figure.value
    assert '<div role="img" aria-label="default-bridge:egress">' in ex.figure.value  # text alternative
    ex.driver.value = "macvlan"
    assert 'data-scenario="macvlan"' in ex.caption.value and "macvlan egress L2" in ex.figure.value
    assert "eth0 of macvlan" in ex.facts_html.value
    assert "from <b>default-bridge</b> to <b>macvlan</b>" in ex.diff_html.value
    assert "+ eth0 of macvlan" in ex.diff_html.value.replace("&lt;", "<")
    ex.view.value = "NAT"
    assert "macvlan egress NAT" in ex.figure.value
    assert traced == [("default-bridge", "egress"), ("macvlan", "egress")]  # the view reuses the trace


def test_warm_scenarios_and_traces_are_reused_until_rerun(parts):
    kwargs, traced = parts
    ex = Explorer(**kwargs)
    ex.driver.value = "macvlan"
    ex.driver.value = "default-bridge"
    assert kwargs["scenarios"]["default-bridge"].starts == 1
    assert traced.count(("default-bridge", "egress")) == 1
    ex.rerun.click()
    assert traced.count(("default-bridge", "egress")) == 2
    assert "reached" in ex.facts_html.value


def test_probe_a_scenario_does_not_offer_is_a_note_not_a_failure(parts):
    kwargs, _ = parts
    ex = Explorer(**kwargs)
    ex.probe.value = "from the internet"
    ex.driver.value = "macvlan"
    assert "offers no “from the internet” probe" in ex.message.value
    assert "container to container, to the internet." in ex.message.value
    assert ex.figure.value == "" and ex.errors == []


@pytest.mark.parametrize("spec, driver, kind", [
    (ProbeSpec("c2c", "container:a", "container:b@host2"), "overlay", "container to container"),
    (ProbeSpec("egress", "container:app", "203.0.113.10", "tcp", 9000), "macvlan", "to the internet"),
    (ProbeSpec("egress", "container:a", "machine:inet", "tcp", 9000), "bridge", "to the internet"),
    (ProbeSpec("publish", "inet", "machine:host1", "http", 8080), "bridge", "from the internet"),
    (ProbeSpec("loopback", "host1", "127.0.0.1", "http", 8080), "bridge", "from the host"),
    (ProbeSpec("host", "host1", "container:app", expect=False), "macvlan", "from the host"),
    (ProbeSpec("inbound", "lanpc", "machine:host1", "http", 8000), "host", "from the LAN"),
    (ProbeSpec("loopback", "container:app", "127.0.0.1", "http", 8001), "host", "container to the host"),
    (ProbeSpec("loopback", "container:box", "127.0.0.1"), "null", None),  # its own loopback
    (ProbeSpec("lan", "container:box", "machine:host1", expect=False), "null", "container to the host"),
])
def test_probe_kind_from_source_and_target(spec, driver, kind):
    assert probe_kind(spec, driver) == kind
    if kind is not None:
        assert probe_for(kind, {spec.name: spec}, driver) == spec.name
    assert probe_for("from the internet" if kind != "from the internet" else "from the LAN",
                     {spec.name: spec}, driver) is None


def test_failure_is_a_readable_message_without_traceback(parts):
    kwargs, _ = parts
    ex = Explorer(**kwargs)
    ex.driver.value = "overlay"
    assert "dnlab-error" in ex.message.value and "overlay cannot start here" in ex.message.value
    assert "dnlab doctor" in ex.message.value and "Traceback" not in ex.message.value
    assert len(ex.errors) == 1 and "Traceback" in ex.errors[0]
    assert ex.progress.layout.visibility == "hidden"
    ex.driver.value = "macvlan"  # the widget keeps working after a failure
    assert ex.message.value == "" and 'data-scenario="macvlan"' in ex.caption.value


def test_progress_shows_while_a_cold_scenario_starts_and_hides_after(parts):
    kwargs, _ = parts
    ex = Explorer(**kwargs)
    seen = []
    ex.progress.layout.observe(lambda change: seen.append(change["new"]), names="visibility")
    ex.driver.value = "macvlan"          # cold: progress shows, then hides
    assert seen == ["visible", "hidden"]
    seen.clear()
    ex.driver.value = "default-bridge"   # warm and cached: no progress at all
    assert seen == [] or seen == ["hidden"]
    assert ex.progress.layout.visibility == "hidden"


def test_rules_hit_lists_nat_rules_whose_counters_rose():
    from helpers.widgets.explorer import rules_hit

    class P:
        rules = [{"namespace": "host1", "table": "nat", "chain": "POSTROUTING", "delta": 1,
                  "rule": "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"},
                 {"namespace": "host1", "table": "filter", "chain": "FORWARD", "delta": 9,
                  "rule": "-A FORWARD -j DOCKER-USER"}]

    assert rules_hit(P()) == [
        "hit by this probe (+1) in host1: -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"]


def test_a_failed_driver_leaves_no_other_drivers_figure_or_facts(parts):
    kwargs, _ = parts
    ex = Explorer(**kwargs)
    assert "default-bridge" in ex.figure.value
    ex.driver.value = "overlay"
    assert ex.figure.value == "" and ex.caption.value == "" and ex.facts_html.value == ""
    ex.driver.value = "macvlan"  # the diff compares with the last driver actually shown
    assert "from <b>default-bridge</b> to <b>macvlan</b>" in ex.diff_html.value


def test_rules_panel_lists_what_the_packet_met_from_a_saved_run():
    """The "rules this packet met" panel (issue 19.3), from a saved rule-traced run: every rule of
    host1's walk in order, the deciding ones bold, the isolation DROP red; an untraced path says so."""
    import re
    from pathlib import Path

    from helpers.path import rebuild
    from helpers.widgets.explorer import rules_panel

    data = Path(__file__).parent / "data" / "paths"
    path = rebuild(data / "user-bridge-isolation-rules")
    panel = rules_panel(path)
    drop = next(e["rule"] for e in path.netfilter["rules"] if e["verdict"] == "DROP")
    row = re.search(r'<tr class="drop" data-verdict="DROP"><td>FORWARD</td><td>filter</td><td><code>(.*?)</code>',
                    panel)
    assert row and row.group(1) == drop
    assert 'data-namespace="host1"' in panel
    assert "hooks: PREROUTING (policy ACCEPT) › routing decision › FORWARD" in panel
    walk = re.findall(r'<tr class="walk" data-verdict="([^"]+)">', panel)
    assert "JUMP:DOCKER-ISOLATION-STAGE-2" in walk        # the jumps that led there, greyed
    publish = rules_panel(rebuild(data / "trace-lanpc-publish-rules"))
    assert re.search(r'<tr class="decided" data-verdict="DNAT"><td>PREROUTING</td><td>nat</td>', publish)
    assert "Not rule-traced" in rules_panel(rebuild(data / "user-bridge-egress"))


def test_explorer_shows_the_rules_panel_and_asks_for_the_rule_trace(parts, monkeypatch):
    kwargs, traced = parts
    asked = []

    def trace(world, scenario, probe, start=True, rules=False):
        asked.append(rules)
        return _Path(scenario.name, probe, reached=True)

    monkeypatch.setattr(explorer_module, "rules_panel", lambda path: "<p>PANEL</p>")
    ex = Explorer(**{**kwargs, "trace": trace})
    assert asked == [True] and "Rules this packet met" in ex.rules_html.value and "PANEL" in ex.rules_html.value
    ex.driver.value = "overlay"      # fails to start: no other driver's panel under its name
    assert ex.rules_html.value == ""
