"""Chapter 2: the bridge driver (article 1.1 and 2.1)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "02_bridge.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 2 — Bridge
        **Article 1.1 「ブリッジネットワーク (Bridge Network)」 and 2.1 「bridgeドライバ」**

        **Goals.** See `docker0` as a real Linux bridge; match a container's `eth0` with its veth
        peer on host1; watch the bridge *learn* MAC addresses like a switch (its FDB); compare the
        default bridge with a user-defined one (embedded DNS at `127.0.0.11`, isolation between
        bridges); make an `--internal` network.

        **Prerequisites.** Chapter 1 (namespaces, the default route via the gateway).
        """),
        code(SETUP),
        code("""
        default = scenarios.get(world, "default-bridge").start()   # a, b on docker0
        user = scenarios.get(world, "user-bridge").start()         # a, b on user-bridge-net; c on user-bridge-net2
        lesson = chapters.Lesson(world, "ch02").reset()
        """),
        md("""
        ## 2.1 docker0 is a Linux bridge, and containers plug in through veth pairs
        > **The article says:** 「ブリッジネットワークは第二層で動作しますが、L2スイッチとは厳密には異なります。…仮想ネットワークインターフェース同士(vethペア)をつなぐ…」
        > (the bridge works at L2 but is not strictly an L2 switch; it connects veth pairs.)

        `docker0` is an ordinary Linux bridge device in host1's namespace. Each container gets one
        end of a **veth pair** as its `eth0`; the other end lives on host1, enslaved to the bridge.
        Each end names the other's interface index, so we can match them for certain.
        """),
        code("""
        chapters.bridge_device(world, "host1", "docker0")
        """),
        code("""
        from helpers.draw import draw_map
        draw_map(world, "host1")     # host1 as it is now: bridges, veth pairs, containers
        """),
        code("""
        a = default.containers()["a"]
        pair = facts.veth_peer(world, "host1", a)
        claims.holds("a's eth0 and a veth on host1 name each other's index, and the host end is a port of docker0",
                     pair["master"] == "docker0" and chapters.bridge_device(world, "host1", "docker0")["kind"] == "bridge",
                     evidence=pair)
        """),
        md("""
        ## 2.2 The bridge is a learning switch
        The article says a bridge is "not strictly an L2 switch". In fact a Linux bridge *is* a
        software learning switch: it keeps a forwarding database (**FDB**) mapping each source MAC
        to the port it arrived on, and forwards by it. After `a` pings `b`, the FDB has `a`'s MAC on
        exactly `a`'s veth.
        """),
        code("""
        probes.run_spec(default, "c2c").row()
        """),
        code("""
        learned = chapters.learned_port(world, "host1", "docker0", a)
        claims.article_vs_reality(
            "a bridge is not strictly an L2 switch",
            "a Linux bridge is a software learning switch: its FDB maps each MAC to a port",
            claims.holds("docker0 learned a's MAC on a's own veth port", learned["fdb_port"] == [learned["veth_host_end"]],
                         evidence=learned))
        """),
        code("""
        chapters.show_path(world, default, "c2c", view="L2")
        """),
        md("""
        ## 2.3 Default bridge vs user-defined bridge: names
        On a **user-defined** bridge, Docker runs an embedded DNS server reachable at `127.0.0.11`
        inside each container, which resolves container names. The **default** bridge has none:
        containers get a copy of the host's resolver configuration and cannot find each other by name.
        """),
        code("""
        ua, da = user.containers()["a"], default.containers()["a"]
        dns = {"user-bridge a": facts.resolv_nameservers(ua), "default-bridge a": facts.resolv_nameservers(da)}
        dns
        """),
        code("""
        user_ok, user_text = facts.lookup(ua, "user-bridge-b")
        default_ok, default_text = facts.lookup(da, "default-bridge-b")
        claims.holds("on the user bridge the name resolves through 127.0.0.11; on the default bridge it does not",
                     dns["user-bridge a"] == ["127.0.0.11"] and "127.0.0.11" not in dns["default-bridge a"]
                     and user_ok and not default_ok,
                     evidence={"user": user_text.splitlines()[-1], "default": default_text.splitlines()[-1]})
        """),
        md("""
        ## 2.4 Isolation between bridges
        Two user-defined bridges cannot reach each other: Docker's `DOCKER-ISOLATION-STAGE-*` chains
        in the filter table drop traffic that enters from one Docker bridge and leaves through another.
        `c` lives on a second user bridge and tries to ping `b`.
        """),
        code("""
        iso = probes.run_spec(user, "isolation")
        rules = chapters.filter_rules(world, "host1", "DOCKER-ISOLATION-STAGE-2 -o")
        claims.holds("c (second bridge) cannot reach b, and isolation rules drop traffic between Docker bridges",
                     not iso.ok and any("DROP" in r for r in rules), evidence={"probe": iso.row(), "rules": rules})
        """),
        code("""
        chapters.show_path(world, user, "isolation", view="L3")
        """),
        md("""
        ## 2.5 `--internal`: a bridge without a way out
        An `--internal` network gets no MASQUERADE rule and no route out: containers on it talk to each
        other but not to the internet. This is one of the real ways to isolate (the article's
        「接続を遮断」).
        """),
        code("""
        internal = lesson.network("internal", driver="bridge", internal=True)
        inside = lesson.box("inside", network=internal.name)
        out = helpers.world.guard.probe(world, inside, "203.0.113.10", "tcp", 9000)
        subnet = chapters.network_subnet(internal)
        claims.holds("a container on an --internal network cannot reach the internet, and no MASQUERADE rule exists for it",
                     not out.ok and facts.masquerade_rule(world, "host1", subnet) is None,
                     evidence={"probe": out.output.strip(), "subnet": subnet})
        """),
        md("""
        ## Summary
        * `docker0` is a Linux bridge; every container joins through a veth pair whose ends name each other.
        * A bridge is a learning switch with an FDB (MAC → port).
        * User-defined bridges give name resolution at `127.0.0.11` and isolation from other bridges;
          the default bridge gives neither.
        * `--internal` removes the way out.

        ## Exercises
        1. Connect `user-bridge-c` to `user-bridge-net` as well. Can it now ping `b`? Why?
        2. Which nameserver does a container on the default bridge use, and where does it come from?
        """),
        solution("""
        # 1. Yes: c gets a second interface on b's bridge; the traffic never crosses bridges.
        net = world.host1.docker.networks.get("user-bridge-net")
        net.connect("user-bridge-c")
        print(probes.run_spec(user, "isolation").row())   # now reached (expected False in the scenario's terms)
        net.disconnect("user-bridge-c")
        # 2. a copy of the daemon's / host's resolver setting (the lab sets dns to the internet service)
        print(facts.resolv_nameservers(default.containers()["a"]))
        """),
        code("""
        lesson.stop()
        user.stop()
        default.stop()
        """),
    ])
