#!/usr/bin/env bash
# `make test-course-image`: build the learner's course image offline (make course-image; cached per
# tree), then tests/course_image in a throwaway engine of the course's own kind: import, `docker run
# --privileged -p 127.0.0.1:8888:8888` inside the engine's own namespace, the world and JupyterLab
# inside, every notebook run inside; and `docker build -t dnlab/course .` of a clean clone on another
# throwaway engine, its image run with `--network none` (world up, one path traced). Everything it
# made is removed (the tests prove it).
# `make test-course-image-suite` (test.sh --suite): instead, the course's whole `make test`
# inside the test variant (make course-image VARIANT=test) (`docker run --rm --privileged dnlab/course make test`), its passed/failed counts and
# time; its output kept in /var/cache/dnlab/course-image-test/suite-<engine>.log.
# `make test-course-image-arm64` (test.sh --arm64): the arm64 image (make course-image ARCH=arm64, under
# qemu-user-static) in a throwaway engine, as far as qemu-user carries it, then `dnlab up`, a container and
# a traced path under full-system emulation (scripts/course-image/arm64-system.sh, ~4-5 min here;
# tests/course_image/test_arm64.py, docs/COURSE_IMAGE.md). DNLAB_COURSE_IMAGE_REUSE=1: the image already
# built, even of an earlier tree (build.sh prints what changed since).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "test-course-image: needs root. Fix: sudo make test-course-image" >&2; exit 2; }
started=$SECONDS
# A clean clone has no venv yet: the machine's own install (the test drives the engine from here).
[ -x .venv/bin/python ] || bash scripts/install.sh --tests
# Each selects its tier by marker (tests/tiers.py); both are opt-in, never run by `make test`.
arch="" nice=0
case "${1:-}" in
  --suite) target=make\ test-course-image-suite; tier=course_image_suite; variant=test ;;
  # The arm64 image under qemu: its build is long and shares the machine, so it runs at the lowest priority.
  --arm64) target=make\ test-course-image-arm64; tier=course_image_arm64; variant=learner; arch=arm64; nice=19 ;;
  *) target=make\ test-course-image; tier=course_image; variant=learner ;;
esac
VARIANT=$variant ARCH=$arch nice -n "$nice" bash scripts/course-image/build.sh
echo "==> image ready after $(( SECONDS - started )) s; testing it in a throwaway engine"
set +e
junit=${DNLAB_JUNIT:-/run/dnlab-test-results/$tier.xml}
.venv/bin/python -m pytest -p no:cacheprovider -s -v -m "$tier" --junitxml "$junit" tests/course_image
rc=$?
.venv/bin/python scripts/test_report.py "$junit"
set -e
echo "==> $target: exit $rc after $(( SECONDS - started )) s"
exit "$rc"
