"""The language in force and the library's texts (helpers/language.py), and the translation check over
them (i18n: `translate(...)` calls under helpers/, issue 22)."""
from __future__ import annotations

import shutil

import pytest

from helpers import language
from i18n import CATALOGS, HELPERS, catalog, check, sources


@pytest.fixture
def clean_language(monkeypatch):
    for name in ("DNLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "SUDO_USER"):
        monkeypatch.setenv(name, "")     # recorded, so use()'s own setting is undone after the test too
        monkeypatch.delenv(name)
    monkeypatch.setattr(language, "_chosen", None)
    return monkeypatch


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "en"),
    ({"DNLAB_LANG": "ja"}, "ja"),
    ({"DNLAB_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),       # the course's own switch wins
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),       # LC_ALL overrides LANG, as for every program
    ({"LANG": "C.UTF-8"}, "en"),
])
def test_the_language_in_force(clean_language, env, expected):
    for name, value in env.items():
        clean_language.setenv(name, value)
    assert language.current() == expected


def test_use_puts_japanese_in_force_for_the_commands_a_cell_runs(clean_language):
    import os

    assert language.use("ja") == "ja"
    assert language.current() == "ja" and os.environ["DNLAB_LANG"] == "ja"


def test_an_unknown_language_is_refused_with_the_fix(clean_language):
    from helpers.errors import LabError

    with pytest.raises(LabError, match='use_language\\("ja"\\)'):
        language.use("fr")


def test_translate_gives_the_catalogs_japanese_or_the_english(clean_language, tmp_path):
    (tmp_path / "draw.toml").write_text(catalog.dumps([
        catalog.Entry("draw:test:hops", en="{n} hops", ja="{n} ホップ")]), encoding="utf-8")
    clean_language.setattr(language, "CATALOGS", tmp_path)
    language._catalog.cache_clear()
    try:
        assert language.translate("draw:test:hops", "{n} hops", n=3) == "3 hops"
        language.use("ja")
        assert language.translate("draw:test:hops", "{n} hops", n=3) == "3 ホップ"
        assert language.translate("draw:test:none", "no Japanese yet") == "no Japanese yet"
    finally:
        language._catalog.cache_clear()


@pytest.fixture
def library(tmp_path):
    """helpers/ (only its language module) and i18n/ja, copied, with one room of texts declared."""
    helpers_dir, cats = tmp_path / "helpers", tmp_path / "i18n" / "ja"
    shutil.copytree(CATALOGS, cats)
    # The real draw room (its catalog, its declaration) is not this library's: only its own text is.
    (cats / "draw.toml").unlink(missing_ok=True)
    edition = cats / "edition.toml"
    edition.write_text(edition.read_text(encoding="utf-8").replace(', "draw"', ""), encoding="utf-8")
    (helpers_dir / "draw").mkdir(parents=True)
    (helpers_dir / "draw" / "figure.py").write_text(
        'from helpers.language import translate\n'
        'TITLE = translate("draw:test:title", "The path of {what}", what="x")\n', encoding="utf-8")
    return helpers_dir, cats


def _declare(cats, *rooms):
    path = cats / "edition.toml"
    listed = "".join(f'"{room}", ' for room in rooms)
    path.write_text(path.read_text(encoding="utf-8").replace("translated = [", f"translated = [{listed}", 1),
                    encoding="utf-8")


def _failures(helpers_dir, cats):
    return [f for f in check.run(catalogs=cats, helpers_dir=helpers_dir).failures if f.startswith(("draw", "helpers"))]


def test_a_library_text_is_read_from_the_code(library):
    helpers_dir, _ = library
    texts, problems = sources.runtime(helpers_dir)
    assert [(t.id, t.en) for t in texts] == [("draw:test:title", "The path of {what}")] and problems == []


