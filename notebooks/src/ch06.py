"""Chapter 6: the none driver (article 2.5)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "06_none.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 6 — None
        **Article 2.5 「noneドライバ」**

        **Goals.** See that `--network none` leaves exactly one interface, `lo`, and no route; show
        that nothing gets in or out, with probes that fail *for the right reason* (no route: the
        kernel refuses at once, nothing is sent and dropped); see what Docker says when you try to
        add a network to such a container.

        **Prerequisites.** Chapter 1 (a container's own namespace). Lines such as `host1# docker exec
        ...` are real commands, run on that lab machine just now; type them after
        `sudo .venv/bin/dnlab shell host1`.
        """, id="chapter-6-none"),
        code(setup("ch06")),
        code("""
        # extra code: none-box (--network none) and none-peer (default bridge), and the chapter's helpers
        none = scenarios.get(world, "none").start()
        box, peer = none.containers()["box"], none.containers()["peer"]
        print("engine on host1:", world.host1.docker.version()["Version"])
        """, id="code-extra-code-none-box"),
        md("""
        > **The article says:** 「ネットワークを一切割り当てないモードです。ネットワークインターフェースが必要ない場合に使用されます。」
        > (no network is assigned; for when no interface is needed.) — correct, with one clarification:
        > the container still has a network namespace of its own, holding only the loopback interface.

        Ask the container itself, then Docker:
        """, id="article-says-no"),
        code("""
        display(facts.sh(world, "host1", "docker exec none-box ip addr"),
                facts.sh(world, "host1", "docker exec none-box ip route | wc -l   # how many routes"),
                facts.sh(world, "host1", "docker inspect -f 'mode={{.HostConfig.NetworkMode}} IPAddress={{json .NetworkSettings.Networks.none.IPAddress}}' none-box"))
        view = ch06.none_view(world, box)
        facts.table(ch06.rows_of(view))
        """),
        claim("ch06:lo-only", """
        claims.all_of("a none container has its own namespace with only lo, no route, and no address from Docker", {
            "its only interface is lo": view["interfaces"] == ["lo"],
            "it has no route at all": view["routes"] == [],
            "it is its own namespace (not host1's)": view["own namespace"],
            "Docker gave it no address": not any(view["address Docker gave it"].values()),
        }, evidence=view)
        """),
        md("""
        ## Nothing out, nothing in
        From `none-box` we try its own loopback, the internet service, host1 and a container on the
        default bridge (`none-peer`). Only loopback works; everything else fails at once with
        "Network is unreachable": the kernel has no route, so no packet is even sent.
        """, id="nothing-out-nothing"),
        code("""
        reach = ch06.none_reach(world, box, peer)
        facts.table(list(reach.values()))
        """),
        claim("ch06:unreachable", """
        claims.all_of("loopback works; the internet, host1 and a bridge container fail with 'Network is unreachable'", {
            "its own loopback answers": reach["loopback"]["reached"],
            "the internet service: unreachable (no route)": not reach["internet"]["reached"] and ch06.unreachable(reach["internet"]),
            "host1: unreachable (no route)": not reach["host1"]["reached"] and ch06.unreachable(reach["host1"]),
            "a bridge container: unreachable (no route)": not reach["bridge neighbour"]["reached"]
                and ch06.unreachable(reach["bridge neighbour"]),
        }, evidence=reach)
        """),
        md("""
        The probes from the lab's own tooling agree: nothing is sent, so the path has no hop beyond
        the container.
        """, id="probes-lab-s"),
        code("""
        ch06.show_path(world, none, "egress", view="L3")
        """),
        md("""
        ## Connecting it later
        While a container is attached to `none`, Docker refuses to connect it to another network.
        That is not forever: disconnect it from `none` first (`docker network disconnect none
        none-box`), and then `docker network connect` works. Re-creating it with `--network <name>`
        works too.
        """, id="connecting-later"),
        code("""
        connect = facts.sh(world, "host1", "docker network connect bridge none-box", check=False)
        connect
        """),
        md("""
        And the way round it, on a fresh `--network none` container: refused, then disconnected
        from `none`, then connected:
        """, id="way-round-fresh"),
        code("""
        lesson = ch06.Lesson(world, "ch06").reset()
        rejoin = ch06.none_rejoin(world, lesson)     # docker network connect / disconnect none / connect
        display(*rejoin["commands"])
        facts.sh(world, "host1", f"docker exec {rejoin['container']} ip -o -4 addr")
        """, id="code-lesson-chapters-lesson"),
        claim("ch06:no-connect", """
        claims.all_of("Docker refuses to connect a container to another network while it is attached to none, "
                      "and only then: disconnected from none, it joins one", {
            "docker network connect failed": connect.returncode != 0,
            "Docker's refusal names the none mode (not another error)": "none" in connect.output,
            "the container still has only lo": facts.interfaces(world, box) == ["lo"],
            "a fresh none container is refused the same way": rejoin["refused"].returncode != 0
                and "none" in rejoin["refused"].output,
            "docker network disconnect none succeeded": rejoin["disconnected"],
            "then docker network connect bridge succeeded": rejoin["joined"].returncode == 0,
            "and the container has an address in the bridge's subnet": rejoin["address in the subnet"],
        }, evidence={"none-box": connect.output, "fresh container": [str(c) for c in rejoin["commands"]],
                     "its addresses after": rejoin["addresses"]})
        """),
        md("""
        **Engine versions.** Measured on the engine printed above. [[engine:none-network]] (Docker
        docs: *None network driver*, docs.docker.com/engine/network/drivers/none/).

        ## Summary
        * `--network none`: a namespace with `lo` only, no route; processes inside can still use `127.0.0.1`.
        * Everything else fails at once with "Network is unreachable": nothing is sent.
        * While attached to `none` it cannot join another network; disconnect it from `none` first.
          Use it for jobs that must not talk to any network (batch work on mounted files, key handling).

        ## Exercises
        1. Can `none-box` look up its neighbour's name (`nslookup none-peer`)? Why not, and which
           DNS server does its `/etc/resolv.conf` name?
        """, id="engine-versions-measured"),
        solution("""
        # 1. No: /etc/resolv.conf names a server (a copy of the engine's dns setting), but there is no
        #    route to it, so the query is never sent ("Network is unreachable" or a timeout).
        print(facts.sh(world, "host1", "docker exec none-box cat /etc/resolv.conf; docker exec none-box nslookup none-peer", check=False))
        """, id="solution-1-no-etc-resolv"),
        code("""
        lesson.stop()
        none.stop()
        """),
    ])
