"""`make test-course-image-suite` reads pytest's own summary line from the container's output."""
from __future__ import annotations

from tests.course_image.test_suite_inside import pytest_counts


def test_counts_and_time_from_the_last_summary_line():
    output = ("collected 1110 items\n...\n"
              "================== 2 failed, 1108 passed in 756.31s (0:12:36) ==================\n"
              "test suite took 760 s\n")
    assert pytest_counts(output) == ({"failed": 2, "passed": 1108}, 756.31)


def test_errors_and_warnings():
    line = "====== 89 failed, 978 passed, 2 warnings, 38 errors in 578.69s (0:09:38) ======="
    counts, seconds = pytest_counts(line)
    assert counts == {"failed": 89, "passed": 978, "error": 38} and seconds == 578.69


def test_no_summary_is_none():
    assert pytest_counts("make: *** [Makefile:10: test] Error 2\n") is None
