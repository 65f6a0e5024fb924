#!/usr/bin/env bash
# `make test-course-image`: build the course image offline (make course-image; cached per tree), then
# tests/course_image in a throwaway engine of the course's own kind: import, `docker run --privileged
# -p 127.0.0.1:8888:8888` inside the engine's own namespace, the world and JupyterLab inside, the
# notebooks' nbval run inside; everything it made is removed (the test proves it).
# `make test-course-image-suite` (test.sh --suite): instead, the course's whole `make test`
# inside the image (`docker run --rm --privileged dnlab/course make test`), its passed/failed counts and
# time; its output kept in /var/cache/dnlab/course-image/suite-<engine>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "test-course-image: needs root. Fix: sudo make test-course-image" >&2; exit 2; }
started=$SECONDS
# A clean clone has no venv yet: the machine's own install (the test drives the engine from here).
[ -x .venv/bin/python ] || bash scripts/install.sh --tests
bash scripts/course-image/build.sh
echo "==> image ready after $(( SECONDS - started )) s; testing it in a throwaway engine"
# Each selects its tier by marker (tests/tiers.py); both are opt-in, never run by `make test`.
if [ "${1:-}" = --suite ]; then
  target=make\ test-course-image-suite; tier=course_image_suite
else
  target=make\ test-course-image; tier=course_image
fi
set +e
junit=${DNLAB_JUNIT:-/run/dnlab-test-results/$tier.xml}
.venv/bin/python -m pytest -p no:cacheprovider -s -v -m "$tier" --junitxml "$junit" tests/course_image
rc=$?
.venv/bin/python scripts/test_report.py "$junit"
set -e
echo "==> $target: exit $rc after $(( SECONDS - started )) s"
exit "$rc"
