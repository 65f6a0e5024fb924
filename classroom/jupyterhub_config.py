"""JupyterHub for one workshop: each learner gets a privileged dnlab/course container with a lab world
of its own inside (DockerSpawner), on a bridge where learners cannot reach each other.

`make classroom` (helpers/hosting/classroom.py) runs the hub with this file inside the classroom's own
engine namespace and sets the DNLAB_CLASSROOM_* variables below; every one has a default, so
`jupyterhub -f classroom/jupyterhub_config.py` also renders (tests/unit/test_classroom_config.py).

    DNLAB_CLASSROOM_DOCKER        the classroom engine's socket (never the machine's own Docker)
    DNLAB_CLASSROOM_HUB_IP        the classroom network's gateway: where learners' servers reach the hub
    DNLAB_CLASSROOM_CODE          the workshop code every learner types as password (with any name)
    DNLAB_CLASSROOM_ADMIN         the instructor's name; DNLAB_CLASSROOM_ADMIN_PASSWORD their password
    DNLAB_CLASSROOM_CPU / _MEM    per-learner limits (cores, Docker memory string)
    DNLAB_CLASSROOM_CULL_TIMEOUT  seconds idle before the culler stops a server; _CULL_EVERY its period
    DNLAB_CLASSROOM_ACTIVITY_INTERVAL  how often the hub reads the proxy's activity (the culler's input)
    DNLAB_CLASSROOM_STATE         folder for the hub's database, cookie secret and proxy token
    DNLAB_CLASSROOM_STATUS_TOKEN  API token of the instructor view (`dnlab classroom status`)
    DNLAB_CLASSROOM_LANG          the edition learners get: en (default) or ja, the Japanese notebooks with
                                  JupyterLab's menus in Japanese (the container's DNLAB_LANG)
"""
from __future__ import annotations

import hmac
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import docker
from dockerspawner import DockerSpawner
from jupyterhub.auth import Authenticator
from traitlets import Unicode

from helpers.hosting import classroom_names, course_image, jupyterlab
from helpers.world import naming

