"""README.md is a contract a newcomer can read (issue 20.5): at most 250 lines; every `make X` it
names is a target of the Makefile; every `dnlab` subcommand the CLI's argparse parser has stands in
its CLI table; every relative link points to a file (or heading) that exists.

The subcommands are read from `helpers.cli.build_parser()`, never from a list written here, so a new
subcommand without a README row fails. `DNLAB_README=/path/to/README.md` checks another copy of the
README (links still resolve from the repository's root, where README.md lives): how the old, diary
README was shown to fail these tests.
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = Path(os.environ.get("DNLAB_README") or ROOT / "README.md")
MAX_LINES = 250

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# `make X`, `sudo make X`, `DNLAB_ENGINE=28 make X`, `make X CODE=...`: X is the first word that is not
# an option or a variable assignment.
MAKE = re.compile(r"(?:^|[\s;&|(])make((?:\s+[^\s;&|)]+)+)")
# `start:`, `a b: deps` (two targets); not `SUDO := ...`, `CODE ?=`, `.PHONY:` or a recipe's tab line.
MAKEFILE_RULE = re.compile(r"^([A-Za-z0-9][^:=#\n]*?)\s*:(?!=)", re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


# --- what the README names ------------------------------------------------------------------------

def code_of(text: str) -> list[str]:
    """The README's code: fenced blocks and inline spans, where commands are written."""
    blocks = FENCE.findall(text)
    prose = FENCE.sub("", text)
    return blocks + INLINE_CODE.findall(prose)


def make_targets_named(text: str) -> set[str]:
    named = set()
    for code in code_of(text):
        for match in MAKE.finditer(code):
            words = [w for w in match.group(1).split() if not w.startswith("-") and "=" not in w]
            if words and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", words[0]):
                named.add(words[0])
    return named


def makefile_targets(makefile: str) -> set[str]:
    return {name for rule in MAKEFILE_RULE.findall(makefile) for name in rule.split()}


def cli_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command path of the parser: ('up',), ('lab', 'show'), ('classroom', 'up'), ...; a command
    with verbs of its own counts by its verbs."""
    found: set[tuple[str, ...]] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                verbs = cli_commands(sub, (*prefix, name))
                found |= verbs or {(*prefix, name)}
    return found


def cli_table_first_cells(text: str) -> list[str]:
    """The first cell of each table row that names a `dnlab` command (`| `dnlab up` | ... |`)."""
    cells = []
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            first = re.split(r"(?<!\\)\|", line.strip().strip("|"))[0].strip()  # `a\|b` is one cell
            if first.startswith("`dnlab ") or first.startswith("`dnlab`"):
                cells.append(first)
    return cells


def missing_from_cli_table(text: str, commands: set[tuple[str, ...]]) -> list[str]:
    """Commands no CLI table row names: a row names `dnlab lab show` if its first cell holds
    `dnlab lab` and the word `show` (so one row may list `dnlab lab list / show N / start N`)."""
    cells = cli_table_first_cells(text)
    missing = []
    for command in sorted(commands):
        head, verbs = command[0], command[1:]
        rows = [c for c in cells if re.search(rf"dnlab\s+(?:--world\s+\S+\s+)?{re.escape(head)}(?![\w-])", c)]
        if not any(all(re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", c) for v in verbs) for c in rows):
            missing.append("dnlab " + " ".join(command))
    return missing


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def broken_links(text: str, base: Path) -> list[str]:
    """Relative links to files that do not exist under `base`, and anchors to no heading."""
    prose = FENCE.sub("", text)
    anchors = {github_anchor(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose, re.MULTILINE)}
    prose = INLINE_CODE.sub("", prose)  # `[x](y)` in code is no link
    broken = []
    for target in LINK.findall(prose) + REFERENCE_LINK.findall(prose):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        if not path:
            if anchor not in anchors:
                broken.append(target)
        elif not (base / path).exists():
            broken.append(target)
    return broken


# --- the contract ---------------------------------------------------------------------------------

def test_readme_is_at_most_250_lines():
    lines = len(readme_text().splitlines())
    assert lines <= MAX_LINES, (f"{README} has {lines} lines (at most {MAX_LINES}): move measurements to "
                                "docs/MEASUREMENTS.md, history to docs/CHANGELOG.md, reference to a docs/ page")


def test_every_make_target_the_readme_names_exists():
    named = make_targets_named(readme_text())
    assert named, "the README names no `make` target: where are the two commands?"
    assert {"start", "test"} <= named, "the two commands, `sudo make start` and `sudo make test`"
    missing = sorted(named - makefile_targets((ROOT / "Makefile").read_text()))
    assert not missing, f"the README names make targets the Makefile lacks: {missing}"


def test_every_dnlab_subcommand_is_in_the_readme_cli_table():
    from helpers.cli import build_parser

    commands = cli_commands(build_parser())
    assert ("up",) in commands and ("lab", "check") in commands  # the parser was read, not guessed
    missing = missing_from_cli_table(readme_text(), commands)
    assert not missing, f"subcommands of dnlab missing from the README's CLI table: {missing}"


def test_every_relative_link_in_the_readme_resolves():
    broken = broken_links(readme_text(), ROOT)
    assert not broken, f"README links to nothing: {broken}"


# --- the checks themselves catch what they are for --------------------------------------------------

PLANTED = r"""# x
## The `dnlab` command
Run `sudo make start`, then `DNLAB_ENGINE=28 make test-engine28 -j1` or `make nope CODE=a`.
| command | what |
|---|---|
| `dnlab up [--engine SPEC]` | up |
| `dnlab lab list / show N` | labs |
| `dnlab scenario stop NAME\|--all` | one cell |
See [the tiers](docs/NOPE.md), [ok](Makefile), [here](#the-dnlab-command), [there](#nowhere),
[web](https://example.org/x.md).
```sh
make inside-a-block
```
"""


def test_the_checks_find_planted_faults():
    assert make_targets_named(PLANTED) == {"start", "test-engine28", "nope", "inside-a-block"}
    assert makefile_targets("a:\n\tx: y\nb-c d: a\nV := 1\nW ?= 2\n.PHONY: a\n# e: f\n") == {"a", "b-c", "d"}
    commands = {("up",), ("down",), ("lab", "list"), ("lab", "show"), ("lab", "reset"), ("scenario", "stop")}
    assert missing_from_cli_table(PLANTED, commands) == ["dnlab down", "dnlab lab reset"]
    assert broken_links(PLANTED, ROOT) == ["docs/NOPE.md", "#nowhere"]


@pytest.mark.parametrize("heading, anchor", [("The `dnlab` command", "the-dnlab-command"),
                                             ("macOS / Windows (Docker Desktop)", "macos--windows-docker-desktop"),
                                             ("Running a workshop", "running-a-workshop")])
def test_anchors_follow_github(heading, anchor):
    assert github_anchor(heading) == anchor


def test_cli_commands_walk_nested_verbs():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    sub.add_parser("up")
    verbs = sub.add_parser("lab").add_subparsers()
    verbs.add_parser("list")
    verbs.add_parser("check")
    assert cli_commands(parser) == {("up",), ("lab", "list"), ("lab", "check")}
