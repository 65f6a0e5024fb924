"""scripts/test_report.py on a JUnit file pytest 9 really wrote (tests/unit/data/junit_mixed_outcomes.xml:
a small suite with a pass, a slow test, a parametrized failure, a skip, an xfail, a teardown error, a
test in a class, and a notebook under nbval --nbval-lax with a failing cell; junit_family xunit1).
pytest's own summary of that run: 2 failed, 6 passed, 1 skipped, 1 xfailed, 1 error."""
from __future__ import annotations

import io
from pathlib import Path

from scripts import test_report

SAMPLE = Path(__file__).resolve().parent / "data" / "junit_mixed_outcomes.xml"


def test_each_case_has_its_file_outcome_and_time():
    cases = {c.nodeid: c for c in test_report.read(SAMPLE)}
    assert len(cases) == 10
    assert cases["sub/test_mix.py::test_param[2]"].outcome == "failed"
    assert cases["sub/test_mix.py::test_teardown_error"].outcome == "failed"  # passed, then errored
    assert cases["sub/test_mix.py::test_skipped"].outcome == "skipped"
    assert cases["sub/test_mix.py::test_xfail"].outcome == "skipped"          # pytest writes xfail as a skip
    assert cases["chapter.ipynb::Cell 1"].outcome == "failed"
    assert cases["sub/test_mix.py::TestGroup::test_in_class"].outcome == "passed"
    assert cases["sub/test_mix.py::test_slow"].seconds >= 0.3                 # it slept 0.3 s


def test_counts_count_a_test_once_however_many_reports_it_had():
    # pytest said 6 passed and 1 error of the same test (teardown): here it is one failed test.
    assert test_report.counts(test_report.read(SAMPLE)) == (5, 3)


def test_the_report_lists_the_slowest_first_and_every_file_with_its_total():
    cases = test_report.read(SAMPLE)
    lines = test_report.report(cases, "sample", slowest=3)
    assert lines[0].startswith("time by test, from sample: 10 tests (5 passed, 3 failed)")
    slow = lines[2:5]
    assert [line.split(" s  ", 1)[1] for line in slow][:2] == ["chapter.ipynb::Cell 0", "sub/test_mix.py::test_slow"]
    seconds = [float(line.split()[0]) for line in slow]
    assert seconds == sorted(seconds, reverse=True)
    files = lines[lines.index("per file (seconds, tests, failed):") + 1:]
    assert [line.split()[-1] for line in files] == ["chapter.ipynb", "sub/test_mix.py", "sub/test_other.py"]
    assert files[1].split()[2:4] == ["7", "2"]                                # 7 tests, 2 failed
    total = sum(c.seconds for c in cases if c.file == "chapter.ipynb")
    assert float(files[0].split()[0]) == round(total, 1)


def test_a_leg_without_results_counts_as_one_failure_and_says_so(tmp_path):
    err = io.StringIO()
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite")                              # cut off mid-write
    passed, failed = test_report.leg_counts([SAMPLE, tmp_path / "missing.xml", broken], err=err)
    assert (passed, failed) == (5, 3 + 2)
    assert "missing.xml: no JUnit results" in err.getvalue() and "broken.xml: no JUnit results" in err.getvalue()


def test_the_counts_line_is_what_ci_prints(capsys):
    assert test_report.main(["--counts", str(SAMPLE), str(SAMPLE)]) == 0
    assert capsys.readouterr().out == "10 passed, 6 failed\n"
