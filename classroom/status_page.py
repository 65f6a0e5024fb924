"""The instructor view as a page of the hub: /services/dnlab-status/ (a managed hub service).

The hub starts it (classroom/jupyterhub_config.py) inside the classroom engine's namespace, with its
API address and the service's token in the environment. The page is behind the hub's OAuth: only a
user holding `access:services!service=dnlab-status` opens it, which the hub's admin role has and a
learner's does not. It shows what `dnlab classroom status` prints, read the same way
(`helpers.hosting.classroom.learner_rows`: the hub's users, and each learner's container).
"""
from __future__ import annotations

import html
import json
import os
import signal
import urllib.request
from urllib.parse import urlparse

import docker
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from helpers.cli.classroom import COLUMNS, cells
from helpers.hosting.classroom import learner_rows


def hub_users() -> list[dict]:
    """Every hub user's model, with the service's own token (list:users, read:users, read:servers)."""
    request = urllib.request.Request(url_path_join(os.environ["JUPYTERHUB_API_URL"], "users"),
                                     headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the hub's own API
        return json.loads(answer.read())


def render(rows: list[dict]) -> str:
    """The page: one table row per learner, every cell escaped (names are the learners' own)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(row)) + "</tr>" for row in rows)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>dnlab classroom</title>"
            "<meta http-equiv='refresh' content='15'>"
            "<style>body{font-family:sans-serif}td,th{padding:4px 12px;text-align:left}</style></head>"
            f"<body><h1>Classroom</h1><p>{len(rows)} users; refreshes every 15 s. "
            "<a href='/hub/admin'>the hub's admin page</a></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")


class StatusPage(HubOAuthenticated, web.RequestHandler):
    """GET: the instructor view; the hub's OAuth decides who may see it."""

    @web.authenticated
    def get(self) -> None:
        client = docker.DockerClient(base_url=os.environ["DNLAB_CLASSROOM_DOCKER"])
        try:
            self.write(render(learner_rows(hub_users(), client)))
        finally:
            client.close()


def main() -> None:
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    app = web.Application([(prefix, StatusPage),
                           (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
                          cookie_secret=os.urandom(32))
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(url.port, url.hostname)
    # The hub stops its services one by one with SIGINT, polling for each one's end. The page keeps
    # nothing, so it ends at once: a KeyboardInterrupt and the interpreter's teardown took ~1 s on a
    # loaded machine (of every `make classroom-down`) and put a traceback in the hub's log.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: os._exit(0))
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
