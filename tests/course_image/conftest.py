"""The course image's own tests, collected only when their target runs them, so `make test`, which
collects tests/, never builds or imports the image: `make test-course-image` (DNLAB_COURSE_IMAGE_TEST=1:
test_course_image.py) and `make test-course-image-suite` (DNLAB_COURSE_IMAGE_SUITE=1: the whole suite
inside the image, test_suite_inside.py)."""
from __future__ import annotations

import os

from helpers.world.naming import COURSE_IMAGE_SUITE_ENV

COURSE_IMAGE_TEST_ENV = "DNLAB_COURSE_IMAGE_TEST"

collect_ignore_glob = [
    *([] if os.environ.get(COURSE_IMAGE_TEST_ENV) == "1" else ["test_course_image.py"]),
    *([] if os.environ.get(COURSE_IMAGE_SUITE_ENV) == "1" else ["test_suite_inside.py"]),
]
