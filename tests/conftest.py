"""Test tiers: tests/unit (no root, saved real outputs), tests/integration (a real lab world),
tests/browser (JupyterLab in headless Chromium); notebooks under nbval are collected by the runner.

The shared `world` fixture uses $DNLAB_WORLD when set (each developer has their own world), else the
test world `t`. Set DNLAB_KEEP=1 to leave it up after the session.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if ROOT / "integration" in path.parents:
            item.add_marker(pytest.mark.integration)
        if ROOT / "browser" in path.parents:
            item.add_marker(pytest.mark.browser)


def world_id_for_tests() -> str:
    return os.environ.get("DNLAB_WORLD") or "t"


def own_world_id(suffix: str) -> str:
    """The id of a world a test makes for itself (lifecycle, crash, fault tests): the session world's
    id, cut to fit, plus `suffix`. Never a fixed id: two runs on one machine (CI's Debian 12 and
    Debian 13 legs at once) share the cgroup tree, where a world's engines are named by its id."""
    return world_id_for_tests()[:8 - len(suffix)] + suffix


@pytest.fixture(scope="session")
def world():
    if os.geteuid() != 0:
        pytest.fail("integration tests need root: run them through `make test` (sudo)")
    from helpers.world import down, lab

    world_id = world_id_for_tests()
    os.environ["DNLAB_WORLD"] = world_id  # notebooks run later in the same session use it too
    yield lab(world_id)
    if not os.environ.get("DNLAB_KEEP"):
        down(world_id)
