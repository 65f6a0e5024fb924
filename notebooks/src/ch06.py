"""Chapter 6: the none driver (article 2.5)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "06_none.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 6 — None
        **Article 2.5 「noneドライバ」**

        **Goals.** See that `--network none` leaves exactly one interface, `lo`; show that nothing
        gets in or out, with probes that fail *for the right reason* (no route, not a firewall).

        **Prerequisites.** Chapter 1 (a container's own namespace).
        """),
        code(SETUP),
        code("""
        none = scenarios.get(world, "none").start()   # none-box (--network none), none-peer (default bridge)
        box = none.containers()["box"]
        """),
        md("""
        > **The article says:** 「ネットワークを一切割り当てないモードです。ネットワークインターフェースが必要ない場合に使用されます。」
        > (no network is assigned; for when no interface is needed.) — correct, with one clarification:
        > the container still has a network namespace, holding only the loopback interface.
        """),
        code("""
        view = {"interfaces": facts.interfaces(world, box), "routes": facts.ip_json(world, box, "route", "show"),
                "own namespace": not facts.same_netns(world, box, "host1")}
        claims.holds("a none container has its own namespace with only lo, and no route at all",
                     view["interfaces"] == ["lo"] and view["routes"] == [] and view["own namespace"], evidence=view)
        """),
        code("""
        verdicts = {v.spec.name: v for v in probes.run_all(none)}
        facts.table([v.row() for v in verdicts.values()])
        """),
        code("""
        out_fail = [verdicts[n].result.output for n in ("egress", "lan", "c2c")]
        claims.holds("loopback works; the internet, host1 and a bridge container all fail with 'Network is "
                     "unreachable': the kernel has no route, nothing was sent and dropped",
                     verdicts["loopback"].ok and all(not verdicts[n].ok for n in ("egress", "lan", "c2c"))
                     and all("unreachable" in o.lower() for o in out_fail), evidence=out_fail)
        """),
        md("""
        Nothing comes *in* either: the container has no address anyone could aim at. The probe
        resolver confirms it: there is no address to resolve.
        """),
        code("""
        try:
            probes.resolve_target(none, "container:box")
            has_address = True
        except LookupError as exc:
            has_address, why = False, str(exc)
        claims.holds("the none container has no address to send to", not has_address, evidence=why)
        """),
        code("""
        chapters.show_path(world, none, "egress", view="L3")
        """),
        md("""
        ## Summary
        * `--network none`: a namespace with `lo` only, no route; processes inside can still use `127.0.0.1`.
        * Use it for jobs that must not talk to any network (batch work on mounted files, key handling).

        ## Exercises
        1. Connect `none-box` to the default bridge with `docker network connect`. What does Docker say?
        """),
        solution("""
        # 1. Docker refuses: a container in network mode "none" cannot be connected to another network.
        try:
            world.host1.docker.networks.get("bridge").connect(box)
        except Exception as exc:
            print(exc)
        """),
        code("""
        none.stop()
        """),
    ])
