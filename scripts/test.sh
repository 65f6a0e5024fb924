#!/usr/bin/env bash
# Run every test: unit, integration on real lab worlds, the browser test, and the notebooks (nbval:
# --nbval-lax runs every cell and fails on an error; no output is compared, the notebooks store none).
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
.venv/bin/python -m pytest -p no:cacheprovider "$@" tests \
  --nbval-lax notebooks labs/solutions
rc=$?
echo "test suite took $(( $(date +%s) - started )) s"
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi
exit "$rc"
