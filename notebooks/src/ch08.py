"""Chapter 8: managing networks (article 3.1-3.4)."""
from nb import SETUP, code, md, notebook, solution

FILENAME = "08_managing_networks.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 8 — Managing networks
        **Article 3 「Dockerネットワークの設定と管理」: 3.1 作成, 3.2 コンテナのネットワーク接続, 3.3 一覧表示, 3.4 詳細情報**

        **Goals.** Create a network (driver, subnet, gateway, labels); run a container on it with
        `--network`; connect and disconnect a running container; list with filters; read `inspect`
        field by field. Every step is done twice: with the docker SDK (Python) and with the real
        `docker --context <world>-host1 ...` command, side by side.

        **Prerequisites.** Chapter 2.

        > The article's commands (`docker network create --driver bridge my_bridge_network`,
        > `docker run -d --name my_container --network my_bridge_network nginx`, `docker network ls`,
        > `docker network inspect`) are correct. Two notes: `--driver bridge` is optional (bridge is the
        > default), and **section 3.2 appears twice in the article**, word for word. We run `busybox
        > httpd` from the lab image instead of `nginx`: the lab pulls nothing from a registry.
        """),
        code(SETUP),
        code("""
        lesson = chapters.Lesson(world, "ch08").reset()
        ctx = world.host1.context
        labels = f"--label org.dnlab.world={world.prefix} --label org.dnlab.scenario=ch08"
        ctx
        """),
        md("## 8.1 Create (3.1)"),
        code("""
        from docker.types import IPAMConfig, IPAMPool
        sdk_net = lesson.network("sdk", driver="bridge", labels={"tier": "web"},
                                 ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.123.1.0/24", gateway="10.123.1.1")]))
        cli_cmd = f"network create --driver bridge --subnet 10.123.2.0/24 --gateway 10.123.2.1 --label tier=web {labels} ch08-cli"
        facts.side_by_side('lesson.network("sdk", driver="bridge", labels={"tier": "web"},\\n  ipam=IPAMConfig(...10.123.1.0/24, gateway 10.123.1.1))',
                           f"docker --context {ctx} {cli_cmd}", sdk_net.name, facts.cli(world, "host1", cli_cmd))
        """),
        code("""
        cli_net = world.host1.docker.networks.get("ch08-cli")
        claims.holds("both networks exist with the subnet and gateway we asked for",
                     sdk_net.attrs["IPAM"]["Config"][0] == {"Subnet": "10.123.1.0/24", "Gateway": "10.123.1.1"}
                     and cli_net.attrs["IPAM"]["Config"][0] == {"Subnet": "10.123.2.0/24", "Gateway": "10.123.2.1"},
                     evidence=[sdk_net.attrs["IPAM"]["Config"], cli_net.attrs["IPAM"]["Config"]])
        """),
        md("## 8.2 Run a container on it with `--network` (3.2 — printed twice in the article)"),
        code("""
        web = lesson.web("web", network=sdk_net.name)
        cli_cmd = f"run -d --name ch08-my-container --network ch08-cli {labels} dnlab/box:latest httpd -f -p 80 -h /www"
        facts.side_by_side('lesson.web("web", network="ch08-sdk")', f"docker --context {ctx} {cli_cmd}",
                           web.name, facts.cli(world, "host1", cli_cmd))
        """),
        code("""
        mine = world.host1.docker.containers.get("ch08-my-container")
        claims.holds("each container got an address from its network's subnet",
                     facts.address(world, web).startswith("10.123.1.") and facts.address(world, mine).startswith("10.123.2."),
                     evidence=[facts.address(world, web), facts.address(world, mine)])
        """),
        md("## 8.3 Connect and disconnect a running container"),
        code("""
        sdk_net.connect(mine)          # the SDK way: ch08-my-container gets a second interface
        print(facts.interfaces(world, mine), facts.ipv4(world, mine))
        print(facts.cli(world, "host1", "network disconnect ch08-sdk ch08-my-container") or "(CLI: disconnected, no output)")
        claims.equals("after connect + disconnect it is back to one network interface besides lo",
                      facts.interfaces(world, mine), ["lo", "eth0"])
        """),
        code("""
        facts.cli(world, "host1", "network connect ch08-cli ch08-web")    # the CLI way
        sdk_net.disconnect(web)                                          # the SDK way
        web.reload()
        claims.equals("ch08-web moved from ch08-sdk to ch08-cli while running",
                      sorted(web.attrs["NetworkSettings"]["Networks"]), ["ch08-cli"])
        """),
        md("## 8.4 List, with filters (3.3)"),
        code("""
        sdk = sorted(n.name for n in world.host1.docker.networks.list(filters={"label": "tier=web"}))
        cli_cmd = "network ls --filter label=tier=web --format '{{.Name}} {{.Driver}}'"
        facts.side_by_side('client.networks.list(filters={"label": "tier=web"})', f"docker --context {ctx} {cli_cmd}",
                           sdk, facts.cli(world, "host1", cli_cmd))
        """),
        code("""
        cli_names = sorted(line.split()[0] for line in facts.cli(world, "host1", cli_cmd).splitlines())
        claims.equals("the SDK and the CLI list the same labelled networks", sdk, cli_names)
        """),
        md("## 8.5 Inspect, field by field (3.4)"),
        code("""
        facts.table(chapters.inspect_fields(cli_net))
        """),
        code("""
        import json
        cli_json = json.loads(facts.cli(world, "host1", "network inspect ch08-cli"))[0]
        claims.holds("the CLI's inspect and the SDK's attrs are the same document",
                     cli_json["Id"] == cli_net.id and cli_json["IPAM"] == cli_net.attrs["IPAM"],
                     evidence=cli_json["IPAM"]["Config"])
        """),
        md("""
        ## Summary
        * `network create` (driver defaults to bridge; subnet, gateway, labels optional), `run --network`,
          `network connect` / `disconnect` on a running container, `network ls --filter`, `network inspect`.
        * The SDK and the CLI talk to the same API: same results, as shown side by side.

        ## Exercises
        1. List only the networks of driver `bridge` that carry this world's label, with the CLI.
        2. Why does `docker network rm ch08-cli` fail right now?
        """),
        solution("""
        # 1.
        print(facts.cli(world, "host1", f"network ls --filter driver=bridge --filter label=org.dnlab.world={world.prefix}"))
        # 2. containers are still attached: the engine refuses to remove a network in use.
        print(facts.cli(world, "host1", "network rm ch08-cli", check=False))
        """),
        code("""
        lesson.stop()
        """),
    ])
