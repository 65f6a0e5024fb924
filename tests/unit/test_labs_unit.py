"""Labs without a world: check rendering, the registry, the CLI, the progress file, the notebooks."""
from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import labs
from helpers.cli import build_parser, main
from helpers.errors import LabError
from helpers.labs import notebooks, progress, solutions, state
from helpers.labs.common import telling_line
from helpers.labs.lab02 import publish_problem
from helpers.labs.lab05 import range_problem
from helpers.labs.model import FAIL, PASS, PENDING, CheckResult, Checks, Started, inline_markdown
from helpers.observe.model import NamespaceState
from helpers.observe.parse import parse_iptables_save

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def _result() -> CheckResult:
    c = Checks()
    c.expect("network lab1-net exists", True, evidence="subnet 172.18.0.0/16")
    c.expect("lab1-web runs", False, "there is no container named lab1-web", "start one with that name")
    c.pending("lab1-client reaches lab1-web by its name")
    return CheckResult(1, "A user bridge", c.items)


def test_text_rendering_says_what_is_wrong_and_hints():
    text = str(_result())
    assert text.splitlines()[0] == "Lab 1 (A user bridge): not yet, 1/3 checks pass"
    assert "✔ network lab1-net exists" in text and "seen: subnet 172.18.0.0/16" in text
    assert "✘ lab1-web runs" in text
    assert "wrong: there is no container named lab1-web" in text
    assert "hint:  start one with that name" in text
    assert "… lab1-client reaches lab1-web by its name" in text


def test_markdown_rendering_is_coloured_and_escaped():
    c = Checks()
    c.expect("a <b> item", False, "x < y", "try & see")
    markdown = CheckResult(2, "T", c.items)._repr_markdown_()
    assert "#cf222e" in markdown and "a &lt;b&gt; item" in markdown and "x &lt; y" in markdown
    assert "try &amp; see" in markdown
    passed = Checks()
    passed.expect("ok", True)
    assert "#1a7f37" in CheckResult(2, "T", passed.items)._repr_markdown_()


def test_markdown_hints_show_code_as_code_not_entities():
    """A hint's `code span` becomes a <code> element whose text the browser shows as typed (escaping
    inside a Markdown code span would show `&#x27;` literally)."""
    c = Checks()
    c.expect("x", False, "it is on `bridge` & <none>", "run `iptables-save -t nat | grep '9080'` in host1")
    markdown = CheckResult(2, "T", c.items)._repr_markdown_()
    assert "<code>iptables-save -t nat | grep '9080'</code>" in markdown
    assert "&#x27;" not in markdown and "`" not in markdown
    assert "<code>bridge</code> &amp; &lt;none&gt;" in markdown
    assert inline_markdown("a `b") == "a `b"  # an unpaired backtick stays text


def test_start_shows_the_task_as_markdown():
    started = Started("Lab 1 starts from a clean world.", labs.get(1).task_markdown())
    assert str(started) == "Lab 1 starts from a clean world."
    markdown = started._repr_markdown_()
    assert markdown.startswith("**Lab 1 starts") and "**Goal.**" in markdown and "1. On host1" in markdown
    assert not markdown.startswith("'")


