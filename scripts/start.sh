#!/usr/bin/env bash
# Set everything up, bring the lab world up and open the course in JupyterLab (127.0.0.1 only).
# The Japanese edition: DNLAB_LANG=ja (or a Japanese locale, LANG=ja_JP.UTF-8) opens
# notebooks/ja/00_setup.ipynb with JupyterLab's menus in Japanese (helpers/hosting/jupyterlab.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The language in force (helpers/language.py), for this script's commands and JupyterLab's kernels:
# `DNLAB_LANG=ja sudo make start` too, whose sudo dropped the variable.
DNLAB_LANG=$(.venv/bin/python -c 'from helpers import language; print(language.current())')
export DNLAB_LANG
.venv/bin/dnlab up
first=$(.venv/bin/python -m helpers.hosting.jupyterlab)
echo "==> opening JupyterLab on $first (the kernel runs as root: it drives the lab world)"
exec .venv/bin/jupyter lab --ip 127.0.0.1 --no-browser --allow-root \
  --ServerApp.root_dir="$PWD" "$first"
