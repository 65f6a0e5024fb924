"""Chapter 5: the macvlan driver (article 1.4 and 2.4)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "05_macvlan.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 5 — Macvlan
        **Article 1.4 「マックベランネットワーク (Macvlan Network)」 and 2.4 「macvlanドライバ」**

        **Goals.** Create a macvlan network with `-o parent=` host1's `eth0`; find the container's own
        MAC in the LAN switch's FDB; reach it from the plain LAN machine `lanpc`; see host1 fail to
        reach it (the kernel filter) and fix that with a host-side macvlan sub-interface; know why
        clouds usually block it; check ipvlan.

        **Prerequisites.** Chapter 2 (bridges and FDBs). The lab LAN is the bridge `lan0` on the router.
        """),
        code(SETUP),
        code("""
        mv = scenarios.get(world, "macvlan").start()   # macvlan-net (parent eth0, LAN subnet), macvlan-app
        app = mv.containers()["app"]
        net = mv.networks()[0]
        {"driver": net.attrs["Driver"], "options": net.attrs["Options"], "ipam": net.attrs["IPAM"]["Config"]}
        """),
        md("""
        > **The article says:** 「コンテナに独自のMACアドレスを割り当て、物理ネットワークに直接接続します。」「parentの設定が必要です。」
        > (each container gets its own MAC on the physical network; `parent` is required.) — correct, with caveats below.
        """),
        code("""
        mac = facts.mac_of(world, app)
        probes.run_spec(mv, "lan")           # traffic, so the LAN switch learns the MAC
        fdb = facts.bridge_fdb(world, "router", "lan0")
        claims.holds("the container has its own MAC (not host1's), and the LAN switch (lan0) learned it on host1's port",
                     net.attrs["Options"]["parent"] == "eth0" and mac != facts.mac_of(world, "host1")
                     and {"mac": mac, "port": "p-host1"} in fdb,
                     evidence={"container MAC": mac, "host1 MAC": facts.mac_of(world, "host1"),
                               "lan0 FDB on p-host1": [e for e in fdb if e["port"] == "p-host1"]})
        """),
        md("""
        ## 5.1 The LAN reaches it directly; host1 does not
        `lanpc` is a plain machine on the LAN: it reaches the container's address like any neighbour,
        without port publishing or NAT, and the container sees `lanpc`'s own address. host1 cannot:
        the kernel does not deliver frames between a macvlan parent and its own macvlan children.
        """),
        code("""
        v = {name: probes.run_spec(mv, name) for name in ("lan", "lan-http", "host", "egress")}
        facts.table([x.row() for x in v.values()])
        """),
        code("""
        claims.holds("lanpc reaches the container (and its server sees lanpc's address); host1 does not; "
                     "out to the internet it appears with its own LAN address: no NAT on host1",
                     v["lan"].ok and helpers.lessons.lesson.who_sees(v["lan-http"].result.output) == facts.address(world, "lanpc")
                     and not v["host"].ok
                     and helpers.lessons.lesson.who_sees(v["egress"].result.output) == facts.address(world, app),
                     evidence={k: x.row()["output"] for k, x in v.items()})
        """),
        md("""
        ### Who answers "who has this address?"
        Before its first frame, `lanpc` must learn which MAC owns the container's address: it broadcasts
        an ARP question, the LAN switch floods it to every port (host1, host2 and the router hear it),
        and the owner answers. With macvlan the owner is the container itself, answering with its own
        MAC; host1 only carries the frame. We make `lanpc` forget its neighbours first, so the capture
        holds that first exchange; the L2 view lists it under the path.
        """),
        code("""
        facts.forget_neighbours(world, "lanpc")
        chapters.show_path(world, mv, "lan", view="L2")
        """),
        code("""
        arp = chapters.show_path.last.arp_exchanges()
        claims.holds("lanpc's ARP question is flooded to every host on the LAN, and the container answers it "
                     "with its own MAC (not host1's)",
                     len(arp) == 1 and arp[0]["asker"] == "lanpc"
                     and {"host1/eth0", "host2/eth0"} <= set(arp[0]["heard_at"])
                     and arp[0]["answered_by"] == app.name
                     and arp[0]["answer"] == f"{facts.address(world, app)} is-at {mac}",
                     evidence={"arp": arp, "host1 MAC": facts.mac_of(world, "host1")})
        """),
        md("""
        ## 5.2 The workaround: a macvlan sub-interface on host1
        Give host1 its *own* macvlan interface on `eth0` and route the containers' range through it.
        host1 then talks to the containers as a sibling, not as the parent.
        """),
        code("""
        shim = mv.add_host_shim()
        after = probes.run_spec(mv, "host")
        claims.holds("with the host-side macvlan sub-interface, host1 reaches the container", after.ok,
                     evidence={"shim": shim, "probe": after.row()})
        """),
        code("""
        mv.remove_host_shim()
        """),
        md("""
        ## 5.3 Why clouds usually block it
        A cloud's virtual switch knows exactly one MAC per virtual NIC and drops frames from any other
        (anti-spoofing). A macvlan container sends from its own MAC, so on most clouds its frames never
        arrive. Our lab LAN is a plain Linux bridge that learns every MAC, like a physical switch.
        The proof is the FDB above: the container's MAC is an *extra* MAC behind host1's port.

        ## 5.4 ipvlan: detected, and skipped where the kernel lacks it
        ipvlan shares the parent's MAC (so clouds accept it). We try to make one ipvlan link for real.
        """),
        code("""
        from helpers.scenarios.macvlan import ipvlan_support
        supported, why = ipvlan_support(world)
        print("ipvlan supported here:", supported, "-", why)
        if not supported:
            print("Skipped: this kernel has no ipvlan module, so the ipvlan driver cannot run here.")
        """),
        md("""
        ## Summary
        * macvlan: `-o parent=eth0`; each container is its own machine on the LAN, with its own MAC and address.
        * Neighbours reach it directly; its own host does not, unless the host gets a macvlan sub-interface.
        * Clouds usually drop extra MACs; ipvlan (one MAC) is the cloud-friendly cousin.

        ## Exercises
        1. Which MAC does `lanpc` have in its neighbour table for the container's address?
        2. Why does `egress` show no MASQUERADE at all on host1?
        """),
        solution("""
        # 1. the container's own MAC
        print(world["lanpc"].run(["ip", "neigh"]).stdout, facts.mac_of(world, app))
        # 2. the packet leaves through eth0's macvlan child with the container's LAN address and is switched
        #    straight onto the LAN; host1's netfilter POSTROUTING never sees a routed packet from docker0.
        """),
        code("""
        mv.stop()
        """),
    ])
