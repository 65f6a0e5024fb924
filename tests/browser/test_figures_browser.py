"""Chapter figures in a real JupyterLab, in headless Chromium: run a chapter as a learner does
(Run All) and check that every figure cell shows a PNG image, never `<Figure size ...>` text.
Chapter 0 draws the world map in a cell ending with `;` (shown at the end of the cell); chapter 6
draws a traced path through `show_path`. Screenshots go to artifacts/."""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import nbformat
import pytest

from tests.learner import view

REPO = Path(__file__).resolve().parents[2]
SLOW = 120_000  # ms: a kernel start plus the chapter's cells on a busy machine


def _wait_until_done(page, timeout_s: float = SLOW / 1000) -> None:
    """Until no cell is queued or running ("[*]") and the kernel is idle."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle")).count()
        if not busy and idle:
            return
        time.sleep(0.5)
    raise AssertionError("the chapter did not finish running")


@pytest.mark.parametrize("name", ["00_setup.ipynb", "06_none.ipynb"])
def test_chapter_figures_are_images_in_jupyterlab(world, jupyter_lab, page, artifacts, name):
    path = REPO / "notebooks" / name
    figures = view.figure_cells(nbformat.read(str(path), as_version=4))
    assert figures, f"{name} has no figure cell"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    base, token = jupyter_lab
    # A workspace of its own, reset: only this chapter is open (the session's lab remembers tabs).
    page.goto(f"{base}/lab/workspaces/figures-{path.stem}/tree/notebooks/{name}?reset&token={token}")
    try:
        page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle")).wait_for(timeout=SLOW)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('li[data-command="runmenu:run-all"]').click()
        cells = page.locator(".jp-Notebook .jp-Cell")
        cells.nth(figures[-1]).locator(".jp-OutputArea-output img").first.wait_for(state="attached", timeout=SLOW)
        _wait_until_done(page)
        for i in figures:
            images = cells.nth(i).locator(".jp-OutputArea-output img")
            assert images.count() == 1, f"{name} cell {i}: {images.count()} images"
            assert images.first.get_attribute("src").startswith("data:image/png")
            assert images.first.evaluate("img => img.naturalWidth") >= 500
        text = page.locator(".jp-Notebook").inner_text()
        assert "<Figure size" not in text
        cells.nth(figures[0]).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"figures-{path.stem}.png"))
    except Exception:
        page.screenshot(path=str(artifacts / f"figures-{path.stem}-failure.png"), full_page=True)
        raise
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before   # autosave off: no outputs saved
