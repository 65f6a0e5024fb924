"""The driver explorer: pick a driver scenario, a probe and a view; see the packet path and the facts.

``Explorer(world)`` is an ipywidgets VBox. Picking a value runs one pass of `Explorer.show`:

    start the scenario (once: it stays warm) -> trace the probe (helpers.path.trace, cached)
      -> read the live facts (helpers.widgets.facts, cached) -> draw (helpers.draw.draw_path, cached)
      -> show figure, facts, and what changed against the previously shown driver.

The probe is rule-traced (`trace(..., rules=True)`, helpers/observe/nftrace.py): the panel "Rules this
packet met" lists, per namespace and leg, every netfilter rule the probe's own packet met as the
kernel reported it (hook, table, rule, verdict), the rules that decided in bold and the DROP in red.

"Re-run probe" drops the cached trace and facts of the current choice and runs the probe again.
Every failure shows as a readable message inside the widget (never a traceback); the traceback is
kept in `Explorer.errors` for developers. Caches live per world in this kernel, so the chapter's
explorer and a second one share warm scenarios.
"""
from __future__ import annotations

import html
import io
import ipaddress
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets as widgets

from helpers.errors import LabError
from helpers.language import translate
from helpers.scenarios.endpoint import ADDRESS
from helpers.widgets.facts import CATEGORIES, Facts, diff_facts, mark_hits, nat_lines, read_facts, title
from helpers.world.naming import HOSTS, INTERNET, LAN

# (label, scenario name), in the order the course teaches them.
DRIVERS: tuple[tuple[str, str], ...] = (
    ("default bridge", "default-bridge"),
    ("user bridge", "user-bridge"),
    ("host", "host"),
    ("none", "none"),
    ("macvlan", "macvlan"),
    ("overlay", "overlay"),
)
# The explorer's probe choices. Scenarios name their probes freely (`loopback` means three
# different things in three scenarios), so a choice matches a ProbeSpec by where it goes from and
# to (see `probe_kind`), not by its name; the first matching probe of the scenario is shown.
PROBES: tuple[str, ...] = (
    "container to container",
    "to the internet",
    "from the internet",
    "from the host",
    "from the LAN",
    "container to the host",
)
VIEWS = ("L2", "L3", "NAT")


def driver_label(name: str) -> str:
    """A driver scenario's label in the language in force (DRIVERS holds the English)."""
    return {"default-bridge": translate("widgets:driver:default-bridge", "default bridge"),
            "user-bridge": translate("widgets:driver:user-bridge", "user bridge"),
            "host": translate("widgets:driver:host", "host"),
            "none": translate("widgets:driver:none", "none"),
            "macvlan": translate("widgets:driver:macvlan", "macvlan"),
            "overlay": translate("widgets:driver:overlay", "overlay")}.get(name, name)


def probe_label(choice: str) -> str:
    """A probe choice's label in the language in force (the choice itself, PROBES, stays English:
    `probe_kind` answers in it)."""
    return {"container to container": translate("widgets:probe:c2c", "container to container"),
            "to the internet": translate("widgets:probe:egress", "to the internet"),
            "from the internet": translate("widgets:probe:publish", "from the internet"),
            "from the host": translate("widgets:probe:from-host", "from the host"),
            "from the LAN": translate("widgets:probe:from-lan", "from the LAN"),
            "container to the host": translate("widgets:probe:to-host", "container to the host")}.get(choice, choice)


