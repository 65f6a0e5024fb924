"""A chapter's own containers and networks: labelled like a scenario, removed by `stop()`.

A chapter that needs a few ad-hoc containers besides the driver scenarios makes them through a
Lesson, so re-running it reuses them and its last cell removes exactly them::

    lesson = Lesson(world, "ch01").reset()     # top of the chapter: start clean
    web = lesson.web("web", ports={"80/tcp": 8080})
    ...
    lesson.stop()                               # bottom of the chapter
"""
from __future__ import annotations

from helpers.scenarios.base import Scenario
from helpers.scenarios.webapp import wait_listening, web_command, who_sees  # noqa: F401 (re-exported)


class Lesson(Scenario):
    """Ad-hoc resources of one chapter; not a registered driver scenario."""

    driver = "lesson"

    def __init__(self, world, name: str):
        super().__init__(world)
        self.name = name  # an instance name shadows the class one: labels use it

    def reset(self) -> Lesson:
        self.stop()
        return self

    def box(self, role: str, host: str = "host1", **kwargs):
        """An idle lab container `<lesson>-<role>`."""
        return self.run_container(role, host, **kwargs)

    def web(self, role: str, host: str = "host1", port: int = 80, big_mb: int = 0, **kwargs):
        """A web server container with the `who` CGI (waits until it listens)."""
        container = self.run_container(role, host, command=web_command(port, big_mb), **kwargs)
        wait_listening(container, port)
        return container

    def network(self, name: str, host: str = "host1", **kwargs):
        return self.make_network(f"{self.name}-{name}", host, **kwargs)

    def joined(self, role: str, owner, host: str = "host1"):
        """A container in `owner`'s network namespace (`--network container:<owner>`), as the
        containers of a Kubernetes pod are. Docker copies the owner's hostname into it, but
        its UTS namespace stays its own (unlike a pod's): chapter 9 shows both."""
        from helpers.world.naming import IDLE, IMAGE, LABEL_ROLE

        client = self.world.hosts[host].docker
        name = f"{self.name}-{role}"
        for existing in client.containers.list(all=True, filters={"name": f"^/{name}$", **self._filters()}):
            existing.remove(force=True)
        return client.containers.run(IMAGE, IDLE, name=name, detach=True, network_mode=f"container:{owner.name}",
                                     labels={**self.labels, LABEL_ROLE: role})
