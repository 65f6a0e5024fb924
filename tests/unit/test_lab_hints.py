"""Lab hints that follow what is there (issue 20.7), on states saved from a real world (lt, Docker
20.10.24) and fed to the labs' real checks:

- lab 9: lab9-api is on lab9-net now, but lab9-web's /etc/hosts still maps lab9-api to its old
  default-bridge address; the old third hint ("compare where the two containers are attached")
  pointed at what was already fixed. The hint names the line.
- lab 4: Docker 20.10 refuses `docker run --network lab4-front --network lab4-back` (no container is
  made); the hint for the missing lab4-app says so on such an engine (engine fact multiple-networks).
- lab 5: the hints named the LAN router's address outright; finding it is part of the task, so they
  point to where it is read (host1's default route).
- lab 9's last hint quotes the kernel's rule trace of lab9-web's ping to lab9-api's address (issue
  19.4), saved from world la (Docker 20.10.24): the DROP rule that stopped it, where, its verdict.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.labs import lab04, lab05, lab09, trouble
from helpers.labs.model import FAIL, Checks
from helpers.path import rebuild
from helpers.world.guard import ProbeResult
from helpers.world.naming import WorldNames

DATA = Path(__file__).parent / "data" / "labs"
PATHS = Path(__file__).parent / "data" / "paths"
LOSS = "PING lab9-api (172.17.0.2): 56 data bytes\n\n--- lab9-api ping statistics ---\n" \
       "1 packets transmitted, 0 packets received, 100% packet loss\n"


class Box:
    """A container as the checks read it: attrs, and `cat /etc/hosts` through exec_run."""

    def __init__(self, name: str, networks: dict, hosts: str = "", status: str = "running"):
        self.name, self.status, self.short_id = name, status, "0123456789"
        self.attrs = {"NetworkSettings": {"Networks": networks}, "Config": {"Image": "dnlab/box:latest"},
                      "HostConfig": {"NetworkMode": next(iter(networks), "default")}}
        self.hosts = hosts

    def exec_run(self, argv, **kwargs):
        assert argv == ["cat", "/etc/hosts"], argv
        return 0, self.hosts.encode()


def _world(version: str = "20.10.24+dfsg1"):
    names = WorldNames("lt")
    docker = SimpleNamespace(version=lambda: {"Version": version})
    host1 = SimpleNamespace(docker=docker, context="dnlab-lt-host1")
    return SimpleNamespace(names=names, prefix=names.prefix, host1=host1, hosts={"host1": host1})


def _failed(c: Checks) -> dict[str, str]:
    return {item.what: item.hint for item in c.items if item.status == FAIL}


# --- lab 9 ------------------------------------------------------------------------------------------

def _lab9(monkeypatch, web: Box, api: Box, stage: int = 3) -> dict[str, str]:
    boxes = {"lab9-web": web, "lab9-api": api}
    monkeypatch.setattr(lab09, "stage_of", lambda world, number: stage)
    monkeypatch.setattr(lab09, "container_or_start", lambda world, c, host, name, number: boxes[name])
    monkeypatch.setattr(lab09, "_ping_by_name",
                        lambda world, source, name: ProbeResult(source.name, name, "ping", False, LOSS, 1))
    monkeypatch.setattr(lab09, "traced_probe", _saved_isolation_trace)
    c = Checks()
    lab09.check_network(_world(), c)
    return _failed(c)


def _saved_isolation_trace(world, source: str, target: str, kind: str = "ping", port=None):
    """lab9-web (lab9-net) pinging lab9-api's default-bridge address, traced with --rules on world la."""
    assert (source, target, kind) == ("lab9-web", "172.17.0.2", "ping"), (source, target, kind)
    return rebuild(PATHS / "lab9-isolation-rules")


def test_lab9_last_hint_quotes_the_rule_that_dropped_the_ping_by_address(monkeypatch):
    bridge = {"bridge": {"IPAddress": "172.17.0.2"}}
    web = Box("lab9-web", {"lab9-net": {"IPAddress": "172.18.0.2"}})
    hint = _lab9(monkeypatch, web, Box("lab9-api", bridge))["lab9-web reaches lab9-api by name"]
    assert "by its address 172.17.0.2: lab9-web's ping gets no answer" in hint
    assert "--world lt trace lab9-web 172.17.0.2 --rules`" in hint
    assert ("dropped in host1 by `-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP` (filter FORWARD, verdict DROP)"
            in hint), hint
    assert not any(word in hint.lower() for word in lab09.CAUSE_WORDS), hint
    # the trace runs for the last hint only: the earlier ones cost no trace
    monkeypatch.setattr(lab09, "traced_probe", lambda *a, **k: pytest.fail("traced before the last hint"))
    for stage in (1, 2):
        c = Checks()
        monkeypatch.setattr(lab09, "stage_of", lambda world, number, stage=stage: stage)
        lab09.check_network(_world(), c)
        assert "trace" not in _failed(c)["lab9-web reaches lab9-api by name"]


def test_a_rule_verdict_says_what_the_trace_saw():
    """Dropped: the rule, namespace, table, hook and verdict; got through: no rule is named."""
    world = _world()
    dropped = trouble.rule_verdict(world, rebuild(PATHS / "user-bridge-isolation-rules"), "c", "172.18.0.2")
    assert "dropped in host1 by `-A DOCKER-ISOLATION-STAGE-2" in dropped and "verdict DROP" in dropped
    through = trouble.rule_verdict(world, rebuild(PATHS / "user-bridge-egress-rules"), "a", "inet", "tcp", 9000)
    assert "trace a inet --tcp 9000 --rules`" in through and through.endswith("says it got through")


