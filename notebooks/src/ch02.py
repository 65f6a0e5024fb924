"""Chapter 2: the bridge driver (article 1.1 and 2.1)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "02_bridge.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 2 — Bridge
        **Article 1.1 「ブリッジネットワーク (Bridge Network)」 and 2.1 「bridgeドライバ」**

        **Goals.** See `docker0` as a real Linux bridge; match a container's `eth0` with its veth
        peer on host1; watch the bridge *learn* MAC addresses like a switch (its FDB, `bridge fdb`);
        compare the default bridge with a user-defined one (embedded DNS at `127.0.0.11`, isolation
        between bridges); make an `--internal` network.

        **Prerequisites.** Chapter 1 (namespaces, the default route via the gateway). Every
        `host1# ...` line is a real command run on host1 just now; type it yourself after
        `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-2-bridge"),
        code(setup("ch02")),
        code("""
        # extra code: the two bridge scenarios and this chapter's own containers
        default = scenarios.get(world, "default-bridge").start()   # a, b on docker0
        user = scenarios.get(world, "user-bridge").start()         # a, b on user-bridge-net; c on user-bridge-net2
        lesson = ch02.Lesson(world, "ch02").reset()
        """, id="code-extra-code-two-bridge"),
        md("""
        ## 2.1 docker0 is a Linux bridge, and containers plug in through veth pairs
        > **The article says:** 「ブリッジネットワークは第二層で動作しますが、L2スイッチとは厳密には異なります。…仮想ネットワークインターフェース同士(vethペア)をつなぐ…」
        > (the bridge works at L2 but is not strictly an L2 switch; it connects veth pairs.)

        `docker0` is an ordinary Linux bridge device in host1's namespace. Each container gets one
        end of a **veth pair** as its `eth0`; the other end lives on host1, enslaved to the bridge.
        Each end names the other's interface index (`eth0@if33` inside, `vethXXX@if32` outside), so we
        can match them for certain.
        """, id="2.1-docker0-linux-bridge"),
        code("""
        facts.sh(world, "host1", "ip -d link show docker0 | head -3; docker exec default-bridge-a ip link show eth0; "
                                 "ip link show master docker0")
        """),
        code("""
        from helpers.draw import draw_map
        draw_map(world, "host1")     # host1 as it is now: bridges, veth pairs, containers
        """, id="code-helpers-draw-import"),
        code("""
        a = default.containers()["a"]
        pair = facts.veth_peer(world, "host1", a)
        device = ch02.bridge_device(world, "host1", "docker0")
        facts.table([{**pair, "bridge kind": device["kind"]}])
        """),
        claim("ch02:veth", """
        claims.all_of("a's eth0 is one end of a veth pair whose other end is a port of the docker0 bridge", {
            "docker0 is a Linux bridge device": device["kind"] == "bridge",
            "a veth on host1 and a's eth0 name each other's index": bool(pair.get("host_ifname")),
            "that host end is a port of docker0": pair.get("master") == "docker0",
        }, evidence=pair)
        """),
        md("""
        ## 2.2 The bridge is a learning switch
        The article says a bridge is "not strictly an L2 switch". In fact a Linux bridge *is* a
        software learning switch: it keeps a forwarding database (**FDB**) mapping each source MAC
        to the port it arrived on, and forwards by it. After `a` pings `b`, the FDB has `a`'s MAC on
        exactly `a`'s veth. `bridge fdb show br docker0` prints it (the `permanent` lines are the
        bridge's own addresses; we leave them out).
        """, id="2.2-bridge-learning-switch"),
        code("""
        c2c = probes.run_spec(default, "c2c")      # a pings b on docker0
        facts.table([c2c.row()])
        """, id="code-c2c-probes-run"),
        code("""
        facts.sh(world, "host1", "docker exec default-bridge-a cat /sys/class/net/eth0/address; "
                                 "bridge fdb show br docker0 | grep -v permanent")
        """),
        code("""
        learned = ch02.learned_port(world, "host1", "docker0", a)
        facts.table([learned])
        """),
        claim("ch02:fdb", """
        claims.article_vs_reality(
            "a bridge is not strictly an L2 switch",
            "a Linux bridge is a software learning switch: its FDB maps each MAC to a port",
            claims.holds("docker0 learned a's MAC on a's own veth port", learned["fdb_port"] == [learned["veth_host_end"]],
                         evidence=learned))
        """),
        code("""
        ch02.show_path(world, default, "c2c", view="L2")
        """),
        md("""
        ## 2.3 Default bridge vs user-defined bridge: names
        On a **user-defined** bridge, each container's `/etc/resolv.conf` says `nameserver 127.0.0.11`,
        and a NAT rule *inside the container's own namespace* sends that address's port 53 to the
        engine's **embedded DNS** server, which knows the names of the containers on the network.

        On the **default** bridge there is none of this. [[engine:default-bridge-dns]] In this lab,
        every engine's settings file sets `dns`, so queries never leave the lab. The container's
        `/etc/hosts` lists only itself. No server it can ask
        knows the other containers' names: only the engine does, and it answers only at `127.0.0.11`.
        """, id="2.3-default-bridge-vs"),
        code("""
        facts.sh(world, "host1", f"cat {world.names.host('host1').config} | grep -A2 dns; "
                                 "docker exec default-bridge-a cat /etc/resolv.conf /etc/hosts; "
                                 "docker exec user-bridge-a cat /etc/resolv.conf", head=30)
        """),
        code("""
        ua, da = user.containers()["a"], default.containers()["a"]
        on_default = ch02.name_resolution(world, da, "default-bridge-b")
        on_user = ch02.name_resolution(world, ua, "user-bridge-b")
        facts.table([{"what": key, "default bridge (default-bridge-a)": on_default[key],
                      "user bridge (user-bridge-a)": on_user[key]} for key in on_default])
        """, output="ch02:lookup"),
        md("""
        The default-bridge lookup does reach a DNS server: the only resolver it knows, `203.0.113.10`,
        the lab's "internet", which runs the lab's DNS server. That server answers, but it knows no
        container's name: *NXDOMAIN* (no such name), as any DNS server outside the engine would
        answer. Only the engine knows the names, and it answers only at `127.0.0.11`.
        """, states={"ch02:lookup": ["203.0.113.10", "NXDOMAIN"]}, id="default-bridge-lookup"),
        claim("ch02:dns", """
        claims.all_of("a container name resolves on a user-defined bridge (embedded DNS) and not on the default bridge", {
            "on the default bridge, a's resolver is the daemon's dns setting, not 127.0.0.11":
                on_default["nameservers"] == on_default["daemon_dns"] and "127.0.0.11" not in on_default["nameservers"],
            "a's namespace has no DNAT to the engine's embedded DNS": not on_default["embedded_dns_rules"],
            "a's /etc/hosts has no line for default-bridge-b": not on_default["hosts_entry"],
            "the lookup of default-bridge-b in a found no address": on_default["resolved"] is None,
            "it reached the daemon's resolver, which answered NXDOMAIN (no such name), not a failure to ask":
                on_default["lookup outcome"] == "NXDOMAIN" and on_default["lookup server"] in on_default["daemon_dns"],
            "on the user bridge, a's resolver is 127.0.0.11, DNATed to the embedded DNS":
                on_user["nameservers"] == ["127.0.0.11"] and bool(on_user["embedded_dns_rules"]),
            "there user-bridge-b resolved to the address docker inspect gives it":
                on_user["resolved"] is not None and on_user["resolved"] == on_user["other_address"],
        }, evidence={"default bridge": on_default, "user bridge": on_user})
        """),
        md("""
        ## 2.4 Isolation between bridges
        Two Docker bridges cannot reach each other: Docker's rules on host1 drop traffic that enters
        from one Docker bridge and leaves through another. Which rules do it depends on the engine
        version: chains of the filter table, whose names changed over the releases, and on newer
        engines, before them, a raw-table rule for each container's address ([[engine:direct-access]]).
        So we read the version first. `c` lives on a second user bridge and tries to ping `b`.
        """, id="2.4-isolation-between-bridges"),
        code("""
        print(ch02.on_this_engine(world, "chains"))
        facts.sh(world, "host1", "iptables-save -t filter | grep -e ISOLATION -e DOCKER-FORWARD -e DOCKER-BRIDGE")
        """),
        code("""
        b, c = user.containers()["b"], user.containers()["c"]
        iso = ch02.crossing(world, c, b)                 # c pings b; host1's rule counters read around it
        isolation = ch02.isolation_rules(world)
        facts.table([{k: iso[k] for k in ("from", "to", "reached", "output", "ip_forward")},
                     {"from": "rules that counted the ping", "to": "; ".join(iso["counted"])}])
        """, id="code-b-c-user"),
        claim("ch02:isolation", """
        claims.all_of("c, on a second user bridge, cannot reach b: Docker's rules drop traffic between bridges", {
            "c could not reach b": not iso["reached"],
            "host1 forwards IPv4 (ip_forward=1), so it is not a host that does not route": iso["ip_forward"] == 1,
            "a DROP rule Docker wrote between the bridges counted the ping (its isolation chains, or "
            "first the raw-table rule of b's address where the engine writes one)": bool(iso["dropped_by"]),
            f"this engine's isolation chains exist ({', '.join(isolation['expected_chains'])})":
                isolation["chains_present"] == isolation["expected_chains"],
            "they hold DROP rules for traffic leaving into another Docker bridge": bool(isolation["drop_rules"]),
        }, evidence={"probe": {k: iso[k] for k in ("from", "to", "output")}, "dropped by": iso["dropped_by"],
                     "engine": isolation["engine"], "rules": isolation["rules"]})
        """),
        md("""
        A counter names the DROP rule whose count rose while `c` pinged. The kernel can name the rule
        `c`'s own ping met: `dnlab trace ... --rules` traces that one flow through host1's netfilter
        hooks (a `-j TRACE` rule in the raw table, read by `xtables-monitor --trace`, removed after).
        Type it in a terminal; here is host1's part of what it prints (`dnlab trace` expects a probe to
        get through, hence its "NOT as expected"). Where the ping dies depends on the engine: on one
        that writes a raw-table rule for each container's address (above), that rule drops it in
        PREROUTING, before any routing; on one that does not, host1 routes it and in FORWARD Docker's
        chains send it to the rule that drops it. The output names the one met here:
        """, id="isolation-trace-intro"),
        code("""
        iso_trace = ch02.rule_trace(world, "user-bridge-c", "user-bridge-b")   # dnlab trace ... --rules
        """, id="code-isolation-trace"),
        claim("ch02:isolation-trace", """
        drop = iso_trace["dropped"]
        claims.all_of("the kernel's trace names the rule that dropped c's ping", {
            "c's ping did not reach b": not iso_trace["reached"],
            "the trace says host1 dropped it": drop is not None,
            "by a DROP rule Docker wrote between the bridges, one whose counter rose above":
                drop is not None and any(ch02.same_rule(drop["rule"], rule.split(" [")[0]) for rule in iso["dropped_by"]),
            "nothing after it: the ping never reached host1's POSTROUTING":
                not any(e["hook"] == "POSTROUTING" and e["leg"] == "request" for e in iso_trace["met"]),
        }, evidence={"dropped by": drop and f"{drop['table']} {drop['hook']}: {drop['rule']}",
                     "counters": iso["dropped_by"]})
        """),
        md("""
        The default bridge is **not** an exception: `docker0` has its own lines in those chains, so
        containers on it are kept apart from every user bridge too. What the default bridge lacks is
        *separation between applications*: every container started without `--network` lands on
        `docker0`, so unrelated containers can reach each other there (`a` reached `b` in 2.2).
        Two more pings, across docker0's border both ways, with the rules that counted each:
        """, id="default-bridge-not"),
        code("""
        into_docker0 = ch02.crossing(world, c, da)      # user bridge -> docker0 (da: default-bridge-a, 2.3)
        out_of_docker0 = ch02.crossing(world, da, b)    # docker0 -> user bridge
        facts.table([{"from": x["from"], "to": x["to"], "reached": x["reached"],
                      "dropped by": "; ".join(x["dropped_by"]) or "(no DROP rule counted it)"}
                     for x in (into_docker0, out_of_docker0)])
        """, id="code-into-docker0-chapters"),
        claim("ch02:docker0-isolated", """
        claims.all_of("docker0 is isolated from other bridges like any Docker bridge, yet shared by unrelated containers", {
            "docker0 appears in the isolation rules": bool(isolation["docker0_rules"]),
            "c (user bridge) could not reach a on docker0": not into_docker0["reached"],
            "a DROP rule for traffic into docker0 counted that ping": bool(into_docker0["dropped_by"]),
            "a on docker0 could not reach b (user bridge)": not out_of_docker0["reached"],
            "a DROP rule for traffic from docker0 into b's bridge counted that ping": bool(out_of_docker0["dropped_by"]),
            "host1 forwards IPv4 (ip_forward=1)": into_docker0["ip_forward"] == 1,
            "two unrelated containers on docker0 (a and b) reach each other": c2c.ok,
        }, evidence={"into docker0": into_docker0["dropped_by"], "out of docker0": out_of_docker0["dropped_by"],
                     "a -> b": c2c.row()})
        """),
        code("""
        ch02.show_path(world, user, "isolation", view="L3", rules=True)   # dnlab path user-bridge isolation --rules
        """, id="code-show-path-isolation-rules"),
        md("""
        ## 2.5 `--internal`: a bridge without a way out
        An `--internal` network gets no MASQUERADE rule, and host1's filter table drops whatever tries to
        leave its subnet: its containers talk to each other but not to the internet. This is one of the
        real ways to isolate (the article's 「接続を遮断」). Whether the container keeps a default
        route depends on the engine: [[engine:internal-route]] The container's `ip route` below shows
        which case this engine is.
        """, id="2.5-internal-bridge-without"),
        code("""
        internal = ch02.internal_egress(world, lesson)     # docker network create --internal ch02-internal
        facts.sh(world, "host1", "docker network inspect -f '{{.Name}} internal={{.Internal}}' ch02-internal; "
                                 "docker exec ch02-in-internal ip route; "
                                 f"iptables-save -t filter | grep -- '{internal['subnet']}'")
        """, id="code-internal-chapters-internal"),
        code("""
        facts.table(ch02.rows_of(internal))
        """),
        claim("ch02:internal", """
        claims.all_of("a container on an --internal network has no way out", {
            "the network is internal": internal["internal"] is True,
            "host1's filter table has DROP rules for traffic leaving its subnet": bool(internal["drop_rules"]),
            "host1 has no MASQUERADE rule for its subnet": internal["masquerade_rule"] is None,
            "it could not reach the internet service": not internal["probe"]["reached"],
        }, evidence=internal)
        """),
        md("""
        ## Summary
        * `docker0` is a Linux bridge; every container joins through a veth pair whose ends name each other.
        * A bridge is a learning switch with an FDB (MAC → port): `bridge fdb show br docker0`.
        * User-defined bridges resolve container names at `127.0.0.11` (the engine's embedded DNS); the
          default bridge gives containers the daemon's `dns` setting (2.3 says what happens without
          one), so names do not resolve there.
        * Every Docker bridge, `docker0` included, is isolated from the others by filter rules (whose
          chain names depend on the engine version); the default bridge's weakness is that unrelated
          containers share it.
        * `--internal` removes the way out.

        ## Exercises
        1. Connect `user-bridge-c` to `user-bridge-net` as well. Can it now ping `b`? Why?
        2. Which nameserver does a container on the default bridge use, and where does it come from?
        """, id="summary"),
        solution("""
        # 1. Yes: c gets a second interface on b's bridge; the traffic never crosses bridges.
        net = world.host1.docker.networks.get("user-bridge-net")
        net.connect("user-bridge-c")
        display(facts.table([probes.run_spec(user, "isolation").row()]))   # reached: c has a leg on b's bridge now
        net.disconnect("user-bridge-c")
        # 2. the daemon's `dns` setting (this lab sets it to the internet service); without one, a copy
        #    of the host's /etc/resolv.conf without its localhost nameservers (2.3)
        print(facts.resolv_nameservers(default.containers()["a"]), ch02.daemon_dns(world))
        """, id="solution-1-yes-c-gets"),
        code("""
        lesson.stop()
        user.stop()
        default.stop()
        """),
    ])
