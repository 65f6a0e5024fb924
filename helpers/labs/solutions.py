"""Reference solutions, one function per lab: `apply(number, world)` runs one (pytest does).

The bodies are also the code cells of labs/solutions/NN_*.ipynb (`helpers.labs.notebooks` writes
them): a line `# %% text` starts a new cell, with `text` as its explanation. The docstring is the
same solution with the docker CLI. Keep the names the tasks ask for; read addresses from the world.
"""
from __future__ import annotations

import ipaddress

import docker

from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IMAGE, INET_IP

IDLE = ["sleep", "1000000"]
WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]


def lab01(world):
    """docker --context $P-host1 network create lab1-net
    docker --context $P-host1 run -d --name lab1-web --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab1-client --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 exec lab1-client ping -c 1 lab1-web
    """
    # %% A network of our own on host1 (the bridge driver is the default).
    client = world.host1.docker
    client.networks.create("lab1-net", driver="bridge", labels=world.label)
    # %% Two containers on it.
    for name in ("lab1-web", "lab1-client"):
        client.containers.run(IMAGE, IDLE, name=name, network="lab1-net", detach=True, labels=world.label)
    # %% The name resolves through Docker's embedded DNS (127.0.0.11) on a user-defined network.
    print(probe(world, client.containers.get("lab1-client"), "lab1-web"))


def lab02(world):
    """docker --context $P-host1 run -d --name lab2-web -p 9080:80 dnlab/box:latest httpd -f -p 80 -h /www
    # then, from the internet machine: wget -qO- http://<host1 eth0>:9080/
    """
    # %% The web server, with its port 80 published as host1's port 9080.
    client = world.host1.docker
    client.containers.run(IMAGE, WEB, name="lab2-web", ports={"80/tcp": 9080}, detach=True, labels=world.label)
    # %% host1's address on the LAN, read from host1 itself; then fetch the page from the internet.
    host1 = facts.address(world, "host1")
    print(probe(world, "inet", host1, "http", 9080))


def lab03(world):
    """docker --context $P-host1 run -d --name lab3-alone --network none dnlab/box:latest sleep 1000000
    docker --context $P-host1 network create --internal lab3-internal
    docker --context $P-host1 run -d --name lab3-a --network lab3-internal dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab3-b --network lab3-internal dnlab/box:latest sleep 1000000
    """
    # %% A container with the `none` network: only loopback.
    client = world.host1.docker
    alone = client.containers.run(IMAGE, IDLE, name="lab3-alone", network_mode="none", detach=True,
                                  labels=world.label)
    # %% An internal network: a bridge without a gateway out and without NAT.
    client.networks.create("lab3-internal", internal=True, labels=world.label)
    a = client.containers.run(IMAGE, IDLE, name="lab3-a", network="lab3-internal", detach=True, labels=world.label)
    client.containers.run(IMAGE, IDLE, name="lab3-b", network="lab3-internal", detach=True, labels=world.label)
    # %% Inside: reachable by name. Outside: unreachable, from both.
    print(probe(world, a, "lab3-b"))
    print(probe(world, a, str(INET_IP), "tcp", 9000))
    print(probe(world, alone, str(INET_IP), "tcp", 9000))


def lab04(world):
    """docker --context $P-host1 network create lab4-front
    docker --context $P-host1 network create lab4-back
    docker --context $P-host1 run -d --name lab4-web --network lab4-front dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab4-db --network lab4-back dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab4-app --network lab4-front dnlab/box:latest sleep 1000000
    docker --context $P-host1 network connect lab4-back lab4-app
    """
    # %% Two networks, one container on each.
    client = world.host1.docker
    for name in ("lab4-front", "lab4-back"):
        client.networks.create(name, labels=world.label)
    web = client.containers.run(IMAGE, IDLE, name="lab4-web", network="lab4-front", detach=True, labels=world.label)
    db = client.containers.run(IMAGE, IDLE, name="lab4-db", network="lab4-back", detach=True, labels=world.label)
    # %% The app starts on the front network and is then connected to the back one too.
    app = client.containers.run(IMAGE, IDLE, name="lab4-app", network="lab4-front", detach=True,
                                labels=world.label)
    client.networks.get("lab4-back").connect(app)
    # %% The app reaches both; the front cannot reach the back, not even by address.
    print(probe(world, app, "lab4-web"))
    print(probe(world, app, "lab4-db"))
    db.reload()
    print(probe(world, web, db.attrs["NetworkSettings"]["Networks"]["lab4-back"]["IPAddress"]))


