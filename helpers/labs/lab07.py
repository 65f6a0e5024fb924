"""Lab 7: The pod model: containers sharing one network namespace.

`--network container:` — the Kubernetes pod model. The check, its hints and the reference solution,
all in this module (listed in helpers/labs/registry.py).
"""
from __future__ import annotations

from helpers.labs import state
from helpers.labs.common import cli, need_attached, need_container, need_network, need_reaches
from helpers.labs.model import Checks, Lab
from helpers.language import translate
from helpers.lessons import facts
from helpers.world.guard import probe
from helpers.world.naming import IDLE, IMAGE

POD_PORT = 8080


def shares_namespace_hint(pod, app) -> str:
    """Why two containers that were set up to share a namespace no longer do, from their start times."""
    if state.started_at(pod) > state.started_at(app):
        return translate("labs:lab07:pod-restarted", "lab7-pod was started again ({pod}) after lab7-app ({app}): it "
                         "got a new network namespace and lab7-app still holds the old one. Restart lab7-app too "
                         "(`docker restart lab7-app`): it then joins the new one",
                         pod=pod.attrs["State"]["StartedAt"][:19], app=app.attrs["State"]["StartedAt"][:19])
    return translate("labs:lab07:restart-app", "restart lab7-app (`docker restart lab7-app`): it joins lab7-pod's "
                     "namespace as it is now")


def need_server_of(world, c: Checks, pod, app, port: int) -> bool:
    """Item: the process listening on `port` in the pod's namespace is one of `app`'s processes
    (`ss -ltnp` there, against `docker top lab7-app`), not one started inside the pod container."""
    what = translate("labs:lab07:server-of", "the server on port {port} is lab7-app's own process", port=port)
    found = state.listeners(world, pod, port)
    app_pids, pod_pids = state.process_ids(app), state.process_ids(pod)
    mine = [(pid, command) for pid, command in found if pid in app_pids]
    if mine:
        return c.expect(what, True, evidence=translate("labs:lab07:server-evidence", "{command} pid {pid}, in "
                                                       "`docker top lab7-app`", command=mine[0][1], pid=mine[0][0]))
    if not found:
        problem = translate("labs:lab07:nothing-listens", "nothing listens on port {port} in lab7-pod's network "
                            "namespace", port=port)
    else:
        neither = translate("labs:lab07:neither", "neither container")
        owners = ", ".join(translate("labs:lab07:owner", "{command} (pid {pid}, a process of {owner})",
                                     command=command, pid=pid, owner="lab7-pod" if pid in pod_pids else neither)
                           for pid, command in found)
        problem = translate("labs:lab07:served-by", "port {port} is served by {owners}, not by lab7-app", port=port,
                            owners=owners)
    return c.expect(what, False, translate("labs:lab07:app-runs", "{problem}; lab7-app runs `{command}`",
                                           problem=problem, command=state.command_of(app)),
                    translate("labs:lab07:own-program", "in a pod each container runs its own program: lab7-app's own "
                              "command must be the web server (`httpd -f -p {port} -h /www`), so remove lab7-app and "
                              "run it again with it", port=port))


