"""The session's lab world, shared by every tier that needs one (world, lifecycle, notebooks, learner,
browser). Each test's tier marker comes from tests/tiers.py (the root conftest.py applies it).

The shared `world` fixture uses $DNLAB_WORLD when set (each developer has their own world), else the
test world `t`. Set DNLAB_KEEP=1 to leave it up after the session. A session with a failure prints its
engines' error lines before the world goes (their logs go with it): a container runc could not start
was once seen in CI with nothing left to read.
"""
from __future__ import annotations

import os

import pytest

from tests.worlds import engine_log_errors, world_id_for_tests


@pytest.fixture(scope="session")
def world(request):
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: run them through `make test` (sudo)")
    from helpers.world import down, lab

    world_id = world_id_for_tests()
    os.environ["DNLAB_WORLD"] = world_id  # notebooks run later in the same session use it too
    yield lab(world_id)
    if request.session.testsfailed:
        # Past pytest's capture: a teardown's print shows only if that last test failed.
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nthe session had failures; its engines' error lines:\n{engine_log_errors(world_id)}")
    if not os.environ.get("DNLAB_KEEP"):
        down(world_id)
