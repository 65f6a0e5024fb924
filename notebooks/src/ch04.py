"""Chapter 4: the overlay driver (article 1.3 and 2.3)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "04_overlay.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 4 — Overlay
        **Article 1.3 「オーバーレイネットワーク (Overlay Network)」 and 2.3 「overlayドライバ」**

        **Goals.** Form a swarm of host1 and host2 (ports 2377, 7946, 4789); span an `--attachable`
        overlay across both; reach a container on host1 from one on host2 *by name*; read a VXLAN
        packet on the LAN (outer and inner headers, the VNI); see the MTU drop by 50; watch `ingress`
        and `docker_gwbridge` appear; and set the record straight on libkv and Kubernetes.

        **Prerequisites.** Chapters 1 and 2.
        """),
        code(SETUP),
        code("""
        overlay = scenarios.get(world, "overlay")
        overlay.stop()     # start from no swarm, so we can watch what the swarm adds
        before = {n["name"] for n in facts.engine_networks(world, "host2")
                  if "org.dnlab.world" not in n["labels"]}
        before
        """),
        md("""
        ## 4.1 Forming the swarm
        > **The article says:** 「dockerではlibkvのライブラリにより可能となっており、対象のツールはConsul, Etcd, Zookeeperです。」
        > (overlay is made possible by libkv with Consul, Etcd or ZooKeeper.)

        Outdated. Since Docker 23.0 the external key-value store mode is gone (deprecated in 20.10);
        overlay networks need **swarm mode**, and the swarm keeps its state in its own Raft store
        inside the managers' data root. `overlay.start()` runs `docker swarm init --advertise-addr`
        with host1's eth0 address (read live), joins host2 with the worker token, creates an
        `--attachable` overlay and a container on each host.
        """),
        code("""
        overlay.start()
        after = {n["name"]: n["driver"] for n in facts.engine_networks(world, "host2")}
        claims.holds("joining the swarm added ingress (overlay) and docker_gwbridge (bridge) to host2's engine",
                     before == {"bridge", "host", "none"} and after.get("ingress") == "overlay"
                     and after.get("docker_gwbridge") == "bridge", evidence={"before": sorted(before), "after": after})
        """),
        code("""
        raft = world.host1.paths.data_root / "swarm" / "raft"
        info = world.host1.docker.info()
        claims.article_vs_reality(
            "overlay relies on libkv with Consul, Etcd or ZooKeeper",
            "swarm mode keeps its state in its own Raft store on the managers (external KV stores were removed in 23.0)",
            claims.holds("host1 is a swarm manager with a Raft store in its own data root, and no external cluster store",
                         info["Swarm"]["ControlAvailable"] and raft.is_dir() and not info.get("ClusterStore"),
                         evidence={"raft dir": str(raft), "managers": info["Swarm"]["Managers"],
                                   "nodes": info["Swarm"]["Nodes"], "engine": info["ServerVersion"]}))
        """),
        code("""
        ports = chapters.swarm_ports(world, "host1")
        claims.holds("host1 listens on 2377/tcp (cluster management), 7946 tcp+udp (gossip) and 4789/udp (VXLAN)",
                     {"2377/tcp", "7946/tcp", "7946/udp", "4789/udp"} <= set(ports), evidence=ports)
        """),
        md("""
        ## 4.2 A container on host2 reaches one on host1, by name
        Standalone containers may join a swarm overlay only if it is `--attachable`. The embedded DNS
        resolves `overlay-a` on host2 although it runs on host1.
        """),
        code("""
        c2c = probes.run_spec(overlay, "c2c")
        claims.holds("overlay-b (host2) pings overlay-a (host1) by name", c2c.ok, evidence=c2c.row())
        """),
        code("""
        chapters.show_path(world, overlay, "c2c", view="L3")
        """),
        md("""
        ## 4.3 VXLAN on the wire
        We capture on the LAN (the router's port towards host2) while `b` pings `a`. Each frame is
        an **outer** IPv4/UDP packet between host2's and host1's LAN addresses, to port **4789**, with a
        VXLAN header carrying the network's **VNI**, and inside it the **inner** ICMP between the
        two overlay addresses.
        """),
        code("""
        frames = chapters.vxlan_capture(world, overlay)
        facts.table(frames)
        """),
        code("""
        a_ip = probes.resolve_target(overlay, "container:a@host1")
        b_ip = probes.resolve_target(overlay, "container:b@host2")
        h1, h2 = facts.address(world, "host1"), facts.address(world, "host2")
        claims.holds("outer header host2 -> host1 on UDP 4789 with a VNI; inner header b -> a (overlay addresses)",
                     any(f["outer"] == f"{h2} -> {h1}" and f["udp dport"] == 4789 and f["vni"] > 0
                         and f["inner"] == f"{b_ip} -> {a_ip}" for f in frames), evidence=frames[:2])
        """),
        md("""
        ## 4.4 The MTU inside is 50 bytes smaller
        VXLAN adds 50 bytes (outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8), so the overlay interface
        must be 50 bytes smaller than the underlay, or packets would not fit.
        """),
        code("""
        b = overlay.containers("host2")["b"]
        m = {"underlay eth0 (host2)": facts.mtu(world, "host2"), "overlay eth0 (in overlay-b)": facts.mtu(world, b)}
        claims.equals("overlay MTU = underlay MTU - 50", m["overlay eth0 (in overlay-b)"], m["underlay eth0 (host2)"] - 50)
        """),
        md("""
        ## 4.5 Kubernetes does not use this driver
        > **The article says:** 「Docker SwarmやKubernetesのようなオーケストレーションツールと連携して使用されます。」

        Only Swarm. Kubernetes wires pod networks through **CNI plugins** (Calico, Cilium, Flannel —
        Flannel may itself use VXLAN, but not Docker's overlay driver). There is no Kubernetes in this
        lab, so this one is stated, not run; chapter 9 shows the part of the pod model Docker shares.

        ## Summary
        * Overlay = swarm mode (2377 management, 7946 gossip, 4789 VXLAN) + `--attachable` for plain containers.
        * Traffic between hosts is VXLAN: outer UDP between host addresses, a VNI, the inner packet intact.
        * The overlay MTU is 50 less; `ingress` and `docker_gwbridge` come with the swarm.
        * No libkv/Consul/etcd/ZooKeeper since 23.0; Kubernetes uses CNI.

        ## Exercises
        1. Which network gives `overlay-a` its way to the internet? (Hint: its second interface.)
        2. Find the VNI of `overlay-net` in `docker network inspect` and compare with the capture.
        """),
        solution("""
        # 1. docker_gwbridge: a has eth1 on it, and host1 masquerades it like any bridge
        a = overlay.containers("host1")["a"]
        print(facts.ipv4(world, a), world.host1.docker.networks.get("docker_gwbridge").attrs["IPAM"]["Config"])
        # 2.
        net = world.host1.docker.networks.get("overlay-net")
        print(net.attrs["Options"], {f["vni"] for f in frames})
        """),
        code("""
        overlay.stop()     # leaves the swarm on both hosts and removes docker_gwbridge
        """),
    ])
