"""The classroom's names, labels, ports and volumes (`make classroom`, helpers/hosting/classroom.py).

Shared by helpers/hosting/classroom.py (the owner process), classroom/jupyterhub_config.py (the hub's
DockerSpawner) and `dnlab classroom`'s parser, which is built on every `dnlab` command: so a module of
its own, with no import heavier than the world's naming scheme.
"""
from __future__ import annotations

from helpers.world.naming import DATA_ROOT, RUN_ROOT

# One JupyterHub for a workshop: its engine is a sandbox (SANDBOX_PREFIX + CLASSROOM), never the
# machine's own Docker; each learner gets a privileged COURSE_IMAGE container there, with a lab
# world of its own inside. Everything the classroom makes in its engine carries LABEL_CLASSROOM.
CLASSROOM = "classroom"
LABEL_CLASSROOM = "org.dnlab.classroom"
LABEL_LEARNER = "org.dnlab.learner"          # on a learner's container and volumes: the hub user name
CLASSROOM_NETWORK = "dnlab-classroom"        # a bridge with inter-container traffic off (enable_icc=false)
CLASSROOM_CONTAINER = "dnlab-learner-{username}"
COURSE_HOME = "/opt/dnlab"                   # the course inside the course image (its Dockerfile)
# Per learner, a named volume on each mount point: their chapters, their labs and lab progress
# (kept across server restarts: an empty named volume starts as a copy of the image's folder), and
# the data roots of their world's engines (overlay2 cannot stack on the container's overlay root).
CLASSROOM_VOLUMES = {
    "dnlab-learner-{username}-notebooks": f"{COURSE_HOME}/notebooks",
    "dnlab-learner-{username}-labs": f"{COURSE_HOME}/labs",
    "dnlab-learner-{username}-engines": str(DATA_ROOT),
}
CLASSROOM_PROGRESS_DIR = f"{COURSE_HOME}/labs/.progress"   # DNLAB_PROGRESS_DIR in a learner's server
CLASSROOM_STATE = RUN_ROOT / "classroom"     # not a world prefix: a world's clean never takes it
# In a classroom's state folder: the hub's pid file, which JupyterHub removes as the last step of its
# cleanup (after every learner's server stopped), the owner's sign that the hub's work is done.
CLASSROOM_HUB_PID_FILE = "jupyterhub.pid"
CLASSROOM_HUB_PORT = 8081                    # the hub's API, for the learners' servers (gateway address)
CLASSROOM_PROXY_PORT = 8000                  # the proxy, on the engine namespace's loopback only
CLASSROOM_PAGE_PORT = 8090                   # the instructor view's page (a hub service), loopback too
CLASSROOM_LISTEN = "127.0.0.1:8000"          # the machine's address the relay serves the hub on
