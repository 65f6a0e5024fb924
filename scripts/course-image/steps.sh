#!/usr/bin/env bash
# The course image's build steps: the ONE list, run by both builds so they cannot differ:
#   the Dockerfile (`docker build -t dnlab/course .`: RUN bash scripts/course-image/steps.sh), and
#   `make course-image` (scripts/course-image/build.sh: a debootstrapped Debian 13 root, offline import).
# Runs as root in a Debian 13 root that holds the repository at /opt/dnlab (this script's ../..).
# It only installs things: the Debian packages and venv of scripts/install.sh --tests (Chromium
# included, so `make test` works inside, offline), the classroom extra (jupyterhub-singleuser for a
# hub's spawner), the course's lab images prebuilt into /var/cache/dnlab. No engine, no namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "steps.sh: needs root (it installs Debian packages)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
# make: `make test` inside the image (Docker Hub's debian:trixie lacks it; the debootstrapped root has it).
apt-get update -q
apt-get install -y -q --no-install-recommends make ca-certificates
# install.sh's own steps: packages, venv, images. The image's venv carries the classroom extra too,
# and the machine check (doctor) waits for the container's first start: a build has no privileges.
# --engine 28: the Dockerfile's DNLAB_ENGINE=28 runs the lab's hosts on it, so the fetch must succeed here
# (a course container may have no network: `docker run --network none`).
DNLAB_EXTRAS=test,classroom DNLAB_INSTALL_NO_DOCTOR=1 bash scripts/install.sh --tests --engine 28
# Keep the image small: package lists and download caches, unless they are a build's bind-mounted
# cache (make course-image reuses them across builds; they are not part of its root's tar).
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin   # lists and apt's own binary caches (~120 MiB)
mountpoint -q /var/cache/apt/archives || apt-get clean
mountpoint -q /root/.cache/pip || rm -rf /root/.cache/pip
echo "==> course image steps done: $(cat /etc/debian_version), $(dockerd --version)"
