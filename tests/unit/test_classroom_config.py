"""The classroom's configuration as JupyterHub reads it: classroom/jupyterhub_config.py loaded by
traitlets' own loader and given to a real DockerSpawner and WorkshopAuthenticator; the Zero to
JupyterHub values rendered into a pod spec by KubeSpawner's own get_pod_manifest. No engine, no hub."""
from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from dockerspawner import DockerSpawner
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from helpers.cli.classroom import table
from helpers.hosting import classroom, classroom_names, course_image
from helpers.world import naming
from tests.aio import run_async

ROOT = Path(__file__).resolve().parents[2]
ENV = {"DNLAB_CLASSROOM_DOCKER": "unix:///run/dnlab/dnlab-sbx-x/docker.sock", "DNLAB_CLASSROOM_HUB_IP": "172.18.0.1",
       "DNLAB_CLASSROOM_CODE": "tiger-42", "DNLAB_CLASSROOM_ADMIN": "teacher",
       "DNLAB_CLASSROOM_ADMIN_PASSWORD": "s3cret", "DNLAB_CLASSROOM_CPU": "0.75", "DNLAB_CLASSROOM_MEM": "700M",
       "DNLAB_CLASSROOM_CULL_TIMEOUT": "20", "DNLAB_CLASSROOM_STATUS_TOKEN": "t0ken"}


@pytest.fixture
def config(monkeypatch) -> Config:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "classroom"))
    return loader.load_config()


def _user(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, escaped_name=name, id=1, url=f"/user/{name}/", server=None,
                           admin=False, orm_user=None)


HUB = SimpleNamespace(public_host="", url="http://172.18.0.1:8081/hub/", base_url="/hub/",
                      api_url="http://172.18.0.1:8081/hub/api")


def test_spawner_gives_each_learner_a_privileged_limited_course_container(config):
    assert issubclass(config.JupyterHub.spawner_class, DockerSpawner)
    spawner = config.JupyterHub.spawner_class(config=config, user=_user("alice"), hub=HUB)
    assert spawner.image == course_image.COURSE_IMAGE and spawner.pull_policy == "never"
    assert spawner.client_kwargs == {"base_url": ENV["DNLAB_CLASSROOM_DOCKER"]}  # never the machine's Docker
    assert spawner.extra_host_config["privileged"] is True
    assert spawner.cpu_limit == 0.75 and spawner.mem_limit == 700 * 2**20
    assert spawner.network_name == classroom_names.CLASSROOM_NETWORK and spawner.use_internal_ip
    assert spawner.container_name == "dnlab-learner-alice"
    labels = spawner._render_templates(spawner.extra_create_kwargs)["labels"]
    assert labels == {classroom_names.LABEL_CLASSROOM: classroom_names.CLASSROOM,
                      classroom_names.LABEL_LEARNER: "alice"}
    # Per-learner named volumes: notebooks, labs (with the progress record) and the engines' data.
    binds = spawner.volume_binds
    assert binds == {"dnlab-learner-alice-notebooks": {"bind": "/opt/dnlab/notebooks", "mode": "rw"},
                     "dnlab-learner-alice-labs": {"bind": "/opt/dnlab/labs", "mode": "rw"},
                     "dnlab-learner-alice-engines": {"bind": "/var/lib/dnlab", "mode": "rw"}}
    assert spawner.get_env()["DNLAB_PROGRESS_DIR"].startswith(binds["dnlab-learner-alice-labs"]["bind"])
    assert spawner.remove is True  # a stopped server leaves its volumes only
    assert spawner.get_args() == ["--allow-root"]  # root in the container: jupyter-server refuses it otherwise


def test_learners_docker_calls_run_side_by_side(config, monkeypatch):
    """Two learners' Docker calls (a culled server's `docker stop` and another's spawn) in flight at once:
    each call waits at a barrier for the other, which DockerSpawner's own single thread never lets come."""
    spawner_class = config.JupyterHub.spawner_class
    both = threading.Barrier(2, timeout=5)
    monkeypatch.setattr(spawner_class, "_docker", lambda self, method, *args, **kwargs: both.wait() is not None)
    spawners = [spawner_class(config=config, user=_user(name), hub=HUB) for name in ("alice", "bob")]

    async def stop_and_spawn() -> list[bool]:
        return await asyncio.gather(spawners[0].docker("stop", "a"), spawners[1].docker("create_container"))

    assert run_async(stop_and_spawn()) == [True, True]
    assert spawner_class._executor._max_workers < 10  # below the SDK client's pool of connections


