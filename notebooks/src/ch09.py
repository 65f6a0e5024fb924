"""Chapter 9: summary and the road to Kubernetes (article section 4)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "09_summary_kubernetes.ipynb"

FACT_TABLE = """
| # | Article says (section) | Verdict | Settled live in |
|---|---|---|---|
| 1 | two default drivers, bridge and overlay; host NIC listed (1) | wrong (a fresh engine lists `bridge`, `host` and `none`; the host's NIC is never in the list) | 01 §1.1 (fresh engine); 04 §4.1 (`ingress`, `docker_gwbridge` after the swarm) |
| 2 | containers use the host network; isolate by cutting (1) | partly | 01 §1.2 (own namespace); 02 §2.5 (`--internal`); 06 (none); 08 §8.2 (disconnect) |
| 3 | the physical NIC does NAT (1) | wrong | 01 §1.3 (MASQUERADE rule and counter); 07 §7.1 (NAT follows the way out: bridges, and overlay through `docker_gwbridge`; none for host and macvlan) |
| 4 | container IPs are usually 172.17.0.0/16 (1) | partly | 01 §1.5 (15 networks on a fresh engine, pool by pool) |
| 5 | SNAT at "the network layer, layer 4" (1) | wrong | 01 §1.3 (captures before/after, conntrack, the L4 port rewrite) |
| 6 | NATed packets reach eth0 "at L2"; outside sees the host IP (1) | partly | 01 §1.3 (routed docker0 → eth0; the internet service saw host1) |
| 7 | inbound is not DNATed (1) | wrong | 01 §1.4 (DNAT rule and counter, real client seen; docker-proxy from loopback; unpublished port) |
| 8 | bridge: L2 but not a switch; veth; docker0 (1.1) | partly | 02 §2.1–2.4 (veth peers, FDB, container names resolve on a user bridge only, isolation) |
| 9 | host shares the host's stack and IPs (1.2, 2.2) | correct | 03 §3.1–3.2 (same netns, `-p` ignored, no NAT/proxy) |
| 10 | overlay via libkv/Consul/etcd/ZooKeeper; Kubernetes (1.3, 2.3) | outdated | 04 (swarm + Raft, ports, VXLAN capture with VNI, MTU; CNI stated) |
| 11 | macvlan: own MAC, needs parent (1.4, 2.4) | correct, caveats | 05 (FDB, lanpc reaches, host1 not, shim fix, ipvlan check) |
| 12 | host is faster but a security risk (2.2) | partly | 03 §3.3 (loopback-only service exposed); 07 §7.2 (measured, run by run) |
| 13 | none: no interfaces (2.5) | correct (lo remains) | 06 (only `lo`, probes fail with "unreachable") |
| 14 | the `docker network` commands (3) | correct | 08 (every command typed on host1; 3.2 printed twice in the article) |
"""


def build():
    return notebook([
        md("""
        # Chapter 9 — Summary and the road to Kubernetes
        **Article section 4 「まとめ」**

        **Goals.** Know what each driver is for and pick one; see the Kubernetes *pod* model live:
        two containers sharing one network namespace — and what they do *not* share.

        **Prerequisites.** Chapters 1–8.
        """, id="chapter-9-summary-road"),
        code(setup("ch09")),
        code("""
        lesson = ch09.Lesson(world, "ch09").reset()
        labels = " ".join(f"--label {key}={value}" for key, value in lesson.labels.items())
        """),
        md("""
        ## 9.1 What each driver is for
        | driver | the container gets | use it for | watch out |
        |---|---|---|---|
        | bridge (user-defined) | own namespace, address from a pool, NAT out, container names resolve | most single-host apps | publish ports explicitly; on the *default* bridge container names do not resolve (it has DNS, the daemon's resolver, but no name service for containers) |
        | host | host1's own stack | tools that must see the host's network, the last bit of speed | no network isolation: host loopback services are exposed |
        | overlay | an address on a network spanning hosts (VXLAN), and a way out through `docker_gwbridge` (NAT) | Swarm services and multi-host containers | swarm mode required; MTU 1450 by default (lower when encrypted); ports 2377/7946/4789 |
        | macvlan | its own MAC and LAN address | legacy apps that must look like a machine on the LAN, traffic monitors | its host can't reach it without a shim; clouds drop extra MACs |
        | none | `lo` only | jobs that must not touch any network | nothing in, nothing out |

        **Decision guide.** One host? → a user-defined bridge. Many hosts with Swarm? → overlay. Must
        be a first-class machine on the LAN, on hardware you control? → macvlan (or ipvlan, which
        shares the parent's MAC where a switch port allows only one). On a cloud, neither works
        out of the box: the provider filters by MAC *and* by IP, so an address it did not assign to
        the instance is dropped. You would register each address as a secondary IP of the instance,
        or turn off the source/destination check where the cloud allows it (chapter 5). Need the host's stack and accept losing network isolation? → host. No network at
        all? → none.
        """, id="9.1-each-driver"),
        # One string, dedented alone: joined to an indented literal, dedent would keep the indent (a code block).
        md("## 9.2 Every fact-check row, and where it was settled\n" + FACT_TABLE, id="9.2-fact-check-rows"),
        md("""
        ## 9.3 The pod model, live
        > **The article says:** 「Dockerネットワーク機構を理解することは、Kubernetesのネットワーク機構を学ぶ上でも重要なステップとなります。」

        In Kubernetes, the containers of a **pod** share one network namespace: one IP, one port space,
        and they talk over `localhost`. Docker can do exactly that: `--network container:<name>` puts
        a second container in the first one's namespace. Below, `ch09-app` serves on `127.0.0.1:8088`
        only, and `ch09-sidecar` is started in its namespace, as a pod's sidecar would be:
        """, id="9.3-pod-model-live"),
        code("""
        app = lesson.run_container("app", command=helpers.lessons.lesson.web_command(8088, bind="127.0.0.1"))
        helpers.lessons.lesson.wait_listening(app, 8088)
        display(facts.sh(world, "host1", f"docker run -d --name ch09-sidecar --network container:ch09-app {labels} dnlab/box:latest sleep 1000000"))
        display(facts.sh(world, "host1", "docker inspect -f '{{.HostConfig.NetworkMode}}' ch09-sidecar"))
        facts.sh(world, "host1", "docker exec ch09-app ip -4 -o addr; docker exec ch09-sidecar ip -4 -o addr")
        """),
        code("""
        sidecar = world.host1.docker.containers.get("ch09-sidecar")
        pod = ch09.pod_view(world, app, sidecar, 8088)
        facts.table(ch09.rows_of(pod))
        """),
        claim("ch09:pod", """
        claims.all_of("the sidecar lives in app's network namespace and reaches app's 127.0.0.1-only server", {
            "one network namespace (same kernel inode)": pod["same network namespace"],
            "the same addresses": pod["app addresses"] == pod["sidecar addresses"],
            "the sidecar reached 127.0.0.1:8088": pod["sidecar -> 127.0.0.1"]["reached"],
        }, evidence=pod)
        """),
        code("""
        outsider = lesson.box("outsider")
        from_outside = ch09.reach_from_outside(world, outsider, app, 8088)
        from_outside
        """),
        claim("ch09:outsider", """
        claims.holds("a container outside the 'pod' cannot reach that server: it is bound to the pod's loopback",
                     not from_outside["reached"], evidence=from_outside)
        """),
        md("""
        ### What a `container:` network does *not* share
        A Kubernetes pod shares more than the network: its containers also share one **UTS**
        namespace (one hostname). Docker's `--network container:` shares the network namespace
        only. The sidecar *starts* with app's hostname because Docker copies it into the sidecar's
        configuration, but each container keeps its own UTS namespace. The kernel shows it: the
        `net:[…]` links are the same inode, the `uts:[…]` links are not.
        """, id="container-network-does-not"),
        code("""
        pids = {c: f"$(docker inspect -f '{{{{.State.Pid}}}}' {c})" for c in ("ch09-app", "ch09-sidecar")}
        display(facts.sh(world, "host1", " ".join(["readlink"] + [f"/proc/{p}/ns/net" for p in pids.values()])))
        display(facts.sh(world, "host1", " ".join(["readlink"] + [f"/proc/{p}/ns/uts" for p in pids.values()])))
        facts.sh(world, "host1", "docker exec ch09-app hostname; docker exec ch09-sidecar hostname")
        """),
        md("""
        Now rename app's host inside app's own UTS namespace (`nsenter -u` into it, as root on
        host1), and ask both again:
        """, id="now-rename-app"),
        code("""
        uts = ch09.pod_uts(world, app, sidecar, "renamed-app")
        display(facts.sh(world, "host1", "docker exec ch09-app hostname; docker exec ch09-sidecar hostname"))
        facts.table(ch09.rows_of(uts))
        """),
        claim("ch09:uts", """
        claims.all_of("with `--network container:` the network namespace is shared but the UTS namespace is not: "
                      "Docker copies the hostname at start, and a rename in one is not seen in the other", {
            "one network namespace": len(set(uts["net namespace inodes"])) == 1,
            "two UTS namespaces": len(set(uts["uts namespace inodes"])) == 2,
            "the sidecar started with app's hostname (copied)": len(set(uts["hostnames at start"])) == 1,
            "app's rename did not reach the sidecar": uts["hostnames after"][0] != uts["hostnames after"][1],
        }, evidence=uts)
        """),
        md("""
        What Kubernetes adds on top: every pod gets a routable address from a **CNI plugin** (not from
        Docker's drivers), pods reach each other without NAT, and Services give stable virtual
        addresses. The Docker pieces you saw — namespaces, veth pairs, bridges, netfilter NAT, VXLAN —
        are the same building blocks most CNI plugins use.

        ## Summary
        * Pick the driver by what the container must be: a private app (bridge), the host (host), a
          cluster member (overlay), a LAN machine (macvlan), or nothing (none).
        * A Kubernetes pod is a shared network namespace: `--network container:` shows it. Unlike a
          pod, the Docker containers keep separate UTS namespaces (Docker only copies the hostname).

        ## Exercises
        1. Which hostname did `sidecar` report before the rename, and why?
        2. Can `sidecar` publish a port of its own with `-p`? Try it.
        """, id="kubernetes-adds-top"),
        solution("""
        # 1. app's: Docker copies the owner's hostname into a container: network container's config;
        #    the UTS namespace itself stays separate (see the inodes and the rename above).
        print(uts["hostnames at start"])
        # 2. no: ports belong to the namespace's owner; Docker refuses -p with --network container:
        facts.sh(world, "host1", "docker run --rm --network container:ch09-app -p 8089:80 dnlab/box:latest true", check=False)
        """, id="solution-1-app-s-docker"),
        code("""
        lesson.stop()
        """),
    ])
