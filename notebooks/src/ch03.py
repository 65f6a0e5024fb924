"""Chapter 3: the host driver (article 1.2 and 2.2)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "03_host.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 3 — Host
        **Article 1.2 「ホストネットワーク (Host Network)」 and 2.2 「hostドライバ」**

        **Goals.** Show that a host-network container *is* in host1's network namespace (same
        interfaces, same addresses), that `-p` is ignored and no NAT is involved, and show the real
        security risk: a service host1 binds to `127.0.0.1` is reachable from a host-network
        container and not from a bridge one.

        **Prerequisites.** Chapters 1 and 2 (bridge containers, NAT, docker-proxy).
        """),
        code(SETUP),
        code("""
        host = scenarios.get(world, "host").start()   # host-app (--network host), host-bridged, host1's 127.0.0.1:7070 service
        lesson = chapters.Lesson(world, "ch03").reset()
        app, bridged = host.containers()["app"], host.containers()["bridged"]
        """),
        md("""
        ## 3.1 Same stack, same addresses
        > **The article says:** 「コンテナはホストと同じIPアドレス空間を共有します。」 (correct)

        The kernel tells us for sure: the container's network namespace *is* host1's (same inode),
        so it has host1's interfaces and addresses — and no address of its own in Docker's eyes.
        """),
        code("""
        view = {"same namespace as host1": facts.same_netns(world, app, "host1"),
                "container addresses": sorted(facts.ipv4(world, app)),
                "host1 addresses": sorted(facts.ipv4(world, "host1")),
                "docker's IPAddress for it": app.attrs["NetworkSettings"]["Networks"]["host"]["IPAddress"]}
        claims.holds("the host-network container shares host1's namespace and addresses and has no address of its own",
                     view["same namespace as host1"] and view["container addresses"] == view["host1 addresses"]
                     and view["docker's IPAddress for it"] == "", evidence=view)
        """),
        md("""
        ## 3.2 `-p` is ignored, no NAT, no docker-proxy
        We ask for `-p 18099:80` on a host-network container with the real CLI: the engine discards
        it, adds no DNAT rule and starts no docker-proxy.
        """),
        code("""
        label = f"--label org.dnlab.world={world.prefix} --label org.dnlab.scenario=ch03"
        print(facts.cli(world, "host1", f"run -d --name ch03-p {label} --network host -p 18099:80 dnlab/box:latest sleep 600"))
        """),
        code("""
        claims.holds("no DNAT rule and no docker-proxy for port 18099, and Docker reports no port bindings",
                     not [r for r in facts.dnat_rules(world, "host1") if "18099" in r]
                     and not [p for p in facts.docker_proxies(world, "host1") if p["host_port"] == 18099]
                     and not world.host1.docker.containers.get("ch03-p").ports,
                     evidence=facts.dnat_rules(world, "host1"))
        """),
        code("""
        before = facts.rule_packets(world, "host1", "-s 172.17.0.0/16", "MASQUERADE")
        egress = probes.run_spec(host, "egress")
        inbound = probes.run_spec(host, "inbound")
        claims.holds("out: the internet sees host1's own address and no MASQUERADE rule counted it; "
                     "in: the LAN reaches the container's server on host1's address directly",
                     egress.ok and helpers.lessons.lesson.who_sees(egress.result.output) == facts.address(world, "host1")
                     and facts.rule_packets(world, "host1", "-s 172.17.0.0/16", "MASQUERADE") == before
                     and inbound.ok, evidence=[egress.row(), inbound.row()])
        """),
        code("""
        chapters.show_path(world, host, "egress", view="L3")
        """),
        md("""
        ## 3.3 The real risk: host1's loopback is the container's loopback
        > **The article says:** 「パフォーマンスが向上しますが、セキュリティのリスク分散ができません。…攻撃者は自由にサーバとコンテナにアクセスできます。」
        > (faster, but a security risk: an attacker can freely reach the server and the container.)

        Partly. Files, processes and users stay isolated as usual. What is lost is **network
        isolation**: every port the container opens is on host1's addresses, and the container
        reaches every service host1 binds to `127.0.0.1` — an admin page, a database, a metrics
        endpoint that "nobody outside can reach". host1 runs such a service on `127.0.0.1:7070`
        (a plain process in host1's namespace, not a container).
        """),
        code("""
        risk = {name: probes.run_spec(host, name).row() for name in ("loopback", "isolation", "bridge-loopback")}
        facts.table(list(risk.values()))
        """),
        code("""
        claims.article_vs_reality(
            "an attacker can freely access the server and the container",
            "the loss is network isolation: host1's loopback-only services are open to a host-network container",
            claims.holds("the host-network container reaches 127.0.0.1:7070 on host1; a bridge container reaches "
                         "neither its own 127.0.0.1:7070 nor host1's address on 7070",
                         risk["loopback"]["reached"] and not risk["isolation"]["reached"]
                         and not risk["bridge-loopback"]["reached"], evidence=risk))
        """),
        code("""
        chapters.show_path(world, host, "loopback", view="L3")
        """),
        md("""
        Whether host networking is *faster* is measured in chapter 7.

        ## Summary
        * `--network host` puts the container in host1's namespace: same interfaces and addresses.
        * `-p` is discarded; there is no NAT, no docker-proxy, no veth.
        * The price is network isolation: host1's `127.0.0.1` services are the container's too.

        ## Exercises
        1. Start a second host-network container with a server on port 8090. What happens, and why?
        2. Which process owns port 7070 in host1's namespace? (Hint: `facts.listening`.)
        """),
        solution("""
        # 1. It fails to bind: host-app already listens on 8090 in the same namespace (one port space).
        c = lesson.box("second", network_mode="host", command=["httpd", "-f", "-p", "8090"])
        import time; time.sleep(0.5); c.reload(); print(c.status, c.logs().decode())
        # 2.
        print([s for s in facts.listening(world, "host1") if s["port"] == 7070])
        """),
        code("""
        lesson.stop()
        host.stop()
        """),
    ])