def test_hub_listens_for_learners_on_the_gateway_and_runs_the_culler(config):
    hub = config.JupyterHub
    assert hub.hub_bind_url == f"http://172.18.0.1:{classroom_names.CLASSROOM_HUB_PORT}"
    assert hub.bind_url == f"http://127.0.0.1:{classroom_names.CLASSROOM_PROXY_PORT}"  # only the relay reaches it
    services = {s["name"]: s for s in hub.services}
    culler = services["idle-culler"]["command"]
    assert culler[1:3] == ["-m", "jupyterhub_idle_culler"] and "--timeout=20" in culler
    assert services["dnlab-status"]["api_token"] == "t0ken"
    page = services["dnlab-status"]
    assert Path(page["command"][-1]) == ROOT / "classroom" / "status_page.py" and Path(page["command"][-1]).is_file()
    assert page["url"] == f"http://127.0.0.1:{classroom_names.CLASSROOM_PAGE_PORT}"  # the namespace's loopback
    assert page["environment"] == {"DNLAB_CLASSROOM_DOCKER": ENV["DNLAB_CLASSROOM_DOCKER"]}
    roles = {r["name"]: r for r in hub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"]
    assert "delete:servers" not in roles["dnlab-instructor-view"]["scopes"]  # the view only reads
    assert config.Authenticator.admin_users == {"teacher"}


@pytest.mark.parametrize(("name", "password", "accepted"), [
    ("alice", "tiger-42", True),
    ("Alice", "tiger-42", True),       # normalised to lowercase
    ("alice", "tiger-41", False),
    ("teacher", "tiger-42", False),     # the workshop code never opens the instructor's account
    ("teacher", "s3cret", True),
    ("../x", "tiger-42", False),        # a name that is no container or volume name
    ("", "tiger-42", False),
])
def test_workshop_login(config, name, password, accepted):
    authenticator = config.JupyterHub.authenticator_class(config=config)
    got = run_async(authenticator.authenticate(None, {"username": name, "password": password}))
    assert got == (name.lower() if accepted else None)


def test_an_empty_workshop_code_opens_nothing(config):
    config.WorkshopAuthenticator.workshop_code = ""
    authenticator = config.JupyterHub.authenticator_class(config=config)
    assert run_async(authenticator.authenticate(None, {"username": "alice", "password": ""})) is None


def test_classroom_network_turns_inter_container_traffic_off():
    made = {}

    class Network:
        attrs = {"IPAM": {"Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]}}

        def reload(self):
            pass

    class Networks:
        def list(self, names):
            return []

        def create(self, name, **kwargs):
            made.update(name=name, **kwargs)
            return Network()

    assert classroom.ensure_network(SimpleNamespace(networks=Networks())) == "172.18.0.1"
    assert made["name"] == classroom_names.CLASSROOM_NETWORK and made["driver"] == "bridge"
    assert made["options"] == {"com.docker.network.bridge.enable_icc": "false"}
    assert made["labels"] == {classroom_names.LABEL_CLASSROOM: classroom_names.CLASSROOM}


def test_instructor_table():
    rows = [{"learner": "alice", "admin": False, "server_ready": True, "container": True, "world_up": True,
             "labs_passed": [1, 3]},
            {"learner": "bob", "admin": False, "server_ready": False, "container": False, "world_up": False,
             "labs_passed": []}]
    lines = table(rows).splitlines()
    assert lines[0].split() == ["learner", "server", "world", "labs", "passed"]
    assert lines[1].split() == ["alice", "ready", "up", "1,", "3"]
    assert lines[2].split() == ["bob", "stopped", "-", "none"]


# --- Zero to JupyterHub ---------------------------------------------------------------------------

def z2jh_config(values: dict) -> Config:
    """The part of the chart's hub configuration (jupyterhub_config.py in the chart's files/hub) our
    values use: `hub.config` as traitlets config, `singleuser` mapped onto KubeSpawner's traits."""
    config = Config(values["hub"]["config"])
    single, spawner = values["singleuser"], config.KubeSpawner
    spawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    spawner.image_pull_policy = single["image"]["pullPolicy"]
    spawner.uid, spawner.fs_gid = single["uid"], single["fsGid"]
    spawner.allow_privilege_escalation = single["allowPrivilegeEscalation"]
    spawner.default_url = single["defaultUrl"]
    spawner.environment = single["extraEnv"]
    spawner.cpu_guarantee, spawner.cpu_limit = single["cpu"]["guarantee"], single["cpu"]["limit"]
    spawner.mem_guarantee, spawner.mem_limit = single["memory"]["guarantee"], single["memory"]["limit"]
    storage = single["storage"]
    assert storage["type"] == "dynamic"
    spawner.storage_pvc_ensure = True
    spawner.storage_capacity = storage["capacity"]
    spawner.pvc_name_template = "claim-{username}{servername}"
    spawner.volumes = [{"name": "volume-{username}{servername}",
                        "persistentVolumeClaim": {"claimName": "{pvc_name}"}}] + storage["extraVolumes"]
    spawner.volume_mounts = [{"mountPath": storage["homeMountPath"], "name": "volume-{username}{servername}"}
                             ] + storage["extraVolumeMounts"]
    return config


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def test_zero_to_jupyterhub_values_render_a_privileged_pod_with_requests_and_volumes(tmp_path, monkeypatch):
    """KubeSpawner reads a kubeconfig when made; this one names no cluster it could reach, and
    get_pod_manifest contacts none (the spec is built locally, as the hub builds it before sending)."""
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    # read from $KUBECONFIG when kubernetes_asyncio is imported, so set where it keeps it
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "kubeconfig"))
    values = yaml.safe_load((ROOT / "classroom" / "k8s" / "values.yaml").read_text())

    async def render() -> tuple[dict, dict]:
        """Pod and claim as the JSON the cluster would be sent (clients live on a running loop)."""
        spawner = KubeSpawner(config=z2jh_config(values), user=_user("alice"), hub=HUB, _mock=True)
        async with ApiClient() as api:
            return (api.sanitize_for_serialization(await spawner.get_pod_manifest()),
                    api.sanitize_for_serialization(spawner.get_pvc_manifest()))

    pod, pvc = run_async(render())
    container = pod["spec"]["containers"][0]
    assert container["image"] == "dnlab/course:latest"
    assert container["securityContext"]["privileged"] is True
    assert container["resources"]["limits"] == {"cpu": 1.0, "memory": 2**30}
    assert container["resources"]["requests"] == {"cpu": 0.5, "memory": 512 * 2**20}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes[mounts["/opt/dnlab/work"]]["persistentVolumeClaim"]["claimName"] == "claim-alice"
    assert "emptyDir" in volumes[mounts[str(naming.DATA_ROOT)]]  # never the overlay root
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DNLAB_PROGRESS_DIR"].startswith("/opt/dnlab/work/")
    assert container["lifecycle"]["postStart"]["exec"]["command"][-1].startswith("cp -rn /opt/dnlab/notebooks")
    assert pvc["metadata"]["name"] == "claim-alice" and pvc["spec"]["resources"]["requests"] == {"storage": "2Gi"}


def test_instructor_page_escapes_what_learners_typed():
    sys.path.insert(0, str(ROOT / "classroom"))
    try:
        import status_page
    finally:
        sys.path.remove(str(ROOT / "classroom"))
    rows = [{"learner": "<b>eve</b>", "admin": False, "server_ready": True, "container": True, "world_up": True,
             "labs_passed": [2]}]
    page = status_page.render(rows)
    assert "<td>&lt;b&gt;eve&lt;/b&gt;</td><td>ready</td><td>up</td><td>2</td>" in page and "<b>eve" not in page
