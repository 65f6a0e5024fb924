"""Chapter 8: managing networks (article 3.1-3.4)."""
from nb import claim, code, md, notebook, setup, solution

FILENAME = "08_managing_networks.ipynb"


def build():
    return notebook([
        md("""
        # Chapter 8 — Managing networks
        **Article 3 「Dockerネットワークの設定と管理」**: 3.1 「ネットワークの作成」, 3.2 「コンテナのネットワーク接続」,
        3.3 「ネットワークの一覧表示」, 3.4 「ネットワークの詳細情報」

        **Goals.** Type the article's commands on a Docker host and read what they did, in the engine
        *and* in the kernel: create a network, run a container on it, connect and disconnect a running
        container, list networks, inspect one.

        **Prerequisites.** Chapter 2.

        > The article's commands (`docker network create --driver bridge my_bridge_network`,
        > `docker run -d --name my_container --network my_bridge_network nginx`, `docker network ls`,
        > `docker network inspect my_bridge_network`) are correct. Three notes: `--driver bridge` is
        > optional (bridge is the default); **the article prints section 3.2 twice**, word for word
        > (we do it once); and we run busybox `httpd` from the lab image `dnlab/box:latest` instead of
        > `nginx`, because the lab pulls nothing from a registry.

        Every command below runs on **host1**, exactly as you would type it there after
        `sudo .venv/bin/dnlab shell host1` (inside host1's namespace, `docker` talking to host1's own
        engine). We add two `--label` options to what we create, so that the lab can find and remove
        exactly what this chapter made.
        """, id="chapter-8-managing-networks"),
        code(setup("ch08")),
        code("""
        lesson = ch08.Lesson(world, "ch08").reset()   # removes what an earlier run of this chapter left
        labels = " ".join(f"--label {key}={value}" for key, value in lesson.labels.items())
        labels
        """, id="code-lesson-chapters-lesson"),
        md("""
        ## 8.1 ネットワークの作成 — create a network (article 3.1)
        The article's command, then what it made on host1: the engine's record of the network, and the
        Linux bridge the kernel now has for it (named `br-` + the first 12 characters of the network id).
        """, id="8.1-create-network-article"),
        code("""
        display(facts.sh(world, "host1", f"docker network create --driver bridge {labels} my_bridge_network"))
        display(facts.sh(world, "host1", "docker network inspect -f '{{.Driver}} {{range .IPAM.Config}}{{.Subnet}} gateway {{.Gateway}}{{end}}' my_bridge_network"))
        facts.sh(world, "host1", "ip -br addr show type bridge")
        """),
        code("""
        created = ch08.created_network(world, "my_bridge_network")
        facts.table(ch08.rows_of(created))
        """),
        claim("ch08:create", """
        claims.all_of("`docker network create --driver bridge my_bridge_network` made a Linux bridge on host1, "
                      "named br-<the network id's first 12 characters>, holding the gateway of a subnet "
                      "Docker took from its default pools", {
            "the driver is bridge": created["driver"] == "bridge",
            "the subnet comes from Docker's default pools": created["subnet in Docker's default pools"],
            "host1 has a bridge named br-<id>": created["bridge on host"],
            "that bridge holds the gateway address": created["gateway"] in created["bridge addresses"],
        }, evidence=created)
        """),
        md("""
        Nothing obliges you to take the defaults: `--subnet`, `--gateway`, `--label` (and `-o` driver
        options) choose them. A second network, for later:
        """, id="nothing-obliges-you"),
        code("""
        facts.sh(world, "host1", f"docker network create --subnet 10.123.2.0/24 --gateway 10.123.2.1 --label tier=web {labels} my_web_network")
        """),
        md("""
        ## 8.2 コンテナのネットワーク接続 — run a container on a network (article 3.2, printed twice in the article)
        `--network` at `docker run` attaches the container when it starts. Then look inside it (its
        own `ip`), and at the network's list of containers:
        """, id="8.2-run-container-network"),
        code("""
        display(facts.sh(world, "host1", f"docker run -d --name my_container --network my_bridge_network {labels} "
                                         "dnlab/box:latest httpd -f -p 80 -h /www"))
        display(facts.sh(world, "host1", "docker exec my_container ip -4 addr show eth0"))
        facts.sh(world, "host1", "docker network inspect -f '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}' my_bridge_network")
        """),
        code("""
        my_container = world.host1.docker.containers.get("my_container")
        attached = ch08.attachment(world, my_container, "my_bridge_network")
        """),
        claim("ch08:run", """
        claims.all_of("`docker run --network my_bridge_network` put my_container on that network", {
            "an address inside the container lies in my_bridge_network's subnet": bool(attached["addresses in the subnet"]),
            "`docker network inspect` lists the container": attached["container"] in attached["network inspect lists"],
        }, evidence=attached)
        """),
        md("""
        ### Connect and disconnect a running container
        The article attaches at `docker run`; a running container can also join and leave networks
        (`docker network connect` / `disconnect`). It gets a new interface, live, without a restart:
        """, id="connect-disconnect-running-container"),
        code("""
        display(facts.sh(world, "host1", "docker network connect my_web_network my_container"))
        display(facts.sh(world, "host1", "docker exec my_container ip -4 -o addr"))
        display(facts.sh(world, "host1", "docker network disconnect my_web_network my_container"))
        facts.sh(world, "host1", "docker exec my_container ip -4 -o addr")
        """),
        md("""
        The same two steps once more, this time read by the chapter (interfaces inside the container
        and its start time after each step):
        """, id="same-two-steps"),
        code("""
        moved = ch08.connect_disconnect(world, my_container, "my_web_network")
        """),
        claim("ch08:connect", """
        claims.all_of("`docker network connect` gives a running container a new interface in the network, "
                      "live, and `disconnect` takes it away", {
            "after connect it had a new interface with an address in my_web_network's subnet": moved["new interface in the subnet"],
            "it was not restarted (same start time)": moved["running"] and moved["same start time"],
            "after disconnect that interface was gone": moved["after disconnect"] == moved["before"],
        }, evidence=moved)
        """),
        md("""
        ## 8.3 ネットワークの一覧表示 — list networks (article 3.3)
        `docker network ls` lists every network of *this* engine: the three it made by itself
        (`bridge`, `host`, `none`), the ones the course's scenarios left running, and ours.
        `--filter` narrows it (by `driver=`, `label=`, `name=`, ...), `--format` chooses the columns.
        """, id="8.3-list-networks-article"),
        code("""
        display(facts.sh(world, "host1", "docker network ls"))
        facts.sh(world, "host1", "docker network ls --filter label=tier=web --format '{{.Name}} {{.Driver}} {{.Scope}}'")
        """),
        md("""
        ## 8.4 ネットワークの詳細情報 — inspect a network (article 3.4)
        `docker network inspect` prints the engine's JSON record of a network.
        """, id="8.4-inspect-network-article"),
        code("""
        print(ch08.inspect_note(world))
        facts.sh(world, "host1", "docker network inspect my_bridge_network", head=45)
        """),
        code("""
        facts.table(ch08.inspect_fields(world.host1.docker.networks.get("my_bridge_network")))
        """),
        md("""
        `inspect` is Docker's *record*: what it assigned when the container joined. The kernel holds
        the truth. They agree as long as nobody changes the interface behind Docker's back; the chapter
        reads both (the kernel's side with `ip -j` inside each listed container, matched by MAC):
        """, id="inspect-docker-s"),
        code("""
        record = ch08.inspect_vs_kernel(world, "my_bridge_network")
        facts.table(record)
        """),
        claim("ch08:inspect", """
        claims.all_of("`docker network inspect` records each container's address and MAC as the kernel holds them",
                      {f"{r['container']}: inspect's address and MAC are on its interface": r["agree"] for r in record}
                      | {"inspect lists at least one container": bool(record)},
                      evidence=record)
        """),
        md("""
        ## Summary
        * `docker network create` (driver defaults to bridge; `--subnet`, `--gateway`, `--label`
          optional) makes an engine record *and* a Linux bridge `br-<id>` holding the gateway.
        * `docker run --network` attaches at start; `docker network connect` / `disconnect` change a
          running container live (a new `ethN`, no restart).
        * `docker network ls [--filter ...]` lists one engine's networks; `docker network inspect`
          shows its record, which matches the kernel unless someone changed the interface by hand.

        ## Exercises
        1. List only the networks of driver `bridge` that carry this world's label.
        2. Why does `docker network rm my_bridge_network` fail right now? Read the error.
        """, id="summary"),
        solution("""
        # 1.
        display(facts.sh(world, "host1", f"docker network ls --filter driver=bridge --filter label=org.dnlab.world={world.prefix}"))
        # 2. a container is still attached: the engine refuses to remove a network in use.
        facts.sh(world, "host1", "docker network rm my_bridge_network", check=False)
        """, id="solution-1"),
        code("""
        lesson.stop()
        """),
    ])
