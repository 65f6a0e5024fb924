"""Reference solutions, one function per lab: `apply(number, world)` runs one (pytest does).

The bodies are also the code cells of labs/solutions/NN_*.ipynb (`helpers.labs.notebooks` writes
them): a line `# %% text` starts a new cell, with `text` as its explanation (continued on `# %%+ text`
lines). The docstring is the
same solution with the docker CLI. Keep the names the tasks ask for; read addresses from the world.
"""
from __future__ import annotations

import ipaddress

import docker

from helpers.labs.troubleshoot import wait_for_name
from helpers.lessons import facts
from helpers.world import engine_facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE, INET_IP

WEB = ["httpd", "-f", "-p", "80", "-h", "/www"]


def lab01(world):
    """docker --context $P-host1 network create lab1-net
    docker --context $P-host1 run -d --name lab1-web --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab1-client --network lab1-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 exec lab1-client cat /etc/resolv.conf       # nameserver 127.0.0.11
    docker --context $P-host1 exec lab1-client nslookup lab1-web 127.0.0.11
    docker --context $P-host1 exec lab1-client ping -c 1 lab1-web
    """
    # %% A network of our own on host1 (the bridge driver is the default). **Why a network of our own:**
    # %%+ only user-defined networks have Docker's embedded DNS. On the default bridge (`docker0`) a
    # %%+ container gets the daemon's `dns` setting as its resolver (this lab sets one; chapter 2, section 2.3
    # %%+ says what happens without it), and nobody there knows container names; the old
    # %%+ `--link` worked around that by writing /etc/hosts entries, which go stale when a container moves.
    client = world.host1.docker
    client.networks.create("lab1-net", driver="bridge", labels=world.label)
    facts.sh(world, "host1", "docker network ls --filter name=lab1")
    # %% Two containers on it. Each gets `nameserver 127.0.0.11` in its /etc/resolv.conf: the engine itself
    # %%+ answers there, with the addresses of the containers on the networks the asker shares with them.
    for name in ("lab1-web", "lab1-client"):
        client.containers.run(IMAGE, IDLE, name=name, network="lab1-net", detach=True, labels=world.label)
    facts.sh(world, "host1", "docker exec lab1-client cat /etc/resolv.conf")
    # %% The evidence: the embedded DNS answers lab1-web's address on lab1-net, and the ping goes there.
    print(facts.sh(world, "host1", "docker exec lab1-client nslookup lab1-web 127.0.0.11"))
    print(probe(world, client.containers.get("lab1-client"), "lab1-web"))


def lab02(world):
    """docker --context $P-host1 run -d --name lab2-web -p 9080:80 dnlab/box:latest httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell host1     # then: iptables-save -t nat | grep 9080
    sudo .venv/bin/dnlab shell inet      # then: wget -qO- http://<host1 eth0>:9080/
    """
    # %% The web server, with its port 80 published as host1's port 9080. **Why publishing:** the server
    # %%+ listens in the container's own network namespace, on an address only host1 can reach. Publishing
    # %%+ makes the engine add a DNAT rule to host1's nat table (chain DOCKER) that sends host1:9080 on to
    # %%+ the container's port 80. It belongs to the container's configuration, so it is set when the
    # %%+ container is created. Without an address, `-p` listens on all of host1's addresses;
    # %%+ `-p 127.0.0.1:9080:80` is meant for host1 alone. [[engine:loopback-publish]]
    client = world.host1.docker
    client.containers.run(IMAGE, WEB, name="lab2-web", ports={"80/tcp": 9080}, detach=True, labels=world.label)
    facts.sh(world, "host1", "iptables-save -t nat | grep 9080")
    # %% host1's address on the LAN, read from host1 itself; then fetch the page from the internet.
    host1 = facts.address(world, "host1")
    print(probe(world, "inet", host1, "http", 9080))


