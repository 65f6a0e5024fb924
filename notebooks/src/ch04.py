"""Chapter 4: the overlay driver (article 1.3 and 2.3)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "04_overlay.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 4 — Overlay
        **Article 1.3 「オーバーレイネットワーク (Overlay Network)」 and 2.3 「overlayドライバ」**

        **Goals.** Form a swarm of host1 and host2 with `docker swarm init` / `docker swarm join`; see
        where the swarm keeps its state (its own Raft store, not libkv); open the right ports (2377,
        7946, 4789, and ESP for encrypted overlays); reach a container on host1 from one on host2 *by
        name*; read a VXLAN packet with `tcpdump`; understand the overlay MTU (a fixed 1450 unless you
        set it) and the real fault it causes on a smaller underlay; and see how an overlay container
        reaches the internet (NAT through `docker_gwbridge`).

        **Prerequisites.** Chapters 1 and 2. Lines such as `host1# docker swarm init ...` are real
        commands, run on that lab machine just now; type them after `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-4-overlay"),
        code(setup("ch04")),
        code("""
        # extra code: start from no swarm (so we can watch what it adds), and this chapter's own resources
        overlay = scenarios.get(world, "overlay")
        overlay.stop()
        lesson = ch04.Lesson(world, "ch04").reset()
        print("engine on host1:", world.host1.docker.version()["Version"])
        """, id="code-extra-code-start-no"),
        md("""
        ## 4.1 Forming the swarm
        > **The article says:** 「dockerではlibkvのライブラリにより可能となっており、対象のツールはConsul, Etcd, Zookeeperです。」
        > (overlay is made possible by libkv with Consul, Etcd or ZooKeeper.)

        Outdated. That was Docker 1.x's "classic" overlay. Today an overlay network needs **swarm
        mode**: host1 runs `docker swarm init --advertise-addr <its LAN address>` and becomes a
        manager; host2 runs the `docker swarm join --token ...` line that init prints and becomes a
        worker. (The token is a secret: it is hidden below.)
        """, id="4.1-forming-swarm"),
        code("""
        swarm = ch04.form_swarm(world, overlay.labels)
        display(swarm["init"], swarm["join"], facts.sh(world, "host2", "docker network ls"))
        """),
        claim("ch04:swarm-networks", """
        claims.all_of("joining the swarm added ingress (overlay) and docker_gwbridge (bridge) to host2's engine", {
            "before: host2 had only bridge, host and none": set(swarm["host2 before"]) == {"bridge", "host", "none"},
            "after: host2 lists ingress, driver overlay": swarm["host2 after"].get("ingress") == "overlay",
            "after: host2 lists docker_gwbridge, driver bridge": swarm["host2 after"].get("docker_gwbridge") == "bridge",
        }, evidence={"before": swarm["host2 before"], "after": swarm["host2 after"]})
        """),
        md("""
        `ingress` carries swarm **services'** routing mesh: a port published with `docker service create -p`
        answers on every node and is load-balanced by the kernel's IPVS. This chapter uses standalone
        containers on an attachable overlay, which need no IPVS. Whether this kernel has it:
        """, id="ingress-carries-swarm"),
        code("""
        from helpers.world import doctor
        print(doctor.feature_line("ipvs"))
        """),
        md("""
        Where is the swarm's state? Not in Consul, etcd or ZooKeeper: the managers keep it in their
        **own Raft store**, a log (`wal`) and snapshots (`snap`) under the engine's data root, in
        `swarm/raft`. `docker node ls` answers only on a manager, from that store.
        """, id="where-swarm-s"),
        code("""
        store = ch04.swarm_store(world, "host1")
        display(store["docker node ls"], facts.sh(world, "host1", f"ls -l {store['raft dir']}"))
        """),
        claim("ch04:raft", """
        claims.article_vs_reality(
            "overlay relies on libkv with Consul, Etcd or ZooKeeper",
            "swarm mode keeps its state in its own Raft store on the managers; the external KV store "
            "mode is deprecated or gone, depending on the engine (the note below)",
            claims.all_of(f"{store['host']} holds the swarm's state itself, in Raft", {
                "it is a swarm manager (docker info: Swarm.ControlAvailable)": store["manager (docker info Swarm.ControlAvailable)"],
                "`docker node ls` answers and names a Leader": store["docker node ls"].returncode == 0
                    and "Leader" in store["docker node ls"].output,
                "its data root holds the Raft log (wal) and snapshots (snap)": any(f.startswith("wal") for f in store["raft files"])
                    and any(f.startswith("snap") for f in store["raft files"]),
            }, evidence={k: v for k, v in store.items() if k != "docker node ls"}))
        """),
        md("""
        **This engine and others.** [[engine:kv-store]] The lab's daemon config below sets no
        external store, and `docker info` does not report the field at all (Docker docs: *Deprecated
        features*, "Legacy overlay networks / cluster store").
        """, id="this-engine-others"),
        code("""
        display(facts.sh(world, "host1", f"cat {store['daemon config']}"))
        print("ClusterStore in docker info:", store["ClusterStore (docker info)"])
        """),
        md("""
        ### The ports a swarm needs
        Between the hosts, a firewall (or a cloud security group) must let through the rows below.
        The first three are sockets we can see listening on host1; ESP is an IP protocol (number 50),
        not a port: an **encrypted** overlay (`docker network create --opt encrypted`) wraps its VXLAN
        packets in IPsec ESP, and a firewall that allows only TCP/UDP silently drops them.
        (Not shown live: the kernel the course is tested on has no IPsec support, and on such a kernel
        dockerd logs "Failed Adding ... SA ... function not implemented" and an encrypted overlay's
        containers cannot reach each other. Try `--opt encrypted` on a Linux host whose kernel has
        IPsec, the `esp4` module.)
        """, id="ports-swarm-needs"),
        code("""
        ports = ch04.swarm_ports(world, "host1")
        display(facts.sh(world, "host1", "ss -lntup | grep -E ':(2377|7946|4789) '"), facts.table(ch04.SWARM_PORTS))
        """),
        claim("ch04:swarm-ports", """
        claims.all_of("host1 listens on the swarm's ports", {
            "2377/tcp (cluster management)": "2377/tcp" in ports,
            "7946/tcp (gossip)": "7946/tcp" in ports,
            "7946/udp (gossip)": "7946/udp" in ports,
            "4789/udp (VXLAN data, a kernel socket)": "4789/udp" in ports,
        }, evidence=ports)
        """),
        md("""
        ## 4.2 A container on host2 reaches one on host1, by name
        `overlay.start()` creates `overlay-net` with `--attachable` (without it only swarm *services*
        may join) and runs `overlay-a` on host1 and `overlay-b` on host2. The embedded DNS on host2
        resolves `overlay-a` although it runs on host1.
        """, id="4.2-container-host2-reaches"),
        code("""
        overlay.start()
        display(facts.sh(world, "host1", "docker network ls --filter driver=overlay"),
                facts.sh(world, "host2", "docker exec overlay-b ping -c 2 overlay-a"))
        c2c = ch04.overlay_c2c(world, overlay)
        """),
        claim("ch04:c2c", """
        claims.holds("overlay-b (host2) pings overlay-a (host1) by name", c2c["reached"], evidence=c2c)
        """),
        code("""
        ch04.show_path(world, overlay, "c2c", view="L3")
        """),
        md("""
        ## 4.3 VXLAN on the wire
        On host2 we capture its LAN interface for UDP port 4789 while `overlay-b` pings `overlay-a`,
        exactly as you would type it. Each packet is printed twice: the **outer** header (host2's LAN
        address to host1's, UDP 4789, the VXLAN header with the network's **VNI**), then the
        **inner** packet, unchanged, between the two overlay addresses.
        """, id="4.3-vxlan-wire"),
        code("""
        facts.sh(world, "host2", "timeout 5 tcpdump -ni eth0 -c 4 udp port 4789 & sleep 1; "
                                 "docker exec overlay-b ping -c 2 overlay-a >/dev/null; wait")
        """),
        md("""
        The same capture decoded with scapy, next to the VNI that `docker network inspect` gives
        the network (`com.docker.network.driver.overlay.vxlanid_list`):
        """, id="same-capture-decoded"),
        code("""
        vx = ch04.overlay_vxlan(world, overlay)
        display(facts.sh(world, "host1", "docker network inspect -f '{{json .Options}}' overlay-net"), facts.table(vx["frames"]))
        """),
        claim("ch04:vxlan", """
        first = vx["frames"][0] if vx["frames"] else {}
        claims.all_of("b's ping crossed the LAN as VXLAN: outer host2 -> host1 on UDP 4789 with the network's VNI, inner b -> a", {
            "a VXLAN frame was captured on the LAN": bool(vx["frames"]),
            "outer header: host2 -> host1": first.get("outer") == f"{vx['host2']} -> {vx['host1']}",
            "outer UDP destination port 4789": first.get("udp dport") == 4789,
            "the VNI is the network's (docker network inspect)": first.get("vni") == vx["vni (docker network inspect)"],
            "inner header: overlay-b -> overlay-a (overlay addresses)": first.get("inner") == f"{vx['b']} -> {vx['a']}",
        }, evidence={**vx, "frames": vx["frames"][:2]})
        """),
        md("""
        ## 4.4 The overlay MTU, and the fault it causes
        [[engine:overlay-mtu]] The 1450 is **fixed**: the driver never reads the underlay's MTU
        (moby/libnetwork#1021). Here the underlay is 1500, so 1450 fits:
        """, id="4.4-overlay-mtu-fault"),
        code("""
        display(facts.sh(world, "host2", "ip link show eth0"), facts.sh(world, "host2", "docker exec overlay-b ip link show eth0"))
        """),
        md("""
        To see that the 1450 does not come from the underlay, we shrink the whole underlay (host1's
        and host2's `eth0` and the LAN ports between them) to **1400**, as on many clouds and VPNs,
        and create a new overlay. Everything is put back afterwards.
        """, id="see-that-1450"),
        code("""
        small = ch04.overlay_mtu_on_small_underlay(world, lesson, underlay=1400)
        display(small["create"], small["inside"])
        """),
        claim("ch04:mtu-fixed", """
        claims.all_of("the overlay does not follow the underlay: made on a smaller underlay, its containers still get 1500 - 50", {
            "the underlay (host1 eth0) was below 1500 when the overlay was made": small["underlay eth0 (host1)"] < 1500,
            "the container's eth0 got 1450 = 1500 - 50 (not underlay - 50)": small["container eth0 MTU"] == 1500 - 50,
        }, evidence={k: v for k, v in small.items() if k not in ("create", "inside")})
        """),
        md("""
        The fix is to tell the driver: `-o com.docker.network.driver.mtu=1400` gives `1400 − 50`.
        """, id="fix-tell-driver"),
        code("""
        fixed = ch04.overlay_mtu_on_small_underlay(world, lesson, underlay=1400,
                                                      options={"com.docker.network.driver.mtu": "1400"})
        display(fixed["create"], fixed["inside"])
        """),
        claim("ch04:mtu-option", """
        option = int(fixed["options"].get("com.docker.network.driver.mtu", 0))
        claims.all_of("with -o com.docker.network.driver.mtu=N the overlay's containers get N - 50", {
            "an MTU option was given": option > 0,
            "the container's eth0 is the option minus 50": fixed["container eth0 MTU"] == option - 50,
        }, evidence={k: v for k, v in fixed.items() if k not in ("create", "inside")})
        """),
        md("""
        **The fault.** Now leave the hosts at 1500 but let the *path* between them carry only 1400
        bytes (the LAN ports): a VPN, a cloud fabric or a tunnel in the middle. The overlay still
        says 1450, so a full-size packet becomes a 1500-byte VXLAN packet that does not fit. Small
        packets (pings, the TCP handshake, DNS) pass; full-size ones — an HTTP response, a file —
        **vanish**: the drop happens at layer 2, where nothing sends an ICMP "fragmentation needed"
        back, so neither end learns to send smaller packets. The classic symptom: `curl` connects
        and then hangs.
        """, id="fault-now-leave"),
        code("""
        fault = ch04.overlay_path_mtu(world, overlay, path_mtu=1400)
        display(fault["shown"])
        facts.table([fault["small ping"], fault["full-size ping"]])
        """),
        claim("ch04:mtu-path", """
        claims.all_of("when the path between the hosts is smaller than overlay MTU + 50, full-size overlay packets vanish", {
            "the path carries less than a full-size VXLAN packet": fault["path MTU (router ports)"] < fault["outer packet of a full-size one"],
            "a small ping still gets through": fault["small ping"]["reached"],
            "a full-size ping is lost": not fault["full-size ping"]["reached"],
        }, evidence={k: v for k, v in fault.items() if k != "shown"})
        """),
        md("""
        If instead the hosts' own `eth0` says 1400 (the underlay configured correctly, overlay left at
        1450), the hosts *fragment*: the outer UDP packet (VXLAN does not set "don't fragment"), or,
        once the kernel has learned the smaller path MTU, the inner packet. Full-size pings then
        pass, each as two fragments, and the first may be lost while the kernel learns (exercise 3):
        slower, and lost wherever a firewall drops fragments. Either way, set the overlay's MTU to
        the underlay's minus 50.

        **Engine versions.** The MTU facts of this section are in the engine table (*Overlay network
        driver*, docs.docker.com/engine/network/drivers/overlay/). Check `ip link show eth0` in a
        container on your engine.

        ## 4.5 The way out: NAT through `docker_gwbridge`
        An overlay reaches only the other containers on it. For everything else, each overlay
        container gets a second interface on the host's `docker_gwbridge` bridge, with its default
        route. Docker masquerades that bridge like any other: `-s <gwbridge subnet> ! -o
        docker_gwbridge -j MASQUERADE`. The rule's packet counter rises during one connection.
        """, id="if-instead-hosts"),
        code("""
        display(facts.sh(world, "host1", "docker exec overlay-a ip route"),
                facts.sh(world, "host1", "iptables-save -t nat -c | grep docker_gwbridge"))
        egress = ch04.overlay_egress_nat(world, overlay)
        display(facts.sh(world, "host1", "iptables-save -t nat -c | grep -- '! -o docker_gwbridge'"))
        """),
        claim("ch04:gwbridge-nat", """
        claims.all_of("overlay-a's way out is docker_gwbridge, and host1 masquerades it", {
            "Docker's rule -s <docker_gwbridge subnet> ! -o docker_gwbridge -j MASQUERADE exists": egress["rule"] is not None,
            "its packet counter rose during the connection": egress["rule"] is not None
                and egress["packets after"] > egress["packets before"],
            "the internet saw host1's address": egress["internet saw"] == egress["host1 address"],
        }, evidence=egress)
        """),
        md("""
        Where these rules live depends on the engine. [[engine:nftables]] (Docker docs: *Docker with
        nftables*, docs.docker.com/engine/network/firewall-nftables/).

        ## 4.6 Kubernetes does not use this driver
        > **The article says:** 「Docker SwarmやKubernetesのようなオーケストレーションツールと連携して使用されます。」

        Only Swarm. Kubernetes wires pod networks through **CNI plugins** (Calico, Cilium, Flannel —
        Flannel may itself use VXLAN, but not Docker's overlay driver). There is no Kubernetes in this
        lab, so this one is stated, not run; chapter 9 shows the part of the pod model Docker shares.

        ## Summary
        * Overlay = swarm mode (`swarm init` / `swarm join`) + `--attachable` for plain containers.
        * Open 2377/tcp, 7946/tcp+udp, 4789/udp, and IP protocol 50 (ESP) for encrypted overlays.
        * The swarm's state is in the managers' own Raft store, not libkv/Consul/etcd/ZooKeeper (4.1).
        * Traffic between hosts is VXLAN: outer UDP 4789 between host addresses, a VNI, the inner packet intact.
        * The overlay MTU is 1450 (or the option − 50, lower when encrypted) whatever the underlay: on a
          smaller underlay, set it.
        * Overlay containers go out through `docker_gwbridge`, masqueraded by host1; Kubernetes uses CNI.

        ## Exercises
        1. Which network gives `overlay-a` its way to the internet? (Hint: its second interface.)
        2. Find the VNI of `overlay-net` in `docker network inspect` and compare with the capture.
        3. Shrink host1's and host2's `eth0` and the router ports `p-host1`, `p-host2` to 1400 and send
           a full-size ping (`-s 1422`) from overlay-b. Does it pass? What does `tcpdump -ni eth0 -v
           udp` on host2 show? Put the MTUs back to what they were.
        """, id="where-these-rules"),
        solution("""
        # 1. docker_gwbridge: overlay-a has eth1 on it and its default route through it
        print(facts.sh(world, "host1", "docker exec overlay-a ip route"))
        # 2.
        print(facts.sh(world, "host1", "docker network inspect -f '{{json .Options}}' overlay-net"), {f["vni"] for f in vx["frames"]})
        # 3. It passes, fragmented: "flags [+]" and "offset" on the outer UDP or on the inner ICMP packet.
        #    The first ping may be lost while the kernel learns the smaller MTU.
        from helpers.world import mtu      # the MTU of the world's links: read, lower, put back
        with mtu.lowered(world, mtu.UNDERLAY, 1400):    # host1/host2 eth0 and the router's ports, put back after
            print(facts.sh(world, "host2", "timeout 5 tcpdump -ni eth0 -v -c 4 'udp port 4789 or (ip[6:2] & 0x1fff != 0)' & "
                                           "sleep 1; docker exec overlay-b ping -c 3 -s 1422 overlay-a; wait", check=False, head=40))
        """, id="solution-1-docker-gwbridge-overlay"),
        code("""
        lesson.stop()
        overlay.stop()     # leaves the swarm on both hosts and removes docker_gwbridge
        """, id="code-lesson-stop-overlay"),
    ])