def test_publish_hint_follows_the_published_ports():
    host1 = "198.51.100.11"
    loopback = publish_problem({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9080"}]}, host1)
    assert "meant for host1 alone" in loopback[0] and "cannot gain" not in loopback[1]
    nothing = publish_problem({"80/tcp": None}, host1)
    assert "publishes nothing" in nothing[0] and "run it again" in nothing[1]
    swapped = publish_problem({"9080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]}, host1)
    assert "9080/tcp as 80" in swapped[0] and "host1's port first" in swapped[1]
    other_port = publish_problem({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}, host1)
    assert "0.0.0.0:8080" in other_port[0] and "9080" in other_port[0]


def test_macvlan_range_problem_names_the_machine_it_covers():
    machines = {"198.51.100.1": "router", "198.51.100.11": "host1", "198.51.100.20": "lanpc"}
    net = ipaddress.ip_network
    assert "no `--ip-range`" in range_problem([], machines, "198.51.100.2")
    assert "lanpc (198.51.100.20)" in range_problem([net("198.51.100.0/27")], machines, "198.51.100.2")
    assert "outside" in range_problem([net("198.51.100.64/28")], machines, "198.51.100.100")
    assert range_problem([net("198.51.100.64/28")], machines, "198.51.100.66") == ""
    assert range_problem([net("198.51.100.64/28")], machines, None) == "lab5-web is not attached to lab5-lan"


def test_lab_cli_into_a_closed_pipe_ends_cleanly():
    """`dnlab lab show 5 | head -0`: the reader is gone before anything is printed; no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "lab", "show", "5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0


def test_statuses_and_strict_raise():
    result = _result()
    assert [i.status for i in result.items] == [PASS, FAIL, PENDING]
    assert not result.passed and [i.what for i in result.failed] == ["lab1-web runs"]
    with pytest.raises(labs.LabCheckFailed, match="lab1-web"):
        result.raise_if_failed()
    assert not CheckResult(1, "empty").passed  # a check that checked nothing never passes
    ok = Checks()
    ok.expect("fine", True, problem="unused", hint="unused")
    assert ok.items[0].problem == "" and ok.items[0].hint == ""


def test_registry():
    every = labs.all_labs()
    assert len(every) >= 8
    assert [lab.number for lab in every] == sorted({lab.number for lab in every})
    assert len({lab.slug for lab in every}) == len(every)
    assert labs.get("overlay") is labs.get(6) is labs.get("6")
    with pytest.raises(LabError):
        labs.get(99)
    kinds = {lab.kind for lab in every}
    assert kinds == {"build", "troubleshoot"}
    for lab in every:
        assert lab.goal and lab.tasks and lab.number in solutions.SOLUTIONS
        # A reset removes only the lab's own names: every name starts with "labN-".
        for _, name in [*lab.containers, *lab.networks]:
            assert name.startswith(f"lab{lab.number}-"), (lab, name)
        if lab.kind == "troubleshoot":
            assert lab.setup_fn is not None and lab.setup_fn.__name__.startswith("break_")


def test_cli_parsing():
    parser = build_parser()
    args = parser.parse_args(["--world", "w2", "lab", "check", "3"])
    assert (args.world, args.lab_command, args.number) == ("w2", "check", "3")
    for command in ("show", "start", "reset"):
        assert parser.parse_args(["lab", command, "pod"]).number == "pod"
    assert parser.parse_args(["lab", "list"]).lab_command == "list"
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "check"])  # a number is required
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "fly", "1"])


def test_list_shows_passed_and_not_yet(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path))
    progress.record_pass("dnlab-u1", labs.get(3))
    assert main(["--world", "u1", "lab", "list"]) == 0
    out = capsys.readouterr().out
    assert " 3  passed " in out and " 1  not yet " in out
    assert f"1 of {len(labs.LABS)} passed" in out
    saved = json.loads((tmp_path / "labs-dnlab-u1.json").read_text())
    assert saved["prefix"] == "dnlab-u1" and saved["passed"]["3"]["slug"] == "isolation"
    assert progress.passed_numbers("dnlab-other") == set()  # worlds keep separate records


def test_show_prints_goal_and_tasks(capsys):
    assert main(["lab", "show", "5"]) == 0
    out = capsys.readouterr().out
    assert "Lab 5: Macvlan" in out and "Tasks:" in out and "labs/05_macvlan.ipynb" in out


def test_masquerade_found_in_saved_nat_table():
    # host1's `iptables-save -c -t nat` after lab 11's solution and its check's probes.
    text = (DATA / "labs_host1_nat.txt").read_text()

    def host1(extra: str = "", drop: str = "MASQUERADE-never") -> NamespaceState:
        lines = [line for line in text.splitlines() if drop not in line]
        return NamespaceState("host1", "machine", "", rules=parse_iptables_save("\n".join(lines) + extra))

    rule = state.masquerade(host1(), "172.17.0.0/16")
    assert str(rule) == "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" and rule.packets == 2
    assert state.masquerade(host1(), "172.18.0.0/16") is None
    assert state.masquerade(host1(drop="MASQUERADE"), "172.17.0.0/16") is None
    snat = "\n[0:0] -A POSTROUTING -s 172.17.0.0/16 -j SNAT --to-source 198.51.100.11"
    assert state.masquerade(host1(snat, drop="MASQUERADE"), "172.17.0.0/16").target == "SNAT"
    negated = "\n[0:0] -A POSTROUTING ! -s 172.17.0.0/16 -j MASQUERADE"
    assert state.masquerade(host1(negated, drop="MASQUERADE"), "172.17.0.0/16") is None


@pytest.mark.parametrize("lab", labs.all_labs(), ids=lambda lab: lab.slug)
def test_notebooks_are_generated_and_stripped(lab):
    for path, text in notebooks.render(lab).items():
        assert path.exists(), f"{path} missing: run python -m helpers.labs.notebooks"
        assert path.read_text() == text, f"{path} is stale: run python -m helpers.labs.notebooks"
        for cell in nbformat.reads(text, 4).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("lab", labs.all_labs(), ids=lambda lab: lab.slug)
def test_learner_notebook_has_check_and_no_solution(lab):
    nb = nbformat.read(ROOT / lab.notebook, 4)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "lab.check(world)" in code, "the learner notebook needs a check cell"
    assert not any("strict=True" in source for source in code)
    _, steps = notebooks.solution_steps(lab.number)
    solution_lines = {line.strip() for _, step in steps for line in step.splitlines()
                      if len(line.strip()) > 25 and not line.strip().startswith("#")}
    assert solution_lines
    learner_lines = {line.strip() for source in code for line in source.splitlines()}
    assert not solution_lines & learner_lines, "solution code leaked into the learner notebook"
    text = "\n".join(cell.source for cell in nb.cells)
    for _, name in [*lab.containers, *lab.networks]:
        assert name in text or lab.kind == "troubleshoot", f"the tasks never name {name}"


@pytest.mark.parametrize("lab", labs.all_labs(), ids=lambda lab: lab.slug)
def test_solution_notebook_ends_with_strict_check(lab):
    nb = nbformat.read(ROOT / lab.solution_notebook, 4)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "lab.check(world, strict=True, record=False)" in code
    assert code.index("lab.check(world, strict=True, record=False)") == len(code) - 2  # then tidy up
    for source in code:
        compile(source, lab.solution_notebook, "exec")


def test_telling_line_of_a_failed_probe():
    # busybox ping's stdout line arrives after its stderr line: the reason is not the last line.
    output = "ping: sendto: Network is unreachable\nPING lab4-db (192.168.160.2): 56 data bytes\n"
    assert telling_line(output) == "ping: sendto: Network is unreachable"
    assert telling_line("PING x (1.2.3.4): 56 data bytes\n\n1 packets transmitted, 0 packets received, "
                        "100% packet loss\n").endswith("100% packet loss")
    assert telling_line("") == ""