def lab05(world):
    """docker --context $P-host1 network create -d macvlan -o parent=eth0 \\
        --subnet <LAN> --gateway <router> --ip-range <a /28 far from the machines> lab5-lan
    docker --context $P-host1 run -d --name lab5-web --network lab5-lan dnlab/box:latest httpd -f -p 80 -h /www
    """
    # %% Read the LAN from host1: its eth0 address and its default gateway.
    eth0 = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0])
    gateway = facts.default_route(world, "host1")["via"]
    ip_range = ipaddress.ip_network(f"{eth0.network[64]}/28")  # .64/28: no machine of the LAN is there
    print(eth0, gateway, ip_range)
    # %% A macvlan network on host1's eth0, with the LAN's subnet and gateway.
    client = world.host1.docker
    pool = docker.types.IPAMPool(subnet=str(eth0.network), gateway=gateway, iprange=str(ip_range))
    client.networks.create("lab5-lan", driver="macvlan", options={"parent": "eth0"},
                           ipam=docker.types.IPAMConfig(pool_configs=[pool]), labels=world.label)
    web = client.containers.run(IMAGE, WEB, name="lab5-web", network="lab5-lan", detach=True, labels=world.label)
    # %% The plain LAN machine reaches the container at its own LAN address.
    web.reload()
    address = web.attrs["NetworkSettings"]["Networks"]["lab5-lan"]["IPAddress"]
    print(probe(world, "lanpc", address, "http", 80))


def lab06(world):
    """docker --context $P-host1 swarm init --advertise-addr <host1 eth0>
    docker --context $P-host2 swarm join --token <worker token> <host1 eth0>:2377
    docker --context $P-host1 network create -d overlay --attachable lab6-overlay
    docker --context $P-host1 run -d --name lab6-a --network lab6-overlay dnlab/box:latest sleep 1000000
    docker --context $P-host2 run -d --name lab6-b --network lab6-overlay dnlab/box:latest sleep 1000000
    """
    # %% host1 becomes a swarm manager, advertising its LAN address.
    h1, h2 = world.host1.docker, world.host2.docker
    host1, host2 = facts.address(world, "host1"), facts.address(world, "host2")
    h1.swarm.init(advertise_addr=host1, listen_addr=f"{host1}:2377")
    # %% host2 joins with the worker token.
    token = h1.swarm.attrs["JoinTokens"]["Worker"]
    h2.swarm.join(remote_addrs=[f"{host1}:2377"], join_token=token, advertise_addr=host2,
                  listen_addr=f"{host2}:2377")
    # %% An attachable overlay, and one container on each host.
    h1.networks.create("lab6-overlay", driver="overlay", attachable=True, labels=world.label)
    h1.containers.run(IMAGE, IDLE, name="lab6-a", network="lab6-overlay", detach=True, labels=world.label)
    b = h2.containers.run(IMAGE, IDLE, name="lab6-b", network="lab6-overlay", detach=True, labels=world.label)
    # %% Across the hosts, by name.
    print(probe(world, b, "lab6-a"))


def lab07(world):
    """docker --context $P-host1 network create lab7-net
    docker --context $P-host1 run -d --name lab7-pod --network lab7-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab7-app --network container:lab7-pod dnlab/box:latest httpd -f -p 8080 -h /www
    docker --context $P-host1 run -d --name lab7-peer --network lab7-net dnlab/box:latest sleep 1000000
    """
    # %% The pod's "pause" container holds the network namespace.
    client = world.host1.docker
    client.networks.create("lab7-net", labels=world.label)
    pod = client.containers.run(IMAGE, IDLE, name="lab7-pod", network="lab7-net", detach=True, labels=world.label)
    # %% The app joins that namespace instead of getting its own.
    client.containers.run(IMAGE, ["httpd", "-f", "-p", "8080", "-h", "/www"], name="lab7-app",
                          network_mode="container:lab7-pod", detach=True, labels=world.label)
    peer = client.containers.run(IMAGE, IDLE, name="lab7-peer", network="lab7-net", detach=True,
                                 labels=world.label)
    # %% Inside the pod, the app is on localhost; from outside, it is at the pod's name.
    print(probe(world, pod, "127.0.0.1", "http", 8080))
    print(probe(world, peer, "lab7-pod", "http", 8080))


def lab08(world):
    """sudo ip netns exec $P-host1 ip route           # no default route
    sudo ip netns exec $P-lanpc ip route           # lanpc has one: default via the router
    sudo ip netns exec $P-host1 ip route add default via <router>
    """
    # %% Compare host1's routing table with lanpc's: host1 lacks the default route.
    print(world["host1"].run(["ip", "route"]).stdout)
    print(world["lanpc"].run(["ip", "route"]).stdout)
    # %% Give host1 the same default route as lanpc.
    gateway = facts.default_route(world, "lanpc")["via"]
    world["host1"].run(["ip", "route", "add", "default", "via", gateway])
    print(probe(world, world.host1.docker.containers.get("lab8-app"), str(INET_IP), "tcp", 9000))


def lab09(world):
    """docker --context $P-host1 inspect -f '{{json .NetworkSettings.Networks}}' lab9-api   # on bridge
    docker --context $P-host1 network connect lab9-net lab9-api
    """
    # %% lab9-api is on the default bridge, where there is no name resolution and no way to lab9-net.
    client = world.host1.docker
    api = client.containers.get("lab9-api")
    print(list(api.attrs["NetworkSettings"]["Networks"]))
    # %% Connect it to the network lab9-web is on (and leave the default bridge).
    client.networks.get("lab9-net").connect(api)
    client.networks.get("bridge").disconnect(api)
    print(probe(world, client.containers.get("lab9-web"), "lab9-api"))


