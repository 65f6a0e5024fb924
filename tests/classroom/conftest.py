"""The classroom's end-to-end test (`make test-classroom`): collected only when that target runs it
(DNLAB_CLASSROOM_TEST=1), so `make test`, which collects tests/, never imports the course image into
a classroom engine (a minute of the CI budget, and the lead decides what CI runs)."""
from __future__ import annotations

import os

CLASSROOM_TEST_ENV = "DNLAB_CLASSROOM_TEST"

collect_ignore_glob = [] if os.environ.get(CLASSROOM_TEST_ENV) == "1" else ["test_*.py"]
