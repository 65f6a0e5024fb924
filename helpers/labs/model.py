"""The Lab model: a goal, tasks, a `check` against the real world, and a `reset`.

A check is a list of `Item`s, each a statement about the world that is true or not yet true. A
failing item says exactly what is still wrong and gives a hint (never the answer). Items that
depend on an earlier failing one are shown as *pending* instead of piling up noise.

Checks find the learner's things by the names the task asks for (not by labels a learner wouldn't
add), so they pass whether the learner used the docker SDK or `docker --context <prefix>-host1`.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from helpers.errors import DOCUMENTED, dnlab_command
from helpers.language import data_text, translate

PASS, FAIL, PENDING = "pass", "fail", "pending"
_MARK = {PASS: "✔", FAIL: "✘", PENDING: "…"}
_COLOUR = {PASS: "#1a7f37", FAIL: "#cf222e", PENDING: "#6e7781"}


def inline_markdown(text: str) -> str:
    """`text` as safe inline HTML for Markdown output: `code spans` become <code> elements, the rest
    is escaped. (Escaping inside a Markdown code span would show the entities themselves, e.g.
    `run([&#x27;ip&#x27;])`; inside <code> the browser decodes them.)"""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span, show it as it is
        return html.escape(text, quote=False)
    return "".join(f"<code>{html.escape(part, quote=False)}</code>" if index % 2 else html.escape(part, quote=False)
                   for index, part in enumerate(parts))


def fill(text: str, world: Any = None) -> str:
    """A lab text as the learner reads it: `{dnlab}` becomes the command line that runs `dnlab` on
    their world (`sudo` drops $DNLAB_WORLD, so another world is named with `--world`), `<prefix>` the
    world's prefix (its docker contexts are `<prefix>-host1` ...). Without a world (a notebook written
    ahead of time) `{dnlab}` is the README's form for the default world and `<prefix>` stays."""
    if world is None:
        return text.replace("{dnlab}", dnlab_command("", None, program=DOCUMENTED))
    return text.replace("{dnlab}", dnlab_command("", world.names.world_id)).replace("<prefix>", world.prefix)


class LabCheckFailed(AssertionError):
    """Raised by `Lab.check(strict=True)` when the world does not yet do what the lab asks."""


@dataclass
class Item:
    """One statement of a check: `what` should hold; `problem` and `hint` say why it does not."""

    what: str
    status: str
    problem: str = ""
    hint: str = ""
    evidence: str = ""

    @property
    def ok(self) -> bool:
        return self.status == PASS


@dataclass
class CheckResult:
    """The outcome of one lab's check; shows as coloured Markdown in a notebook, text in a terminal."""

    number: int
    title: str
    items: list[Item] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(item.ok for item in self.items)

    @property
    def failed(self) -> list[Item]:
        return [item for item in self.items if item.status == FAIL]

    def summary(self) -> str:
        done = sum(item.ok for item in self.items)
        verdict = (translate("labs:model:passed", "PASSED") if self.passed
                   else translate("labs:model:not-yet", "not yet"))
        return translate("labs:model:summary", "Lab {number} ({title}): {verdict}, {done}/{total} checks pass",
                         number=self.number, title=self.title, verdict=verdict, done=done, total=len(self.items))

    def __str__(self) -> str:
        lines = [self.summary()]
        for item in self.items:
            lines.append(f"  {_MARK[item.status]} {item.what}")
            if item.status == FAIL:
                lines.append(translate("labs:model:wrong", "      wrong: {problem}", problem=item.problem))
                if item.hint:
                    lines.append(translate("labs:model:hint", "      hint:  {hint}", hint=item.hint))
            elif item.status == PENDING and item.problem:
                lines.append(translate("labs:model:pending-note", "      ({note})", note=item.problem))
            elif item.evidence:
                lines.append(translate("labs:model:seen", "      seen: {evidence}", evidence=item.evidence))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        colour = _COLOUR[PASS] if self.passed else _COLOUR[FAIL]
        out = [f"<b style='color:{colour}'>{inline_markdown(self.summary())}</b>", ""]
        for item in self.items:
            mark = f"<span style='color:{_COLOUR[item.status]}'>{_MARK[item.status]}</span>"
            out.append(f"- {mark} {inline_markdown(item.what)}")
            if item.status == FAIL:
                wrong = translate("labs:model:still-wrong", "still wrong: {problem}",
                                  problem=inline_markdown(item.problem))
                out.append(f"  <br><span style='color:{_COLOUR[FAIL]}'>{wrong}</span>")
                if item.hint:
                    hint = translate("labs:model:hint-html", "hint: {hint}", hint=inline_markdown(item.hint))
                    out.append(f"  <br><i>{hint}</i>")
            elif item.status == PENDING and item.problem:
                out.append(f"  <br><small>{inline_markdown(item.problem)}</small>")
            elif item.evidence:
                seen = translate("labs:model:seen-html", "seen: {evidence}", evidence=inline_markdown(item.evidence))
                out.append(f"  <br><small>{seen}</small>")
        return "\n".join(out)

    def raise_if_failed(self) -> CheckResult:
        if not self.passed:
            raise LabCheckFailed(str(self))
        return self


