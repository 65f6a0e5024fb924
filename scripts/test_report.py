"""Where a test run's time went, read from pytest's JUnit XML (`--junitxml`, junit_family xunit1:
each <testcase> names its file): the slowest tests and per-file totals, or only the counts.

    python scripts/test_report.py RESULTS.xml [...]          the 25 slowest tests, then every file
    python scripts/test_report.py --counts A.xml B.xml ...   one line: "N passed, N failed"

A test's time is pytest's own (setup + call + teardown), so a session fixture's start-up (the lab
world's `up`) shows on the first test that asked for it. A test counts as failed when it failed or
errored (in setup, call or teardown: one failed test, however many reports); a skipped test counts
neither way. With --counts, a results file that is missing or unreadable (a leg that ended before
pytest wrote it) counts as one failure and says so on stderr, so the line can never look green for a
leg that did not run. Standard library only: .ci/run runs it with the machine's python3.
"""
from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SLOWEST = 25


@dataclass(frozen=True)
class Case:
    """One <testcase>: its file, its name (parameters included), seconds, and outcome."""
    file: str
    name: str
    seconds: float
    outcome: str  # "passed", "failed" or "skipped"

    @property
    def nodeid(self) -> str:
        return f"{self.file}::{self.name}" if self.file else self.name


def _outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if tags & {"failure", "error"}:
        return "failed"
    return "skipped" if "skipped" in tags else "passed"


def read(path: Path) -> list[Case]:
    """Every test case of one JUnit file (ET.ParseError / OSError when it is not one)."""
    root = ET.parse(path).getroot()
    cases = []
    for case in root.iter("testcase"):
        # xunit1 names the file; without it (another family), the class path is the best there is.
        where = case.get("file") or case.get("classname", "")
        name = _in_class(where, case.get("classname", "")) + case.get("name", "")
        cases.append(Case(where, name, float(case.get("time") or 0.0), _outcome(case)))
    return cases


def _in_class(file: str, classname: str) -> str:
    """"TestGroup::" for a test of class TestGroup in `file` (classname "pkg.module.TestGroup"), else ""."""
    module = file.removesuffix(".py").replace("/", ".")
    return f"{classname[len(module) + 1:]}::" if classname.startswith(f"{module}.") else ""


def counts(cases: list[Case]) -> tuple[int, int]:
    """(passed, failed) of the cases."""
    return (sum(c.outcome == "passed" for c in cases), sum(c.outcome == "failed" for c in cases))


def per_file(cases: list[Case]) -> list[tuple[str, float, int, int]]:
    """(file, seconds, tests, failed) per file, slowest first."""
    seconds: dict[str, float] = defaultdict(float)
    tests: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    for case in cases:
        seconds[case.file] += case.seconds
        tests[case.file] += 1
        failed[case.file] += case.outcome == "failed"
    return sorted(((f, seconds[f], tests[f], failed[f]) for f in seconds), key=lambda row: (-row[1], row[0]))


def report(cases: list[Case], source: str, slowest: int = SLOWEST) -> list[str]:
    """The lines printed after a run: the slowest tests, then each file's total."""
    total = sum(c.seconds for c in cases)
    passed, failed = counts(cases)
    lines = [f"time by test, from {source}: {len(cases)} tests ({passed} passed, {failed} failed), "
             f"{total:.1f} s of tests", f"the {min(slowest, len(cases))} slowest tests:"]
    for case in sorted(cases, key=lambda c: -c.seconds)[:slowest]:
        lines.append(f"{case.seconds:8.1f} s  {case.nodeid}{'  FAILED' if case.outcome == 'failed' else ''}")
    lines.append("per file (seconds, tests, failed):")
    for file, seconds, tests, bad in per_file(cases):
        lines.append(f"{seconds:8.1f} s  {tests:4d}  {bad:3d}  {file}")
    return lines


def leg_counts(paths: list[Path], err=sys.stderr) -> tuple[int, int]:
    """Passed and failed over several legs' files; a missing or unreadable file is one failure."""
    passed = failed = 0
    for path in paths:
        try:
            p, f = counts(read(path))
        except (OSError, ET.ParseError) as error:
            print(f"{path}: no JUnit results ({error}): counted as 1 failed", file=err)
            p, f = 0, 1
        passed, failed = passed + p, failed + f
    return passed, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", action="store_true", help='print only "N passed, N failed" over all files')
    parser.add_argument("--slowest", type=int, default=SLOWEST, help="how many slowest tests to list")
    parser.add_argument("junit", nargs="+", type=Path, help="pytest --junitxml files")
    args = parser.parse_args(argv)
    if args.counts:
        passed, failed = leg_counts(args.junit)
        print(f"{passed} passed, {failed} failed")
        return 0
    cases: list[Case] = []
    for path in args.junit:
        try:
            cases += read(path)
        except (OSError, ET.ParseError) as error:
            print(f"test_report: cannot read {path}: {error}", file=sys.stderr)
            return 2
    print("\n".join(report(cases, ", ".join(map(str, args.junit)), args.slowest)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