def _address(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def probe_kind(spec, driver: str = "") -> str | None:
    """Which explorer choice a ProbeSpec is, from its source and target (None: none of them)."""
    source, target = spec.source_end, spec.target_end
    address = _address(target.name) if target.kind == ADDRESS else None
    if source.is_container:
        if target.is_container:
            return "container to container"
        if (target.is_machine and target.name == "inet") or (address is not None and address in INTERNET):
            return "to the internet"
        if target.is_machine or (address is not None and address in LAN):
            return "container to the host"
        if address is not None and address.is_loopback and driver == "host":
            return "container to the host"  # a host-network container's loopback is the host's
        return None
    if source.name == "inet":
        return "from the internet"
    if source.name in HOSTS:
        return "from the host"
    if source.name == "lanpc":
        return "from the LAN"
    return None


# Where a scenario has several probes of one kind, the one with the course's usual name wins.
CANONICAL = {"container to container": "c2c", "to the internet": "egress", "from the internet": "publish"}


def probe_for(choice: str, specs: dict, driver: str = "") -> str | None:
    """The name of the scenario's probe of kind `choice` (its canonical one, else its first), or
    None if it offers none."""
    canonical = specs.get(CANONICAL.get(choice, ""))
    if canonical is not None and probe_kind(canonical, driver) == choice:
        return canonical.name
    for name, spec in specs.items():
        if probe_kind(spec, driver) == choice:
            return name
    return None


def figure_svg(figure) -> str:
    """An inline SVG of a drawing (a `Drawing` or a bare matplotlib Figure), text kept as text
    so a page can read its labels."""
    import sys

    import matplotlib

    if hasattr(figure, "consume"):
        figure = figure.consume()   # the widget shows it: the end of the cell must not show it again
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:
        # A pyplot figure (an injected drawer) would be shown a second time by the inline backend.
        sys.modules["matplotlib.pyplot"].close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def reachability(path, spec) -> tuple[bool | None, list[str]]:
    """(reached, lines) from a traced Path: what the probe did, against what the scenario expects."""
    reached = getattr(path, "reached", None)
    reached = reached if isinstance(reached, bool) else None
    fields = dict(name=spec.name, source=getattr(path, "source", None) or spec.source,
                  target=getattr(path, "target", None) or spec.target,
                  what=f"{spec.kind} port {spec.port}" if spec.port else spec.kind)
    lines = [translate("widgets:reach:reached", "{name}: {source} reached {target} ({what})", **fields)
             if reached else
             translate("widgets:reach:not-reached", "{name}: {source} did NOT reach {target} ({what})", **fields)
             if reached is False else
             translate("widgets:reach:unknown", "{name}: {source} result unknown: {target} ({what})", **fields)]
    if reached is not None:
        lines.append(translate("widgets:reach:expected", "as the scenario expects") if reached == spec.expect
                     else translate("widgets:reach:unexpected-through", "UNEXPECTED: the scenario expects it to get "
                                    "through") if spec.expect
                     else translate("widgets:reach:unexpected-blocked", "UNEXPECTED: the scenario expects it not to "
                                    "get through"))
    if spec.description:
        lines.append(spec.description)
    return reached, lines


def _rules_head(entry: dict) -> str:
    packet = entry.get("before") or {}
    return f"{entry['namespace']} · {entry['leg']} {packet.get('src')} > {packet.get('dst')}"


def rules_panel(path) -> str:
    """The "rules this packet met" panel (HTML): per namespace and leg the hooks crossed, then every
    rule, chain end and policy the probe's own packet met, in the kernel's order (`Path.netfilter`)."""
    from helpers.draw.path_figure import decided, hooks_crossed, outcome

    netfilter = getattr(path, "netfilter", None) or {}
    if not netfilter:
        return ('<p class="dnlab-rules-note">'
                + html.escape(translate("widgets:rules:untraced", 'Not rule-traced: the counters in "Key facts" stand '
                                        'instead.')) + "</p>")
    groups: dict[tuple[str, str], list[dict]] = {}
    for entry in netfilter.get("rules", []):
        groups.setdefault((entry["namespace"], entry["leg"]), []).append(entry)
    parts = []
    for entries in groups.values():
        rows = []
        for e in entries:
            what = e["rule"] if e["kind"] == "rule" else f"{e['chain']} {e['kind']}"
            verdict = outcome(e)
            css = "drop" if decided(e) and e["verdict"] == "DROP" else "decided" if decided(e) else "walk"
            rows.append(f'<tr class="{css}" data-verdict="{html.escape(verdict)}"><td>{html.escape(e["hook"] or "?")}'
                        f'</td><td>{html.escape(e["table"])}</td><td><code>{html.escape(what or "")}</code></td>'
                        f"<td>{html.escape(verdict)}</td></tr>")
        where = html.escape(entries[0]["namespace"])
        hooks = html.escape(" › ".join(hooks_crossed(entries)))
        parts.append(f'<div data-namespace="{where}"><b>{html.escape(_rules_head(entries[0]))}</b> '
                     f'<span class="dnlab-rules-note">{html.escape(translate("widgets:rules:hooks", "hooks:"))} {hooks}'
                     f'</span><table>{"".join(rows)}</table></div>')
    quiet = [n for n in netfilter.get("traced", []) if not any(n == ns for ns, _ in groups)]
    notes = [translate("widgets:rules:quiet", "no rule met in: {names}", names=', '.join(quiet))] if quiet else []
    untraced = netfilter.get("untraced", {})
    lanes = getattr(path, "lanes", None) or []
    notes += [translate("widgets:rules:not-traced", "{name}: not traced ({why}); its counters stand instead", name=name,
                        why=why) for name, why in untraced.items() if name in lanes]
    off = [name for name in untraced if name not in lanes]
    notes += [translate("widgets:rules:off-path", "not traced, off the packet's path: {names}",
                        names=', '.join(off))] if off else []
    notes += [f"DISAGREE: {text}" for text in netfilter.get("disagreements", [])]
    parts += [f'<p class="dnlab-rules-note">{html.escape(n)}</p>' for n in notes]
    return ('<p class="dnlab-rules-note">' + html.escape(translate(
        "widgets:rules:head", "The kernel's own trace of this probe's packet (xtables-monitor), in the order it met "
        "them; bold: the rule that decided.")) + "</p>" + "".join(parts))


def rules_hit(path) -> list[str]:
    """NAT rules whose packet counters rose while the probe ran (the tracer measured them), in a
    namespace the probe's flow entered (see helpers.path.build: other traffic raises counters too)."""
    hit = []
    for rule in getattr(path, "rules", None) or []:
        if rule.get("table") == "nat" and rule.get("delta") and rule.get("flow") is not False:
            where = rule.get("namespace") or rule.get("ns")
            hit.append(translate("widgets:rules:hit", "hit by this probe (+{delta}) in {where}: {rule}",
                                 delta=rule['delta'], where=where, rule=rule.get('rule')))
    return hit


@dataclass
class _Cache:
    """Per-world state of this kernel: started scenarios, traces, facts, figures."""

    scenarios: dict = field(default_factory=dict)     # name -> started Scenario
    traces: dict = field(default_factory=dict)        # (name, probe) -> Path
    facts: dict = field(default_factory=dict)         # (name, probe) -> Facts
    figures: dict = field(default_factory=dict)       # (name, probe, view) -> svg text

    def forget(self, name: str, probe: str | None) -> None:
        self.traces.pop((name, probe), None)
        self.facts.pop((name, probe), None)
        for key in [k for k in self.figures if k[:2] == (name, probe)]:
            del self.figures[key]

    def drop(self, name: str) -> None:
        """Forget a scenario entirely (it is cold again: the next show starts it)."""
        self.scenarios.pop(name, None)
        for key in [k for k in self.facts.keys() | self.traces.keys() if k[0] == name]:
            self.forget(*key)


_CACHES: dict[str, _Cache] = {}

_STYLE = """<style>
.dnlab-explorer pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
.dnlab-facts table { border-collapse: collapse; width: 100%; }
.dnlab-facts th { text-align: left; vertical-align: top; padding: 2px 8px 2px 0; width: 13em; }
.dnlab-facts td { vertical-align: top; padding: 2px 0; font-family: monospace; font-size: 12px; }
.dnlab-error { border: 2px solid #c0392b; background: #fdecea; padding: 6px 10px; }
.dnlab-note { border-left: 4px solid #e67e22; background: #fef5e7; padding: 6px 10px; }
.dnlab-figure svg { width: 100%; max-width: 1100px; height: auto; }
.dnlab-diff .gone { color: #c0392b; } .dnlab-diff .came { color: #1e8449; }
.dnlab-facts .hit { color: #1e8449; } .dnlab-facts .nohit { color: #868e96; }
.dnlab-nat-note { font-family: sans-serif; font-style: italic; color: #495057; }
.dnlab-rules table { border-collapse: collapse; margin: 2px 0 6px 0; font-size: 12px; }
.dnlab-rules td { padding: 1px 8px 1px 0; vertical-align: top; }
.dnlab-rules tr.walk { color: #868e96; } .dnlab-rules tr.decided { font-weight: bold; }
.dnlab-rules tr.drop { font-weight: bold; color: #c92a2a; }
.dnlab-rules-note { font-style: italic; color: #495057; margin: 2px 0; }
</style>"""


class Explorer(widgets.VBox):
    """The driver explorer widget. `trace`, `draw` and `read` are injectable for unit tests."""

    def __init__(self, world=None, *, scenario: str = "default-bridge", probe: str = "to the internet",
                 view: str = "L2", trace: Callable | None = None, draw: Callable | None = None,
                 read: Callable | None = None, scenarios: dict | None = None, autoshow: bool = True,
                 rules: bool = True):
        self._world = world
        self.rules = rules                       # rule-trace each probe (the "rules this packet met" panel)
        self._trace, self._draw, self._read = trace, draw, read or read_facts
        self._registry = scenarios
        self.errors: list[str] = []             # tracebacks of failures shown as messages
        self.timings: list[tuple[str, float]] = []  # (what, seconds) of every show()
        self.facts: Facts | None = None          # facts now shown
        self.previous: Facts | None = None       # facts of the previously shown driver
        self.probe_name: str | None = None       # the scenario's probe now shown (None: not offered)
        self.path = None                         # the Path now shown

        # The options' values stay the English names (what the code and the tests choose by); their
        # labels are in the language in force.
        self.driver = widgets.Dropdown(options=[(driver_label(name), name) for _, name in DRIVERS], value=scenario,
                                       description=translate("widgets:label:driver", "Driver"))
        self.probe = widgets.ToggleButtons(options=[(probe_label(p), p) for p in PROBES], value=probe,
                                           description=translate("widgets:label:probe", "Probe"))
        self.probe.style.button_width = "auto"
        self.view = widgets.ToggleButtons(options=list(VIEWS), value=view,
                                          description=translate("widgets:label:view", "View"))
        self.view.style.button_width = "5em"
        self.rerun = widgets.Button(description=translate("widgets:label:rerun", "Re-run probe"), icon="refresh",
                                    tooltip=translate("widgets:label:rerun-tip",
                                                      "send the probe again, live, and redraw"))
        self.progress = widgets.IntProgress(value=0, min=0, max=4,
                                            description=translate("widgets:label:working", "Working"),
                                            bar_style="info", layout=widgets.Layout(visibility="hidden"))
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.caption = widgets.HTML()
        self.figure = widgets.HTML()
        self.summary = widgets.HTML()
        self.rules_html = widgets.HTML()
        self.facts_html = widgets.HTML()
        self.diff_html = widgets.HTML()
        for widget, css in ((self.figure, "dnlab-figure"), (self.facts_html, "dnlab-facts"),
                            (self.diff_html, "dnlab-diff"), (self.message, "dnlab-message"),
                            (self.caption, "dnlab-caption"), (self.status, "dnlab-status"),
                            (self.rules_html, "dnlab-rules")):
            widget.add_class(css)
        # Figure across the whole width (it is read from the back of a classroom), facts and
        # what changed side by side under it.
        facts_box = widgets.VBox([widgets.HTML(f"<b>{translate('widgets:label:facts', 'Key facts')}</b>"),
                                  self.facts_html],
                                 layout=widgets.Layout(width="56%", padding="0 12px 0 0"))
        diff_box = widgets.VBox([widgets.HTML("<b>" + translate("widgets:label:diff", "What changed against the "
                                                                "previous driver") + "</b>"), self.diff_html],
                                layout=widgets.Layout(width="44%"))
        super().__init__([
            widgets.HTML(_STYLE),
            widgets.HBox([self.driver, self.view, self.rerun]),
            self.probe,
            widgets.HBox([self.progress, self.status]),
            self.message,
            self.caption, self.figure, self.summary, self.rules_html,
            widgets.HBox([facts_box, diff_box]),
        ])
        self.add_class("dnlab-explorer")
        self.driver.observe(self._on_change, names="value")
        self.probe.observe(self._on_change, names="value")
        self.view.observe(self._on_change, names="value")
        self.rerun.on_click(lambda _button: self.show(refresh=True))
        if autoshow:
            self.show()

    # --- dependencies, resolved late so importing this module stays cheap ----------------------
    @property
    def world(self):
        if self._world is None:
            import helpers

            self._world = helpers.lab()
        return self._world

    @property
    def cache(self) -> _Cache:
        return _CACHES.setdefault(self.world.prefix, _Cache())

    def _scenario_class(self, name: str):
        if self._registry is not None:
            if name not in self._registry:
                raise LabError(f"unknown scenario {name!r}")
            return self._registry[name](self.world)
        from helpers.scenarios import get

        return get(self.world, name)

    def _trace_fn(self):
        if self._trace is None:
            from helpers.path import trace

            self._trace = trace
        return self._trace

    def _rules_kwargs(self, trace) -> dict:
        """{"rules": True} when rule-tracing and `trace` takes it (an injected test double may not)."""
        import inspect

        if not self.rules:
            return {}
        try:
            return {"rules": True} if "rules" in inspect.signature(trace).parameters else {}
        except (TypeError, ValueError):
            return {}

    def _draw_fn(self):
        if self._draw is None:
            from helpers.draw import draw_path

            self._draw = draw_path
        return self._draw

    # --- the one pass ---------------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if change["owner"] is self.driver and self.facts is not None and change["old"] != change["new"]:
            self.previous = self.facts
        self.show()

    def _step(self, value: int, text: str) -> None:
        self.progress.value = value
        self.progress.layout.visibility = "visible"
        self.status.value = f"<i>{html.escape(text)}</i>"

    def show(self, refresh: bool = False) -> None:
        """Show the current choice; with `refresh`, send the probe again instead of using the cache."""
        started = time.perf_counter()
        name, choice, view = self.driver.value, self.probe.value, self.view.value
        try:
            self.message.value = ""
            scenario = self._ensure_started(name, force=refresh)
            specs = scenario.probe_specs()
            self.probe_name = probe_name = probe_for(choice, specs, scenario.driver)
            if refresh:
                self.cache.forget(name, probe_name)
            spec = specs.get(probe_name) if probe_name else None
            self.facts = self._facts(scenario, probe_name, spec)
            # Facts first: if drawing fails, the learner still sees what is true.
            self.facts_html.value = self._facts_table(self.facts)
            self.diff_html.value = self._diff_html(self.previous, self.facts)
            if spec is None:
                self.path = None
                self._show_not_offered(scenario, choice, specs)
            else:
                self._show_figure(scenario, probe_name, view, choice)
            seconds = time.perf_counter() - started
            self.timings.append((f"{name}/{choice}/{view}", seconds))
            ready = translate("widgets:status:ready", "ready in {seconds} s", seconds=f"{seconds:.2f}")
            self.status.value = f"<small>{ready}</small>"
        except Exception as error:  # noqa: BLE001 - every failure becomes a message in the widget
            self.errors.append(traceback.format_exc())
            self._show_error(error, name)
        finally:
            self.progress.layout.visibility = "hidden"

    def _ensure_started(self, name: str, force: bool = False):
        scenario = self.cache.scenarios.get(name)
        if scenario is None or force:
            self._step(1, translate("widgets:status:starting", "starting scenario {name} (first time only: it stays "
                                    "warm)…", name=name))
            scenario = self._scenario_class(name).start()
            self.cache.scenarios[name] = scenario
        return scenario

    def _facts(self, scenario, probe_name: str | None, spec) -> Facts:
        key = (scenario.name, probe_name)
        if key in self.cache.facts:
            return self.cache.facts[key]
        if spec is not None and key not in self.cache.traces:
            self._step(2, translate("widgets:status:tracing", "tracing probe {probe} in {scenario}…", probe=probe_name,
                                    scenario=scenario.name))
            trace = self._trace_fn()
            # The explorer started the scenario already; a warm trace need not check it again.
            self.cache.traces[key] = trace(self.world, scenario, probe_name, start=False, **self._rules_kwargs(trace))
        self._step(3, translate("widgets:status:reading", "reading the facts of {scenario}…", scenario=scenario.name))
        facts = self._read(self.world, scenario, spec)
        if spec is not None:
            path = self.cache.traces[key]
            facts.reached, facts.reachability = reachability(path, spec)
            # Which listed rules the probe went through (their counters rose), or the relay instead.
            proxied = any(getattr(hop, "action", "") == "proxied" for hop in getattr(path, "hops", None) or [])
            mark_hits(facts, getattr(path, "rules", None), proxied=proxied)
            facts.expected = spec.expect
        else:
            facts.reachability = [translate("widgets:facts:no-probe", "(no probe: see the note above)")]
        self.cache.facts[key] = facts
        return facts

    def _show_figure(self, scenario, probe_name: str, view: str, choice: str) -> None:
        path = self.path = self.cache.traces[(scenario.name, probe_name)]
        key = (scenario.name, probe_name, view)
        if key not in self.cache.figures:
            self._step(4, translate("widgets:status:drawing", "drawing the {view} view…", view=view))
            svg = figure_svg(self._draw_fn()(path, view=view))
            # The figure's text alternative (screen readers), from the drawing room if it has one.
            try:
                from helpers.draw import alt_text

                alt = alt_text(path, view)
            except (ImportError, AttributeError, TypeError):
                alt = path.summary() if hasattr(path, "summary") else f"{scenario.name} {probe_name} {view}"
            self.cache.figures[key] = f'<div role="img" aria-label="{html.escape(alt)}">{svg}</div>'

        self.figure.value = self.cache.figures[key]
        self.caption.value = (f'<div data-scenario="{html.escape(scenario.name)}"'
                              f' data-probe="{html.escape(probe_name)}"'
                              f' data-view="{view}"><b>{html.escape(scenario.name)}</b> '
                              + html.escape(translate("widgets:caption:driver", "({driver} driver)",
                                                      driver=scenario.driver))
                              + f' · {html.escape(probe_label(choice))} ('
                              + html.escape(translate("widgets:caption:probe", "probe")) +
                              f' <code>{html.escape(probe_name)}</code>) · '
                              + html.escape(translate("widgets:caption:view", "{view} view", view=view)) + '</div>')
        summary = path.summary()
        hops = html.escape(translate("widgets:label:hops", "hop by hop"))
        self.summary.value = (f"<details><summary>{hops}</summary>"
                              f"<pre>{html.escape(summary)}</pre></details>")
        self.rules_html.value = ("<details open><summary><b>"
                                 + html.escape(translate("widgets:label:rules", "Rules this packet met"))
                                 + f"</b></summary>{rules_panel(path)}</details>")

    def _show_not_offered(self, scenario, choice: str, specs) -> None:
        offered = [probe_label(label) for label in PROBES if probe_for(label, specs, scenario.driver)]
        self.message.value = ('<div class="dnlab-note">' + html.escape(translate(
            "widgets:note:not-offered", "The {scenario} scenario offers no “{choice}” probe. It offers: {offered}.",
            scenario=scenario.name, choice=probe_label(choice),
            offered=", ".join(offered) or translate("widgets:note:none-offered", "no probe of this explorer")))
            + '</div>')
        self.caption.value = (f'<div data-scenario="{html.escape(scenario.name)}" data-probe="">'
                              f'<b>{html.escape(scenario.name)}</b> '
                              + html.escape(translate("widgets:caption:driver", "({driver} driver)",
                                                      driver=scenario.driver)) + ' · '
                              + html.escape(translate("widgets:caption:no-probe", "no “{choice}” probe",
                                                      choice=probe_label(choice))) + '</div>')
        self.figure.value = ""
        self.summary.value = self.rules_html.value = ""

    def _show_error(self, error: Exception, name: str) -> None:
        if isinstance(error, LabError):
            problem, fix = error.problem, error.fix
        else:
            problem, fix = f"{type(error).__name__}: {error}", None
        fix_word = html.escape(translate("widgets:error:fix", "Fix:"))
        fix_html = f"<br>{fix_word} <code>{html.escape(fix)}</code>" if fix else ""
        self.message.value = ('<div class="dnlab-error"><b>'
                              + html.escape(translate("widgets:error:could-not", "Could not show {name}:", name=name))
                              + f'</b> {html.escape(str(problem))}{fix_html}</div>')
        self.status.value = f"<small>{html.escape(translate('widgets:status:failed', 'failed'))}</small>"
        # Never leave another driver's figure or facts under this driver's name.
        self.path = None
        self.figure.value = self.caption.value = self.summary.value = self.rules_html.value = ""
        if self.facts is not None and self.facts.scenario != name:
            self.facts = None
            self.facts_html.value = self.diff_html.value = ""

    # --- rendering facts ------------------------------------------------------------------------
    @staticmethod
    def _facts_table(facts: Facts) -> str:
        head = "<p>" + translate("widgets:facts:head", "scenario {scenario}, driver {driver}, container {container} on "
                                 "{host}", scenario=f"<b>{html.escape(facts.scenario)}</b>",
                                 driver=f"<b>{html.escape(facts.driver)}</b>",
                                 container=f"<code>{html.escape(facts.container or '-')}</code>",
                                 host=html.escape(facts.host)) + "</p>"
        rows = []
        for category in CATEGORIES:
            if category == "nat":
                items = Explorer._nat_html(facts)
            else:
                items = "<br>".join(html.escape(item) for item in getattr(facts, category)) or "-"
            rows.append(f'<tr data-fact="{category}"><th>{html.escape(title(category))}</th><td>{items}</td></tr>')
        return head + "<table>" + "".join(rows) + "</table>"

    @staticmethod
    def _nat_html(facts: Facts) -> str:
        """The NAT rules, each marked hit (its counter rose during the probe) or not, under one
        sentence saying what the marks mean."""
        sentence, marked = nat_lines(facts)
        if not marked:
            notes = [item for item in facts.nat if item.startswith("(")]
            return "<br>".join(html.escape(n) for n in notes + [sentence]) or "-"
        lines = [f'<div class="dnlab-nat-note">{html.escape(sentence)}</div>']
        for rule, hit, packets in marked:
            mark = (f'<b class="hit">✔ {translate("widgets:nat:hit", "hit (+{packets})", packets=packets)}</b>' if hit
                    else f'<span class="nohit">· {translate("widgets:nat:not-hit", "not hit")}</span>')
            lines.append(f'<div data-hit="{str(hit).lower()}">{mark} {html.escape(rule)}</div>')
        lines += ['<div class="dnlab-nat-note">'
                  + html.escape(translate("widgets:nat:elsewhere", "also hit in {where}", where=item)) + "</div>"
                  for item in facts.nat_elsewhere]
        return "".join(lines)

    @staticmethod
    def _diff_html(previous: Facts | None, current: Facts) -> str:
        if previous is None:
            return f"<i>{html.escape(translate('widgets:diff:none', '(pick another driver to compare)'))}</i>"
        if previous.scenario == current.scenario:
            return "<i>" + html.escape(translate("widgets:diff:same", "(the previous driver was this one: {scenario})",
                                                 scenario=current.scenario)) + "</i>"
        lines = []
        for line in diff_facts(previous, current):
            css = "gone" if line.startswith("  - ") else "came" if line.startswith("  + ") else ""
            lines.append(f'<span class="{css}">{html.escape(line)}</span>')
        return ("<p>" + translate("widgets:diff:from-to", "from {previous} to {current}:",
                                  previous=f"<b>{html.escape(previous.scenario)}</b>",
                                  current=f"<b>{html.escape(current.scenario)}</b>") + "</p>"
                "<pre>" + "\n".join(lines) + "</pre>")


def explorer(world=None, **kwargs) -> Explorer:  # noqa: D103 - helpers.widgets.explorer.explorer()
    """The explorer for `world` (default: the running world of $DNLAB_WORLD)."""
    return Explorer(world, **kwargs)
