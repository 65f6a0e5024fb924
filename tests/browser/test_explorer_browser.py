"""The explorer in a real JupyterLab, and under Voilà (`dnlab explorer`), in headless Chromium:
open notebooks/explorer.ipynb, run it, choose macvlan, and check that the figure and the facts on
the page are macvlan's, as read independently from the engine. Screenshots go to artifacts/."""
from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from pathlib import Path

from helpers.world.naming import INET_IP, LABEL_SCENARIO, LABEL_WORLD

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "explorer.ipynb"
SLOW = 60_000  # ms: a first kernel start plus a cold scenario, on a busy CI machine


def macvlan_state(world) -> dict:
    """The macvlan scenario's container address, network and parent, from docker inspect."""
    [info] = [world.host1.docker.api.inspect_container(c["Id"]) for c in world.host1.docker.api.containers(
        filters={"label": [f"{LABEL_WORLD}={world.prefix}", f"{LABEL_SCENARIO}=macvlan"]})]
    [(name, endpoint)] = info["NetworkSettings"]["Networks"].items()
    network = world.host1.docker.api.inspect_network(name)
    return {"address": endpoint["IPAddress"], "network": name, "driver": network["Driver"],
            "parent": network["Options"]["parent"], "container": info["Name"].lstrip("/")}


def switch(explorer, label: str, name: str) -> float:
    """Choose a driver by the dropdown's label; seconds until its figure caption is on the page."""
    started = time.perf_counter()
    explorer.get_by_label("Driver").select_option(label=label)
    explorer.locator(f".dnlab-caption [data-scenario='{name}']").wait_for(timeout=SLOW)
    return time.perf_counter() - started


def choose_macvlan_and_check(page, world, screenshot):
    explorer = page.locator(".dnlab-explorer")
    explorer.wait_for(timeout=SLOW)
    # the first view is drawn (or failed readably) before we switch
    page.locator(".dnlab-caption [data-scenario='default-bridge'], .dnlab-error").first.wait_for(timeout=SLOW)
    assert page.locator(".dnlab-error").count() == 0, page.locator(".dnlab-error").inner_text()
    bridge_figure = explorer.locator(".dnlab-figure svg").inner_html()
    # The NAT panel says which rules the probe went through: the MASQUERADE rule of docker0's
    # subnet counted the probe's packets, and the panel explains its marks.
    bridge_facts = explorer.locator(".dnlab-facts").inner_text()
    assert "Counters read before and after the probe" in bridge_facts, bridge_facts
    assert re.search(r"✔ hit \(\+\d+\)\s+-A POSTROUTING -s \S+ ! -o docker0 -j MASQUERADE", bridge_facts), bridge_facts

    first = switch(explorer, "macvlan", "macvlan")
    assert page.locator(".dnlab-error").count() == 0, page.locator(".dnlab-error").inner_text()
    # both warm now: switching back and forth redraws from the kernel's cache
    warm = [switch(explorer, label, name) for label, name in
            (("default bridge", "default-bridge"), ("macvlan", "macvlan")) * 3]
    (screenshot.parent / (screenshot.stem + "-timings.json")).write_text(json.dumps(
        {"first_show_in_kernel_s": first, "warm_switch_s": warm, "warm_median_s": statistics.median(warm)}, indent=2))
    assert statistics.median(warm) <= 0.5, warm

    figure = explorer.locator(".dnlab-figure svg")
    assert figure.is_visible() and figure.inner_html() != bridge_figure
    state = macvlan_state(world)
    assert state["driver"] == "macvlan"
    figure_text = figure.text_content()  # an SVG: its <text> elements, not layout text
    assert state["address"] in figure_text or state["container"] in figure_text, figure_text[:500]
    facts = explorer.locator(".dnlab-facts").inner_text()
    assert "driver macvlan" in facts
    assert re.search(rf"\beth0 {re.escape(state['address'])}/\d+", facts), facts
    assert f"parent {state['parent']}" in facts
    assert "(none: Docker installed no NAT rule" in facts
    assert f"reached {INET_IP}" in facts
    diff = explorer.locator(".dnlab-diff").inner_text()
    assert "from default-bridge to macvlan" in diff and f"+ eth0 {state['address']}" in diff
    explorer.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot), full_page=True)
    explorer.screenshot(path=str(screenshot.with_name(screenshot.stem + "-widget.png")))


def test_explorer_in_jupyterlab_switches_to_macvlan(world, jupyter_lab, page, artifacts):
    base, token = jupyter_lab
    before = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    page.goto(f"{base}/lab/tree/notebooks/explorer.ipynb?token={token}")
    try:
        # the kernel is connected and idle (the status bar names it only once it is)
        page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle")).wait_for(timeout=SLOW)
        page.locator(".jp-Notebook .jp-Cell").first.click()  # focus the notebook, not the file browser
        page.keyboard.press("Control+b")  # fold the file browser: more room for the explorer
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('li[data-command="runmenu:run-all"]').click()
        choose_macvlan_and_check(page, world, artifacts / "explorer-macvlan.png")
    except Exception:
        page.screenshot(path=str(artifacts / "explorer-jupyterlab-failure.png"), full_page=True)
        raise
    # autosave is off and nothing saved: the committed notebook keeps no outputs
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before


def test_explorer_under_voila_switches_to_macvlan(world, voila_explorer, page, artifacts):
    page.goto(voila_explorer)  # the printed URL, token included
    try:
        choose_macvlan_and_check(page, world, artifacts / "explorer-voila-macvlan.png")
    except Exception:
        page.screenshot(path=str(artifacts / "explorer-voila-failure.png"), full_page=True)
        raise
