"""Troubleshooting labs without a world: staged hints, the check counter, which match of a NAT rule
missed, the overlay MTU model, the terminal form of a hint."""
from __future__ import annotations

from types import SimpleNamespace

from helpers.errors import dnlab_command
from helpers.labs import lab11, lab13, progress, trouble
from helpers.observe.parse import parse_iptables_save


def test_hints_grow_one_step_per_check_then_stay():
    steps = ["where to look", "what to run", "the last step"]
    hints = [trouble.staged(n, steps) for n in range(1, 6)]
    assert hints[0].startswith("where to look") and "check again" in hints[0]
    assert hints[1].startswith("what to run") and "check again" in hints[1]
    assert hints[2] == hints[3] == hints[4] == "the last step"


def test_check_counter_keeps_passes_and_restarts(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path))
    lab = SimpleNamespace(number=8, slug="trouble-no-way-out", title="T")
    assert [progress.count_check("dnlab-u", 8) for _ in range(3)] == [1, 2, 3]
    progress.record_pass("dnlab-u", lab)
    assert progress.count_check("dnlab-u", 8) == 4  # a pass does not wipe the count...
    progress.reset_checks("dnlab-u", 8)
    assert progress.count_check("dnlab-u", 8) == 1  # ...a fresh start does
    assert progress.passed_numbers("dnlab-u") == {8}  # and the count does not wipe the pass
    assert progress.count_check("dnlab-other", 8) == 1  # worlds keep separate records


def _rule(spec: str):
    return parse_iptables_save(f"*nat\n:POSTROUTING ACCEPT [0:0]\n[0:0] -A POSTROUTING {spec}\nCOMMIT\n")[-1]


def test_which_match_of_a_rule_missed():
    why = lab11._why_not_matched
    assert "-o docker0" in why(_rule("-s 172.17.0.0/16 -o docker0 -j MASQUERADE"), "172.17.0.2", "eth0")
    source = why(_rule("-s 10.99.0.0/16 -o eth0 -j MASQUERADE"), "172.17.0.2", "eth0")
    assert "-s 10.99.0.0/16" in source and "out-interface" not in source
    negated = why(_rule("! -s 172.17.0.0/16 -j MASQUERADE"), "172.17.0.2", "eth0")
    assert "! -s 172.17.0.0/16" in negated
    assert "-o eth+" not in why(_rule("-o eth+ -j MASQUERADE"), "172.17.0.2", "eth0")  # "+" is a prefix
    # A rule whose matches all take the packet can only have been skipped for another reason.
    assert why(_rule("-s 172.16.0.0/12 ! -o docker0 -j MASQUERADE"), "172.17.0.2", "eth0") == \
        "an earlier rule of the chain took them"


def test_overlay_mtu_is_the_option_or_1500_minus_vxlan():
    def network(options):
        return SimpleNamespace(attrs={"Options": options})

    assert lab13.overlay_mtu(network({})) == 1450
    assert lab13.overlay_mtu(network(None)) == 1450
    assert lab13.overlay_mtu(network({"com.docker.network.driver.mtu": "1400"})) == 1350


def test_hints_give_the_terminal_form_of_a_command():
    world = SimpleNamespace(names=SimpleNamespace(world_id="w2"))
    assert trouble.shell(world, "host1", "ip route") == f"`{dnlab_command('shell host1', 'w2')} -- ip route`"
    default = SimpleNamespace(names=SimpleNamespace(world_id=None))
    assert trouble.shell(default, "inet") == f"`{dnlab_command('shell inet')}`"


def test_lab13_hint_names_a_half_fix_as_seen_else_grows_by_stage():
    """Lab 13's hint for the lost full-size ping: two ends that differ, or an mtu option, are named as
    seen; otherwise the staged hints, whose first names no cause."""
    world = SimpleNamespace(names=SimpleNamespace(world_id="u"))
    plain = SimpleNamespace(attrs={"Options": {}})
    hint = lab13._mtu_hint(world, plain, {"lab13-a": 1450, "lab13-b": 1400}, 1)
    assert "differ" in hint and "lab13-a's eth0 mtu 1450" in hint and "lab13-b's eth0 mtu 1400" in hint
    option = SimpleNamespace(attrs={"Options": {"com.docker.network.driver.mtu": "1500"}})
    hint = lab13._mtu_hint(world, option, {"lab13-a": 1450, "lab13-b": 1450}, 1)
    assert "driver.mtu=1500" in hint and "get 1450" in hint and "1500 bytes" in hint
    first = lab13._mtu_hint(world, plain, {"lab13-a": 1450, "lab13-b": 1450}, 1)
    assert "check again" in first and not any(w in first.lower() for w in ("mtu", "vxlan", "fragment", "underlay"))
    last = lab13._mtu_hint(world, plain, {"lab13-a": 1450, "lab13-b": 1450}, 3)
    assert "1500-byte" in last and "ping -c 1 -W 1 -s SIZE" in last and "check again" not in last