def lab03(world):
    """docker --context $P-host1 run -d --name lab3-alone --network none dnlab/box:latest sleep 1000000
    docker --context $P-host1 network create --internal lab3-internal
    docker --context $P-host1 run -d --name lab3-a --network lab3-internal dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab3-b --network lab3-internal dnlab/box:latest sleep 1000000
    sudo .venv/bin/dnlab shell host1     # then: iptables-save -t filter | grep br-
    """
    # %% A container with the `none` network: its namespace holds only loopback, so nothing can leave it.
    # %%+ (A running container can get there too: `docker network disconnect` it from every network, then
    # %%+ `docker network connect none` it; the engine refuses `none` beside another network. The way back
    # %%+ works too: `docker network disconnect none` it, then connect it to a network; chapter 6.)
    client = world.host1.docker
    alone = client.containers.run(IMAGE, IDLE, name="lab3-alone", network_mode="none", detach=True,
                                  labels=world.label)
    # %% An internal network. **Why `--internal` and not merely no NAT:** with masquerading off
    # %%+ (`enable_ip_masquerade=false`) host1 still routes the containers' packets out, only with their
    # %%+ private source address, so they leave and get no answer. An internal network gets no MASQUERADE
    # %%+ rule, and host1's filter table drops whatever the bridge sends anywhere but back into itself.
    client.networks.create("lab3-internal", internal=True, labels=world.label)
    a = client.containers.run(IMAGE, IDLE, name="lab3-a", network="lab3-internal", detach=True, labels=world.label)
    client.containers.run(IMAGE, IDLE, name="lab3-b", network="lab3-internal", detach=True, labels=world.label)
    # %% The rules that keep it in, on this engine (its version is printed first). [[engine:chains]] The
    # %%+ grep by bridge name finds this network's rules whichever chain holds them. [[engine:nftables]]
    # %%+ (Docker docs: "Packet filtering and firewalls".)
    print("engine", client.version()["Version"])
    bridge = "br-" + client.networks.get("lab3-internal").id[:12]
    facts.sh(world, "host1", f"iptables-save -t filter | grep -- '{bridge}'")
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
    docker --context $P-host1 exec lab4-app ip route
    """
    # %% Two networks, one container on each. Each network is a bridge of its own on host1, with a subnet
    # %%+ of its own.
    client = world.host1.docker
    for name in ("lab4-front", "lab4-back"):
        client.networks.create(name, labels=world.label)
    web = client.containers.run(IMAGE, IDLE, name="lab4-web", network="lab4-front", detach=True, labels=world.label)
    db = client.containers.run(IMAGE, IDLE, name="lab4-db", network="lab4-back", detach=True, labels=world.label)
    # %% The app starts on the front network and is then connected to the back one too. **Why this works:**
    # %%+ a container gets one interface per network, with a route to each subnet, so the app reaches both
    # %%+ sides; the embedded DNS answers it for both networks.
    app = client.containers.run(IMAGE, IDLE, name="lab4-app", network="lab4-front", detach=True,
                                labels=world.label)
    client.networks.get("lab4-back").connect(app)
    facts.sh(world, "host1", "docker exec lab4-app ip route")
    # %% The app reaches both; the front cannot reach the back, not even by address. **Why:** lab4-web has
    # %%+ no route to lab4-back's subnet but its default route via host1, and host1's filter rules drop
    # %%+ traffic from one Docker bridge to another; the app does not forward between its interfaces.
    print(probe(world, app, "lab4-web"))
    print(probe(world, app, "lab4-db"))
    db.reload()
    print(probe(world, web, db.attrs["NetworkSettings"]["Networks"]["lab4-back"]["IPAddress"]))


def lab05(world):
    """sudo .venv/bin/dnlab shell host1     # then: ip addr show eth0; ip route   (the LAN and its router)
    docker --context $P-host1 network create -d macvlan -o parent=eth0 \\
        --subnet <LAN> --gateway <router> --ip-range <a /28 above the machines> lab5-lan
    docker --context $P-host1 run -d --name lab5-web --network lab5-lan dnlab/box:latest httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell lanpc     # then: wget -qO- http://<lab5-web's address>/
    """
    # %% Read the LAN from host1: its eth0 address and its default gateway (the router). Every machine's
    # %%+ LAN address is read too, so the range we reserve provably misses them all.
    eth0 = ipaddress.ip_interface(facts.ipv4(world, "host1", "eth0")[0])
    gateway = facts.default_route(world, "host1")["via"]
    machines = [ipaddress.ip_address(facts.address(world, m)) for m in ("host1", "host2", "lanpc")]
    ip_range = ipaddress.ip_network(f"{eth0.network[64]}/28")
    print(eth0, gateway, ip_range, "misses", [str(m) for m in machines if m not in ip_range])
    # %% A macvlan network on host1's eth0, with the LAN's subnet and gateway. **Why each part:** a
    # %%+ macvlan container is a machine of its own on the LAN (its own MAC), so its packets go straight to
    # %%+ the LAN, not through host1: its gateway must be the LAN's real router. Docker's address manager
    # %%+ knows nothing of the LAN's other machines (there is no DHCP here; on a real LAN, ask its
    # %%+ administrator) and hands out addresses from the bottom of the subnet: `--ip-range` reserves a
    # %%+ part that no machine uses.
    client = world.host1.docker
    pool = docker.types.IPAMPool(subnet=str(eth0.network), gateway=gateway, iprange=str(ip_range))
    client.networks.create("lab5-lan", driver="macvlan", options={"parent": "eth0"},
                           ipam=docker.types.IPAMConfig(pool_configs=[pool]), labels=world.label)
    web = client.containers.run(IMAGE, WEB, name="lab5-web", network="lab5-lan", detach=True, labels=world.label)
    # %% The plain LAN machine reaches the container at its own LAN address; the container reaches the
    # %%+ internet through the router, and no NAT is involved: the internet service sees the container's
    # %%+ own LAN address as the client.
    web.reload()
    address = web.attrs["NetworkSettings"]["Networks"]["lab5-lan"]["IPAddress"]
    print(probe(world, "lanpc", address, "http", 80))
    print(probe(world, web, str(INET_IP), "tcp", 9000))


def lab06(world):
    """docker --context $P-host1 swarm init --advertise-addr <host1 eth0>
    docker --context $P-host2 swarm join --token <worker token> <host1 eth0>:2377
    docker --context $P-host1 network create -d overlay --attachable lab6-overlay
    docker --context $P-host1 run -d --name lab6-a --network lab6-overlay dnlab/box:latest sleep 1000000
    docker --context $P-host2 run -d --name lab6-b --network lab6-overlay dnlab/box:latest sleep 1000000
    """
    # %% host1 becomes a swarm manager, advertising its LAN address. **Why a swarm:** the overlay driver
    # %%+ needs one to share the network's state between engines (which container is on which host).
    # %%+ [[engine:kv-store]] host2 must reach the manager at an address it can
    # %%+ use, hence host1's eth0 address.
    h1, h2 = world.host1.docker, world.host2.docker
    host1, host2 = facts.address(world, "host1"), facts.address(world, "host2")
    node = h1.swarm.init(advertise_addr=host1, listen_addr=f"{host1}:2377")
    print("host1 manages the swarm as node", node)
    # %% host2 joins with the worker token.
    token = h1.swarm.attrs["JoinTokens"]["Worker"]
    h2.swarm.join(remote_addrs=[f"{host1}:2377"], join_token=token, advertise_addr=host2,
                  listen_addr=f"{host2}:2377")
    facts.sh(world, "host1", "docker node ls")
    # %% An attachable overlay, and one container on each host. **Why attachable:** an overlay is made for
    # %%+ swarm services; `--attachable` lets plain `docker run` containers join it too.
    h1.networks.create("lab6-overlay", driver="overlay", attachable=True, labels=world.label)
    h1.containers.run(IMAGE, IDLE, name="lab6-a", network="lab6-overlay", detach=True, labels=world.label)
    b = h2.containers.run(IMAGE, IDLE, name="lab6-b", network="lab6-overlay", detach=True, labels=world.label)
    # %% host2's embedded DNS learns lab6-a's name from the swarm's gossip (TCP/UDP 7946), a moment after
    # %%+ `docker run` returns: wait until the name resolves there before the first ping.
    print("lab6-a known on host2:", wait_for_name(world, b, "lab6-a"))
    # %% Across the hosts, by name: the frames travel inside VXLAN (UDP 4789) between the hosts' eth0.
    print(probe(world, b, "lab6-a"))


def lab07(world):
    r"""docker --context $P-host1 network create lab7-net
    docker --context $P-host1 run -d --name lab7-pod --network lab7-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab7-app --network container:lab7-pod dnlab/box:latest \
        httpd -f -p 8080 -h /www
    docker --context $P-host1 run -d --name lab7-peer --network lab7-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 top lab7-app
    """
    # %% The pod's "pause" container holds the network namespace. **Why a container that only sleeps:**
    # %%+ the namespace lives as long as its first container; Kubernetes starts a tiny pause container
    # %%+ for that, so the app containers can restart without the pod losing its address.
    client = world.host1.docker
    client.networks.create("lab7-net", labels=world.label)
    pod = client.containers.run(IMAGE, IDLE, name="lab7-pod", network="lab7-net", detach=True, labels=world.label)
    # %% The app joins that namespace instead of getting its own: same interfaces, same address, same
    # %%+ ports, and 127.0.0.1 is shared. Its own program is the web server. (If lab7-pod is restarted, it
    # %%+ gets a new namespace and lab7-app keeps the old one until it is restarted too; Kubernetes
    # %%+ restarts the whole pod for that reason.)
    client.containers.run(IMAGE, ["httpd", "-f", "-p", "8080", "-h", "/www"], name="lab7-app",
                          network_mode="container:lab7-pod", detach=True, labels=world.label)
    peer = client.containers.run(IMAGE, IDLE, name="lab7-peer", network="lab7-net", detach=True,
                                 labels=world.label)
    # %% The evidence that lab7-app serves the port: the pid listening on 8080 in the shared namespace is
    # %%+ one of lab7-app's processes.
    print(facts.sh(world, "host1", "nsenter -t $(docker inspect -f '{{.State.Pid}}' lab7-pod) -n ss -ltnp"))
    print(facts.sh(world, "host1", "docker top lab7-app"))
    # %% Inside the pod, the app is on localhost; from outside, it is at the pod's name.
    print(probe(world, pod, "127.0.0.1", "http", 8080))
    print(probe(world, peer, "lab7-pod", "http", 8080))


def lab08(world):
    """sudo .venv/bin/dnlab shell host1 -- docker exec lab8-app nc -w 2 203.0.113.10 9000   # no answer
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://203.0.113.10/   # host1 itself: unreachable
    sudo .venv/bin/dnlab shell lanpc -- curl -sS -m 2 http://203.0.113.10/   # lanpc: fine
    sudo .venv/bin/dnlab shell host1 -- ip route     # no "default" line
    sudo .venv/bin/dnlab shell lanpc -- ip route     # default via the router
    sudo .venv/bin/dnlab shell host1 -- ip route add default via <the router, from lanpc's table>
    """
    # %% The symptom, then the same from host1 itself and from lanpc, its neighbour on the LAN: the packets
    # %%+ die in host1.
    print(facts.sh(world, "host1", f"docker exec lab8-app nc -w 2 {INET_IP} 9000", check=False))
    print(facts.sh(world, "host1", f"curl -sS -m 2 http://{INET_IP}/", check=False))
    facts.sh(world, "lanpc", f"curl -sS -m 2 http://{INET_IP}/")
    # %% Compare the two routing tables: lanpc has a default route (`default via` the router), host1 has none.
    print(facts.sh(world, "host1", "ip route"))
    facts.sh(world, "lanpc", "ip route")
    # %% Give host1 the same default route as lanpc. A route for 203.0.113.10 alone would fix one destination;
    # %%+ the check tries another one.
    gateway = facts.default_route(world, "lanpc")["via"]
    print(facts.sh(world, "host1", f"ip route add default via {gateway}"))
    facts.sh(world, "host1", f"docker exec lab8-app nc -w 2 {INET_IP} 9000")


def lab09(world):
    """sudo .venv/bin/dnlab shell host1 -- docker exec lab9-web ping -c 1 lab9-api   # bad address
    sudo .venv/bin/dnlab shell host1 -- docker inspect -f '{{json .NetworkSettings.Networks}}' lab9-web lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker network connect lab9-net lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker network disconnect bridge lab9-api
    sudo .venv/bin/dnlab shell host1 -- docker exec lab9-web ping -c 1 lab9-api
    """
    # %% The symptom: lab9-web asks Docker's embedded DNS (127.0.0.11) for lab9-api and gets no answer.
    print(facts.sh(world, "host1", "docker exec lab9-web ping -c 1 -W 2 lab9-api", check=False))
    facts.sh(world, "host1", "docker exec lab9-web cat /etc/resolv.conf")
    # %% Where is each container attached? lab9-web on lab9-net, lab9-api on the default bridge.
    facts.sh(world, "host1", "docker inspect -f "
                             "'{{.Name}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "
                             "lab9-web lab9-api")
    # %% Connect lab9-api to lab9-net, and take it off the default bridge, which it does not need.
    print(facts.sh(world, "host1", "docker network connect lab9-net lab9-api"))
    print(facts.sh(world, "host1", "docker network disconnect bridge lab9-api"))
    facts.sh(world, "host1", "docker exec lab9-web ping -c 1 -W 2 lab9-api")


def lab10(world):
    r"""sudo .venv/bin/dnlab shell inet -- curl -sS -m 2 http://<host1>:9081/   # connection refused
    sudo .venv/bin/dnlab shell host1 -- docker inspect -f '{{.NetworkSettings.IPAddress}}' lab10-shop
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://<that address>/   # the shop itself answers
    sudo .venv/bin/dnlab shell host1 -- docker port lab10-shop                  # nothing published
    sudo .venv/bin/dnlab shell host1 -- docker rm -f lab10-shop
    sudo .venv/bin/dnlab shell host1 -- docker run -d --name lab10-shop -p 9081:80 dnlab/box:latest \
        httpd -f -p 80 -h /www
    sudo .venv/bin/dnlab shell inet -- curl -sS -m 2 --retry 5 --retry-connrefused --retry-delay 1 \
        http://<host1>:9081/   # the shop answers from the internet
    """
    # %% The symptom, as a customer sees it: host1 refuses port 9081.
    host1 = facts.address(world, "host1")
    facts.sh(world, "inet", f"curl -sS -m 2 http://{host1}:9081/", check=False)
    # %% Split the path: inside host1, the shop answers at its own address. So the server is fine; the way in
    # %%+ is missing.
    shop = facts.sh(world, "host1", "docker inspect -f '{{.NetworkSettings.IPAddress}}' lab10-shop").output
    print(facts.sh(world, "host1", f"curl -sS -m 2 http://{shop}/"))
    # %% Nothing leads from host1's port 9081 into the container: no published port, no DNAT rule for it.
    print(facts.sh(world, "host1", "docker port lab10-shop"))
    facts.sh(world, "host1", "iptables-save -t nat | grep -e DNAT -e ':DOCKER' || true")
    # %% Ports are published when a container is created: make it again, with the port.
    print(facts.sh(world, "host1", "docker rm -f lab10-shop"))
    labels = " ".join(f"--label {key}={value}" for key, value in world.label.items())
    print(facts.sh(world, "host1", f"docker run -d --name lab10-shop {labels} -p 9081:80 {IMAGE} "
                                   "httpd -f -p 80 -h /www"))
    # %% From the internet again. `docker run -d` returns before httpd listens: on a busy machine the first
    # %%+ try can still be refused, so curl tries again on a refusal (--retry-connrefused), a second apart.
    facts.sh(world, "inet", f"curl -sS -m 2 --retry 5 --retry-connrefused --retry-delay 1 http://{host1}:9081/")


def lab11(world):
    r"""sudo .venv/bin/dnlab shell host1 -- docker exec lab11-app nc -w 2 203.0.113.10 9000   # no answer
    sudo .venv/bin/dnlab shell inet -- tcpdump -ni eth0 -c 2 tcp port 9000   # meanwhile: from 172.17.0.x
    sudo .venv/bin/dnlab shell host1 -- iptables-save -t nat   # no MASQUERADE for the bridge's subnet
    sudo .venv/bin/dnlab shell host2 -- iptables-save -t nat   # host2 has it
    sudo .venv/bin/dnlab shell host1 -- \
        iptables -t nat -A POSTROUTING -s <bridge subnet> ! -o docker0 -j MASQUERADE
    """
    # %% The symptom, and what reaches the internet meanwhile: the capture in `inet` shows the container's own
    # %%+ address as the source.
    shown, (arrived,) = facts.capture(world, [("inet", "eth0")], lambda: facts.sh(
        world, "host1", f"docker exec lab11-app nc -w 2 {INET_IP} 9000", check=False),
        keep=lambda frame: frame.proto == "tcp" and frame.dport == 9000)
    print(shown)
    print("arrived in inet:", *[f"{frame.endpoint('src')} -> {frame.endpoint('dst')} [{frame.tcp_flags}]"
                                for frame in arrived], sep="\n  ")
    # %% Compare the nat tables: host2 masquerades its bridge's subnet on the way out; host1 no longer does.
    print(facts.sh(world, "host1", "iptables-save -t nat | grep POSTROUTING"))
    facts.sh(world, "host2", "iptables-save -t nat | grep POSTROUTING")
    # %% Put back the rule Docker made: packets from the bridge leave with host1's address.
    subnet = facts.sh(world, "host1", "docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge").output
    print(facts.sh(world, "host1", f"iptables -t nat -A POSTROUTING -s {subnet} ! -o docker0 -j MASQUERADE"))
    facts.sh(world, "host1", f"docker exec lab11-app nc -w 2 {INET_IP} 9000")
    # %% Which engine wrote that rule, and where? [[engine:nftables]] (Docker docs: "Docker with
    # %%+ nftables".)
    facts.sh(world, "host1", "docker version -f 'Docker {{.Server.Version}}'; "
                             "iptables-save -t nat | grep -c MASQUERADE")


def lab12(world):
    """sudo .venv/bin/dnlab shell lanpc -- curl -sS -m 2 http://<lab12-web>/   # answers
    sudo .venv/bin/dnlab shell host1 -- curl -sS -m 2 http://<lab12-web>/   # does not
    sudo .venv/bin/dnlab shell host1 -- docker network inspect lab12-lan      # macvlan, parent eth0; aux address
    sudo .venv/bin/dnlab shell host1 -- ip link add lab12-fix link eth0 type macvlan mode bridge
    sudo .venv/bin/dnlab shell host1 -- ip addr add <aux address>/32 dev lab12-fix
    sudo .venv/bin/dnlab shell host1 -- ip link set lab12-fix up
    sudo .venv/bin/dnlab shell host1 -- ip route add <lab12-web>/32 dev lab12-fix
    """
    # %% The symptom: lanpc reaches lab12-web, host1 (where it runs) does not.
    web = facts.sh(world, "host1", "docker inspect -f '{{(index .NetworkSettings.Networks \"lab12-lan\").IPAddress}}' "
                                   "lab12-web").output
    print(facts.sh(world, "lanpc", f"curl -sS -m 2 http://{web}/"))
    facts.sh(world, "host1", f"curl -sS -m 2 http://{web}/", check=False)
    # %% lab12-web is a macvlan child of host1's eth0, and the network keeps an address for the host ("aux address").
    shim = facts.sh(world, "host1", "docker network inspect -f "
                                    "'{{range .IPAM.Config}}{{range .AuxiliaryAddresses}}{{.}}{{end}}{{end}}' "
                                    "lab12-lan").output
    facts.sh(world, "host1", "docker network inspect -f '{{.Driver}} {{.Options}} {{json .IPAM.Config}}' lab12-lan")
    # %% A macvlan sibling of the container on host1's eth0 (bridge mode: siblings talk directly); host1 talks
    # %%+ to the container through it.
    for command in ("ip link add lab12-fix link eth0 type macvlan mode bridge",
                    f"ip addr add {shim}/32 dev lab12-fix", "ip link set lab12-fix up",
                    f"ip route add {web}/32 dev lab12-fix"):
        print(facts.sh(world, "host1", command))
    facts.sh(world, "host1", f"curl -sS -m 2 http://{web}/")


def lab13(world):
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
    # %%+ network.
    labels = " ".join(f"--label {key}={value}" for key, value in world.label.items())
    print(facts.sh(world, "host1", "docker rm -f lab13-a"))
    print(facts.sh(world, "host2", "docker rm -f lab13-b"))
    print(facts.sh(world, "host1", "docker network rm lab13-overlay"))
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


# Why each troubleshooting lab's fault happens, where a real one comes from, and the evidence that
# finds it (the solution notebooks show it after the fix: the learner's notebook never does).
WHY = {
    8: """**Why.** A host sends a packet for an address outside its own networks to its default gateway.
