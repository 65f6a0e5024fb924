"""Chapter 1: basics and NAT (article section 1)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "01_basics_nat.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 1 — Basics and NAT
        **Article section 1: 「Dockerネットワークの基本概念」** (the basic concepts of Docker networking)

        **Goals.** After this chapter you can say, and show, what a fresh Docker engine has; what a
        container's own network namespace holds; where and how Docker's NAT rewrites a packet on the
        way out (SNAT) and on the way in (DNAT); what conntrack remembers; when `docker-proxy` steps
        in; and which address pools Docker hands out after `172.17.0.0/16`.

        **Prerequisites.** `00_setup` ran once (the lab world is up). You know what an IP address,
        a port and a default route are.

        Every statement below is proven by a live cell on the lab world: `host1` and `host2` are two
        "cloud instances" with their own `dockerd`, on a LAN `198.51.100.0/24` behind a router, and
        `inet` is "the internet" (`203.0.113.10`), a service that tells each client the address it
        sees it come from.
        """),
        code(SETUP),
        code("""
        lesson = chapters.Lesson(world, "ch01").reset()   # this chapter's own containers, cleaned first
        bridge = scenarios.get(world, "default-bridge").start()
        """),
        md("""
        ## 1.1 What a fresh engine has
        > **The article says:** 「docker engineをインストールするとデフォルトでbridgeとoverlayの二つのドライバーが用意されています。またインスタンスそのものが保持するhostのethernetもネットワーク一覧に含まれます。」
        > (a fresh engine has two drivers, bridge and overlay, and the host's ethernet is in the list.)

        Other chapters may have changed `host1`'s engine, so we do not look there. We start a
        **brand-new `dockerd`** in a throwaway namespace, read its network list and its driver list,
        and remove it again. While it lives, we also create 15 networks without naming a subnet, to
        watch which address pool each one gets.
        """),
        code("""
        fresh = chapters.fresh_engine_tour(world)
        facts.table([{"network": k, "driver": v} for k, v in fresh["networks"].items()])
        """),
        code("""
        claims.article_vs_reality(
            "two default drivers, bridge and overlay, and the host's ethernet is listed",
            "a fresh engine lists three networks, bridge, host and none (driver null); no NIC is ever listed",
            claims.equals("a fresh engine's networks", fresh["networks"],
                          {"bridge": "bridge", "host": "host", "none": "null"}))
        """),
        code("""
        claims.holds("the built-in network drivers are more than two: bridge, host, null, overlay, macvlan, ipvlan",
                     {"bridge", "host", "null", "overlay", "macvlan", "ipvlan"} <= set(fresh["drivers"]),
                     evidence=fresh["drivers"])
        """),
        md("""
        `ingress` and `docker_gwbridge` are missing: they appear only once the engine joins a swarm
        (chapter 4 shows them appear).

        ## 1.2 A container has its own network namespace
        > **The article says:** 「docker上のコンテナはホストのネットワークに接続してインターネットにアクセスします。」
        > (containers use the host's network to reach the internet.)

        Partly. A bridge container does *not* use the host's network stack: it gets its own network
        namespace with its own `lo` and `eth0`, its own address and its own default route — via a
        gateway that is an address of `host1`'s `docker0` bridge. The host then *routes* and
        *masquerades* for it.
        """),
        code("""
        box = lesson.box("box")                  # a container on the default bridge
        view = chapters.container_view(world, box)
        facts.table(chapters.rows_of(view))
        """),
        code("""
        claims.holds("the container has its own namespace with lo and eth0, and its default route "
                     "points at the gateway Docker gave it, which is host1's docker0 address",
                     view["own_namespace"] and view["interfaces"] == ["lo", "eth0"]
                     and view["default_route"]["via"] == view["gateway_docker_says"]
                     and view["docker0_on_host1"][0].split("/")[0] == view["gateway_docker_says"],
                     evidence=view)
        """),
        md("""
        To isolate a container you do not "cut the host's connection": you run it with
        `--network none` (chapter 6), put it on an `--internal` network (chapter 2), or
        `docker network disconnect` it (chapter 8).

        ## 1.3 Going out: SNAT (MASQUERADE) in host1's kernel
        > **The article says:** 「コンテナが外部と…通信するには、ホストの物理NICでNATする必要があります。」「…ネットワーク層である第4層で変換(SNAT)されます。」「NATされたパケットはホストの第2層にあるhostのethernet(eth0)に到達し…」
        > (the host's physical NIC must do NAT; SNAT happens at "the network layer, layer 4"; packets reach eth0 "at layer 2".)

        Three corrections, each shown below on one real connection from `box` to the internet service:
        * NAT is done by **host1's kernel (netfilter)**, through a rule Docker installed:
          `POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`. A NIC does no NAT.
        * The network layer is **layer 3**. MASQUERADE rewrites the source **IP (L3)** and, when it
          must, the source **port (L4)**.
        * The packet is **routed** (L3, `ip_forward=1`) from `docker0` to `eth0`, rewritten on the way
          out, and the internet sees host1's address.

        We capture the same SYN twice: on `docker0` (before NAT) and on `eth0` (after NAT).
        """),
        code("""
        out = chapters.egress_snat(world, box)
        facts.table(chapters.rows_of(out))
        """),
        code("""
        claims.article_vs_reality(
            "the physical NIC does NAT, at 'the network layer, layer 4'",
            "host1's netfilter MASQUERADE rule rewrites the source IP (L3) as the packet is routed out of eth0",
            claims.holds("before NAT the source is the container, after NAT it is host1's eth0, the "
                         "internet saw host1, and the MASQUERADE rule's counter rose",
                         out["before_nat (docker0)"]["src"] == out["container_ip"]
                         and out["after_nat (eth0)"]["src"] == out["host1_eth0"]
                         and out["inet_saw_address"] == out["host1_eth0"]
                         and out["rule_packets_after"] > out["rule_packets_before"],
                         evidence={k: out[k] for k in ("container_ip", "host1_eth0", "inet_saw_address")}))
        """),
        md("""
        ### conntrack remembers the rewrite
        The kernel keeps one conntrack entry per connection: the **original** tuple (as the container
        sent it) and the **reply** tuple (what the answer will look like). The reply comes back to
        host1's address and is un-NATed by this entry, back to the container — no rule needed.
        """),
        code("""
        ct = out["conntrack"]
        claims.holds("conntrack: original src is the container, the reply goes to host1's eth0 address",
                     ct["original"]["src"] == out["container_ip"] and ct["reply"]["dst"] == out["host1_eth0"],
                     evidence=ct)
        """),
        md("""
        ### When the port must change too (L4)
        Two containers connect from the **same** local port to the same service. After the address
        rewrite both would be `host1:40000 → inet:9000` — one tuple for two connections. Netfilter
        therefore rewrites the source **port** of one of them.
        """),
        code("""
        clash = chapters.port_rewrite(world, lesson)
        facts.table(clash["connections"])
        """),
        code("""
        claims.holds("same container-side port twice, yet the internet saw two different source ports: "
                     "MASQUERADE rewrote the L4 port as well as the L3 address",
                     len(set(clash["ports_seen"])) == 2 and None not in clash["ports_seen"],
                     evidence=clash["ports_seen"])
        """),
        md("""
        Figure: the egress path, traced by the packet-path room, in its NAT view. Every hop comes from a
        capture: to open those captures yourself, run `sudo .venv/bin/dnlab path default-bridge egress
        --keep /tmp/egress` in a terminal; it saves one pcap per interface for Wireshark or `tcpdump -r`.
        """),
        code("""
        chapters.show_path(world, bridge, "egress", view="NAT")
        """),
        md("""
        ## 1.4 Coming in: DNAT for a published port, docker-proxy for host1's own loopback
        > **The article says:** 「内部への通信は物理NICで受けるためDNATされません。」
        > (inbound traffic arrives on the physical NIC, so it is not DNATed.)

        Wrong. `-p 8080:80` makes Docker add a **DNAT** rule in the nat table's `DOCKER` chain: a
        packet to host1:8080 gets its destination rewritten to the container's address and port 80.
        The container then sees the real client. Ports that are not published are not reachable
        from outside at all. Traffic from host1's **own loopback** cannot take that rule (it never
        crosses PREROUTING), so Docker runs a userland relay, `docker-proxy`: the container then sees
        the bridge gateway as its client.

        Our web container answers every request with the client address it sees.
        """),
        code("""
        web = lesson.web("web", ports={"80/tcp": 18080})
        inbound = chapters.inbound_dnat(world, web, 18080)
        facts.table(chapters.rows_of(inbound))
        """),
        code("""
        claims.article_vs_reality(
            "inbound traffic is not DNATed",
            "a published port is DNATed to the container, which sees the real client",
            claims.holds("a DNAT rule for 18080 exists, its counter rose, and the container saw lanpc's own address",
                         len(inbound["dnat_rule"]) == 1
                         and inbound["dnat_packets_after"] > inbound["dnat_packets_before"]
                         and inbound["container_saw_from_lanpc"] == inbound["lanpc_address"],
                         evidence={"rule": inbound["dnat_rule"], "saw": inbound["container_saw_from_lanpc"]}))
        """),
        code("""
        claims.holds("from host1's loopback the request went through docker-proxy: the container saw the gateway",
                     inbound["container_saw_from_host1_loopback"] == inbound["docker0_address"]
                     and len(inbound["docker_proxies"]) >= 1,
                     evidence={"saw": inbound["container_saw_from_host1_loopback"], "proxy": inbound["docker_proxies"]})
        """),
        code("""
        claims.holds("an unpublished port (80 on host1) is not reachable from the LAN",
                     not inbound["unpublished_port_80"]["ok"], evidence=inbound["unpublished_port_80"])
        """),
        code("""
        chapters.show_path(world, bridge, "publish", view="NAT")
        """),
        md("""
        ## 1.5 Address pools: 172.17.0.0/16 is only the first
        > **The article says:** 「一般にコンテナ内のIPアドレス帯は172.17.0.0/16が割り当てられることが多いです。」
        > (container addresses are usually 172.17.0.0/16.)

        Partly: that is the default bridge, `docker0`. Each user-defined network takes the next free
        subnet of Docker's default pools: `172.18/16`, `172.19/16`, then `172.20/14`, `172.24/14`,
        `172.28/14` cut into /16s, then `192.168.0.0/16` cut into /20s. The fresh engine above got
        15 new networks; we compare each with the documented order (`facts.DEFAULT_POOLS`).
        """),
        code("""
        facts.table(fresh["pool_walk"])
        """),
        code("""
        walk = fresh["pool_walk"]
        claims.holds("every network got exactly the next free subnet of the default pools; after 172.31/16 "
                     "comes 192.168.0.0/20",
                     all(w["subnet"] == w["predicted"] for w in walk) and walk[-1]["subnet"] == "192.168.0.0/20",
                     evidence=[w["subnet"] for w in walk])
        """),
        md("""
        ## Summary
        * A fresh engine has three networks (`bridge`, `host`, `none`) and six built-in drivers; the
          host's NIC is never a Docker network.
        * A bridge container has its own namespace; host1 routes for it (L3) and masquerades it in
          netfilter (source IP, and port when needed); conntrack un-NATs the replies.
        * Published ports are DNATed; host1's own loopback traffic goes through `docker-proxy`.
        * `172.17.0.0/16` is docker0; other networks get the next free pool.

        ## Exercises
        1. Which address does the internet service see when `box` connects to it, and why? Check
           with one `probe`.
        2. Find the packet counter of the DNAT rule for port 18080 with `facts.rule_packets`.
        3. Predict the subnet the next user-defined network would get on a fresh engine if 172.18/16
           were already taken by your LAN.
        """),
        solution("""
        # 1. host1's eth0 address: MASQUERADE rewrote the source on the way out of eth0.
        r = helpers.world.guard.probe(world, box, "203.0.113.10", "tcp", 9000)
        print(r.output, "host1 eth0:", facts.address(world, "host1"))
        # 2.
        print(facts.rule_packets(world, "host1", "--dport 18080 ", "DNAT"))
        # 3. the next free one: 172.17/16 (docker0) and 172.18/16 taken -> 172.19.0.0/16
        print(facts.next_default_subnet(["172.17.0.0/16", "172.18.0.0/16"]))
        """),
        code("""
        lesson.stop()       # this chapter's containers
        bridge.stop()       # and the scenario it started
        """),
    ])
