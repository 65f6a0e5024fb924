#!/usr/bin/env bash
# `make test-course-image`: build the course image offline (make course-image; cached per tree), then
# tests/course_image in a throwaway engine of the course's own kind: import, `docker run --privileged
# -p 127.0.0.1:8888:8888` inside the engine's own namespace, the world and JupyterLab inside, the
# notebooks' nbval run inside; everything it made is removed (the test proves it).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "test-course-image: needs root. Fix: sudo make test-course-image" >&2; exit 2; }
started=$SECONDS
# A clean clone has no venv yet: the machine's own install (the test drives the engine from here).
[ -x .venv/bin/python ] || bash scripts/install.sh --tests
bash scripts/course-image/build.sh
echo "==> image ready after $(( SECONDS - started )) s; testing it in a throwaway engine"
set +e
DNLAB_COURSE_IMAGE_TEST=1 .venv/bin/python -m pytest -p no:cacheprovider -s -v tests/course_image
rc=$?
set -e
echo "==> make test-course-image: exit $rc after $(( SECONDS - started )) s"
exit "$rc"
