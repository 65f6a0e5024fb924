"""JupyterLab in the learner's language (issue 22): the notebook it opens first and its own menus.

The language is the course's (helpers/language.py: $DNLAB_LANG, else a Japanese locale, else
English). With Japanese, JupyterLab opens notebooks/ja/00_setup.ipynb and shows its menus in
Japanese: the language pack `jupyterlab-language-pack-ja-JP` (pyproject.toml) selected by JupyterLab's
own setting `@jupyterlab/translation-extension:plugin` → `locale`, written as a default in the
application's `overrides.json` (JupyterLab's documented place for site defaults: a learner who picks
another language in Settings → Language keeps it, as their own settings win over overrides). With
English, the course's locale default is taken out again, so the file says what is in force.

    python -m helpers.hosting.jupyterlab     # writes the setting, prints the notebook to open

is what scripts/start.sh and the course image's entrypoint run before starting JupyterLab.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from helpers.language import current

SETTING = "@jupyterlab/translation-extension:plugin"
LOCALES = {"en": "en", "ja": "ja_JP"}          # the course's language -> JupyterLab's locale
PACK = "jupyterlab_language_pack_ja_JP"      # the module of PyPI's jupyterlab-language-pack-ja-JP
FIRST = {"en": "notebooks/00_setup.ipynb", "ja": "notebooks/ja/00_setup.ipynb"}


def first_notebook(language: str | None = None) -> str:
    """The notebook JupyterLab opens first, relative to the course folder."""
    return FIRST[language or current()]


def default_url(language: str | None = None) -> str:
    """JupyterLab's URL path of the first notebook (a hub's spawner opens it)."""
    return f"/lab/tree/{first_notebook(language)}"


def settings_dir() -> Path:
    """JupyterLab's application settings folder (LabApp.app_settings_dir's default: the `settings` folder
    of its application directory, $JUPYTERLAB_DIR or the environment's share/jupyter/lab, as
    `jupyterlab.commands.get_app_dir` finds it for a venv; tests/unit/test_lab_language.py compares).
    Not that function itself: importing it takes 1.5 s of the course image's start."""
    if os.environ.get("JUPYTERLAB_DIR"):
        return Path(os.environ["JUPYTERLAB_DIR"]).resolve() / "settings"
    return Path(sys.prefix).resolve() / "share" / "jupyter" / "lab" / "settings"


def overrides(language: str, existing: dict | None = None) -> dict:
    """`existing` overrides with JupyterLab's locale set for `language` (English: the default, no entry)."""
    found = json.loads(json.dumps(existing or {}))
    plugin = found.get(SETTING, {})
    plugin.pop("locale", None)
    if language != "en":
        plugin["locale"] = LOCALES[language]
    if plugin:
        found[SETTING] = plugin
    else:
        found.pop(SETTING, None)
    return found


def prepare(language: str | None = None, folder: Path | None = None) -> str:
    """Write JupyterLab's locale for `language` (default: the one in force) into `folder`'s
    overrides.json, keeping its other settings; returns the first notebook. Warns, naming the fix, when
    Japanese is asked for and the language pack is missing (JupyterLab then stays in English)."""
    language = language or current()
    folder = folder or settings_dir()
    path = folder / "overrides.json"
    existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = overrides(language, existing)
    if wanted != existing and (wanted or path.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if language == "ja" and not _pack_installed():
        print("dnlab: JupyterLab's Japanese language pack is not installed: its menus stay in English. "
              "Fix: .venv/bin/pip install jupyterlab-language-pack-ja-JP", file=sys.stderr)
    return first_notebook(language)


def _pack_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec(PACK) is not None


if __name__ == "__main__":
    print(prepare())