Without a `default` route, host1 has no way to anything beyond the LAN: its own connections fail
at once (`Network is unreachable`), and the packets it forwards for its containers die in it, so the
container only sees a timeout. The container itself was never wrong: its gateway is docker0 in host1.

**Where a real one comes from.** The default route usually comes from DHCP: a lease that is lost or
not renewed (a DHCP client stopped, a cloud metadata service unreachable at boot) removes it; a VPN
client that takes the default route and dies, or a hand-written `ip route del`, netplan or
`/etc/network/interfaces` change, does the same.

**The evidence.** `ip route` on the host (no `default` line), compared with a machine that works; a
connection from the host itself failing at once, not after a timeout. A route to one address only
(`ip route add 203.0.113.10 via ...`) is not a fix: every other destination still fails.""",
    9: """**Why.** Docker's embedded DNS server (127.0.0.11 in every container of a user-defined
network) answers a container's question with the names of the containers on *the same user-defined
network*. lab9-api was started without `--network`, so it landed on the default bridge, where names
are not published at all; the two containers share no network, so the name does not exist for lab9-web
(`bad address`), and even its address would not be reachable.

**Where a real one comes from.** A `docker run` that forgot `--network` (the default is the default
bridge); a Compose project started from another directory, whose network has another name; a
container re-created by a script that did not pass the network along.

