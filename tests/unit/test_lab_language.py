"""Opening the Japanese edition (issue 22): `make start` (scripts/start.sh), the course image's entrypoint
and the classroom's hub choose the first notebook and JupyterLab's own language from $DNLAB_LANG (or a
Japanese locale). Each is run here with its servers replaced by recorders; JupyterLab's own settings
reader (jupyterlab_server) confirms the locale it will show."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.hosting import jupyterlab

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
JA = "notebooks/ja/00_setup.ipynb"
EN = "notebooks/00_setup.ipynb"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a start: JupyterLab's application folder in `tmp_path` (never the venv's own)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DNLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    return {**env, "JUPYTERLAB_DIR": str(tmp_path / "lab"), "PYTHONPATH": str(ROOT), **extra}


def _locale_jupyterlab_shows(tmp_path: Path) -> str:
    """The locale JupyterLab's settings API gives its translation plugin, from these overrides."""
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import get_settings

    settings, _ = get_settings(str(tmp_path / "lab" / "settings"), str(Path(get_app_dir()) / "schemas"),
                               str(tmp_path / "user-settings"), schema_name=jupyterlab.SETTING)
    return settings["settings"].get("locale") or settings["schema"]["properties"]["locale"]["default"]


@pytest.mark.parametrize(("env", "first", "locale"), [
    ({"DNLAB_LANG": "ja"}, JA, "ja_JP"),
    ({"LANG": "ja_JP.UTF-8"}, JA, "ja_JP"),
    ({}, EN, "default"),                                       # JupyterLab's own default: English
    ({"DNLAB_LANG": "en", "LANG": "ja_JP.UTF-8"}, EN, "default"),
])
def test_the_language_chooses_the_first_notebook_and_jupyterlabs_locale(tmp_path, env, first, locale):
    out = subprocess.run([sys.executable, "-m", "helpers.hosting.jupyterlab"], cwd=ROOT, env=_env(tmp_path, **env),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == first and (ROOT / first).exists()
    assert _locale_jupyterlab_shows(tmp_path) == locale
    assert "not installed" not in out.stderr       # the language pack is installed (pyproject.toml)


def test_the_settings_folder_is_jupyterlabs_own(monkeypatch, tmp_path):
    from jupyterlab.commands import get_app_dir

    monkeypatch.delenv("JUPYTERLAB_DIR", raising=False)
    assert jupyterlab.settings_dir() == Path(get_app_dir()) / "settings"
    monkeypatch.setenv("JUPYTERLAB_DIR", str(tmp_path))
    assert jupyterlab.settings_dir() == Path(get_app_dir()) / "settings" == tmp_path / "settings"


def test_english_takes_out_only_the_courses_locale(tmp_path):
    folder = tmp_path / "lab" / "settings"
    folder.mkdir(parents=True)
    theme = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    (folder / "overrides.json").write_text(json.dumps(theme))
    jupyterlab.prepare("ja", folder)
    assert json.loads((folder / "overrides.json").read_text()) == {
        **theme, jupyterlab.SETTING: {"locale": "ja_JP"}}
    assert jupyterlab.prepare("en", folder) == EN
    assert json.loads((folder / "overrides.json").read_text()) == theme


def test_make_start_opens_the_japanese_notebook(tmp_path):
    """scripts/start.sh as `make start` runs it, in a copy whose install, world and JupyterLab record
    what they were asked: with DNLAB_LANG=ja JupyterLab opens notebooks/ja/00_setup.ipynb."""
    course = tmp_path / "course"
    (course / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "start.sh", course / "scripts" / "start.sh")
    (course / "scripts" / "install.sh").write_text("echo install >> \"$RECORD\"\n")
    bin_dir = course / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, line in (("dnlab", 'echo "dnlab $*" >> "$RECORD"'), ("jupyter", 'echo "jupyter $*" >> "$RECORD"'),
                       ("python", f'exec {sys.executable} "$@"')):     # the course's own Python
        (bin_dir / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_dir / name).chmod(0o755)
    record = tmp_path / "record"
    subprocess.run(["bash", str(course / "scripts" / "start.sh")], env=_env(tmp_path, DNLAB_LANG="ja",
                   RECORD=str(record)), check=True, capture_output=True, text=True)
    lines = record.read_text().splitlines()
    assert lines[:2] == ["install", "dnlab up"]
    assert lines[2].startswith("jupyter lab ") and lines[2].endswith(f" {JA}")
    assert _locale_jupyterlab_shows(tmp_path) == "ja_JP"


def _entrypoint(tmp_path: Path, function: str, **env: str) -> list[str]:
    """One function of the course image's entrypoint, sourced, with the server recorded, not started."""
    record = tmp_path / "record"
    script = (f'source {ROOT}/scripts/course-image/entrypoint.sh\nCOURSE={ROOT}\n'
              f'serve() {{ printf "%s\\n" "$*" >> {record}; server_pid=""; }}\n'
              "stop_all() { :; }\n"
              f"{function}\n")
    out = subprocess.run(["bash", "-c", script], env=_env(tmp_path, PATH=f"{VENV_BIN}:{os.environ['PATH']}", **env),
                         check=True, capture_output=True, text=True)
    return record.read_text().splitlines() + out.stdout.splitlines()


def test_the_course_images_entrypoint_honours_dnlab_lang(tmp_path):
    lines = _entrypoint(tmp_path, "serve_lab", DNLAB_LANG="ja", JUPYTER_TOKEN="t")
    assert lines[0].startswith("jupyter lab ") and lines[0].endswith(f" {JA}")
    assert f"    http://127.0.0.1:8888/lab/tree/{JA}?token=t" in lines
    assert _locale_jupyterlab_shows(tmp_path) == "ja_JP"


def test_a_hub_spawned_container_gets_jupyterlab_in_japanese(tmp_path):
    lines = _entrypoint(tmp_path, "serve_hub --allow-root", DNLAB_LANG="ja")
    assert lines[0] == "jupyterhub-singleuser --ip 0.0.0.0 --port 8888 --allow-root"
    assert _locale_jupyterlab_shows(tmp_path) == "ja_JP"


def test_the_english_entrypoint_is_unchanged(tmp_path):
    lines = _entrypoint(tmp_path, "serve_lab", JUPYTER_TOKEN="t")
    assert lines[0].endswith(f" {EN}") and _locale_jupyterlab_shows(tmp_path) == "default"


def test_the_classroom_gives_learners_the_japanese_edition(monkeypatch):
    from dockerspawner import DockerSpawner
    from traitlets.config.loader import PyFileConfigLoader

    from helpers.cli import build_parser
    from helpers.cli.classroom import _settings
    from helpers.hosting import classroom
    from tests.unit.test_classroom_config import ENV, HUB, _user

    args = build_parser().parse_args(["classroom", "up", "--lang", "ja"])
    settings = _settings(args)
    assert settings.language == "ja"
    env = classroom.hub_env(settings, type("E", (), {"base_url": "unix:///x"})(), "172.18.0.1", "t")
    assert env["DNLAB_CLASSROOM_LANG"] == "ja"
    for language, first in (("ja", JA), ("en", EN)):
        for key, value in {**ENV, "DNLAB_CLASSROOM_LANG": language}.items():
            monkeypatch.setenv(key, value)
        config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "classroom")).load_config()
        spawner = DockerSpawner(config=config, user=_user("alice"), hub=HUB)
        assert spawner.default_url == f"/lab/tree/{first}"
        assert spawner.get_env()["DNLAB_LANG"] == language
