"""Chapter 9: summary and the road to Kubernetes (article section 4)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "09_summary_kubernetes.ipynb"

FACT_TABLE = """
| # | Article says (section) | Verdict | Settled live in |
|---|---|---|---|
| 1 | two default drivers, bridge and overlay; host NIC listed (1) | wrong | 01 §1.1 (fresh engine); 04 §4.1 (`ingress`, `docker_gwbridge` after the swarm) |
| 2 | containers use the host network; isolate by cutting (1) | partly | 01 §1.2 (own namespace); 02 §2.5 (`--internal`); 06 (none); 08 §8.3 (disconnect) |
| 3 | the physical NIC does NAT (1) | wrong | 01 §1.3 (MASQUERADE rule and counter); 07 §7.1 (no NAT rules for host/macvlan) |
| 4 | container IPs are usually 172.17.0.0/16 (1) | partly | 01 §1.5 (15 networks on a fresh engine, pool by pool) |
| 5 | SNAT at "the network layer, layer 4" (1) | wrong | 01 §1.3 (captures before/after, conntrack, the L4 port rewrite) |
| 6 | NATed packets reach eth0 "at L2"; outside sees the host IP (1) | partly | 01 §1.3 (routed docker0 → eth0; the internet service saw host1) |
| 7 | inbound is not DNATed (1) | wrong | 01 §1.4 (DNAT rule and counter, real client seen; docker-proxy from loopback; unpublished port closed) |
| 8 | bridge: L2 but not a switch; veth; docker0 (1.1) | partly | 02 §2.1–2.4 (veth peers, FDB, DNS on user bridge only, isolation) |
| 9 | host shares the host's stack and IPs (1.2, 2.2) | correct | 03 §3.1–3.2 (same netns, `-p` ignored, no NAT/proxy) |
| 10 | overlay via libkv/Consul/etcd/ZooKeeper; Kubernetes (1.3, 2.3) | outdated | 04 (swarm + Raft, ports, VXLAN capture with VNI, MTU − 50; CNI stated) |
| 11 | macvlan: own MAC, needs parent (1.4, 2.4) | correct, caveats | 05 (FDB, lanpc reaches, host1 not, shim fix, ipvlan check) |
| 12 | host is faster but a security risk (2.2) | partly | 03 §3.3 (loopback-only service exposed); 07 §7.2 (measured) |
| 13 | none: no interfaces (2.5) | correct (lo remains) | 06 (only `lo`, probes fail with "unreachable") |
| 14 | the `docker network` commands (3) | correct | 08 (every command run, SDK beside CLI; 3.2 printed twice) |
"""


def build():
    return notebook([
        md("""
        # Chapter 9 — Summary and the road to Kubernetes
        **Article section 4 「まとめ」**

        **Goals.** Know what each driver is for and pick one; see the Kubernetes *pod* model live:
        two containers sharing one network namespace.

        **Prerequisites.** Chapters 1–8.
        """),
        code(SETUP),
        code("""
        lesson = chapters.Lesson(world, "ch09").reset()
        """),
        md("""
        ## 9.1 What each driver is for
        | driver | the container gets | use it for | watch out |
        |---|---|---|---|
        | bridge (user-defined) | own namespace, address from a pool, NAT out, DNS by name | most single-host apps | publish ports explicitly; default bridge has no DNS |
        | host | host1's own stack | tools that must see the host's network, the last bit of speed | no network isolation: host loopback services are exposed |
        | overlay | an address on a network spanning hosts (VXLAN) | Swarm services and multi-host containers | swarm mode required; MTU − 50; ports 2377/7946/4789 |
        | macvlan | its own MAC and LAN address | legacy apps that must look like a machine on the LAN | its host can't reach it without a shim; clouds block extra MACs |
        | none | `lo` only | jobs that must not touch any network | nothing in, nothing out |

        **Decision guide.** One host? → a user-defined bridge. Many hosts with Swarm? → overlay. Must
        be a first-class machine on the LAN, on your own hardware? → macvlan (ipvlan on clouds).
        Need the host's stack and accept losing network isolation? → host. No network at all? → none.

        ## 9.2 Every fact-check row, and where it was settled
        """ + FACT_TABLE),
        md("""
        ## 9.3 The pod model, live
        > **The article says:** 「Dockerネットワーク機構を理解することは、Kubernetesのネットワーク機構を学ぶ上でも重要なステップとなります。」

        In Kubernetes, the containers of a **pod** share one network namespace: one IP, one port space,
        and they talk over `localhost`. Docker can do exactly that: `--network container:<name>` puts
        a second container in the first one's namespace. Below, `app` serves on `127.0.0.1:8088` only,
        and `sidecar` reaches it through `localhost` — as a pod's sidecar would.
        """),
        code("""
        app = lesson.run_container("app", command=helpers.lessons.lesson.web_command(8088, bind="127.0.0.1"))
        helpers.lessons.lesson.wait_listening(app, 8088)
        sidecar = lesson.joined("sidecar", app)          # docker run --network container:ch09-app
        pod = {"same namespace": facts.same_netns(world, app, sidecar),
               "app addresses": facts.ipv4(world, app), "sidecar addresses": facts.ipv4(world, sidecar)}
        pod
        """),
        code("""
        r = helpers.world.guard.probe(world, sidecar, "127.0.0.1", "http", 8088)
        claims.holds("the sidecar shares app's namespace and address, and reaches app's 127.0.0.1-only server",
                     pod["same namespace"] and pod["app addresses"] == pod["sidecar addresses"] and r.ok,
                     evidence={"pod": pod, "probe": r.output.strip()})
        """),
        code("""
        other = lesson.box("outsider")
        r2 = helpers.world.guard.probe(world, other, facts.address(world, app), "http", 8088)
        claims.holds("a container outside the 'pod' cannot reach that server: it is bound to the pod's loopback",
                     not r2.ok, evidence=r2.output.strip())
        """),
        md("""
        What Kubernetes adds on top: every pod gets a routable address from a **CNI plugin** (not from
        Docker's drivers), pods reach each other without NAT, and Services give stable virtual
        addresses. The Docker pieces you saw — namespaces, veth pairs, bridges, netfilter NAT, VXLAN —
        are the same building blocks most CNI plugins use.

        ## Summary
        * Pick the driver by what the container must be: a private app (bridge), the host (host), a
          cluster member (overlay), a LAN machine (macvlan), or nothing (none).
        * A Kubernetes pod is a shared network namespace: `--network container:` shows it.

        ## Exercises
        1. Which hostname does `sidecar` report, and why?
        2. Can `sidecar` publish a port of its own with `-p`?
        """),
        solution("""
        # 1. the app's: the UTS namespace is shared too in container: mode (hostname "app")
        print(sidecar.exec_run(["hostname"]).output.decode())
        # 2. no: ports belong to the namespace's owner; Docker refuses -p with --network container:
        """),
        code("""
        lesson.stop()
        """),
    ])
