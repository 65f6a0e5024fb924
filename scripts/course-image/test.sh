#!/usr/bin/env bash
# `make test-course-image`: build the course image offline (make course-image; cached per tree), then
# tests/course_image in a throwaway engine of the course's own kind: import, `docker run --privileged
# -p 127.0.0.1:8888:8888` inside the engine's own namespace, the world and JupyterLab inside, the
# notebooks' nbval run inside; everything it made is removed (the test proves it).
# `make test-course-image-suite` (DNLAB_COURSE_IMAGE_SUITE=1): instead, the course's whole `make test`
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
if [ "${DNLAB_COURSE_IMAGE_SUITE:-}" = 1 ]; then
  target=make\ test-course-image-suite; tests=tests/course_image/test_suite_inside.py
else
  target=make\ test-course-image; tests=tests/course_image
  export DNLAB_COURSE_IMAGE_TEST=1
fi
set +e
.venv/bin/python -m pytest -p no:cacheprovider -s -v "$tests"
rc=$?
set -e
echo "==> $target: exit $rc after $(( SECONDS - started )) s"
exit "$rc"
