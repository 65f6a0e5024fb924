"""Chapter 7: the drivers side by side (article section 2)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "07_drivers_side_by_side.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 7 — The drivers side by side
        **Article section 2 「Dockerネットワークドライバ」**

        **Goals.** Build one table, live, from every scenario of the course (addresses, the way out,
        NAT, DNS, probe results); then measure the article's claim that the host driver is faster:
        latency and throughput through host, bridge (DNAT and docker-proxy), macvlan and overlay;
        last, run two Docker releases side by side and see what a newer one changed in the rules.

        **Prerequisites.** Chapters 1–6. This chapter starts every scenario at once (about 10 s);
        section 7.4 brings up a second, small world beside yours (about 15 s for the whole section).
        """, id="chapter-7-drivers-side"),
        code(setup("ch07")),
        code("""
        lesson = ch07.Lesson(world, "ch07").reset()
        running = {name: scenarios.get(world, name).start() for name in ch07.SIDE_BY_SIDE}
        """),
        md("""
        ## 7.1 One table, read live
        For each scenario: its first container on host1, the networks Docker lists for it, the
        addresses *inside* it, its **way out** (the interface of its default route, and that
        interface's subnet), whether it shares host1's namespace, host1's MASQUERADE rules for that
        subnet and how many packets they counted while the scenario's probes ran, its resolver,
        and the probes themselves (`(!)` would mark a probe that did not do what the scenario expects).
        """, id="7.1-one-table-read"),
        code("""
        rows = [ch07.scenario_row(world, s) for s in running.values()]
        facts.table(rows)
        """),
        claim("ch07:probes", """
        claims.holds("every probe of every scenario did what its scenario expects",
                     all(r["all as expected"] for r in rows),
                     evidence={r["scenario"]: r["probes"] for r in rows})
        """),
        md("""
        ### Which containers are NATed?
        Look at the overlay row. Docker lists one network for `overlay-a` (`overlay-net`), yet the
        container has two addresses, and its default route leaves by **eth1**, which sits on a third
        bridge, `docker_gwbridge`: the way out of every overlay container on this host. Traffic to
        the internet goes eth1 → docker_gwbridge → host1's eth0, and host1 masquerades it with the
        same kind of rule as docker0's. Here are the commands, as you would type them on host1
        (`sudo .venv/bin/dnlab shell host1`):
        """, id="which-containers-are-nated"),
        code("""
        overlay_a = running["overlay"].containers("host1")["a"]
        for command in (f"docker inspect -f '{{{{range $net, $_ := .NetworkSettings.Networks}}}}{{{{$net}}}} {{{{end}}}}' {overlay_a.name}",
                        f"docker exec {overlay_a.name} ip route",
                        "docker network inspect docker_gwbridge -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}'",
                        "iptables-save -t nat | grep MASQUERADE"):
            display(facts.sh(world, "host1", command))
        """),
        md("""
        One more connection from `overlay-a` to the lab's internet service, then the rule counters
        and the connection-tracking entry: the original tuple has the container's docker_gwbridge
        address as source, the reply tuple is addressed to host1's eth0 address — that is the
        masquerade. (A nat rule counts only the first packet of each connection; conntrack applies
        the stored translation to the rest.) An entry whose original source is host1's own eth0
        address is the host container's connection: conntrack tracks host-network traffic too,
        it just has nothing to translate (the reply tuple is the plain mirror of the original).
        """, id="one-more-connection"),
        code("""
        from helpers.world.guard import probe
        from helpers.world.naming import INET_IP, SERVICE_TCP_PORT
        print("the internet service answered:", probe(world, overlay_a, str(INET_IP), "tcp", SERVICE_TCP_PORT).output.strip())
        display(facts.sh(world, "host1", "iptables -t nat -L POSTROUTING -n -v"))
        facts.sh(world, "host1", f"conntrack -L -p tcp --dport {SERVICE_TCP_PORT}")
        """),
        claim("ch07:nat", """
        behind_a_bridge = ("default-bridge", "user-bridge", "overlay")
        claims.all_of(
            "host1 masquerades a container's traffic exactly when it leaves through a Docker bridge: docker0, "
            "a user-defined bridge, or docker_gwbridge for the overlay container; host, macvlan and none get no NAT",
            {**{"all six scenarios were read": {r["scenario"] for r in rows} >= set(ch07.SIDE_BY_SIDE)},
             **{(f"{r['scenario']}: a MASQUERADE rule for its way out {r['way out']} counted its packets"
                 if r["scenario"] in behind_a_bridge
                 else f"{r['scenario']}: no MASQUERADE or SNAT rule of host1 would apply to its way out {r['way out']}"):
                (bool(r["MASQUERADE rules"]) and r["masqueraded packets"] > 0) if r["scenario"] in behind_a_bridge
                else not r["MASQUERADE rules"]
                for r in rows}},
            evidence={r["scenario"]: {"way out": r["way out"], "rules": r["MASQUERADE rules"],
                                      "packets during probes": r["masqueraded packets"]} for r in rows})
        """),
        md("""
        ### The kernel's account: one connection per driver
        The counters add up every packet a rule counted while all of a scenario's probes ran. The
        kernel's trace follows one connection alone (chapter 1: `dnlab trace ... --rules`): each
        scenario's container from the table connects to the internet service once more, traced as
        `dnlab trace CONTAINER inet --tcp 9000 --rules` would trace it. The table keeps what happened
        in host1's nat table: the hooks the SYN crossed there and each NAT rule that acted on it. The
        `none` container has no way out, so there is nothing to trace. A bridge container's SYN
        enters host1's nat table at PREROUTING and meets a MASQUERADE at POSTROUTING; the host
        container's SYN is host1's own (OUTPUT, then POSTROUTING) and meets none; the macvlan
        container's SYN leaves through host1's eth0 without entering host1's IP stack, so host1's nat
        table never sees it.
        """, id="nat-by-trace"),
        code("""
        traces = [ch07.nat_by_trace(world, s) for name, s in running.items() if name != "none"]   # dnlab trace ... --rules
        facts.table(traces)
        """, id="code-nat-by-trace"),
        claim("ch07:nat-trace", """
        behind_a_bridge = ("default-bridge", "user-bridge", "overlay")
        masquerades = {r["scenario"]: r["MASQUERADE rules"] for r in rows}
        claims.all_of(
            "the kernel's trace of one connection per driver: a MASQUERADE acted exactly on those that left through a Docker bridge",
            {**{"every scenario with a way out was traced": {t["scenario"] for t in traces} == set(ch07.SIDE_BY_SIDE) - {"none"}},
             **{(f"{t['scenario']}: its connection met a MASQUERADE in host1's nat POSTROUTING, a rule the table above lists for it"
                 if t["scenario"] in behind_a_bridge
                 else f"{t['scenario']}: its connection got through and no NAT rule of host1 acted on it"):
                (t["reached"] and t["acted at"] == ["POSTROUTING"]
                 and any(ch07.same_rule(t["NAT rules that acted"][0], r) for r in masquerades[t["scenario"]]))
                if t["scenario"] in behind_a_bridge
                else t["reached"] and not t["NAT rules that acted"]
                for t in traces},
             "the trace and the counters agree on every rule that acted": not any(t["disagreements"] for t in traces)},
            evidence={t["scenario"]: {"nat hooks": t["host1 nat hooks crossed"], "acted": t["NAT rules that acted"]}
                      for t in traces})
        """),
        code("""
        print(ch07.engine_firewall_note(world))
        """),
        md("""
        ### Whose namespace, whose resolver
        Only the host driver puts a container into host1's own network namespace (compare the
        kernel's namespace inode, `readlink /proc/<pid>/ns/net`). Containers on user-defined,
        macvlan and overlay networks ask Docker's embedded DNS server at 127.0.0.11; a container on
        the default bridge is given the daemon's resolver instead (the `dns` setting of this lab's
        daemons), which is why, as chapter 2 showed, container names do not resolve there.
        """, id="whose-namespace-whose-resolver"),
        code("""
        host_app = running["host"].containers("host1")["app"]
        pid = "$(docker inspect -f '{{.State.Pid}}' %s)" % host_app.name
        display(facts.sh(world, "host1", f"readlink /proc/self/ns/net /proc/{pid}/ns/net"))
        names = " ".join(r["container"] for r in rows)
        facts.sh(world, "host1", f"for c in {names}; do echo $c: $(docker exec $c grep nameserver /etc/resolv.conf); done")
        """),
        claim("ch07:netns", """
        claims.all_of("only the host driver's container shares host1's network namespace", {
            "the host driver's container is in host1's namespace":
                any(r["same netns as host1"] for r in rows if r["driver"] == "host"),
            "no container of another driver is":
                not [r["container"] for r in rows if r["driver"] != "host" and r["same netns as host1"]],
        }, evidence={r["container"]: r["same netns as host1"] for r in rows})
        """),
        claim("ch07:dns", """
        by = {r["scenario"]: r for r in rows}
        on_default_bridge = [r for r in rows if r["docker networks"] == ["bridge"]]
        claims.all_of("user-defined, macvlan and overlay networks resolve through Docker's embedded DNS at "
                      "127.0.0.11; a container on the default bridge gets the daemon's resolver instead", {
            "user-bridge, macvlan and overlay containers use nameserver 127.0.0.11":
                all(n in by and by[n]["DNS"] == "127.0.0.11" for n in ("user-bridge", "macvlan", "overlay")),
            "default-bridge containers use another nameserver":
                bool(on_default_bridge) and all(r["DNS"] != "127.0.0.11" for r in on_default_bridge),
        }, evidence={r["container"]: r["DNS"] for r in rows})
        """),
        md("""
        ## 7.2 Is host networking faster? Measured
        > **The article says:** 「パフォーマンスが向上しますが…」 (host networking improves performance.)

        The same web server (busybox `httpd`, a 3-byte file and a 32 MiB file) is reached through each
        driver. Each case is compared with host networking *from the same client*, so only the
        network path differs. Times are taken in the client's network namespace with nanosecond
        `date` around each `wget`; a request time includes starting `wget` (about 1–2 ms), so
        latency differences are small by nature, throughput shows the path's cost better.
        This is what one timed request looks like, typed on lanpc:
        """, id="7.2-host-networking-faster"),
        code("""
        measure_cases = ch07.measurement_cases(world, lesson)
        host1_ip = facts.address(world, "host1")
        facts.sh(world, "lanpc", f"s=$(date +%s%N); busybox wget -q -O /dev/null http://{host1_ip}:18081/small; "
                                 "e=$(date +%s%N); echo $(( (e-s)/1000 )) microseconds")
        """),
        code("""
        cases = [ch07.measure(world, c, requests=30, transfers=5) for c in measure_cases]
        """),
        claim("ch07:measured", """
        claims.holds("every case was measured: 30 requests and 5 transfers each, all completed",
                     all(n["requests"] == 30 and n["transfers"] == 5 for n in ch07.completeness(cases).values()),
                     evidence=ch07.completeness(cases))
        """),
        code("""
        facts.table(ch07.summary(cases))
        """),
        code("""
        ch07.plot(cases);
        """),
        md("""
        ### What the numbers allow us to say
        Below, each path is set against host networking from the same client, with medians *and*
        ranges. A difference counts only when the ranges do not overlap (every host sample beats
        every sample of the other path); anything less is inside the run-to-run spread, which on a
        2-core machine is large (a 32 MiB transfer takes milliseconds, and its speed depends on
        where the scheduler puts client and server). This is **measured data, not a proof**: the
        verdict column is computed from this run's samples and may read differently when you
        run it again — try it.
        """, id="numbers-allow-us-say"),
        code("""
        facts.table([ch07.versus_baseline(cases, part) for part in ("DNAT", "docker-proxy", "macvlan", "overlay")])
        """),
        md("""
        **Reading it.** What each path *costs* is certain, because the earlier chapters captured
        it. Connection tracking runs on every path, host networking included (host1 tracks the
        host container's connections too). The NAT rules are consulted for a connection's **first
        packet only**; for the rest, conntrack applies the stored translation, so the bridge path
        pays for **rewriting every packet** (address, port, checksums) plus the veth pair and the
        bridge hop. **docker-proxy** copies every byte through a userland process. Overlay wraps
        each packet in VXLAN (50 bytes more, an MTU of 1450 by default). Whether those costs show as
        a measurable difference depends on the load; on a small machine they mostly hide in the
        noise. So the article's "host is faster" is true in principle and often too small to
        measure here — and not a reason to give up the isolation that chapter 3 showed host
        networking loses.
        """, id="reading-each-path"),
        md("""
        ## 7.3 Explore the drivers yourself
        The table compresses each driver into one row. The **driver explorer** shows one driver at a
        time: pick a driver, a probe and a view (L2 frames, L3 packets, or what NAT rewrote). The
        figure is the path the probe's packets really took (captured as you watch); the facts are
        read live from the container and from host1; the last panel lists what changed against the
        driver you looked at before. Go from *default bridge* to *macvlan* and read the NAT row.
        (`dnlab explorer` serves the same widget alone on a page, for a projector.)
        """, id="7.3-explore-drivers-yourself"),
        code("""
        from helpers.widgets import Explorer
        Explorer(world)
        """),
        md("""
        ## 7.4 Two engines side by side: what a newer release changed
        Docker's networking rules are not fixed: each release writes its own. To see the changes
        rather than read about them, this section brings up a small **side world** of its own, beside
        the one you have used so far: its `host1` runs this machine's engine, its `host2` runs
        Debian's newest docker.io, the one `dnlab up --engine host2=28` picks. Both hosts sit on the
        same kind of LAN with the same `lanpc` neighbour, so any difference below comes from the
        engines alone. The side world's id is yours plus `v2`; the end of this section takes it down
        again (so does `sudo .venv/bin/dnlab --world <that id> down`).
        """, id="7.4-two-engines-side"),
        code("""
        side = ch07.side_world(world)     # sudo .venv/bin/dnlab --world <id>v2 up --engine host2=28
        print(ch07.status_lines(side))
        """, id="code-helpers-lessons-import"),
        md("""
        The same command on both hosts: a web server (the course's `nginx` stand-in) with its port 80
        published on the host's port 8080.
        """, id="same-command-both"),
        code("""
        for host in ("host1", "host2"):
            display(ch07.publish(side, host))      # docker run -d --name web -p 8080:80 nginx
        """, id="code-host-host1-host2"),
        md("""
        ### The rules, side by side
        `iptables-save` prints one table at a time with `-t`: `raw` (consulted first, before
        connection tracking and NAT), `filter` and `nat`. Below, both hosts' output is merged: a line
        marked `-` only host1 has, a line marked `+` only host2 has, an unmarked line both have.
        (Packet counters are left out so that equal rules compare equal.)
        """, id="rules-side-side"),
        code("""
        rules = ch07.rules_side_by_side(side)   # iptables-save -t raw / -t filter / -t nat on each host
        rules
        """, id="code-rules-two-engines"),
        code("""
        print("filter chains only host2 has:", ", ".join(rules.new_chains) or "none")
        for host in rules.hosts:
            print(f"{host}'s raw table:", rules.raw_rules[host] or "no rules")
        for what, lines in rules.notable().items():
            if lines:
                print(what + ":", *lines, sep="\\n  ")
        """, output="ch07:v28-rules"),
        md("""
        What to look for: host2 jumps from `FORWARD` into a chain of its own, which sends packets on
        to chains host1 does not have, and its raw table holds a `DROP` for the web container's
        address, where host1's raw table has no rules. Two more kinds of line may differ, and the
        cell above printed them where only one host has them: a `DROP` at the end of the `DOCKER` chain
        (`! -i docker0 -o docker0 -j DROP`: whatever enters docker0 from outside and is not let in
        by a published port's `ACCEPT` above it is dropped there), and a `MASQUERADE` whose `-s` and
        `-d` are both the container (for a container connecting to its own published port; where
        one host lacks it, this section does not test what that host does instead).
        The course's engine table says, release by release:
        [[engine:chains]]
        """, states={"ch07:v28-rules": ["no rules", "DROP"]}, id="look-host2-jumps"),
        claim("ch07:v28-chains", """
        claims.all_of("each engine writes the filter chains the engine table gives its release", {
            f"{rules.labels[i]}: its Docker filter chains are {', '.join(rules.expected(host))}":
                rules.docker_chains(host) == rules.expected(host)
            for i, host in enumerate(rules.hosts)
        }, evidence={host: rules.docker_chains(host) for host in rules.hosts})
        """),
        md("""
        ### Probe 1: the published container's own address
        A LAN neighbour can route a host's `docker0` subnet through that host (`ip route add
        172.17.0.0/16 via <host>`, as chapter 1 did). `lanpc` does that for each host in turn and asks
        the published container's **own** address, port 80, not the host's port 8080. Where the host
        has a raw-table rule for that address, we read its counter before and after.
        [[engine:direct-access]]
        """, id="probe-1-published-container"),
        code("""
        direct = [ch07.direct_access(side, host) for host in ("host1", "host2")]
        facts.table(direct, ["host", "engine", "route on lanpc", "container", "reached", "answer",
                             "raw rule", "raw drops counted"])
        """),
        claim("ch07:v28-direct", """
        claims.all_of("the published container's own address, from lanpc through a route: on each engine as the "
                      "engine table says", {
            (f"{r['host']} (Docker {r['engine']}): the raw-table DROP of its address counted lanpc's packets, "
             "and nothing answered" if r["raw era"] else
             f"{r['host']} (Docker {r['engine']}): the container answered on its own address"):
                (not r["reached"] and r["raw drops counted"] > 0) if r["raw era"] else r["reached"]
            for r in direct
        }, evidence=[{k: r[k] for k in ("host", "engine", "reached", "raw rule", "raw drops counted")} for r in direct])
        """),
        md("""
        ### Probe 2: a port published on 127.0.0.1, asked by a neighbour
        Docker writes `-p 127.0.0.1:8081:80` as a nat rule that DNATs packets *addressed to
        127.0.0.1*, port 8081, into the container, and that rule is consulted before the kernel
        routes the packet. A neighbour's ordinary tools never send to
        127.0.0.1 over the LAN, but a hand-made frame can: an Ethernet frame addressed to the host's
        MAC, holding an IP packet to 127.0.0.1. [[engine:loopback-publish]]

        First the same command on both hosts:
        """, id="probe-2-port-published"),
        code("""
        for host in ("host1", "host2"):
            display(ch07.publish(side, host, "local", "127.0.0.1:8081:80"))
        """),
        md("""
        Now `lanpc` sends one TCP SYN to `127.0.0.1:8081` in a frame addressed to each host's MAC
        (built with scapy in lanpc's namespace, through the course's guard, which sends such a frame
        only to a lab host's loopback), while the host's `eth0` and `docker0` are captured. lanpc
        pings the host first, so that the host knows lanpc's MAC (why, below the table).
        """, id="now-lanpc-sends"),
        code("""
        loopback = [ch07.loopback_from_lan(side, host) for host in ("host1", "host2")]
        facts.table(loopback, ["host", "engine", "SYN reached the container (docker0)",
                               "container answered (SYN-ACK on docker0)", "SYN-ACK left eth0, from", "lanpc got",
                               "DNAT counted", "raw rule", "raw drops counted"])
        """, output="ch07:v28-loopback"),
        claim("ch07:v28-loopback", """
        claims.all_of("a SYN to 127.0.0.1:8081 in a frame to each host's MAC: on each engine as the engine table says", {
            (f"{r['host']} (Docker {r['engine']}): the raw-table DROP for 127.0.0.1 counted it and nothing reached "
             "the container" if r["raw era"] else
             f"{r['host']} (Docker {r['engine']}): it was DNATed into the container, which answered lanpc from 127.0.0.1"):
                (r["raw drops counted"] > 0 and not r["SYN reached the container (docker0)"]) if r["raw era"]
                else (r["DNAT counted"] > 0 and r["SYN reached the container (docker0)"]
                      and r["SYN-ACK left eth0, from"] == "127.0.0.1" and r["lanpc got"] == "SA")
            for r in loopback
        }, evidence=[{k: v for k, v in r.items() if k != "table says"} for r in loopback])
        """),
        md("""
        Where the SYN got in, the container's SYN-ACK left the host with source address 127.0.0.1
        (the column "SYN-ACK left eth0, from"): the un-DNAT restored the address the SYN was sent
        to. A host that does not know lanpc's MAC yet asks for it by ARP "who-has lanpc, tell
        127.0.0.1", which lanpc never answers, so no answer would come back (we saw that in a
        capture while writing this section); hence the ping first.

        The counters, as you would read them on host2 (`-c` prints `[packets:bytes]` before each rule):
        """, states={"ch07:v28-loopback": ["127.0.0.1", "SYN-ACK left eth0, from"]}, id="where-syn-got"),
        code("""
        facts.sh(side, "host2", "iptables-save -c -t raw")
        """),
        md("""
        ### Probe 3: the routes of a container on an `--internal` network
        An `--internal` network has no way out. [[engine:internal-route]]
        The same three commands on both hosts: `docker network create --internal inside`,
        `docker run -d --name inner --network inside alpine`, and then:
        """, id="probe-3-routes-container"),
        code("""
        internal = [ch07.internal_routes(side, host) for host in ("host1", "host2")]
        for r in internal:
            display(r["shown"])
        """),
        claim("ch07:v28-internal", """
        claims.all_of("a container on an --internal network: its default route on each engine as the engine table says", {
            (f"{r['host']} (Docker {r['engine']}): a default route via the network's gateway {r['gateway']}"
             if r["default route era"] else f"{r['host']} (Docker {r['engine']}): no default route"):
                (r["default route"] or "").startswith(f"default via {r['gateway']} ") if r["default route era"]
                else r["default route"] is None
            for r in internal
        }, evidence={r["host"]: r["default route"] for r in internal})
        """),
        md("""
        Done with the side world: taking it down removes its engines, containers and namespaces.
        """, id="done-side-world"),
        code("""
        ch07.take_down(world)      # sudo .venv/bin/dnlab --world <id>v2 down
        """, id="code-two-engines-take"),
        md("""
        ## Summary
        * One table shows what each driver gives a container: its own addresses or host1's, NAT or
          none, Docker's DNS or the daemon's resolver, and what it can reach.
        * NAT follows the way out, not Docker's network list: bridge containers *and* overlay
          containers (through `docker_gwbridge`) are masqueraded by host1; host, macvlan and none are not.
        * Host networking avoids the veth hop, the per-packet NAT rewrite and the proxy; whether that
          shows as a measurable difference is in the table above, run by run.
        * The same commands give different rules on different releases: two engines side by side
          showed which rules each writes, and each claim checked that every engine did what the
          course's engine table says of its release.

        ## Exercises
        1. Which scenario's container has two addresses, and which of them does host1 masquerade?
        2. Repeat the docker-proxy case 3 times. Is its ratio to host stable?
        """, id="summary"),
        solution("""
        # 1. overlay-a: one address on overlay-net, one on docker_gwbridge; its default route leaves by
        #    the docker_gwbridge side (eth1), and host1's `-s <gwbridge subnet> ! -o docker_gwbridge` rule masquerades it.
        print(by["overlay"]["addresses"], "| way out:", by["overlay"]["way out"], "|", by["overlay"]["MASQUERADE rules"])
        # 2.
        proxy = [c for c in cases if "docker-proxy" in c.label][0]
        print([round(ch07.measure(world, proxy, requests=5, transfers=3).mbps[0]) for _ in range(3)])
        """, id="solution-1-overlay-one-address"),
        code("""
        # extra code: tidy up (this chapter's containers, its scenarios, and the side world of 7.4 if a
        # run stopped before that section's end)
        lesson.stop()
        for s in running.values():
            s.stop()
        ch07.take_down(world);
        """, id="code-extra-code-tidy-up"),
    ])
