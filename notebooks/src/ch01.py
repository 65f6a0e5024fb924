"""Chapter 1: basics and NAT (article section 1)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "01_basics_nat.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 1 — Basics and NAT
        **Article section 1: 「Dockerネットワークの基本概念」** (the basic concepts of Docker networking)

        **Goals.** After this chapter you can say, and show, what a fresh Docker engine has; what a
        container's own network namespace holds; where and how Docker's NAT rewrites a packet on the
        way out (SNAT) and on the way in (DNAT); what conntrack remembers; when `docker-proxy` steps
        in; what really keeps an unpublished port closed; and which address pools Docker hands out
        after `172.17.0.0/16`.

        **Prerequisites.** `00_setup` ran once (the lab world is up, and you know `dnlab shell`). You
        know what an IP address, a port and a default route are.

        Every statement below is proven by a live cell on the lab world: `host1` and `host2` are two
        "cloud instances" with their own `dockerd`, on a LAN `198.51.100.0/24` behind a router, and
        `inet` is "the internet" (`203.0.113.10`), a service that tells each client the address it
        sees it come from. Lines such as `host1# iptables-save -t nat` are real commands, run on that
        machine just now: type them yourself after `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-1-basics-nat"),
        code(setup("ch01")),
        code("""
        # extra code: this chapter's own containers (cleaned first) and the default-bridge scenario
        lesson = ch01.Lesson(world, "ch01").reset()
        bridge = scenarios.get(world, "default-bridge").start()
        """, id="code-extra-code-this-chapter"),
        md("""
        ## 1.1 What a fresh engine has
        > **The article says:** 「dockerの公式ページを参照しますと、docker engineをインストールするとデフォルトでbridgeとoverlayの二つのドライバーが用意されています。またインスタンスそのものが保持するhostのethernetもネットワーク一覧に含まれます。」
        > (a fresh engine has two drivers, bridge and overlay, and the host's ethernet is in the list.)

        The "official page" the article cites is the old Japanese translation of Docker's user guide
        (`docs.docker.jp/engine/userguide/networking/dockernetworks.html`, listed under 参考 at its end):
        a page written for Docker 1.x, which is also where its Consul/Etcd/ZooKeeper claim (chapter 4)
        comes from.

        Other chapters may have changed `host1`'s engine, so we do not look there. We start a
        **brand-new `dockerd`** in a throwaway namespace, run `docker network ls` on it, read its driver
        list, and remove it again. While it lives, we also create 15 networks without naming a subnet,
        to watch which address pool each one gets (section 1.5).
        """, id="1.1-fresh-engine-has"),
        code("""
        fresh = ch01.fresh_engine_tour(world)
        print("$ docker network ls        # on the brand-new engine")
        print(fresh["network_ls"])
        """),
        claim("ch01:fresh-engine", """
        claims.article_vs_reality(
            "two default drivers, bridge and overlay, and the host's ethernet is listed",
            "a fresh engine lists three networks, bridge, host and none (driver null), and has six "
            "built-in drivers; no NIC is ever a Docker network",
            claims.all_of("what a brand-new engine has", {
                "its networks are exactly bridge (driver bridge), host (host) and none (null)":
                    fresh["networks"] == {"bridge": "bridge", "host": "host", "none": "null"},
                "its built-in drivers include bridge, host, null, overlay, macvlan and ipvlan":
                    {"bridge", "host", "null", "overlay", "macvlan", "ipvlan"} <= set(fresh["drivers"]),
            }, evidence={"networks": fresh["networks"], "drivers": fresh["drivers"]}))
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
        *masquerades* for it. First, as you would look at it on host1:
        """, id="ingress-docker-gwbridge"),
        code("""
        box = lesson.box("box")                  # a container on the default bridge: ch01-box
        facts.sh(world, "host1", "docker exec ch01-box ip -4 addr show eth0; docker exec ch01-box ip route; "
                                 "ip -4 -br addr show docker0")
        """, id="code-box-lesson-box"),
        code("""
        view = ch01.container_view(world, box)
        facts.table(ch01.rows_of(view))
        """),
        claim("ch01:own-namespace", """
        claims.all_of("the container has its own network namespace, and its way out is host1's docker0", {
            "its network namespace is not host1's": view["own_namespace"],
            "it has exactly lo and eth0": view["interfaces"] == ["lo", "eth0"],
            "its default route goes via the gateway Docker says it gave it":
                view["default_route_via"] is not None and view["default_route_via"] == view["gateway_docker_says"],
            "that gateway is host1's docker0 address":
                view["gateway_docker_says"] is not None and view["gateway_docker_says"] == view["docker0_on_host1"],
        }, evidence=view)
        """),
        md("""
        The article isolates a container by 「コンテナネットワークとの接続を遮断」 (cutting its connection
        to the container network); Docker does that with one of three commands: run it with
        `--network none` (chapter 6), put it on an `--internal` network (chapter 2), or
        `docker network disconnect` it (chapter 8).

        ## 1.3 Going out: SNAT (MASQUERADE) in host1's kernel
        > **The article says:** 「コンテナが外部と外部のインターネット環境と通信するには、ホストの物理NICでNATする必要があります。」
        > 「インターネットとのアクセスをインスタンスのdefault gatewayに設定し、IP rangeは0.0.0.0/0です。」
        > 「コンテナのIP(172.17.0.0/16)からインターネットに出るパケットはネットワーク層である第4層で変換(SNAT)されます。」
        > 「NATされたパケットはホストの第2層にあるhostのehternet(eth0)に到達し、外部に送信されます。」 [sic: "ehternet"]
        > (the host's physical NIC must do NAT; access to the internet is set to the instance's default
        > gateway, IP range 0.0.0.0/0; SNAT happens at "the network layer, layer 4"; NATed packets reach
        > the host's ethernet "at layer 2". The article's typo "ehternet" is quoted as written.)

        Four corrections, each shown below on one real connection from `ch01-box` to the internet service:
        * "default gateway … 0.0.0.0/0" is **host1's default route**: `0.0.0.0/0` is its destination
          (every address without a closer route), the LAN's router is its gateway, `eth0` its interface.
          It is host1's setting, not the containers' address range.
        * NAT is done by **host1's kernel (netfilter)**, through a rule Docker installed:
          `POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`. A NIC does no NAT.
        * The network layer is **layer 3**. MASQUERADE rewrites the source **IP (L3)** and, when it
          must, the source **port (L4)**.
        * The packet is **routed** (L3, `net.ipv4.ip_forward = 1`) from `docker0` to `eth0`: its TTL
          drops by one, as at every router.

        On host1, the route, the rule and the forwarding switch:
        """, id="isolate-container-you"),
        code("""
        facts.sh(world, "host1", "ip route; iptables-save -t nat | grep MASQUERADE; sysctl net.ipv4.ip_forward")
        """),
        md("""
        Now one connection, watched with `tcpdump` on host1's `eth0` (after NAT), exactly as you would
        type it (`-c 1`: the first SYN only):
        """, id="now-one-connection"),
        code("""
        facts.sh(world, "host1", "timeout 5 tcpdump -ni eth0 -c 1 'tcp dst port 9000 and tcp[tcpflags] == tcp-syn' & "
                                 "sleep 1; docker exec ch01-box sh -c 'echo | nc -w 2 203.0.113.10 9000'; wait")
        """),
        md("""
        The same again, captured on `docker0` (before NAT) and `eth0` (after NAT) at once by the
        course's capture room, with the rule's packet counter before and after and the conntrack entry:
        """, id="same-again-captured"),
        code("""
        out = ch01.egress_snat(world, box)
        facts.table(ch01.rows_of(out))
        """),
        claim("ch01:default-route", """
        claims.article_vs_reality(
            "「インターネットとのアクセスをインスタンスのdefault gatewayに設定し、IP rangeは0.0.0.0/0」",
            "0.0.0.0/0 is the destination of host1's default route, through the LAN's router out of eth0; "
            "the containers' packets leave by it after MASQUERADE",
            claims.all_of("host1's default route is the containers' way to the internet", {
                "host1 has a default route (destination 0.0.0.0/0)": out["host1_default_route"] is not None,
                "it leaves through eth0": (out["host1_default_route"] or {}).get("dev") == "eth0",
                "the route host1 picks for the internet service is that default route, no more specific one":
                    (out["host1_route_to_inet"] or {}).get("dst") == "default",
                "the container's SYN was seen leaving eth0": out["syn_on_eth0"] is not None,
            }, evidence={"default route": out["host1_default_route"], "route to the internet": out["host1_route_to_inet"],
                         "on eth0": out["syn_on_eth0"]}))
        """),
        claim("ch01:snat", """
        claims.article_vs_reality(
            "the physical NIC does NAT, at 'the network layer, layer 4'",
            "host1's netfilter MASQUERADE rule rewrites the source IP (L3) as the packet is routed out of eth0",
            claims.all_of("host1's kernel masqueraded the connection", {
                "on docker0 the SYN's source is the container": out["src_on_docker0"] == out["container_ip"],
                "on eth0 the same SYN's source is host1's eth0 address": out["src_on_eth0"] == out["host1_eth0"],
                "the internet service saw host1's address": out["inet_saw_address"] == out["host1_eth0"],
                "the MASQUERADE rule's packet counter rose": out["rule_packets_before"] is not None
                    and out["rule_packets_after"] > out["rule_packets_before"],
            }, evidence={k: out[k] for k in ("container_ip", "host1_eth0", "inet_saw", "masquerade_rule")}))
        """),
        claim("ch01:routed", """
        claims.all_of("the packet is routed (L3) from docker0 to eth0, not passed along at layer 2", {
            "host1's net.ipv4.ip_forward is 1": out["ip_forward"] == 1,
            "the SYN seen on docker0 left through eth0": out["syn_on_eth0"] is not None,
            "its TTL is one lower on eth0 than on docker0 (one routing hop)": out["ttl_on_docker0"] is not None
                and out["ttl_on_eth0"] == out["ttl_on_docker0"] - 1,
        }, evidence={k: out[k] for k in ("ip_forward", "ttl_on_docker0", "ttl_on_eth0")})
        """),
        md("""
        ### The kernel's own account: which rules this connection met
        A counter that rose says the rule counted *a* packet between two readings: another flow could
        have been counted too. The kernel can say exactly what happened to one connection. With
        `--rules`, `dnlab trace` puts a `-j TRACE` rule matching this flow alone first in host1's raw
        table, reads `xtables-monitor --trace` while the probe runs, and removes the rule again. Each
        line is one rule the packet met: its hook, its table, the rule as `iptables-save` prints it and
        its verdict (`JUMP` and `RETURN` walk Docker's chains; the MASQUERADE's verdict is `ACCEPT`,
        its target rewrote the source). Type it in a terminal; here is host1's part of what it prints:
        """, id="kernel-own-account-snat"),
        code("""
        snat_trace = ch01.rule_trace(world, "ch01-box", "inet", tcp=9000)   # dnlab trace ... --rules
        """, id="code-snat-trace"),
        claim("ch01:snat-trace", """
        masq = ch01.met_rule(snat_trace, "host1", "nat", "POSTROUTING", "MASQUERADE")
        claims.all_of("the kernel's trace names the MASQUERADE rule this very connection met in host1", {
            "ch01-box reached the internet service": snat_trace["reached"],
            "its first packet met a MASQUERADE rule in host1's nat POSTROUTING": masq is not None,
            "it is Docker's rule for docker0's subnet, the one whose counter rose above":
                masq is not None and ch01.same_rule(masq["rule"], out["masquerade_rule"]),
            "the packet was leaving through eth0 when it met the rule":
                ((masq or {}).get("before") or {}).get("out") == "eth0",
            "the trace and the counters agree on every rule that acted": not snat_trace["disagreements"],
        }, evidence={"MASQUERADE met": (masq or {}).get("rule"),
                     "rules that decided in host1": [f"{e['hook']} {e['table']}: {e['rule']}" for e in snat_trace["decided"]]})
        """),
        md("""
        ### conntrack remembers the rewrite
        The kernel keeps one conntrack entry per connection: the **original** tuple (as the container
        sent it) and the **reply** tuple (what the answer will look like). The reply comes back to
        host1's address and is un-NATed by this entry, back to the container — no rule needed.
        """, id="conntrack-remembers-rewrite"),
        code("""
        facts.sh(world, "host1", "conntrack -L -p tcp --dport 9000")
        """),
        claim("ch01:conntrack", """
        claims.all_of("conntrack holds both sides of the rewrite", {
            "the original tuple's source is the container": (out["conntrack_original"] or {}).get("src") == out["container_ip"],
            "the reply tuple is addressed to host1's eth0 address": (out["conntrack_reply"] or {}).get("dst") == out["host1_eth0"],
        }, evidence={"original": out["conntrack_original"], "reply": out["conntrack_reply"]})
        """),
        md("""
        ### When the port must change too (L4)
        Two containers connect to the same service from the **same** local port, 40000. After the
        address rewrite both would be `host1:40000 → inet:9000` — one tuple for two connections.
        Netfilter therefore rewrites the source **port** of the second one.

        The client must really bind port 40000. busybox's `nc -p 40000` does not (it ignores `-p` when
        it connects out), and the lab image has no other client, so on host1 we enter each container's
        network namespace (`nsenter -t <its pid> -n`) and let host1's `python3` connect from there.
        The connection is the container's: its address, its routes, its `eth0`.
        """, id="when-port-must-change"),
        code("""
        clash = ch01.port_rewrite(world, lesson, port=40000)
        for shown in clash["commands"]:
            print(repr(shown), end="\\n\\n")
        facts.table(clash["connections"])
        """),
        claim("ch01:port-rewrite", """
        first, second = clash["connections"]
        port = clash["port"]
        claims.all_of("MASQUERADE rewrote the L4 source port of the second connection", {
            f"both connections left their containers from port {port} (seen on docker0)":
                first["source port on docker0"] == port and second["source port on docker0"] == port,
            "on eth0 they left from two different source ports":
                None not in (first["source port on eth0"], second["source port on eth0"])
                and first["source port on eth0"] != second["source port on eth0"],
            f"conntrack's reply tuple shows a port changed from {port}":
                any(c["conntrack reply dport"] not in (None, port) for c in clash["connections"]),
            "the internet saw each connection from the port captured on eth0":
                all(c["inet saw"] and c["inet saw"].endswith(f":{c['source port on eth0']}") for c in clash["connections"]),
        }, evidence=clash["connections"])
        """),
        md("""
        Figure: the egress path, traced by the packet-path room, in its NAT view. Every hop comes from a
        capture: to open those captures yourself, run `sudo .venv/bin/dnlab path default-bridge egress
        --keep /tmp/egress` in a terminal; it saves one pcap per interface for Wireshark or `tcpdump -r`.
        The trace of its rules is on (`--rules`): under a row, the hooks the packet crossed in that
        namespace and the rules that decided there.
        """, id="figure-egress-path"),
        code("""
        ch01.show_path(world, bridge, "egress", view="NAT", rules=True)   # dnlab path default-bridge egress --rules
        """, id="code-show-path-egress-rules"),
        md("""
        ## 1.4 Coming in: DNAT for a published port
        > **The article says:** 「内部への通信は物理NICで受けるためDNATされません。」
        > (inbound traffic arrives on the physical NIC, so it is not DNATed.)

        Wrong. `-p 18080:80` makes Docker add a **DNAT** rule in the nat table's `DOCKER` chain: a
        packet to host1:18080 gets its destination rewritten to the container's address and port 80.
        The container then sees the real client. Our web container answers every request with the
        client address it sees.
        """, id="1.4-coming-dnat-published"),
        code("""
        web = lesson.web("web", ports={"80/tcp": 18080})      # docker run -d -p 18080:80 --name ch01-web ...
        facts.sh(world, "host1", "docker port ch01-web; iptables-save -t nat | grep -e DNAT -e '^-A OUTPUT' -e '^-A PREROUTING'")
        """, id="code-web-lesson-web"),
        code("""
        inbound = ch01.inbound_dnat(world, web, 18080)
        facts.table(ch01.rows_of(inbound))
        """),
        claim("ch01:dnat", """
        claims.article_vs_reality(
            "inbound traffic is not DNATed",
            "a published port is DNATed to the container, which sees the real client",
            claims.all_of("host1 DNATs its published port 18080 to the container", {
                "the nat DOCKER chain has one DNAT rule for port 18080": len(inbound["dnat_rule"]) == 1,
                "its packet counter rose while lanpc and inet connected": inbound["dnat_packets_before"] is not None
                    and inbound["dnat_packets_after"] > inbound["dnat_packets_before"],
                "the container saw lanpc's own address (no SNAT on the way in)":
                    inbound["container_saw_from_lanpc"] == inbound["lanpc_address"],
            }, evidence={"rule": inbound["dnat_rule"], "saw from lanpc": inbound["container_saw_from_lanpc"]}))
        """),
        md("""
        The trace says it from inside host1: lanpc's own SYN meets the DNAT rule in nat **PREROUTING**,
        before the routing decision (so host1 routes the packet to the container, not to itself), and
        then a rule of the filter **FORWARD** hook that accepts traffic to the container's port 80:
        """, id="dnat-trace-intro"),
        code("""
        dnat_trace = ch01.rule_trace(world, "lanpc", inbound["host1_address"], tcp=18080)   # dnlab trace ... --rules
        """, id="code-dnat-trace"),
        claim("ch01:dnat-trace", """
        dnat = ch01.met_rule(dnat_trace, "host1", "nat", "PREROUTING", "DNAT")
        accept = ch01.met_rule(dnat_trace, "host1", "filter", "FORWARD", "ACCEPT")
        web_ip, port = inbound["container_address"], dnat_trace["port"]
        claims.all_of("the kernel's trace names the DNAT in nat PREROUTING and the FORWARD accept", {
            f"lanpc reached host1's port {port}": dnat_trace["reached"],
            f"its SYN met a DNAT rule for port {port} in host1's nat PREROUTING":
                dnat is not None and f"--dport {port} " in dnat["rule"] + " ",
            "it is the rule the nat DOCKER chain holds (above)":
                dnat is not None and any(ch01.same_rule(dnat["rule"], rule) for rule in inbound["dnat_rule"]),
            "after it the packet's destination is the container's port 80":
                ((dnat or {}).get("after") or {}).get("dst") == f"{web_ip}:80",
            "filter FORWARD then accepted it, by a rule for the container's address":
                accept is not None and f"-d {web_ip}/32 " in accept["rule"],
            "the trace and the counters agree on every rule that acted": not dnat_trace["disagreements"],
        }, evidence={"DNAT": (dnat or {}).get("rule"), "accepted by": (accept or {}).get("rule")})
        """),
        md("""
        ### From host1 itself: nat OUTPUT, and docker-proxy for 127.0.0.1
        A packet host1 sends to itself gets its NAT in the nat table's **OUTPUT** chain. It loops back
        through `lo` and crosses the raw and mangle PREROUTING chains there; only nat PREROUTING is
        skipped, because its connection's NAT is already decided. Docker put a rule in nat OUTPUT too
        (see `-A OUTPUT` above):
        `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER`. So host1 → its own LAN address
        `198.51.100.11:18080` *is* DNATed, and the container sees host1's address. Only `127.0.0.0/8`
        is left out: a connection to `127.0.0.1:18080` is accepted by **`docker-proxy`**, a userland
        relay listening on the port, which opens a new connection from the bridge gateway, so the
        container sees `docker0`'s address.
        """, id="host1-itself-nat-output"),
        code("""
        facts.sh(world, "host1", "ss -ltnp | grep -e State -e ':18080 '")
        """),
        claim("ch01:host-output-dnat", """
        claims.all_of("host1's own connection to its LAN address is DNATed by nat OUTPUT", {
            "nat OUTPUT sends host1's traffic to its own addresses (except 127/8) to the DOCKER chain":
                inbound["output_rule"] is not None and "! -d 127.0.0.0/8" in inbound["output_rule"],
            "that rule's counter rose when host1 connected to 198.51.100.11:18080":
                inbound["output_packets_before"] is not None
                and inbound["output_packets_after"] > inbound["output_packets_before"],
            "the container saw host1's LAN address, not a proxy":
                inbound["container_saw_from_host1_lan_address"] == inbound["host1_address"],
        }, evidence={k: inbound[k] for k in ("output_rule", "container_saw_from_host1_lan_address")})
        """),
        claim("ch01:loopback-proxy", """
        claims.all_of("host1 -> 127.0.0.1:18080 goes through docker-proxy", {
            "a docker-proxy process serves port 18080 in host1": len(inbound["docker_proxies"]) >= 1,
            "the container saw the bridge gateway (docker0's address) as the client":
                inbound["container_saw_from_host1_loopback"] == inbound["docker0_address"],
        }, evidence={"saw": inbound["container_saw_from_host1_loopback"], "proxies": inbound["docker_proxies"]})
        """),
        code("""
        print(ch01.on_this_engine(world, "loopback"))
        """),
        md("""
        ### What keeps an unpublished port closed?
        A port that is not published has no DNAT rule, so `host1:80` leads nowhere. But that is not
        the real question: the container has its own address, `172.17.0.x`, and a machine of the LAN
        can simply **route** to it through host1 (`ip route add 172.17.0.0/16 via 198.51.100.11`: any
        neighbour on the same L2 segment can). Then host1's firewall rules decide. Which rules those
        are depends on the engine: the note after the claim says which.

        We start `ch01-hidden`, a web server on port 80 that publishes nothing, add that route on
        `lanpc` for a moment, and try its port 80, and the published `ch01-web`'s port 80 directly.
        """, id="keeps-unpublished-port-closed"),
        code("""
        closed = ch01.unpublished_port(world, lesson, web)
        facts.table([closed["unpublished"], closed["published_direct"]])
        """),
        code("""
        print("lanpc# ip route get <ch01-hidden's address>   (with the route added)\\n" + closed["route_on_lanpc"])
        facts.sh(world, "host1", "iptables-save -t filter | grep -e '^:FORWARD' -e '^-A DOCKER '")
        """),
        claim("ch01:unpublished", """
        claims.all_of("an unpublished container port is not reachable from the LAN, even with a route to the container", {
            "lanpc routed the container's address through host1": closed["lanpc_routes_via_host1"],
            "lanpc did not reach the unpublished container's port 80": not closed["unpublished"]["reached"],
            f"host1 has the {closed['protection']}": closed["protection_present"],
            closed["route_works"]: closed["route_works_seen"],
        }, evidence=closed)
        """),
        code("""
        print(ch01.on_this_engine(world, "unpublished"))
        """),
        md("""
        So "ports that are not published are not reachable from outside" is a property of host1's
        firewall rules, which differ by engine version. Look at the table's second row too: whether
        the published container answered on its **own** address and port 80, not only on
        `host1:18080`, depends on the engine as well: [[engine:direct-access]]
        """, id="so-ports-that"),
        code("""
        ch01.show_path(world, bridge, "publish", view="NAT", rules=True)   # dnlab path default-bridge publish --rules
        """, id="code-show-path-publish-rules"),
        md("""
        ## 1.5 Address pools: 172.17.0.0/16 is only the first
        > **The article says:** 「一般にコンテナ内のIPアドレス帯は172.17.0.0/16が割り当てられることが多いです。」
        > (container addresses are usually 172.17.0.0/16.)

        Partly: that is the default bridge, `docker0`. Each user-defined network takes the next free
        subnet of Docker's default pools: `172.18/16`, `172.19/16`, then `172.20/14`, `172.24/14`,
        `172.28/14` cut into /16s, then `192.168.0.0/16` cut into /20s. The fresh engine above got
        15 new networks; we compare each with the documented order (`facts.DEFAULT_POOLS`).
        """, id="1.5-address-pools-172.17"),
        code("""
        facts.table(fresh["pool_walk"])
        """),
        claim("ch01:pools", """
        walk = fresh["pool_walk"]
        claims.all_of("Docker's default pools, in their documented order", {
            "every network got the subnet the documented pools predict":
                all(w["subnet"] == w["predicted"] for w in walk),
            "the 15th network, after 172.31.0.0/16, got 192.168.0.0/20":
                len(walk) == 15 and walk[-1]["subnet"] == "192.168.0.0/20",
        }, evidence=[w["subnet"] for w in walk])
        """),
        md("""
        ## Summary
        * A fresh engine has three networks (`bridge`, `host`, `none`) and six built-in drivers; the
          host's NIC is never a Docker network.
        * A bridge container has its own namespace; host1 routes for it (L3, TTL − 1, `ip_forward=1`)
          by its default route (`0.0.0.0/0`) and masquerades it in netfilter (source IP, and port when
          two flows would clash); conntrack un-NATs the replies.
        * Published ports are DNATed: from outside in PREROUTING, from host1 itself in nat OUTPUT; only
          `127.0.0.1` goes through `docker-proxy`.
        * Unpublished ports are closed by host1's filter rules, which depend on the engine version.
        * `172.17.0.0/16` is docker0; other networks get the next free pool.

        ## Exercises
        1. Which address does the internet service see when `ch01-box` connects to it, and why? Check
           with one `probe`.
        2. Find the packet counter of the DNAT rule for port 18080: in a terminal, `sudo .venv/bin/dnlab
           shell host1`, then `iptables-save -c -t nat | grep 18080`.
        3. Predict the subnet the next user-defined network would get on a fresh engine if 172.18/16
           were already taken by your LAN.
        """, id="summary"),
        solution("""
        # 1. host1's eth0 address: MASQUERADE rewrote the source on the way out of eth0.
        r = helpers.world.guard.probe(world, box, "203.0.113.10", "tcp", 9000)
        print(r.output, "host1 eth0:", facts.address(world, "host1"))
        # 2. the same command, run on host1 from here
        print(facts.sh(world, "host1", "iptables-save -c -t nat | grep 18080"))
        # 3. the next free one: 172.17/16 (docker0) and 172.18/16 taken -> 172.19.0.0/16
        print(facts.next_default_subnet(["172.17.0.0/16", "172.18.0.0/16"]))
        """, id="solution-1-host1-s-eth0"),
        code("""
        lesson.stop()       # this chapter's containers
        bridge.stop()       # and the scenario it started
        """, id="code-lesson-stop-this"),
    ])