class Checks:
    """Collects a check's items; `expect` adds one, `pending` lists what waits on earlier fixes."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    @property
    def all_ok(self) -> bool:
        return all(item.ok for item in self.items)

    def expect(self, what: str, ok: bool, problem: str = "", hint: str = "", evidence: Any = "") -> bool:
        self.items.append(Item(what, PASS if ok else FAIL, "" if ok else problem, "" if ok else hint,
                               str(evidence) if ok and evidence not in (None, "") else ""))
        return ok

    def pending(self, *whats: str) -> None:
        for what in whats:
            self.items.append(Item(what, PENDING, translate("labs:model:pending",
                                                            "checked once the items above pass")))


@dataclass
class Started:
    """What `Lab.start` did, and the lab's task: one line in a terminal; in a notebook, that line
    and the task rendered as Markdown (not a quoted Python string)."""

    message: str
    task: str = ""          # the lab's Markdown (goal, tasks, tools)

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return f"**{inline_markdown(self.message)}**\n\n{self.task}"


@dataclass
class Lab:
    """One hands-on exercise.

    `check_fn(world, checks)` adds items; `setup_fn(world)` prepares the starting state (the
    troubleshooting labs build a working setup and break it); `repair_fn(world)` undoes what the
    lab changed outside named containers and networks (routes, iptables rules, swarm, links).
    Each lab is one module, `helpers/labs/labNN.py`, whose `LAB` is listed in helpers/labs/registry.py.
    """

    number: int
    slug: str
    title: str
    goal: str
    tasks: Sequence[str]
    check_fn: Callable[[Any, Checks], None]
    containers: Sequence[tuple[str, str]] = ()      # (host, name), in removal order
    networks: Sequence[tuple[str, str]] = ()        # (host, name)
    setup_fn: Callable[[Any], Any] | None = None
    repair_fn: Callable[[Any], list[str]] | None = None
    kind: str = "build"                             # build | troubleshoot
    tools: str = ""                                 # Markdown: course tools that help
    # Course scenarios (e.g. the explorer's warm `macvlan`) that hold what this lab needs, such as
    # the LAN subnet on host1's eth0: reset stops them, so the learner's `network create` works.
    conflicting_scenarios: Sequence[str] = ()
    summary: str = ""                               # labs/README.md's line: what you build or fix
    solution: Callable[[Any], None] | None = None   # the reference solution (its body: the solution notebook)
    why: str = ""                                   # troubleshooting: why it broke (shown after the fix)
    symptom: str = ""                               # troubleshooting: what the first check reports
    cause_words: Sequence[str] = ()                 # troubleshooting: words no text before the fix may say
    # What the lab breaks in host1 or on the LAN (not in its named things): put right when another lab starts.
    host_repair: Callable[[Any], list[str]] | None = None

    @property
    def notebook(self) -> str:
        return self.notebook_in("en")

    @property
    def solution_notebook(self) -> str:
        return self.solution_notebook_in("en")

    def notebook_in(self, language: str) -> str:
        """The learner's notebook of the edition: labs/NN_*.ipynb, the Japanese labs/ja/NN_*.ipynb."""
        return f"labs/{'ja/' if language == 'ja' else ''}{self.number:02d}_{self.slug.replace('-', '_')}.ipynb"

    def solution_notebook_in(self, language: str) -> str:
        return (f"labs/{'ja/' if language == 'ja' else ''}solutions/"
                f"{self.number:02d}_{self.slug.replace('-', '_')}.ipynb")

    # --- lifecycle -------------------------------------------------------------------------------
    def reset(self, world) -> list[str]:
        """Remove what the task's names made, repair what the lab changed, and stop the course's own
        scenarios that would get in the lab's way; nothing else."""
        from helpers.labs import state
        from helpers.scenarios import get as scenario

        done = []
        for name in self.conflicting_scenarios:
            running = scenario(world, name)
            if running.containers() or running.networks():
                running.stop()
                done.append(translate("labs:model:reset-scenario",
                                      "the course's {name} scenario (it holds what this lab needs)", name=name))
        for host, name in self.containers:
            if state.remove_container(world.hosts[host].docker, name):
                done.append(translate("labs:model:reset-container", "container {name} on {host}",
                                      name=name, host=host))
        for host, name in self.networks:
            if state.remove_network(world, host, name):
                done.append(translate("labs:model:reset-network", "network {name} on {host}", name=name, host=host))
        if self.repair_fn is not None:
            done += self.repair_fn(world)
        return done

    def start(self, world) -> Started:
        """A fresh start: reset, then the lab's starting state (for troubleshooting: the breakage).
        Returns what was done together with the task, so the start cell shows what to do next."""
        self.reset(world)
        if self.setup_fn is not None:
            self.setup_fn(world)
            return Started(translate("labs:model:started-broken", "Lab {number} is set up: something in it is "
                                     "broken. Find out what, fix it, then run the check.", number=self.number),
                           self.task_markdown(world))
        return Started(translate("labs:model:started-clean",
                                 "Lab {number} starts from a clean world: go ahead with the tasks.",
                                 number=self.number),
                       self.task_markdown(world))

    def check(self, world, strict: bool = False, record: bool = True) -> CheckResult:
        """Check the real world; record a pass; with `strict`, raise LabCheckFailed if not passed."""
        checks = Checks()
        self.check_fn(world, checks)
        result = CheckResult(self.number, self.say("title"), checks.items)
        if result.passed and record:
            from helpers.labs import progress

            progress.record_pass(world.prefix, self)
        if strict:
            result.raise_if_failed()
        return result

    # --- display ---------------------------------------------------------------------------------
    def text_id(self, field: str) -> str:
        """The stable id of one of this lab's data texts: `labs:lab01:goal` (i18n.sources.lab_texts)."""
        return f"labs:lab{self.number:02d}:{field}"

    def say(self, field: str) -> str:
        """A data text (title, goal, tools, summary, symptom, why) in the language in force."""
        return data_text(self.text_id(field), getattr(self, field))

    def shown_tasks(self) -> list[str]:
        """The tasks in the language in force (ids `labs:labNN:task1`...)."""
        return [data_text(self.text_id(f"task{i}"), task) for i, task in enumerate(self.tasks, 1)]

    def describe(self, world=None) -> str:
        tasks = "\n".join(f"  {i}. {fill(task, world)}" for i, task in enumerate(self.shown_tasks(), 1))
        return translate("labs:model:describe", "Lab {number}: {title}\n\nGoal: {goal}\n\nTasks:\n{tasks}",
                         number=self.number, title=self.say("title"), goal=self.say("goal"), tasks=tasks)

    def _tools_line(self, world=None) -> str:
        return translate("labs:model:tools", "\n**Tools that help.** {tools}\n", tools=fill(self.say("tools"), world))

    def task_markdown(self, world=None) -> str:
        """Goal, tasks and tools as Markdown, without the title (the start cell shows this), their
        commands written for `world` (`fill`)."""
        tasks = "\n".join(f"{i}. {fill(task, world)}" for i, task in enumerate(self.shown_tasks(), 1))
        text = translate("labs:model:task-markdown", "**Goal.** {goal}\n\n**Tasks**\n\n{tasks}\n",
                         goal=self.say("goal"), tasks=tasks)
        if self.tools:
            text += self._tools_line(world)
        return text

    def markdown(self) -> str:
        """The lab as a generated notebook shows it, written before any world is known (`fill`)."""
        tasks = "\n".join(f"{i}. {fill(task)}" for i, task in enumerate(self.shown_tasks(), 1))
        text = translate("labs:model:markdown", "# Lab {number}: {title}\n\n**Goal.** {goal}\n\n## Tasks\n\n{tasks}\n",
                         number=self.number, title=self.say("title"), goal=self.say("goal"), tasks=tasks)
        if self.tools:
            text += self._tools_line()
        return text

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return f"<Lab {self.number} {self.slug}: {self.title}>"
