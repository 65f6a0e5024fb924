"""Chapter 0: setting up the lab world (before any article section: doctor, map, a fresh engine)."""
from nb import code, md, notebook, solution

FILENAME = "00_setup.ipynb"


def build():
    return notebook([
        md("""
        # 0. Setting up the lab world — 準備：ラボ環境を作る

        **Goals.** Check that this machine can run the lab, bring the *lab world* up, look at it as the
        kernel reports it, and see — live — what a brand-new Docker engine really has.

        **Prerequisites.** `sudo make start` (it installs the tools, builds the lab image and opens this
        notebook). The kernel of this notebook runs as root: it creates network namespaces and runs engines.

        The course never touches your real network or your own Docker engine. It builds a small cloud out of
        network namespaces: a LAN (`198.51.100.0/24`) behind a router, an "internet" (`203.0.113.0/24`)
        whose service tells every client the address it sees it come from, and two Docker hosts, `host1` and
        `host2`, each with **its own `dockerd`**. One more plain machine, `lanpc`, sits on the LAN.
        """),
        md("""
        ## Is this machine ready?
        `dnlab doctor` checks root, the tools and the kernel features the chapters use. Each failed line names the command that fixes it; `ipvlan` and `dummy` are optional (a chapter that would use them says so and skips them).
        """),
        code("""
        import helpers
        from helpers.lessons import claims
        from helpers.world import doctor

        checks = doctor.run_checks()
        print(doctor.table(checks))
        """),
        code("""
        claims.holds("this machine has everything the lab world needs", doctor.ready(checks),
                     evidence=[c.name for c in checks if c.required and not c.ok] or "all required checks pass")
        """),
        md("""
        ## Bring the world up
        `helpers.lab()` returns the running world, making it if needed (the same as `dnlab up` in a terminal). It is idempotent: run it again and it reuses what runs.
        """),
        code("""
        from helpers.world import up

        print(up())
        world = helpers.lab()
        world
        """),
        md("""
        ## The world, as the kernel reports it
        Everything on this map is read from the namespaces right now with `ip -j`: the interfaces, their addresses, and which veth end is cabled to which (each end of a veth pair names its peer's interface index).
        """),
        code("""
        from helpers.draw.world_map import cables, describe, draw_world, observe_world

        state = observe_world(world)
        draw_world(world, state);
        """),
        code("""
        print(describe(state))
        """),
        code("""
        lan_machines = {c.a if c.b == "router" else c.b for c in cables(state) if "router" in (c.a, c.b)} - {"inet"}
        claims.equals("host1, host2 and lanpc are each cabled to the router's LAN bridge",
                      sorted(lan_machines), sorted(["host1", "host2", "lanpc"]))
        """),
        md("""
        ## What does a *fresh* Docker engine have?

        > **The article says** (section 1, 基本概念): *"installing Docker Engine gives you two drivers by default,
        > bridge and overlay, and the host's ethernet is in the network list too."*

        Let's ask a brand-new engine. `scratch_engine()` starts a fresh `dockerd` in its own namespace (nothing
        has ever run on it) and removes it afterwards; `cli()` runs the real `docker` CLI against it.
        """),
        code("""
        from helpers.world import scratch_engine

        with scratch_engine() as fresh:
            print(fresh.cli("network", "ls"))
            networks = {n.name: n.attrs["Driver"] for n in fresh.client.networks.list()}
        networks
        """),
        code("""
        claims.article_vs_reality(
            "a fresh engine has two networks, bridge and overlay, plus the host's ethernet",
            "a fresh engine lists three networks: bridge (driver bridge), host (driver host) and none "
            "(driver null); no overlay until swarm mode, and the host NIC is never in the list",
            claims.equals("a fresh engine's networks and their drivers", networks,
                          {"bridge": "bridge", "host": "host", "none": "null"}))
        """),
        md("""
        `overlay` is a *driver* that is built in, but no overlay *network* exists until the engine joins a swarm
        (chapter 4 shows `ingress` and `docker_gwbridge` appearing after `docker swarm init`). The host's own
        `eth0` is not a Docker network at all: the `host` network means "use the host's stack".

        ## The plain docker CLI works too

        Each Docker host has a CLI context, so in a terminal you can type `docker --context dnlab-host1 ...`
        (in another world, `dnlab-<id>-host1`). The same command, run from here:
        """),
        code("""
        print(world.host1.cli("run", "--rm", "dnlab/box", "ip", "-o", "-4", "addr", "show", "eth0"))
        """),
        md("""
        ## Summary

        - The lab world is a set of network namespaces: two Docker hosts with their own engines, a LAN, a router
          and an "internet" that reports what address it sees.
        - A fresh engine has **bridge**, **host** and **none** — not "bridge and overlay".
        - `dnlab status`, `dnlab down` and `dnlab clean` manage the world from a terminal.

        **Exercises**
        1. In a terminal, run `dnlab status` and find the pid of host2's `dockerd`.
        2. Run `docker --context dnlab-host2 network ls`. Is host2's engine as fresh as the scratch engine was?
        """),
        solution("""
        # Solution 2: compare host2's networks with a fresh engine's (run after the chapters: they may differ)
        {n.name: n.attrs["Driver"] for n in world.host2.docker.networks.list()}
        """),
    ])
