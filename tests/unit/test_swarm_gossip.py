"""swarm.gossip_missing on the views read from this machine's engines (issue 24.5): `ingress`'s NetworkDB
peers as `docker network inspect --verbose` gave them on a healthy swarm, on a swarm whose worker's gossip
agent never started (host2 had no `ingress`; host1 counted only itself), and on one whose `ingress` was
removed."""
from __future__ import annotations

import docker.errors

from helpers.world import swarm

H1, H2 = "198.51.100.11", "198.51.100.12"
PEER1 = {"Name": "0633e2965628", "IP": H1}
PEER2 = {"Name": "75e5907bf8f3", "IP": H2}


class _Api:
    def __init__(self, ingress):
        self.ingress = ingress

    def inspect_network(self, name, verbose=False, scope=None):
        assert name == "ingress" and verbose
        if self.ingress is None:
            raise docker.errors.NotFound("network ingress not found")
        # Docker omits an empty Peers (omitempty), as here
        return {"Name": "ingress", **({"Peers": self.ingress} if self.ingress else {})}


class _Client:
    def __init__(self, node_state, ingress):
        self.node_state, self.api = node_state, _Api(ingress)

    def info(self):
        return {"Swarm": {"LocalNodeState": self.node_state}}


class _Host:
    def __init__(self, address, node_state, ingress):
        self.address, self.docker = address, _Client(node_state, ingress)

    def read_address(self, ifname):
        return self.address


class _World:
    def __init__(self, **hosts):
        self.hosts = hosts

    def __getitem__(self, role):
        return self.hosts[role]


def test_a_healthy_swarm_misses_nobody():
    world = _World(host1=_Host(H1, "active", [PEER1, PEER2]), host2=_Host(H2, "active", [PEER2, PEER1]))
    assert swarm.gossip_missing(world) == {}


def test_a_worker_without_gossip_is_missing_from_the_managers_view():
    world = _World(host1=_Host(H1, "active", [PEER1]), host2=_Host(H2, "active", None))
    assert swarm.gossip_missing(world) == {"host1": [H2]}
    assert swarm.gossip_peers(world) == {"host1": [H1], "host2": None}


def test_a_worker_whose_ingress_lists_no_peers_misses_both():
    world = _World(host1=_Host(H1, "active", [PEER1]), host2=_Host(H2, "active", []))  # not even itself
    assert swarm.gossip_missing(world) == {"host1": [H2], "host2": [H1, H2]}


def test_no_swarm_or_a_removed_ingress_is_not_a_loss():
    assert swarm.gossip_missing(_World(host1=_Host(H1, "inactive", None), host2=_Host(H2, "inactive", None))) == {}
    assert swarm.gossip_missing(_World(host1=_Host(H1, "active", [PEER1]), host2=_Host(H2, "inactive", None))) == {}
    assert swarm.gossip_missing(_World(host1=_Host(H1, "active", None), host2=_Host(H2, "active", None))) == {}


def test_the_diagnosis_names_a_gossip_agent_that_failed_to_start(tmp_path):
    log = tmp_path / "dockerd.log"
    log.write_text("\n".join([  # real lines of host2's dockerd.log: Docker 20.10, then 28.5.2
        'time="2026-12-07T00:09:45.763122067Z" level=info msg="Initializing Libnetwork Agent '
        'Listen-Addr=198.51.100.12"',
        'time="2026-12-07T00:09:45.763324108Z" level=error msg="error in agentInit: failed to create memberlist: '
        'Could not set up network transport: failed to obtain an address: Failed to start TCP listener on '
        '\\"198.51.100.12\\" port 7946: listen tcp 198.51.100.12:7946: bind: address already in use"',
        'time="2026-12-07T00:32:28.165118212Z" level=error msg="Error in agentInit" error="failed to create '
        'memberlist: Could not set up network transport"']) + "\n")
    found = swarm.agent_errors(log)
    assert len(found) == 2 and all("agentInit" in line for line in found)
    assert swarm.agent_errors(tmp_path / "absent.log") == []
    host2 = {"state": "active", "node": "abc", "n": {"peers": None}, "gossip agent errors": found}
    view = {"name": "x", "source": "b", "networks": ["n"], "nslookup from source": {"exit": 1},
            "engines": {"host2": host2}}
    assert "host2 (active, node abc) [gossip agent failed to start" in swarm.summary(view)
