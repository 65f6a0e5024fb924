"""JupyterLab in Japanese (issue 22): the settings `make start` writes with DNLAB_LANG=ja
(helpers/hosting/jupyterlab.py), read by a real JupyterLab with the installed language pack, show its
menus in Japanese in a real browser (the `japanese_lab` fixture, tests/browser/conftest.py)."""
from __future__ import annotations


def test_jupyterlab_shows_its_menus_in_japanese(japanese_lab, page):
    base, token, first = japanese_lab
    assert first == "notebooks/ja/00_setup.ipynb"
    page.goto(f"{base}/lab?token={token}")
    menu = page.locator("#jp-MainMenu")
    menu.get_by_text("ファイル", exact=True).wait_for(timeout=30_000)      # "File"
    assert menu.get_by_text("File", exact=True).count() == 0
