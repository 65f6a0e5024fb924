"""The course image's own test (`make test-course-image`): collected only when that target runs it
(DNLAB_COURSE_IMAGE_TEST=1), so `make test`, which collects tests/, never builds or imports the image."""
from __future__ import annotations

import os

COURSE_IMAGE_TEST_ENV = "DNLAB_COURSE_IMAGE_TEST"

collect_ignore_glob = [] if os.environ.get(COURSE_IMAGE_TEST_ENV) == "1" else ["test_*.py"]
