"""Chapter 5: the macvlan driver (article 1.4 and 2.4)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "05_macvlan.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 5 — Macvlan
        **Article 1.4 「マックベランネットワーク (Macvlan Network)」 and 2.4 「macvlanドライバ」**

        「マックベラン」 is the article's own katakana. Japanese documentation usually writes the
        driver's name as is, **macvlan** (read マックブイラン, "MAC V-LAN"); search for "macvlan".

        **Goals.** Create a macvlan network with the real CLI (`--subnet`, `--gateway`, `--ip-range`,
        `-o parent=eth0`) and know why each must match the LAN; find the container's own MAC in the
        LAN switch's FDB (`bridge fdb`); reach it from the plain LAN machine `lanpc`; see host1 fail to
        reach it (the kernel filter) and fix that with a host-side macvlan sub-interface; check the
        article's "traffic-monitoring applications" claim; know why clouds usually block macvlan,
        and what ipvlan does and does not fix.

        **Prerequisites.** Chapter 2 (bridges and FDBs). The lab LAN is the bridge `lan0` on the router.
        Lines such as `host1# docker network create ...` are real commands, run on that lab machine
        just now; type them after `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-5-macvlan"),
        code(setup("ch05")),
        code("""
        # extra code: start from no macvlan network, and this chapter's own containers
        mv = scenarios.get(world, "macvlan")
        mv.stop()
        lesson = ch05.Lesson(world, "ch05").reset()
        print("engine on host1:", world.host1.docker.version()["Version"])
        """, id="code-extra-code-start-no"),
        md("""
        > **The article says:** 「コンテナに独自のMACアドレスを割り当て、物理ネットワークに直接接続します。」
        > 「他のdriver同様にdocker network createコマンドでオプションに--driver macvlanを添えることで作成できます。
        > ただ設定する際にどのインターフェースの通過するかのparentの設定が必要です。」
        > (each container gets its own MAC on the physical network; `docker network create --driver
        > macvlan`, with `parent` naming the interface to go through.) — correct, with caveats below.

        ## 5.1 Creating it: the addresses must be the LAN's
        A macvlan container is a machine **on the LAN itself**, so its network's addresses are not
        Docker's to choose:

        * `--subnet` is the LAN's own prefix (host1's `eth0`): neighbours only ARP for addresses
          in their own subnet;
        * `--gateway` is the LAN's real router: Docker makes no gateway for macvlan, it only writes
          this address as the containers' default route (a wrong one, and they have no way out);
        * `--ip-range` is a slice of the LAN that no other machine and no DHCP server hands out:
          Docker's IPAM knows only what it gave itself, so an overlap makes duplicate addresses.

        We read the LAN's prefix and router from host1 and type the command.
        """, id="article-says-mac"),
        code("""
        display(facts.sh(world, "host1", "ip -4 addr show eth0; ip route show default"),
                ch05.macvlan_create_cli(world, mv))
        mv.start()      # the scenario adopts the network (same name and labels) and runs macvlan-app on it
        net = mv.networks()[0]
        app = mv.containers()["app"]
        fit = ch05.macvlan_fit(world, net)
        facts.table(ch05.rows_of(fit))
        """, id="code-display-facts-sh"),
        claim("ch05:fits-lan", """
        claims.all_of("the macvlan network's addresses are the LAN's own", {
            "the subnet is the LAN's prefix (host1's eth0)": fit["subnet"] == fit["LAN (host1 eth0)"],
            "the gateway is the LAN's router (host1's default gateway)": fit["gateway"] == fit["LAN machines"]["router (gateway)"],
            "the ip-range lies inside the subnet": fit["ip-range inside the subnet"],
            "no LAN machine's address is inside the ip-range": not fit["LAN machines inside the ip-range"],
        }, evidence=fit)
        """),
        md("""
        ## 5.2 Its own MAC, learned by the LAN switch
        `lanpc` pings the container, then we ask the LAN switch (`lan0` on the router) where it
        learned the container's MAC: on host1's port, as an **extra** MAC next to host1's own.
        """, id="5.2-own-mac-learned"),
        code("""
        identity = ch05.macvlan_identity(world, mv)
        display(facts.sh(world, "host1", "docker exec macvlan-app ip link show eth0"),
                facts.sh(world, "host1", "ip link show eth0"), identity["bridge fdb"])
        """),
        claim("ch05:own-mac", """
        claims.all_of("the container has its own MAC, and the LAN switch learned it on host1's port", {
            "the container's MAC is not host1's": identity["container MAC"] != identity["host1 eth0 MAC"],
            "lan0 learned it, during the ping, on host1's port p-host1 only": identity["lan0 ports that learned it"] == ["p-host1"],
        }, evidence={k: v for k, v in identity.items() if k != "bridge fdb"})
        """),
        md("""
        ## 5.3 The LAN reaches it directly; host1 does not
        `lanpc` reaches the container's address like any neighbour, without port publishing or NAT,
        and the container sees `lanpc`'s own address. host1 cannot: the kernel does not deliver
        frames between a macvlan parent and its own macvlan children.
        """, id="5.3-lan-reaches-directly"),
        code("""
        reach = ch05.macvlan_reach(world, mv)
        facts.table(reach["rows"])
        """),
        claim("ch05:reach", """
        claims.all_of("the LAN reaches the macvlan container directly; host1 does not; no NAT either way", {
            "lanpc reaches the container": reach["reached"]["lan"],
            "the container's server saw lanpc's own address": reach["server saw"] == reach["lanpc"],
            "host1 does not reach it (parent <-> child filter)": not reach["reached"]["host"],
            "the internet sees the container's own LAN address": reach["internet saw"] in reach["container"].values(),
        }, evidence=reach)
        """),
        md("""
        ### Who answers "who has this address?"
        Before its first frame, `lanpc` must learn which MAC owns the container's address: it broadcasts
        an ARP question, the LAN switch floods it to every port (host1, host2 and the router hear it),
        and the owner answers. With macvlan the owner is the container itself, answering with its own
        MAC; host1 only carries the frame. We make `lanpc` forget its neighbours first, so the capture
        holds that first exchange; the L2 view lists it under the path.
        """, id="who-answers-who-has"),
        code("""
        facts.forget_neighbours(world, "lanpc")
        ch05.show_path(world, mv, "lan", view="L2")
        """),
        code("""
        arp = ch05.show_path.last.arp_exchanges()
        app_ip, mac = facts.address(world, app), facts.mac_of(world, app)
        """),
        claim("ch05:arp", """
        # Only the question for the container's address: the router may refresh host1's entry meanwhile.
        asked = [a for a in arp if a.get("question", "").startswith(f"who-has {app_ip} ")]
        first = asked[0] if asked else {}
        claims.all_of("lanpc's ARP question is flooded to every host on the LAN, and the container answers with its own MAC", {
            "one ARP question for the container's address, asked by lanpc": len(asked) == 1 and first.get("asker") == "lanpc",
            "heard at host1's and host2's eth0": {"host1/eth0", "host2/eth0"} <= set(first.get("heard_at") or []),
            "answered by the container itself": first.get("answered_by") == app.name,
            "with the container's own MAC": first.get("answer") == f"{app_ip} is-at {mac}",
        }, evidence={"arp": arp, "container MAC": mac})
        """),
        md("""
        ## 5.4 "Applications that monitor network traffic"
        > **The article says:** 「レガシーアプリケーションやネットワークトラフィックを監視するアプリケーションは物理ネットワークに直接接続することが多いです。」
        > (legacy applications and applications that monitor network traffic often connect straight to the physical network.)

        Partly. A macvlan container *is* on the LAN, so it hears what the LAN broadcasts (ARP, DHCP,
        mDNS) — a bridge container hears none of it. But a switch sends a unicast frame only to the
        port where it learned the destination MAC, so a conversation between two *other* machines
        never reaches it, even with `tcpdump` in promiscuous mode. Watching others' traffic needs a
        mirror (SPAN) port on the switch, and that alone is not enough: in macvlan's default bridge
        mode a container receives unicast only for its own MAC. It takes `macvlan_mode=passthru`, or a
        capture on the parent (host1's `eth0`) instead. We capture on the container's `eth0` while `lanpc` (after
        forgetting its neighbours) pings **host2**, and do the same in a bridge container on host1.
        """, id="5.4-applications-that-monitor"),
        code("""
        heard = ch05.lan_chatter_heard(world, app)
        heard_bridge = ch05.lan_chatter_heard(world, lesson.box("listener"))
        facts.table([heard, heard_bridge])
        """),
        claim("ch05:hears-lan", """
        claims.all_of("a macvlan container hears the LAN's broadcasts, a bridge container does not; neither hears others' unicast", {
            "the macvlan container heard lanpc's ARP broadcast for host2": bool(heard["ARP broadcasts heard"]),
            "it did not hear the lanpc <-> host2 unicast (the switch sends it only to host2)": not heard["lanpc<->host unicast heard"],
            "a bridge container on host1 heard none of it": not (heard_bridge["ARP broadcasts heard"]
                                                                 or heard_bridge["lanpc<->host unicast heard"]),
        }, evidence=[heard, heard_bridge])
        """),
        md("""
        ## 5.5 The workaround: a macvlan sub-interface on host1
        Give host1 its *own* macvlan interface on `eth0`, in the same `bridge` mode as the containers,
        and route the containers' range through it. host1 then talks to the containers as a sibling,
        not as the parent.
        """, id="5.5-workaround-macvlan-sub"),
        code("""
        shim = mv.add_host_shim()
        after = probes.run_spec(mv, "host")
        display(facts.sh(world, "host1", "ip -d link show mv-host | head -3; ip route show dev mv-host"))
        """),
        claim("ch05:shim", """
        claims.holds("with a bridge-mode macvlan sub-interface, host1 reaches the container", after.ok,
                     evidence={"shim": shim, "probe": after.row()})
        """),
        code("""
        mv.remove_host_shim()
        """),
        md("""
        ## 5.6 Why clouds usually block it, and what ipvlan changes
        A cloud's virtual switch knows exactly one MAC per virtual NIC and drops frames from any other
        (anti-spoofing). A macvlan container sends from its own MAC, so on most clouds its frames never
        arrive. Our lab LAN is a plain Linux bridge that learns every MAC, like a physical switch:
        the FDB above shows the container's MAC as an *extra* MAC behind host1's port.

        **ipvlan** shares the parent's MAC, so the MAC filter passes — but that is not enough:
        clouds also filter by **IP**. A source/destination check drops packets whose address is not
        one the cloud assigned to that NIC, so each container address must be registered as a
        secondary IP of the instance (AWS secondary private IPs, Azure IP configurations, GCP alias
        IP ranges), or the check switched off where the cloud allows it.

        We try to make one ipvlan link for real (this machine's kernel may lack the module):
        """, id="5.6-why-clouds-usually"),
        code("""
        from helpers.scenarios.macvlan import ipvlan_support
        supported, why = ipvlan_support(world)
        print("ipvlan supported here:", supported, "-", why)
        if not supported:
            print("Skipped: this kernel has no ipvlan module, so the ipvlan driver cannot run here.")
        """),
        md("""
        **Trunk mode.** `-o parent=eth0.10` asks Docker to make the 802.1Q VLAN sub-interface `eth0.10`
        and hang the network's containers on VLAN 10: one NIC, one network per VLAN. It needs the
        kernel's 802.1Q support:
        """, id="trunk-mode-o"),
        code("""
        from helpers.world import doctor
        print(doctor.feature_line("vlan"))
        """),
        md("""
        **Engine versions.** Measured on the engine printed above. [[engine:macvlan-gateway]] Without
        `--subnet` every release picks a subnet from its default pools, which never matches your LAN (Docker docs: *Macvlan network driver*,
        docs.docker.com/engine/network/drivers/macvlan/).

        ## Summary
        * `docker network create -d macvlan --subnet <LAN> --gateway <LAN router> --ip-range <free slice> -o parent=eth0`.
        * Each container is its own machine on the LAN, with its own MAC and address; no NAT.
        * Neighbours reach it directly; its own host does not, unless the host gets a macvlan sub-interface.
        * It hears the LAN's broadcasts, not other machines' unicast (that needs a mirror port, and
          passthru mode or a capture on the parent).
        * Clouds usually drop extra MACs; ipvlan keeps one MAC but still needs the cloud to accept its IPs.

        ## Exercises
        1. Which MAC does `lanpc` have in its neighbour table for the container's address?
        2. host1 has MASQUERADE rules (for its bridges' subnets), yet they count no packet of `egress`,
           and the internet sees the container's own LAN address. Why?
        3. Make the shim in `vepa` mode (`mv.add_host_shim(mode="vepa")`). Does host1 reach the container? Why?
        """, states={"ch05:masquerade": ["MASQUERADE", "no packet", "own LAN address"]}, id="engine-versions-measured"),
        solution("""
        # 1. the container's own MAC (lanpc pings it first, so the entry is fresh)
        probes.run_spec(mv, "lan")
        print(facts.sh(world, "lanpc", f"ip neigh show {app_ip}"), "container MAC:", facts.mac_of(world, app))
        # 2. the packet leaves through eth0's macvlan child with the container's LAN address and is switched
        #    straight onto the LAN: host1 never routes it, so its netfilter POSTROUTING (where MASQUERADE
        #    sits, for packets from its bridges) never sees it. The rules, and what each counted meanwhile:
        egress = ch05.host_egress(world, app)
        counted = egress["MASQUERADE packets counted"]
        display(facts.table([{"host1's MASQUERADE rule": rule, "packets it counted during egress": n}
                             for rule, n in counted.items()]))
        print("host1's MASQUERADE rules counted "
              + (f"{sum(counted.values())} packets" if any(counted.values()) else "no packet")
              + f" of egress; the internet saw {egress['internet saw']}, "
              + ("the container's own LAN address" if egress["internet saw"] == app_ip else f"not {app_ip}"))
        # 3. No: a vepa sub-interface sends every frame out to the LAN switch, and lan0 does not send a
        #    frame back out of the port it came in on (no hairpin), so it never reaches the container.
        mv.add_host_shim(mode="vepa")
        display(facts.table([probes.run_spec(mv, "host").row()]))   # not reached
        mv.remove_host_shim()
        """, id="solution-1-container-s-own", output="ch05:masquerade"),
        code("""
        lesson.stop()
        mv.stop()
        """),
    ])