def check_pod(world, c: Checks) -> None:
    net = need_network(world, c, "host1", "lab7-net", "bridge")
    pod = need_container(world, c, "host1", "lab7-pod")
    app = need_container(world, c, "host1", "lab7-app")
    peer = need_container(world, c, "host1", "lab7-peer")
    if net and pod:
        need_attached(c, pod, "lab7-net")
    if net and peer:
        need_attached(c, peer, "lab7-net")
    if pod and app:
        mode = app.attrs["HostConfig"]["NetworkMode"]
        # The engine stores the full id whatever the learner typed (name, short id).
        shares = mode in (f"container:{pod.id}", "container:lab7-pod")
        c.expect(translate("labs:lab07:shares", "lab7-app shares lab7-pod's network namespace"), shares,
                 translate("labs:lab07:mode", "lab7-app's network mode is {mode}", mode=mode),
                 translate("labs:lab07:mode-hint", "the network mode is chosen at start (`--network "
                           "container:lab7-pod`); Kubernetes pods work the same way"), evidence=mode[:22])
        if shares:
            c.expect(translate("labs:lab07:same-netns", "lab7-app and lab7-pod see one and the same namespace"),
                     facts.same_netns(world, app, pod),
                     translate("labs:lab07:netns-differ", "their /proc/PID/ns/net differ (lab7-pod {pod}, lab7-app "
                               "{app})", pod=state.netns_inode(pod), app=state.netns_inode(app)),
                     shares_namespace_hint(pod, app),
                     evidence=translate("labs:lab07:inode", "netns inode {inode}", inode=state.netns_inode(pod)))
    later = (translate("labs:lab07:pod-reaches", "lab7-pod reaches lab7-app's web server on 127.0.0.1:{port}",
                       port=POD_PORT),
             translate("labs:lab07:peer-reaches", "lab7-peer reaches lab7-app through the name lab7-pod, port {port}",
                       port=POD_PORT))
    if not c.all_ok:
        return c.pending(translate("labs:lab07:server-of", "the server on port {port} is lab7-app's own process",
                                   port=POD_PORT), *later)
    if not need_server_of(world, c, pod, app, POD_PORT):
        return c.pending(*later)
    need_reaches(world, c,
                 dict(what=later[0], source=pod, target="127.0.0.1", kind="http", port=POD_PORT,
                      hint=translate("labs:lab07:logs", "lab7-app's web server listens; `{docker} logs lab7-app` "
                                     "shows its errors", docker=cli(world, "host1"))),
                 dict(what=later[1], source=peer, target="lab7-pod", kind="http", port=POD_PORT,
                      hint=translate("labs:lab07:peer-hint", "lab7-peer must share a network with lab7-pod "
                                     "(`docker network inspect lab7-net`)")))


def solution(world):
    r"""docker --context $P-host1 network create lab7-net
    docker --context $P-host1 run -d --name lab7-pod --network lab7-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 run -d --name lab7-app --network container:lab7-pod dnlab/box:latest \
        httpd -f -p 8080 -h /www
    docker --context $P-host1 run -d --name lab7-peer --network lab7-net dnlab/box:latest sleep 1000000
    docker --context $P-host1 top lab7-app
    """
    # %% The pod's "pause" container holds the network namespace. **Why a container that only sleeps:**
    # %%+ the namespace lives as long as its first container; Kubernetes starts a tiny pause container
    # %%+ for that, so the app containers can restart without the pod losing its address.
    client = world.host1.docker
    client.networks.create("lab7-net", labels=world.label)
    pod = client.containers.run(IMAGE, IDLE, name="lab7-pod", network="lab7-net", detach=True, labels=world.label)
    # %% The app joins that namespace instead of getting its own: same interfaces, same address, same
    # %%+ ports, and 127.0.0.1 is shared. Its own program is the web server. (If lab7-pod is restarted, it
    # %%+ gets a new namespace and lab7-app keeps the old one until it is restarted too; Kubernetes
    # %%+ restarts the whole pod for that reason.)
    client.containers.run(IMAGE, ["httpd", "-f", "-p", "8080", "-h", "/www"], name="lab7-app",
                          network_mode="container:lab7-pod", detach=True, labels=world.label)
    peer = client.containers.run(IMAGE, IDLE, name="lab7-peer", network="lab7-net", detach=True,
                                 labels=world.label)
    # %% The evidence that lab7-app serves the port: the pid listening on 8080 in the shared namespace is
    # %%+ one of lab7-app's processes.
    print(facts.sh(world, "host1", "nsenter -t $(docker inspect -f '{{.State.Pid}}' lab7-pod) -n ss -ltnp"))
    print(facts.sh(world, "host1", "docker top lab7-app"))
    # %% Inside the pod, the app is on localhost; from outside, it is at the pod's name.
    print(probe(world, pod, "127.0.0.1", "http", 8080))
    print(probe(world, peer, "lab7-pod", "http", 8080))


LAB = Lab(7, "pod", "The pod model: containers sharing one network namespace",
    "Two containers share one network stack, like the containers of a Kubernetes pod.",
    ["On host1, make a bridge network `lab7-net` and start `lab7-pod` on it (`sleep 1000000`).",
     "Start `lab7-app` in lab7-pod's network namespace, with `httpd -f -p 8080 -h /www` as its own command.",
     "Start `lab7-peer` on `lab7-net`.",
     "Show that `lab7-pod` reaches the web server on 127.0.0.1:8080 and that `lab7-peer` reaches it "
     "as `lab7-pod:8080`."],
    check_pod, containers=[("host1", "lab7-app"), ("host1", "lab7-peer"), ("host1", "lab7-pod")],
    networks=[("host1", "lab7-net")],
    summary="`--network container:` — the Kubernetes pod model",
    solution=solution)
