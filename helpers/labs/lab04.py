"""Lab 4: One container on two networks.

One container on two networks, the two sides kept apart. The check, its hints and the reference
solution, all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs import state
from helpers.labs.common import cli, need_container, need_network, need_only_on, need_reaches
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world import engine_facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE


def two_networks_hint(world) -> str:
    """How lab4-app gets onto both networks on host1's engine: whether two `--network` flags in one
    `docker run` work there is the engine table's to say (fact multiple-networks), read for the version
    host1 runs."""
    version = world.host1.docker.version()["Version"]
    era = engine_facts.fact("multiple-networks").on(version)
    return translate("labs:lab04:two-networks-hint", "start lab4-app from {image} on both networks (`{docker} run "
                     "--name lab4-app ...`). On host1's engine (Docker {version}) two `--network` flags in one "
                     "`docker run` are {era}", image=IMAGE, docker=cli(world, "host1"), version=version, era=era.value)


def check_two_networks(world, c: Checks) -> None:
    front = need_network(world, c, "host1", "lab4-front", "bridge")
    back = need_network(world, c, "host1", "lab4-back", "bridge")
    web = need_container(world, c, "host1", "lab4-web")
    db = need_container(world, c, "host1", "lab4-db")
    app = need_container(world, c, "host1", "lab4-app", hint=two_networks_hint(world))
    if front and back:
        if web:
            need_only_on(c, web, {"lab4-front"})
        if db:
            need_only_on(c, db, {"lab4-back"})
        if app:
            need_only_on(c, app, {"lab4-front", "lab4-back"})
    to_web = translate("labs:lab04:app-web", "lab4-app reaches lab4-web by name")
    to_db = translate("labs:lab04:app-db", "lab4-app reaches lab4-db by name")
    apart = translate("labs:lab04:apart", "lab4-web cannot reach lab4-db, even by address")
    if not c.all_ok:
        return c.pending(to_web, to_db, apart)
    # Three independent probes at once: the isolation probe waits its whole timeout for no answer.
    need_reaches(world, c, dict(what=to_web, source=app, target="lab4-web"),
                 dict(what=to_db, source=app, target="lab4-db"),
                 dict(what=apart, source=web, target=state.address_on(db, "lab4-back"), expect=False))


def solution(world):
    """docker --context $P-host1 network create lab4-front
    docker --context $P-host1 network create lab4-back
    docker --context $P-host1 run -d --name lab4-web --network lab4-front dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab4-db --network lab4-back dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab4-app --network lab4-front dnlab/box:latest sleep 1000000
    docker --context $P-host1 network connect lab4-back lab4-app
    docker --context $P-host1 exec lab4-app ip route
    """
    # %% Two networks, one container on each. Each network is a bridge of its own on host1, with a subnet
    # %%+ of its own.
    client = world.host1.docker
    for name in ("lab4-front", "lab4-back"):
        client.networks.create(name, labels=world.label)
    web = client.containers.run(IMAGE, IDLE, name="lab4-web", network="lab4-front", detach=True, labels=world.label)
    db = client.containers.run(IMAGE, IDLE, name="lab4-db", network="lab4-back", detach=True, labels=world.label)
    # %% The app starts on the front network and is then connected to the back one too. **Why this works:**
    # %%+ a container gets one interface per network, with a route to each subnet, so the app reaches both
    # %%+ sides; the embedded DNS answers it for both networks.
    app = client.containers.run(IMAGE, IDLE, name="lab4-app", network="lab4-front", detach=True,
                                labels=world.label)
    client.networks.get("lab4-back").connect(app)
    facts.sh(world, "host1", "docker exec lab4-app ip route")
    # %% The app reaches both; the front cannot reach the back, not even by address. **Why:** lab4-web has
    # %%+ no route to lab4-back's subnet but its default route via host1, and host1's filter rules drop
    # %%+ traffic from one Docker bridge to another; the app does not forward between its interfaces.
    print(probe(world, app, "lab4-web"))
    print(probe(world, app, "lab4-db"))
    db.reload()
    print(probe(world, web, db.attrs["NetworkSettings"]["Networks"]["lab4-back"]["IPAddress"]))


LAB = Lab(4, "two-networks", "One container on two networks",
    "An app in the middle talks to a front and a back network; the two sides stay apart.",
    ["On host1, make bridge networks `lab4-front` and `lab4-back`.",
     "Start `lab4-web` on `lab4-front` only and `lab4-db` on `lab4-back` only.",
     "Start `lab4-app` on both networks.",
     "Show that `lab4-app` reaches both by name and that `lab4-web` cannot reach `lab4-db`."],
    check_two_networks, containers=[("host1", "lab4-web"), ("host1", "lab4-db"), ("host1", "lab4-app")],
    networks=[("host1", "lab4-front"), ("host1", "lab4-back")],
    summary="one container on two networks, the two sides kept apart",
    solution=solution)