ENV = os.environ.get
STATE = ENV("DNLAB_CLASSROOM_STATE", str(classroom_names.CLASSROOM_STATE))
DOCKER_URL = ENV("DNLAB_CLASSROOM_DOCKER", f"unix://{naming.RUN_ROOT}/{naming.SANDBOX_PREFIX}{classroom_names.CLASSROOM}/docker.sock")
HUB_IP = ENV("DNLAB_CLASSROOM_HUB_IP", "127.0.0.1")
ADMIN = ENV("DNLAB_CLASSROOM_ADMIN", "instructor")
CULL_TIMEOUT = int(ENV("DNLAB_CLASSROOM_CULL_TIMEOUT", "3600"))
CULL_EVERY = int(ENV("DNLAB_CLASSROOM_CULL_EVERY", str(max(5, min(300, CULL_TIMEOUT // 4)))))
# Docker API calls in flight at once, for all learners together: below the SDK client's connection pool
# (docker.constants.DEFAULT_MAX_POOL_SIZE, 10), so no call waits for or throws away a connection.
DOCKER_THREADS = 8
# A hub name is a path segment, a container name and a volume name: keep it to what all three take.
LEARNER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class WorkshopAuthenticator(Authenticator):
    """A name of the learner's choice plus the workshop code the instructor hands out; the
    instructor's name takes its own password only, so no learner can log in as the admin."""

    workshop_code = Unicode(config=True, help="The shared code every learner types as password.")
    admin_password = Unicode(config=True, help="The instructor's own password.")

    async def authenticate(self, handler, data: dict) -> str | None:
        """The normalised name if the password fits it, else None (the hub answers 403)."""
        name = self.normalize_username(str(data.get("username", "")).strip())
        password = str(data.get("password", ""))
        if not LEARNER_NAME.match(name):
            self.log.warning("refused name %r: lowercase letters, digits, - and _ only", name)
            return None
        expected = self.admin_password if name in self.admin_users else self.workshop_code
        # An empty secret would let anyone in: refuse rather than run an open hub.
        if expected and hmac.compare_digest(password.encode(), expected.encode()):
            return name
        return None


class ClassroomSpawner(DockerSpawner):
    """DockerSpawner whose Docker calls run side by side. DockerSpawner runs every call of every learner
    in one thread (its class-wide `ThreadPoolExecutor(1)`), so one learner's `docker stop` (the
    container's world going down, seconds) held back every other learner's spawn, poll and stop:
    `make classroom-down` stopped the servers one after another, and a culled server's stop delayed
    the next spawn. dockerd serves concurrent calls; the SDK client is shared, its pool sized above."""

    _executor = ThreadPoolExecutor(DOCKER_THREADS, thread_name_prefix="docker")


def make_volumes(spawner) -> None:
    """pre_spawn_hook: make the learner's named volumes labelled as the classroom's before Docker
    would make them unlabelled, so `make classroom-down` finds every one by label."""
    client = docker.DockerClient(base_url=DOCKER_URL)
    labels = {classroom_names.LABEL_CLASSROOM: classroom_names.CLASSROOM,
              classroom_names.LABEL_LEARNER: spawner.user.name}
    try:
        mine = {"label": f"{classroom_names.LABEL_LEARNER}={spawner.user.name}"}
        existing = {volume.name for volume in client.volumes.list(filters=mine)}
        for template in classroom_names.CLASSROOM_VOLUMES:
            name = template.format(username=spawner.user.name)
            if name not in existing:
                client.volumes.create(name=name, labels=labels)
    finally:
        client.close()


c = get_config()  # noqa: F821  (given by JupyterHub's config loader)

# --- the hub, the proxy, their state ------------------------------------------------------------
# The proxy listens on the engine namespace's loopback; the machine reaches it through the relay of
# helpers/hosting/classroom.py. The hub's API listens on the classroom network's gateway, which the
# learners' servers reach (INPUT of the engine namespace, which enable_icc=false leaves open).
c.JupyterHub.bind_url = f"http://127.0.0.1:{classroom_names.CLASSROOM_PROXY_PORT}"
c.JupyterHub.hub_bind_url = f"http://{HUB_IP}:{classroom_names.CLASSROOM_HUB_PORT}"
c.JupyterHub.hub_connect_ip = HUB_IP
c.JupyterHub.db_url = f"sqlite:///{STATE}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{STATE}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = f"{STATE}/{classroom_names.CLASSROOM_HUB_PID_FILE}"
c.ConfigurableHTTPProxy.pid_file = f"{STATE}/proxy.pid"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
# Stopping the hub (make classroom-down) stops every learner's server with it.
c.JupyterHub.cleanup_servers = True
# The culler judges by the activity the hub knows; the hub reads it from the proxy this often.
c.JupyterHub.last_activity_interval = int(ENV("DNLAB_CLASSROOM_ACTIVITY_INTERVAL", "300"))

# --- login ----------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = WorkshopAuthenticator
c.WorkshopAuthenticator.workshop_code = ENV("DNLAB_CLASSROOM_CODE", "")
c.WorkshopAuthenticator.admin_password = ENV("DNLAB_CLASSROOM_ADMIN_PASSWORD", "")
c.Authenticator.admin_users = {ADMIN}
c.Authenticator.allow_all = True    # anyone with the code: the workshop's door is the code itself

# --- one course container per learner -------------------------------------------------------------
c.JupyterHub.spawner_class = ClassroomSpawner   # configured below as DockerSpawner
c.DockerSpawner.client_kwargs = {"base_url": DOCKER_URL}
c.DockerSpawner.image = course_image.COURSE_IMAGE
c.DockerSpawner.pull_policy = "never"          # no registry: the image is imported by make classroom
c.DockerSpawner.name_template = classroom_names.CLASSROOM_CONTAINER
c.DockerSpawner.network_name = classroom_names.CLASSROOM_NETWORK
c.DockerSpawner.use_internal_ip = True         # the hub reaches servers by their classroom address
c.DockerSpawner.port = course_image.COURSE_IMAGE_PORT   # the entrypoint's jupyterhub-singleuser
c.DockerSpawner.remove = True                  # a stopped server leaves its volumes, not its container
c.DockerSpawner.volumes = dict(classroom_names.CLASSROOM_VOLUMES)
c.DockerSpawner.pre_spawn_hook = make_volumes
c.DockerSpawner.notebook_dir = classroom_names.COURSE_HOME
# The learner is root in their container (the world needs it); jupyter-server refuses root unless told.
# The image's entrypoint passes the spawner's arguments on to jupyterhub-singleuser.
c.DockerSpawner.args = ["--allow-root"]
LANGUAGE = "ja" if ENV("DNLAB_CLASSROOM_LANG", "en") == "ja" else "en"
c.DockerSpawner.default_url = jupyterlab.default_url(LANGUAGE)
# DNLAB_LANG: the entrypoint selects JupyterLab's language with it, and the course's helpers read it.
c.DockerSpawner.environment = {"DNLAB_PROGRESS_DIR": classroom_names.CLASSROOM_PROGRESS_DIR, "DNLAB_LANG": LANGUAGE}
c.DockerSpawner.extra_create_kwargs = {
    "labels": {classroom_names.LABEL_CLASSROOM: classroom_names.CLASSROOM, classroom_names.LABEL_LEARNER: "{username}"},
    "hostname": "{username}",
}
# Privileged: the learner's world makes namespaces, bridges and its own dockerds inside.
c.DockerSpawner.extra_host_config = {"privileged": True}
c.DockerSpawner.cpu_limit = float(ENV("DNLAB_CLASSROOM_CPU", "1.0"))
c.DockerSpawner.mem_limit = ENV("DNLAB_CLASSROOM_MEM", "1G")
# The entrypoint brings the world up before the server answers: give it time on a busy machine.
c.DockerSpawner.start_timeout = 180
c.DockerSpawner.http_timeout = 180

# --- services: the idle culler and the instructor view --------------------------------------------
c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                 f"--timeout={CULL_TIMEOUT}", f"--cull-every={CULL_EVERY}"]},
    # The instructor view: its token serves `dnlab classroom status`; its page (classroom/status_page.py)
    # is /services/dnlab-status/ for the admins (the hub's OAuth). Services get PATH and little else:
    # the engine's socket is given to it.
    {"name": "dnlab-status", "api_token": ENV("DNLAB_CLASSROOM_STATUS_TOKEN", ""),
     "url": f"http://127.0.0.1:{classroom_names.CLASSROOM_PAGE_PORT}", "oauth_no_confirm": True,
     "command": [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "status_page.py")],
     "environment": {"DNLAB_CLASSROOM_DOCKER": DOCKER_URL}},
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "dnlab-instructor-view", "services": ["dnlab-status"],
     "scopes": ["list:users", "read:users", "read:servers"]},
]
