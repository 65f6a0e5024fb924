#!/usr/bin/env bash
# Set everything up, bring the lab world up and open the course in JupyterLab (127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/dnlab up
echo "==> opening JupyterLab on notebooks/ (the kernel runs as root: it drives the lab world)"
exec .venv/bin/jupyter lab --ip 127.0.0.1 --no-browser --allow-root \
  --ServerApp.root_dir="$PWD" notebooks/00_setup.ipynb