def test_a_declared_room_fails_on_a_missing_then_stale_text_naming_it(library):
    helpers_dir, cats = library
    assert _failures(helpers_dir, cats) == []                          # undeclared: reported, not failed
    _declare(cats, "draw")
    assert _failures(helpers_dir, cats) == ["draw:test:title: missing: no Japanese for this English text"]
    catalog.save(cats / "draw.toml", [catalog.Entry("draw:test:title", en="The path of {what}", ja="{what} の経路")])
    assert _failures(helpers_dir, cats) == []
    figure = helpers_dir / "draw" / "figure.py"
    figure.write_text(figure.read_text().replace("The path of", "The route of"), encoding="utf-8")
    assert _failures(helpers_dir, cats) == [
        "draw:test:title: stale: the English changed after its Japanese was last reviewed"]


def test_fields_must_be_the_same_in_both_languages(library):
    helpers_dir, cats = library
    _declare(cats, "draw")
    catalog.save(cats / "draw.toml", [catalog.Entry("draw:test:title", en="The path of {what}", ja="経路")])
    assert _failures(helpers_dir, cats) == [
        "draw:test:title: fields differ: ['what'] in the English, [] in the Japanese"]


def test_a_call_that_is_not_literal_is_a_problem(library):
    helpers_dir, cats = library
    (helpers_dir / "draw" / "other.py").write_text('from helpers.language import translate\nlabel = "x"\n'
                                                   'translate("draw:test:y", label)\n', encoding="utf-8")
    assert _failures(helpers_dir, cats) == [
        "helpers/draw/other.py:3: translate() needs a literal id and a literal English text"]


def test_the_library_has_no_problem_texts():
    assert sources.runtime(HELPERS)[1] == []


def test_a_claim_box_speaks_the_language_in_force(clean_language):
    """The claim box's own words (helpers/lessons/claims.py) in Japanese, the statement as the cell wrote it."""
    from helpers.lessons import claims

    claim = claims.article_vs_reality("記事の文", "実際の文", claims.holds("ルールがある", True, evidence={"rule": 1}))
    assert "The article says:" in claim._repr_html_() and "PROVEN: ルールがある" in repr(claim)
    language.use("ja")
    html, text = claim._repr_html_(), repr(claim)
    assert "記事の記述：" in html and "実際に起きること：" in html and "証拠（実際に観測したもの）" in html
    assert "The article says" not in html and "proven live" not in html
    assert text.splitlines()[:3] == ["記事の記述：記事の文", "実際に起きること：実際の文", "証明済み：ルールがある"]
    with pytest.raises(claims.ClaimFailed, match="このラボ環境では成り立たない：ルールがある"):
        claims.holds("ルールがある", False)


def test_the_language_a_learner_set_before_sudo(tmp_path):
    """`DNLAB_LANG=ja sudo make start`: sudo drops the variable, the course reads it from the sudo process.
    Here a stand-in named `sudo` (comm is the name it was run by) holds DNLAB_LANG=ja and starts a child
    without it, as sudo's env_reset does; the child finds Japanese in force. Without the variable, or
    when not under sudo ($SUDO_USER unset), nothing is read."""
    import os
    import subprocess
    import sys

    sudo = tmp_path / "sudo"
    sudo.symlink_to("/bin/bash")
    probe = "from helpers import language; print(language.current(), repr(language.from_sudo()))"
    child = (f"env -u DNLAB_LANG -u LANG -u LC_ALL -u LC_MESSAGES {{user}} {sys.executable} -c '{probe}'; true")

    def run(outer_env: dict, user: str = "SUDO_USER=learner") -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("DNLAB_LANG", "SUDO_USER")} | outer_env
        return subprocess.run([str(sudo), "-c", child.format(user=user)], env=env, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert run({"DNLAB_LANG": "ja"}) == "ja 'ja'"
    assert run({}) == "en ''"
    assert run({"DNLAB_LANG": "ja"}, user="-u SUDO_USER") == "en ''"
