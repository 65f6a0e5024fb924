"""bench/suite_bench.py reads CI's log as `.ci/run` and `scripts/test.sh` print it, and calls a run green
only when it exited 0 and its closing line counts no failure."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "suite_bench.py"
SPEC = importlib.util.spec_from_file_location("suite_bench", BENCH)
suite_bench = importlib.util.module_from_spec(SPEC)
sys.modules["suite_bench"] = suite_bench  # its dataclasses look their module up there
SPEC.loader.exec_module(suite_bench)

# The lines it reads, as .ci/run and scripts/test.sh print them (the other lines of a real log around them).
LOG = """==> this machine's leg (Debian 12.11): exit 0 after 1048 s
test suite took 953 s
time by test, from /tmp/dnlab-ci.x/machine.xml: 1396 tests (1396 passed, 0 failed), 940.2 s of tests
==> the Docker 28 leg: exit 0 after 1925 s
test suite took 877 s
==> the Debian 13 leg (make test-debian13), run alongside:
test suite took 926 s
==> all done after 1932 s: this machine exit 0, Docker 28 exit 0, Debian 13 exit 0, classroom exit 0
all-legs: 4193 passed, 0 failed
"""


def test_legs_and_totals_are_read_from_the_log():
    run = suite_bench.Run(1, loaded=False, exit_code=0, seconds=1932)
    suite_bench.read_log(LOG, run)
    assert run.legs == [953, 877, 926]
    assert run.totals == "4193 passed, 0 failed"
    assert run.green
    line = run.line()
    assert "green" in line and "3 over" in line and "target 1200: over" in line, line


def test_a_failure_or_a_missing_closing_line_is_red():
    failed = suite_bench.Run(2, loaded=True, exit_code=1, seconds=900)
    suite_bench.read_log(LOG.replace("0 failed", "1 failed"), failed)
    assert not failed.green and "RED" in failed.line()
    silent = suite_bench.Run(3, loaded=False, exit_code=0, seconds=900)
    suite_bench.read_log("test suite took 500 s\n", silent)  # a run cut off before its closing line
    assert not silent.green and silent.totals == "no all-legs line"
    # exit 0 but failures counted (a leg's JUnit missing counts as one) is red too
    odd = suite_bench.Run(4, loaded=False, exit_code=0, seconds=900)
    suite_bench.read_log(LOG.replace("4193 passed, 0 failed", "4192 passed, 10 failed"), odd)
    assert not odd.green
