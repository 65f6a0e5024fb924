"""Chapter 0: setting up the lab world (before any article section: doctor, map, a fresh engine)."""
from nb import claim, code, md, notebook, solution

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
        """, id="0-setting-up-lab"),
        md("""
        ## Is this machine ready?
        `dnlab doctor` checks root, the tools and the kernel features the chapters use. Each failed line names the command that fixes it; `ipvlan`, `dummy`, 802.1Q VLAN (macvlan trunk mode) and IPVS (swarm services' routing mesh) are optional (a chapter that would use one says so in one line), and so is `docker exec --privileged`. The doctor also says whether this machine's own addresses or DNS servers use the lab's ranges.
        """, id="this-machine-ready"),
        code("""
        import helpers
        from helpers.lessons import ch00, claims
        from helpers.world import doctor

        checks = ch00.doctor_checks()
        print(doctor.table(checks))
        """),
        claim("ch00:doctor", """
        claims.all_of("this machine has everything the lab world needs",
                      {f"{c.name} ({c.detail})": c.ok for c in checks if c.required},
                      evidence=[c.name for c in checks if c.required and not c.ok] or "all required checks pass")
        """),
        md("""
        ## Bring the world up
        `helpers.lab()` returns the running world, making it if needed (the same as `dnlab up` in a terminal). It is idempotent: run it again and it reuses what runs.
        """, id="bring-world-up"),
        code("""
        from helpers.world import up

        print(up())
        world = helpers.lab()
        world
        """),
        md("""
        ## The world, as the kernel reports it
        Everything on this map is read from the namespaces right now with `ip -j`: the interfaces, their addresses, and which veth end is cabled to which (each end of a veth pair names its peer's interface index).
        """, id="world-as-kernel-reports"),
        code("""
        from helpers.draw.world_map import cables, describe, draw_world, observe_world

        state = observe_world(world)
        draw_world(world, state);
        """),
        code("""
        print(describe(state))
        """),
        code("""
        from helpers.lessons import ch00

        lan_machines = ch00.lan_members(state)   # cabled by a veth pair whose router end is a port of lan0
        lan_machines
        """, id="code-helpers-lessons-import"),
        claim("ch00:cabling", """
        claims.holds("host1, host2 and lanpc are each cabled to the router's LAN bridge lan0",
                     lan_machines == ["host1", "host2", "lanpc"], evidence=lan_machines)
        """),
        md("""
        ## Being ON a lab machine: `dnlab shell`
        Every machine of the map is a network namespace. To work on one from a terminal, as you would
        after `ssh host1` on a real cloud instance, type (as root, in the course directory):

        ```
        sudo .venv/bin/dnlab shell host1          # a shell on host1; the prompt says [dnlab host1]#
        sudo .venv/bin/dnlab shell lanpc          # or host2, router, inet
        sudo .venv/bin/dnlab shell host1 -- docker ps     # one command there, then back
        ```

        In that shell `ip`, `iptables-save`, `tcpdump`, `conntrack` and `bridge` see that machine's
        interfaces and rules, and on `host1`/`host2`, `docker` talks to **that host's own engine**
        (the shell sets `DOCKER_HOST` to its socket). Leave it with `exit`. If you run another world
        than the default one, add `--world ID` (or set `DNLAB_WORLD`), as below. Here are two commands
        typed that way on host1:
        """, id="being-lab-machine-dnlab"),
        code("""
        on_host1 = ch00.shell_facts(world, "host1")
        for shown in on_host1["commands"]:
            print(repr(shown), end="\\n\\n")
        """),
        claim("ch00:shell", """
        claims.all_of("`dnlab shell host1` is on host1: its network namespace, its own engine", {
            "docker in that shell answers from host1's engine (its data root)":
                on_host1["docker_root"] == str(world.names.host("host1").data_root),
            "ip in that shell shows host1's LAN address": on_host1["eth0"] == str(world["host1"].address),
        }, evidence={k: on_host1[k] for k in ("machine", "docker_root", "eth0")})
        """),
        md("""
        `dnlab shell` is a thin wrapper. Without it, the same is one `nsenter` away: enter only the
        *network* namespace of the machine, and point `docker` at the engine's socket. (Avoid
        `ip netns exec` for starting `dockerd`: it remounts `/sys`, and `dockerd` started that way
        fails. Other commands run fine under it.)
        """, id="dnlab-shell-thin"),
        code("""
        host1_ns, host1_sock = world["host1"].namespace, world.host1.base_url
        ch00.typed_on_this_machine(f"nsenter --net=/run/netns/{host1_ns} ip -4 -br addr show eth0; "
                                       f"DOCKER_HOST={host1_sock} docker info --format '{{{{.DockerRootDir}}}}'")
        """),
        md("""
        ## What does a *fresh* Docker engine have?

        > **The article says** (section 1, 基本概念): 「dockerの公式ページを参照しますと、docker engineをインストールするとデフォルトでbridgeとoverlayの二つのドライバーが用意されています。またインスタンスそのものが保持するhostのethernetもネットワーク一覧に含まれます。」
        > (installing Docker Engine gives you two *drivers* by default, bridge and overlay, and the
        > host's ethernet is in the network list too.)

        Let's ask a brand-new engine. `scratch_engine()` starts a fresh `dockerd` in its own namespace (nothing
        has ever run on it) and removes it afterwards; `cli()` runs the real `docker` CLI against it.
        """, id="does-fresh-docker-engine"),
        code("""
        from helpers.world import scratch_engine

        with scratch_engine(world.names.world_id) as fresh:
            print("$ docker network ls        # on the brand-new engine")
            print(fresh.cli("network", "ls"))
            networks = ch00.network_drivers(fresh.client)
            print("$ docker info --format '{{.Plugins.Network}}'   # the network drivers it has")
            print(fresh.cli("info", "--format", "{{.Plugins.Network}}"))
            drivers = ch00.engine_drivers(fresh.client)
        networks
        """),
        claim("ch00:fresh-engine", """
        claims.article_vs_reality(
            "「docker engineをインストールするとデフォルトでbridgeとoverlayの二つのドライバーが用意されています。"
            "またインスタンスそのものが保持するhostのethernetもネットワーク一覧に含まれます。」",
            f"a fresh engine has {len(drivers)} network drivers, not two: {', '.join(drivers)} (overlay is one, but "
            "no overlay network exists until swarm mode); it lists three networks, bridge, host and none, "
            "and the host's NIC is not among them",
            claims.all_of("a fresh engine's network drivers and networks", {
                "its drivers are more than bridge and overlay: host, null and macvlan are built in too":
                    {"bridge", "overlay", "host", "null", "macvlan"} <= set(drivers),
                "its networks are exactly bridge (driver bridge), host (driver host) and none (driver null)":
                    networks == {"bridge": "bridge", "host": "host", "none": "null"},
            }, evidence={"drivers": drivers, "networks": networks}))
        """),
        md("""
        `overlay` is a *driver* that is built in, but no overlay *network* exists until the engine joins a swarm
        (chapter 4 shows `ingress` and `docker_gwbridge` appearing after `docker swarm init`). The host's own
        `eth0` is not a Docker network at all: the `host` network means "use the host's stack".

        ## The plain docker CLI works too

        Each Docker host has a CLI context, so in a terminal you can type `docker --context dnlab-host1 ...`
        (in another world, `dnlab-<id>-host1`). The same command, run from here:
        """, id="overlay-driver-that"),
        code("""
        print(world.host1.cli("run", "--rm", "dnlab/box", "ip", "-o", "-4", "addr", "show", "eth0"))
        """),
        md("""
        ## Summary

        - The lab world is a set of network namespaces: two Docker hosts with their own engines, a LAN, a router
          and an "internet" that reports what address it sees.
        - A fresh engine has more network drivers than "bridge and overlay" (host, null, macvlan, ipvlan
          too) and three networks: **bridge**, **host** and **none**; the host's NIC is not one of them.
        - `dnlab shell HOST` puts you on a machine (its network namespace; `docker` talks to its engine).
        - `dnlab status` and `dnlab down` manage the world from a terminal (`dnlab clean` sweeps what crashed
          worlds left behind).

        **Exercises**
        1. In a terminal, run `dnlab status` and find the pid of host2's `dockerd`.
        2. `sudo .venv/bin/dnlab shell host2`, then `docker network ls`. Is host2's engine as fresh as the
           scratch engine was? (`docker --context dnlab-host2 network ls` from outside gives the same.)
        """, id="summary"),
        solution("""
        # Solution 2: compare host2's networks with a fresh engine's (run after the chapters: they may differ)
        {n.name: n.attrs["Driver"] for n in world.host2.docker.networks.list()}
        """, id="solution-2-compare-host2"),
    ])