def test_lab9_names_a_stale_hosts_line_once_both_are_attached(monkeypatch):
    saved = json.loads((DATA / "lab9_stale_hosts.json").read_text())
    web = Box("lab9-web", saved["web_networks"], saved["hosts"])
    api = Box("lab9-api", saved["api_networks"])
    hint = _lab9(monkeypatch, web, api)["lab9-web reaches lab9-api by name"]
    assert "compare where the two containers are attached" not in hint
    assert "/etc/hosts maps lab9-api to 172.17.0.2" in hint
    assert "lab9-api's address on lab9-net is 172.18.0.3" in hint
    assert "--world lt shell host1 -- docker exec lab9-web cat /etc/hosts" in hint


def test_lab9_without_a_hosts_line_keeps_its_staged_hints(monkeypatch):
    saved = json.loads((DATA / "lab9_stale_hosts.json").read_text())
    clean = saved["hosts"].replace("172.17.0.2\tlab9-api\n", "")
    # both attached and no line: ask the DNS itself, not "compare where they are attached"
    both = _lab9(monkeypatch, Box("lab9-web", saved["web_networks"], clean), Box("lab9-api", saved["api_networks"]))
    assert "both are on lab9-net" in both["lab9-web reaches lab9-api by name"]
    # the lab as it starts: lab9-api on the default bridge, the third hint compares the attachments
    bridge = {"bridge": {"IPAddress": "172.17.0.2"}}
    start = _lab9(monkeypatch, Box("lab9-web", saved["web_networks"], clean), Box("lab9-api", bridge))
    assert start["lab9-web reaches lab9-api by name"].startswith("compare where the two containers are attached")
    first = _lab9(monkeypatch, Box("lab9-web", saved["web_networks"], clean), Box("lab9-api", bridge), stage=1)
    assert "/etc/hosts" not in first["lab9-web reaches lab9-api by name"]


# --- lab 4 ------------------------------------------------------------------------------------------

@pytest.fixture
def lab4(monkeypatch):
    """lab4-front and lab4-back, lab4-web and lab4-db as the task asks; no lab4-app (what a refused
    `docker run --network lab4-front --network lab4-back` leaves)."""
    made = {"lab4-web": Box("lab4-web", {"lab4-front": {"IPAddress": "172.21.0.2"}}),
            "lab4-db": Box("lab4-db", {"lab4-back": {"IPAddress": "172.22.0.2"}})}
    monkeypatch.setattr(lab04, "need_network", lambda world, c, host, name, driver: SimpleNamespace(name=name))
    monkeypatch.setattr(lab04.state, "container", lambda client, name: made.get(name))

    def check(version: str) -> dict[str, str]:
        c = Checks()
        lab04.check_two_networks(_world(version), c)
        return _failed(c)
    return check


def test_lab4_says_an_old_engine_refuses_two_network_flags(lab4):
    hint = lab4("20.10.24+dfsg1")["container lab4-app runs on host1"]
    assert "Container cannot be connected to network endpoints" in hint
    assert "`docker network connect`" in hint and "Docker 20.10.24+dfsg1" in hint
    assert "docker --context dnlab-lt-host1 run --name lab4-app" in hint


def test_lab4_on_a_newer_engine_says_two_flags_work(lab4):
    hint = lab4("28.5.2+dfsg4")["container lab4-app runs on host1"]
    assert "accepted" in hint and "cannot be connected" not in hint


# --- lab 5 ------------------------------------------------------------------------------------------

def _lab5(monkeypatch, route_of_web: dict | None) -> dict[str, str]:
    saved = json.loads((DATA / "lab5_wrong_gateway.json").read_text())
    net = SimpleNamespace(name="lab5-lan", attrs=saved["network"])
    web = Box("lab5-web", saved["web_networks"])

    def ipv4(world, role, interface=None):
        found = saved["ipv4"][role if isinstance(role, str) else "lab5-web"]
        return found[:1] if interface else found

    def default_route(world, who):
        return saved["default_route"]["host1"] if who == "host1" else route_of_web

    def need_reaches(world, c, *items):   # every probe fails, each item as lab05 wrote it
        for item in items:
            c.expect(item["what"], False, item.get("problem") or "the probe did not get through", item["hint"])

    monkeypatch.setattr(lab05.facts, "ipv4", ipv4)
    monkeypatch.setattr(lab05.facts, "default_route", default_route)
    monkeypatch.setattr(lab05, "need_network", lambda world, c, host, name, driver: net)
    monkeypatch.setattr(lab05, "need_container", lambda world, c, host, name: web)
    monkeypatch.setattr(lab05, "need_reaches", need_reaches)
    c = Checks()
    lab05.check_macvlan(_world(), c)
    return _failed(c)


ROUTER = re.compile(r"198\.51\.100\.1(?!\d)")   # the LAN router's address (not 198.51.100.1xx)


def test_lab5_hints_point_to_where_the_router_is_found_not_its_address(monkeypatch):
    wrong = _lab5(monkeypatch, {"via": "198.51.100.254", "dev": "eth0"})
    none = _lab5(monkeypatch, None)
    hints = {**wrong, **{f"{what} (no route)": hint for what, hint in none.items()}}
    assert "lab5-web's gateway answers" in wrong and "lab5-web's gateway answers (no route)" in hints
    for what, hint in hints.items():
        assert not ROUTER.search(hint), f"{what}: names the router's address: {hint}"
    for what in ("lab5-web's gateway answers", "lab5-web's gateway answers (no route)",
                 "lab5-web reaches the internet service through the router"):
        assert "ip route show default" in hints[what], hints[what]
    assert "198.51.100.254" in wrong["lab5-web reaches the internet service through the router"]  # the learner's own
