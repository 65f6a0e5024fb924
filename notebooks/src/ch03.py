"""Chapter 3: the host driver (article 1.2 and 2.2)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "03_host.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 3 — Host
        **Article 1.2 「ホストネットワーク (Host Network)」 and 2.2 「hostドライバ」**

        **Goals.** Show that a host-network container *is* in host1's network namespace (same
        interfaces, same addresses), that `-p` is discarded and no NAT is involved, and show what is
        really at risk: everything that belongs to host1's *network namespace* — its loopback-only
        services, its abstract UNIX sockets, and (with the default capability `CAP_NET_RAW`) the
        packets on its interfaces.

        **Prerequisites.** Chapters 1 and 2 (bridge containers, NAT, docker-proxy).

        Lines such as `host1# docker run ...` are real commands, run on that lab machine just now;
        type them yourself after `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-3-host"),
        code(setup("ch03")),
        code("""
        # extra code: the host scenario (host-app with --network host and a web server on 8090,
        # host-bridged on the default bridge, and a service host1 binds to 127.0.0.1:7070)
        from helpers.scenarios.host import APP_PORT, LOOPBACK_PORT
        host = scenarios.get(world, "host").start()
        lesson = ch03.Lesson(world, "ch03").reset()
        app, bridged = host.containers()["app"], host.containers()["bridged"]
        print("engine on host1:", world.host1.docker.version()["Version"])
        """, id="code-extra-code-host-scenario"),
        md("""
        ## 3.1 Same stack, same addresses
        > **The article says:** 「コンテナはホストと同じIPアドレス空間を共有します。」 (correct)

        Ask host1 and the container the same question, `ip addr show eth0`: the same interface,
        the same MAC, the same address. The kernel confirms it: the container's network namespace
        *is* host1's (the same inode), and Docker gives it no address of its own.
        """, id="3.1-same-stack-same"),
        code("""
        display(facts.sh(world, "host1", "ip addr show eth0"),
                facts.sh(world, "host1", "docker exec host-app ip addr show eth0"),
                facts.sh(world, "host1", "docker inspect -f '{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks.host.IPAddress}}' host-app"))
        """),
        code("""
        view = ch03.host_stack_view(world, app)
        facts.table(ch03.rows_of(view))
        """),
        claim("ch03:same-stack", """
        claims.all_of("the host-network container is host1's own network stack", {
            "it is in host1's network namespace (same inode)": view["same namespace as host1"],
            "it has exactly host1's addresses": view["container addresses"] == view["host1 addresses"],
            "Docker gave it no address of its own": not any(view["address Docker gave it"].values()),
        }, evidence=view)
        """),
        md("""
        ## 3.2 `-p` is discarded, no NAT, no docker-proxy
        We ask for `-p 18099:80` on a host-network container with the real CLI. The engine warns
        that it discards it, and indeed adds no DNAT rule, starts no docker-proxy and reports no port.
        """, id="3.2-p-discarded-no"),
        code("""
        published = ch03.publish_ignored(world, lesson, network="host", host_port=18099)
        display(published["run"], published["docker port"],
                facts.sh(world, "host1", "iptables-save -t nat | grep -- '--dport 18099' || echo '(no nat rule mentions 18099)'"))
        """),
        claim("ch03:p-ignored", """
        claims.all_of(f"with --network host, -p {published['host port']}:80 is discarded", {
            "no DNAT rule for the port": not published["DNAT rules for the port"],
            "no docker-proxy for the port": not published["docker-proxy for the port"],
            "Docker reports no port binding": not published["port bindings Docker reports"],
        }, evidence={k: v for k, v in published.items() if k not in ("run", "docker port")})
        """),
        md("""
        Out to the internet, the container *is* host1: the internet service sees host1's address, and
        none of host1's MASQUERADE rules counts a packet (compare the counters `[packets:bytes]`).
        """, id="out-internet-container"),
        code("""
        nat = ch03.host_egress(world, app)
        display(facts.sh(world, "host1", "iptables-save -t nat -c | grep MASQUERADE"))
        facts.table(ch03.rows_of(nat))
        """),
        claim("ch03:no-nat", """
        claims.all_of("out to the internet, the host-network container is host1 itself: no NAT", {
            "the internet service answered": nat["reached"],
            "it saw host1's own address": nat["internet saw"] == nat["host1 address"],
            "no MASQUERADE rule counted a packet": not any(nat["MASQUERADE packets counted"].values()),
        }, evidence=nat)
        """),
        md("""
        Counters only say that no MASQUERADE rule counted *any* packet between two readings. The
        kernel's own trace (chapter 1: `dnlab trace ... --rules`) follows this one connection through
        host1's netfilter hooks. host-app's SYN is host1's own packet, so it enters host1's nat table
        at **OUTPUT**, where a bridge container's packet would enter at PREROUTING, and leaves it at
        **POSTROUTING**. Each line below is what it met there; a `policy` line means no rule of that
        chain matched it. None is a MASQUERADE, SNAT or DNAT rule: Docker's MASQUERADE rules match
        only a bridge network's subnet (`-s` that subnet), and this packet already carries host1's
        own address:
        """, id="no-nat-trace-intro"),
        code("""
        nat_trace = ch03.rule_trace(world, "host-app", "inet", tcp=9000)   # dnlab trace ... --rules
        """, id="code-no-nat-trace"),
        claim("ch03:no-nat-trace", """
        met = ch03.nat_met(nat_trace)
        claims.all_of("the kernel's trace: host-app's connection met no NAT rule in host1", {
            "host-app reached the internet service": nat_trace["reached"],
            "its SYN was host1's own packet: it crossed host1's nat OUTPUT, then POSTROUTING":
                met["nat hooks crossed"] == ["OUTPUT", "POSTROUTING"],
            "no MASQUERADE, SNAT or DNAT rule acted on it": not met["NAT rules that acted"],
            "at nat POSTROUTING its source was already host1's own address":
                (met["at nat POSTROUTING"] or {}).get("src", "").rsplit(":", 1)[0] == nat["host1 address"],
            "the trace and the counters agree on every rule that acted": not nat_trace["disagreements"],
        }, evidence=met)
        """),
        md("""
        And in: `host-app` runs a web server on port 8090. It listens in host1's namespace, so the LAN
        reaches it on host1's address — no `-p`, no DNAT, and the server sees the real client.
        `ss` on host1 lists it next to host1's own loopback-only service on 7070.
        """, id="host-app-runs"),
        code("""
        inbound = ch03.host_inbound(world, APP_PORT)
        display(facts.sh(world, "host1", f"ss -ltnp | grep -E ':({APP_PORT}|{LOOPBACK_PORT}) '"))
        facts.table(ch03.rows_of(inbound))
        """),
        claim("ch03:inbound", """
        claims.all_of(f"the LAN reaches the container's server on host1's address, port {inbound['port']}, without DNAT", {
            "lanpc reached host1 on the port": inbound["reached"],
            "the server saw lanpc's own address": inbound["server saw"] == inbound["lanpc address"],
            "no DNAT rule mentions the port": not inbound["DNAT rules for the port"],
        }, evidence=inbound)
        """),
        code("""
        ch03.show_path(world, host, "egress", view="L3")
        """),
        md("""
        ## 3.3 The real risk: host1's network namespace is the container's
        > **The article says:** 「パフォーマンスが向上しますが、セキュリティのリスク分散ができません。…攻撃者は自由にサーバとコンテナにアクセスできます。」
        > (faster, but a security risk: an attacker can freely reach the server and the container.)

        Partly. The container still has its own mount, PID, IPC and UTS namespaces, so host1's
        files and processes stay out of its sight. It has no user namespace of its own: Docker makes
        one only when the daemon runs with `userns-remap`, and this lab does not. So root in the
        container is uid 0 on host1 too. What it shares is everything that lives in the
        **network namespace**:

        * every port it opens is on host1's addresses, and it reaches every service host1 binds to
          `127.0.0.1` (an admin page, a database, a metrics endpoint "nobody outside can reach");
        * **abstract UNIX sockets** (names starting with `@`, no file, no permission bits) belong to
          the network namespace, not to the file system. This was CVE-2020-15257: containerd-shim's
          API socket was abstract, so a host-network container running as root could talk to it and
          start a privileged container (fixed in containerd 1.3.9 / 1.4.3 by moving it to a file);
        * with Docker's default capability **`CAP_NET_RAW`** a process in the container can open a
          packet socket on host1's interfaces and read host1's traffic.

        host1 runs a loopback-only service on `127.0.0.1:7070` (a plain process in host1's namespace,
        not a container):
        """, id="3.3-real-risk-host1"),
        code("""
        risk = ch03.loopback_reach(world, app, bridged, LOOPBACK_PORT)
        facts.table(list(risk.values()))
        """),
        claim("ch03:loopback-risk", """
        claims.article_vs_reality(
            "an attacker can freely access the server and the container",
            "what is lost is network isolation: host1's loopback-only services are open to a host-network container",
            claims.all_of("host1's 127.0.0.1:7070 service is open to the host-network container, not to a bridge one", {
                "the host-network container reaches host1's 127.0.0.1:7070": risk["from the host-network container"]["reached"],
                "a bridge container's 127.0.0.1 is its own (nothing listens there)": not risk["from a bridge container, its 127.0.0.1"]["reached"],
                "nor is the service on host1's LAN address": not risk["from a bridge container, host1's address"]["reached"],
            }, evidence=risk))
        """),
        code("""
        ch03.show_path(world, host, "loopback", view="L3")
        """),
        md("""
        ### Abstract UNIX sockets
        `/proc/net/unix` lists the UNIX sockets of the reader's network namespace. host1 runs an admin
        socket `@dnlab-host1-admin` (a plain process in host1's namespace, like the 7070 service; an
        engine may hold abstract sockets of its own too: [[engine:abstract-socket]])
        On host1, `ss -xlp` shows the abstract ones (`@...`) and who owns them. The host-network
        container lists the very same sockets; a bridge container lists none of them.
        """, id="abstract-unix-sockets"),
        code("""
        sockets = ch03.abstract_sockets(world, app, bridged)
        display(facts.sh(world, "host1", "ss -xlp | grep -F ' @'"),
                facts.sh(world, "host1", "docker exec host-app cat /proc/net/unix | grep -F ' @'"),
                facts.sh(world, "host1", "docker exec host-bridged cat /proc/net/unix | grep -F ' @' || echo '(none)'"))
        """),
        claim("ch03:abstract-sockets", """
        claims.all_of("host1's abstract UNIX sockets are visible to the host-network container, not to a bridge one", {
            "host1's admin socket is among host1's abstract sockets": sockets["host1's admin socket"] in sockets["host1's abstract sockets"],
            "the host-network container lists every one of them": sockets["host1's sockets it lists"] == sockets["host1's abstract sockets"],
            "the bridge container lists none of them": not sockets["host1's sockets the bridge container lists"],
        }, evidence=sockets)
        """),
        md("""
        ### Sniffing host1's traffic
        A new host-network container, started with **no** extra privilege (no `--privileged`, no
        `--cap-add`), runs `tcpdump` on its `eth0` while `lanpc` pings host1. The lab image has no
        tcpdump, so we lend it host1's binary read-only (`-v /usr:/usr:ro ...`); an attacker brings
        their own just as easily. Docker's default capability set includes `CAP_NET_RAW`, which is
        all a packet capture needs.
        """, id="sniffing-host1-s-traffic"),
        code("""
        sniff = ch03.sniff_host_traffic(world, lesson, network="host")
        display(sniff["run"], sniff["logs"])
        """),
        claim("ch03:sniff", """
        request = f"{sniff['lanpc']} > {sniff['host1']}: ICMP echo request"
        claims.all_of("a host-network container with Docker's default capabilities reads host1's own traffic", {
            "lanpc pinged host1 during the capture": sniff["lanpc pinged host1"],
            "the container's tcpdump shows lanpc's echo request to host1": any(request in line for line in sniff["captured"]),
        }, evidence=sniff["captured"] or sniff["logs"].output)
        """),
        md("""
        The same capture from a bridge container sees only its own `eth0` (exercise 3), and
        `--cap-drop NET_RAW` makes it fail with "You don't have permission" (exercise 4). Drop
        `NET_RAW` from containers that do not need raw sockets, and keep `--network host` for trusted
        software.

        **Engine versions.** This was measured on the engine printed at the top.
        [[engine:host-network]] (Docker docs: *Host network driver*,
        docs.docker.com/engine/network/drivers/host/). Whether host networking is *faster* is measured
        in chapter 7.

        ## Summary
        * `--network host` puts the container in host1's namespace: same interfaces and addresses.
        * `-p` is discarded; there is no NAT, no docker-proxy, no veth.
        * The price is network isolation: host1's `127.0.0.1` services, its abstract UNIX sockets and,
          with `CAP_NET_RAW`, its traffic are the container's too. Files and processes stay isolated
          by the other namespaces. Users do not: without `userns-remap`, root inside is root on host1.

        ## Exercises
        1. Start a second host-network container with a server on port 8090. What happens, and why?
        2. Which process owns port 7070 in host1's namespace? (Hint: `ss -ltnp` on host1.)
        3. Run the capture from a bridge container (`network="bridge"`). What does it see?
        4. Run it again on the host network with `cap_drop="NET_RAW"`. What does tcpdump say?
        """, id="same-capture-bridge"),
        solution("""
        # 1. It fails to bind: host-app already listens on 8090 in the same namespace (one port space).
        c = lesson.box("second", network_mode="host", command=["httpd", "-f", "-p", "8090"])
        import time; time.sleep(0.5); c.reload(); print(c.status, c.logs().decode())
        # 2.
        print(facts.sh(world, "host1", "ss -ltnp | grep ':7070 '"))
        # 3. Nothing of lanpc -> host1: a bridge container's eth0 carries only its own traffic.
        print(ch03.sniff_host_traffic(world, lesson, network="bridge", role="sniff-bridge")["logs"])
        # 4. tcpdump cannot open a packet socket without CAP_NET_RAW.
        print(ch03.sniff_host_traffic(world, lesson, network="host", role="sniff-noraw", cap_drop="NET_RAW")["logs"])
        """, id="solution-1-fails-bind-host"),
        code("""
        lesson.stop()
        host.stop()
        """),
    ])
