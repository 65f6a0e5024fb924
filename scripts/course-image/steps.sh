#!/usr/bin/env bash
# The course image's build steps: the ONE list, run by both builds so they cannot differ:
#   the Dockerfile (`docker build -t dnlab/course .`: RUN bash scripts/course-image/steps.sh $VARIANT), and
#   `make course-image` (scripts/course-image/build.sh: a debootstrapped Debian 13 root, offline import).
# Runs as root in a Debian 13 root (any architecture Debian builds) that holds the repository at
# /opt/dnlab (this script's ../..). It only installs things: no engine, no namespace.
#
#   steps.sh [learner]   the image learners run: the course, its venv (with the classroom extra, for a
#                        hub's spawner), Docker 28.5 (Debian's docker.io fetched: the lab's engine) and
#                        Debian 13's own 26.1 (chapter 7 sets the two side by side), the lab images
#                        prebuilt, JupyterLab. No browser, no test tools.
#   steps.sh test        the same, then what `make test` inside needs: the test extra and Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
VARIANT=${1:-learner}
[ "$(id -u)" -eq 0 ] || { echo "steps.sh: needs root (it installs Debian packages)" >&2; exit 2; }
case "$VARIANT" in
  learner|test) ;;
  *) echo "steps.sh: unknown variant '$VARIANT' (learner or test). Fix: bash scripts/course-image/steps.sh test" >&2; exit 2 ;;
esac
export DEBIAN_FRONTEND=noninteractive
# Documentation, manual pages and message translations: nobody reads them in the image (~40 MiB), nor
# containerd's programs dockerd never runs (ctr, the v1 shims, containerd-stress: ~45 MiB). dpkg leaves
# them out of every package installed from here on (copyright files stay); the base's go below.
cat > /etc/dpkg/dpkg.cfg.d/90dnlab-lean <<'LEAN'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/bin/ctr
path-exclude=/usr/bin/containerd-stress
path-exclude=/usr/bin/containerd-shim
path-exclude=/usr/bin/containerd-shim-runc-v1
LEAN
# make: `make test` inside the image (Docker Hub's debian:trixie lacks it; the debootstrapped root has it).
apt-get update -q
apt-get install -y -q --no-install-recommends make ca-certificates
# install.sh's own steps: packages, venv, images. The machine check (doctor) waits for the container's
# first start: a build has no privileges. --engine 28: the Dockerfile's DNLAB_ENGINE=28 runs the lab's
# hosts on it, so the fetch must succeed here (a course container may have no network:
# `docker run --network none`).
DNLAB_EXTRAS=classroom DNLAB_INSTALL_NO_DOCTOR=1 bash scripts/install.sh --engine 28
if [ "$VARIANT" = test ]; then
  DNLAB_EXTRAS=test,classroom DNLAB_INSTALL_NO_DOCTOR=1 bash scripts/install.sh --tests --engine 28
fi
# Keep the image small: package lists and download caches, unless they are a build's bind-mounted
# cache (make course-image reuses them across builds; they are not part of its root's tar).
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin   # lists and apt's own binary caches (~120 MiB)
mountpoint -q /var/cache/apt/archives || apt-get clean
mountpoint -q /root/.cache/pip || rm -rf /root/.cache/pip
# What the base brought of the same (see 90dnlab-lean above).
find /usr/share/doc -mindepth 2 \( -type f -o -type l \) ! -name copyright -delete
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf /usr/share/man/* /usr/share/info/*
# The hub's own web pages' assets (~40 MiB): a course container runs jupyterhub-singleuser, whose pages
# are jupyter_server's; the hub (the classroom's, on the machine) serves its own.
if [ "$VARIANT" = learner ]; then rm -rf /opt/dnlab/.venv/share/jupyterhub/static/components; fi
# The Python packages' own test suites (~26 MiB) and Babel's locale data but English's and Japanese's
# (~30 MiB; the course and JupyterLab run in English or Japanese, and JupyterLab checks a language pack's
# locale with Babel): nothing the course runs imports them.
site=$(echo /opt/dnlab/.venv/lib/python3*/site-packages)
find "$site" -mindepth 2 -type d \( -name tests -o -name test \) -prune -exec rm -rf {} +
find "$site/babel/locale-data" -name '*.dat' ! -name 'en.dat' ! -name 'en_*.dat' ! -name 'ja.dat' ! -name 'ja_*.dat' \
  ! -name 'root.dat' -delete
# What nothing in a running image reads (issue 21: the learner image <= 1.0 GB, 10^9 bytes, as `docker
# image inspect` counts it): the C sources Cython compiled the packages' extensions from (~14 MiB; the
# compiled .so stay), the web assets' source maps (~8 MiB; only a browser's developer tools fetch them),
# jedi's stubs of the ~150 third-party packages the venv does not hold (~9 MiB; those of the packages
# it holds, docker's and requests' among them, and the standard library's stay: completion in the
# notebooks uses them), debconf's backup copies, and Debian's pip (~10 MiB: the venv has its own; dpkg
# refuses, and the build fails, if a package needs it).
find /opt/dnlab/.venv \( -name '*.c' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.map' \) -type f -delete
for dist in "$site"/jedi/third_party/typeshed/stubs/*/; do
  held=""
  for module in "$dist"*; do
    name=$(basename "$module" .pyi)
    if compgen -G "$site/$name" >/dev/null || compgen -G "$site/$name.*" >/dev/null; then held=1; break; fi
  done
  [ -n "$held" ] || rm -rf "$dist"
done
rm -f /var/cache/debconf/*-old
if dpkg -s python3-pip >/dev/null 2>&1; then dpkg --purge python3-pip >/dev/null; fi
# Identical files once, as hard links (~28 MiB): JupyterLab's static assets are both in its package and
# in share/jupyter/lab, Voila's and the widgets' likewise. Every path stays and reads the same; nothing
# rewrites these files in place (pip replaces a file, it does not write into it). Mode and owner must
# match; only times may differ.
hardlink --quiet --ignore-time --minimum-size 1K /opt/dnlab/.venv /usr
# The start (issue 21: `docker run` to JupyterLab answering with the world up <= 3 s). jupyter_server
# imports jsonschema, which imports rfc3987-syntax when it is installed (jupyter-events asks for
# jsonschema's format-nongpl extra), and that module compiles a Lark grammar at import: 1.2 s of
# JupyterLab's 2.7 s to listening, measured in the image. Without it (and lark, which nothing else
# needs) jsonschema leaves the "iri" formats unchecked, which no schema of JupyterLab or the course uses.
/opt/dnlab/.venv/bin/python -m pip uninstall -y -q rfc3987-syntax lark
# The start, again: each inner engine's data-root is on the image's VOLUME, new at every `docker run`,
# and a `docker load` of the lab images into each of the two engines cost ~0.5 s of CPU there. The
# store that load leaves is written now (helpers/world/imagestore.py; no dockerd runs in a build), its
# files hard links to the root's own where identical (the toolbox's binaries and libraries are: ~2 MiB
# instead of 45); `dnlab up` copies it into each fresh data-root (~0.1 s of CPU) and no engine loads.
/opt/dnlab/.venv/bin/python -m helpers.world.imagestore
# The course's own modules compiled now: the editable install left the ones no build step imported
# (the internet service's among them) to be compiled again at every container's start.
/opt/dnlab/.venv/bin/python -m compileall -q /opt/dnlab/helpers >/dev/null
echo "==> course image steps ($VARIANT, $(dpkg --print-architecture)) done: Debian $(cat /etc/debian_version)," \
  "$(/var/cache/dnlab/engines/28.*/bin/dockerd --version)"