**The evidence.** `docker inspect` of both containers (their `NetworkSettings.Networks` differ) and
`cat /etc/resolv.conf` in the client (127.0.0.11: the embedded DNS). `docker network connect` fixes a
running container; `docker run --network lab9-net` fixes it at creation.""",
    10: """**Why.** A container's port is reachable from outside its host only if it is *published*
(`-p 9081:80`): Docker then adds a DNAT rule (and a docker-proxy) that leads host1's port 9081 to the
container's port 80. lab10-shop was started without `-p`, so nothing listens on host1:9081 and the
customer gets `Connection refused`, while the web server inside works (host1 reaches it at the
container's own address). Published ports are part of the container's configuration: a running
container cannot gain one, so it is created again.

**Where a real one comes from.** A forgotten `-p`, a Compose file with `expose:` instead of `ports:`,
`-p 127.0.0.1:9081:80` (meant for the host alone), or a mapping to the wrong container port.
""" + engine_facts.say("loopback-publish") + """

**The evidence.** `docker port lab10-shop` (empty), `iptables-save -t nat` (no DNAT for 9081), and
the shop answering at its own address from host1. `--network host` is another valid route (the shop
then listens on host1's own port, without NAT and without a network namespace of its own).""",
    11: """**Why.** Containers on a bridge have private addresses (172.17.0.0/16). Docker adds one nat
rule per bridge, `-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`, so packets that leave
host1 get host1's address as their source. Without it, lab11-app's packets still leave host1 and
reach the internet service, but with 172.17.0.2 as source: the answer goes to an address no internet
router knows, and never comes back. host1's own connections are not affected (they already have
host1's address).

**Where a real one comes from.** Something else that owns the firewall replaces the whole ruleset:
`nftables.service` loading an `/etc/nftables.conf` that starts with `flush ruleset`, an
`iptables-restore` (or `netfilter-persistent reload`) of a file saved before Docker ran, `iptables -t nat
-F`, a configuration-management role that flushes the chains. dockerd does not notice, and its rules
come back only when it restarts. firewalld is the exception it listens to: a `firewall-cmd --reload`
removes Docker's rules too, and dockerd re-creates them when firewalld signals the reload (a gap in
what it re-created was CVE-2025-54388).

**The evidence.** A capture where the packet arrives (the internet machine sees 172.17.0.x), and
`iptables-save -t nat` compared with a working host. The rule's packet counter (`iptables-save -c`)
rises with each new connection once it is back. A route back to 172.17.0.0/16 on the router would make
the lab answer, but no router on the real internet has one.""",
    12: """**Why.** A macvlan child (lab12-web's interface) sits on host1's eth0 with its own MAC
address. The kernel hands a child's frames straight to the wire, or to a sibling child in bridge mode,
but never up to the parent interface's own stack; the LAN switch does not send a frame back out of the
port it came in on. So every machine on the LAN reaches lab12-web, and host1 itself cannot: this is how
macvlan is built, documented on Docker's macvlan page. A macvlan sibling on the host (a "shim") gives
host1 an interface that *is* a sibling, with an address Docker will not give a container (the
network's aux address, or any address outside its ip-range) and a route to the container through it.

**Where a real one comes from.** Every macvlan deployment where the host must reach its containers
(a monitoring agent, a reverse proxy on the host). A shim in vepa mode does not help: its frames go
out to the switch, which does not hairpin them back.

**The evidence.** lanpc reaches the container, host1 does not; `ip neigh` on host1 shows the container's
address INCOMPLETE or FAILED; `docker network inspect` shows the macvlan driver and `parent=eth0`.""",
    13: """**Why.** An overlay carries each container frame inside a VXLAN packet over the hosts' own
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
own address finds the largest packet that crosses (1450 here).""",
}


SOLUTIONS = {int(name[3:]): fn for name, fn in list(globals().items()) if name.startswith("lab") and callable(fn)}


def apply(number: int, world) -> None:
    """Run the reference solution of lab `number` on `world`."""
    SOLUTIONS[number](world)