def lab10(world):
    """docker --context $P-host1 port lab10-shop      # nothing
    docker --context $P-host1 rm -f lab10-shop
    docker --context $P-host1 run -d --name lab10-shop -p 9081:80 dnlab/box:latest httpd -f -p 80 -h /www
    """
    # %% The shop publishes no port: from outside, host1:9081 leads nowhere.
    client = world.host1.docker
    shop = client.containers.get("lab10-shop")
    print(shop.attrs["NetworkSettings"]["Ports"])
    # %% Ports are published when a container is created: make it again, with the port.
    shop.remove(force=True)
    client.containers.run(IMAGE, WEB, name="lab10-shop", ports={"80/tcp": 9081}, detach=True, labels=world.label)
    host1 = facts.address(world, "host1")
    print(probe(world, "inet", host1, "http", 9081))


def lab11(world):
    """sudo ip netns exec $P-host1 iptables-save -t nat    # no MASQUERADE for the bridge's subnet
    sudo ip netns exec $P-host1 iptables -t nat -A POSTROUTING -s <bridge subnet> ! -o docker0 -j MASQUERADE
    """
    # %% host2's nat table masquerades its bridge's subnet; host1's no longer does.
    for host in ("host1", "host2"):
        print(host, [rule for rule in facts.nat_rules(world, host) if "POSTROUTING" in rule])
    # %% Put back the rule Docker made: packets from the bridge leave with host1's address.
    subnet = world.host1.docker.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"]
    world["host1"].run(["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", subnet, "!", "-o", "docker0",
                        "-j", "MASQUERADE"])
    print(probe(world, world.host1.docker.containers.get("lab11-app"), str(INET_IP), "tcp", 9000))


def lab12(world):
    """sudo ip netns exec $P-host1 ip link add lab12-shim link eth0 type macvlan mode bridge
    sudo ip netns exec $P-host1 ip addr add <aux address>/32 dev lab12-shim
    sudo ip netns exec $P-host1 ip link set lab12-shim up
    sudo ip netns exec $P-host1 ip route add <lab12-web>/32 dev lab12-shim
    """
    # %% The network keeps an address for a host shim (an "aux address"); the container has its own.
    client = world.host1.docker
    pool = client.networks.get("lab12-lan").attrs["IPAM"]["Config"][0]
    shim = pool["AuxiliaryAddresses"]["host1-shim"]
    web = client.containers.get("lab12-web").attrs["NetworkSettings"]["Networks"]["lab12-lan"]["IPAddress"]
    print(shim, web)
    # %% A macvlan sibling of the container on host1's eth0: host1 talks to the container through it.
    for argv in (["ip", "link", "add", "lab12-shim", "link", "eth0", "type", "macvlan", "mode", "bridge"],
                 ["ip", "addr", "add", f"{shim}/32", "dev", "lab12-shim"],
                 ["ip", "link", "set", "lab12-shim", "up"],
                 ["ip", "route", "add", f"{web}/32", "dev", "lab12-shim"]):
        world["host1"].run(argv)
    print(probe(world, "host1", web, "http", 80))


def lab13(world):
    """docker --context $P-host2 exec lab13-b ping -c 1 -s 1422 lab13-a   # no answer
    docker --context $P-host1 exec lab13-a ip link      # eth0 mtu 1280
    docker --context $P-host2 exec lab13-b ip link      # eth0 mtu 1450
    docker --context $P-host1 rm -f lab13-a
    docker --context $P-host1 run -d --name lab13-a --network lab13-overlay dnlab/box:latest sleep 1000000
    """
    # %% The symptom: a ping as large as the overlay's MTU (1450 = 1422 + 28 bytes of headers) gets lost.
    a = world.host1.docker.containers.get("lab13-a")
    b = world.host2.docker.containers.get("lab13-b")
    print(probe(world, b, "lab13-a", size=1422))
    # %% Compare the interfaces of both containers: lab13-a's MTU is lower than the overlay's.
    for container in (a, b):
        print(container.name, container.exec_run(["ip", "-o", "link", "show", "eth0"]).output.decode())
    # %% A container's interfaces are set up when it starts: start lab13-a again on the overlay.
    a.remove(force=True)
    world.host1.docker.containers.run(IMAGE, IDLE, name="lab13-a", network="lab13-overlay", detach=True,
                                      labels=world.label)
    print(probe(world, b, "lab13-a", size=1422))


SOLUTIONS = {int(name[3:]): fn for name, fn in list(globals().items()) if name.startswith("lab") and callable(fn)}


def apply(number: int, world) -> None:
    """Run the reference solution of lab `number` on `world`."""
    SOLUTIONS[number](world)
