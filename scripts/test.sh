#!/usr/bin/env bash
# Run every test: unit, integration on real lab worlds, the browser test, and the chapters' notebooks
# (nbval: --nbval-lax runs every cell and fails on an error; no output is compared, the notebooks store
# none). The labs' solution notebooks are not nbval's: each runs once, in full, inside its lab's
# journey (tests/integration/test_lab_journeys.py, a kernel per notebook, an error in any cell fails it).
# Selected by tier marker (tests/tiers.py); the classroom and course-image tiers have targets of their
# own (they need `make course-image`). Arguments go to pytest: `bash scripts/test.sh -m unit` runs one
# tier (a later -m wins). JUnit XML goes to $DNLAB_JUNIT (default below, one file per world, so legs
# running side by side never share one); the slowest tests and per-file totals are printed from it.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --tests >/dev/null || { echo "install failed: run sudo bash scripts/install.sh --tests" >&2; exit 2; }
export PATH="$PWD/.venv/bin:$PATH"
# Lint first (config: [tool.ruff] in pyproject.toml): any finding fails the run before the slow tests.
if ! .venv/bin/ruff check .; then
  echo "lint failed: run .venv/bin/ruff check . (ruff check --fix fixes the [*] ones)" >&2
  exit 1
fi
started=$(date +%s)
junit=${DNLAB_JUNIT:-/run/dnlab-test-results/${DNLAB_WORLD:-t}.xml}
.venv/bin/python -m pytest -p no:cacheprovider --junitxml "$junit" \
  -m "unit or world or lifecycle or notebooks or learner or browser" "$@" tests \
  --nbval-lax notebooks
rc=$?
echo "test suite took $(( $(date +%s) - started )) s"
.venv/bin/python scripts/test_report.py "$junit" || echo "no timing report: $junit was not written" >&2
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi
exit "$rc"
