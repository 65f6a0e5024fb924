#!/usr/bin/env bash
# Install everything the course needs on a Debian/Ubuntu machine, idempotently:
# system packages, the venv with this package, the lab image. Run as root (or through sudo).
# With --tests, also a headless Chromium for the browser tests (the course itself needs none).
# With --engine 28 (implied by --tests, so CI's Docker 28 leg has it), Debian's docker.io 28.5 is fetched
# ahead of time into /var/cache/dnlab/engines (`dnlab engines fetch 28`; offline afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh needs root (it installs Debian packages). Fix: sudo bash scripts/install.sh" >&2
  exit 2
fi
# With --classroom, also what a workshop hub needs (make classroom): Node.js for configurable-http-proxy
# (npm, into .venv) and the hub's Python packages (the classroom extra). Learners' machines need neither.
for_tests=0
for_classroom=0
fetch_engines=""
prev=""
for arg in "$@"; do
  if [ "$prev" = --engine ]; then fetch_engines="$fetch_engines $arg"; fi
  case "$arg" in
    --tests) for_tests=1 ;; --classroom) for_classroom=1 ;; --engine=*) fetch_engines="$fetch_engines ${arg#--engine=}" ;;
  esac
  prev=$arg
done
if [ "$prev" = --engine ]; then
  echo "install.sh: --engine needs a version. Fix: sudo bash scripts/install.sh --engine 28" >&2
  exit 2
fi
# curl, bind9-dnsutils (dig) and netcat-openbsd (nc) go into the toolbox image dnlab/tools with
# iproute2, iptables and tcpdump: copied from these packages, same names on Debian 12 and 13.
# nftables (nft): a learner's own tables, named by the rule trace (helpers/observe/nftrace.py).
# python3-venv, not python3-pip: the venv gets its own pip from Debian's python3-pip-whl (ensurepip), and
# the course image drops Debian's pip (scripts/course-image/steps.sh), so `make test` inside it installs.
PACKAGES="docker.io busybox-static iproute2 iptables nftables tcpdump conntrack util-linux mount procps python3-venv curl bind9-dnsutils netcat-openbsd"
# fonts-ipafont-gothic: the Japanese edition's figures (helpers/draw/display.py; 12 MB installed, where
# fonts-noto-cjk would take 91 MB).
PACKAGES="$PACKAGES fonts-ipafont-gothic"
. /etc/os-release
# Debian 13 split the docker CLI out of docker.io into its own package, docker-cli (Debian 12's and
# Ubuntu's docker.io still ship it). A machine that already has a `docker` (docker-ce-cli) keeps it.
debian_major=$(cut -d. -f1 /etc/debian_version 2>/dev/null || true)
if ! command -v docker >/dev/null 2>&1 && [ "${ID:-}" = debian ] \
   && { ! [ "$debian_major" -lt 13 ] 2>/dev/null; }; then
  PACKAGES="$PACKAGES docker-cli"
fi
# pwru (the optional kernel-function trace, helpers/world/pwru.py; `dnlab doctor` says whether it runs):
# packaged from Debian 13 on, so not on Debian 12 (nor Ubuntu), where the doctor says so.
if [ "${ID:-}" = debian ] && [ "$debian_major" -ge 13 ] 2>/dev/null; then
  PACKAGES="$PACKAGES pwru"
fi
# Debian packages Chromium as a deb; Ubuntu's `chromium` only installs a snap, which needs snapd
# (absent in containers), so there the tests use Playwright's own Chromium build instead.
# A machine with its own Node.js (e.g. a vendor's nodejs, which bundles npm and conflicts with
# Debian's npm) keeps it: Debian's packages only where there is no npm at all.
if [ "$for_classroom" = 1 ] && ! command -v npm >/dev/null 2>&1; then PACKAGES="$PACKAGES nodejs npm"; fi
browser_from_apt=0
case " ${ID:-} ${ID_LIKE:-} " in
  *" ubuntu "*) ;;
  *) if [ "$for_tests" = 1 ]; then browser_from_apt=1; PACKAGES="$PACKAGES chromium"; fi ;;
esac
missing=""
for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "==> installing Debian packages:$missing"
  apt-get update -q
  # The course wants docker.io for its dockerd binary only. Installing it would also start the
  # system Docker engine, which rewrites this machine's iptables (FORWARD policy DROP, DOCKER
  # chains): Debian's policy-rc.d switch keeps services from starting during this install.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# dnlab install: start no services\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  case " $missing " in
    *" docker.io "*)
      # Nor at the next boot, when we installed it: the learner's machine keeps its network as it was.
      if [ -d /run/systemd/system ]; then
        systemctl disable docker.service docker.socket >/dev/null 2>&1 || true
      fi
      echo "    docker.io: its system engine is left stopped and disabled (the course runs its own engines);"
      echo "    to use it yourself: sudo systemctl enable --now docker" ;;
  esac
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "install.sh: no docker CLI after installing docker.io (the course's chapters run it)." >&2
  echo "  fix: sudo apt-get install -y docker-cli   # Debian 13+; elsewhere: docker.io" >&2
  exit 2
fi
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> making the venv (.venv)"
  "$PY" -m venv .venv
fi
# ruff is a binary, not an import: ask it directly (scripts/test.sh runs it before the tests).
if ! .venv/bin/python -c "import helpers, docker, voila, nbval, playwright" 2>/dev/null \
   || ! .venv/bin/ruff --version >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.dnlab-installed ]; then
  echo "==> installing the dnlab package and its test tools into .venv (progress below)"
  # DNLAB_EXTRAS: the course image adds `classroom` (scripts/course-image/steps.sh).
  .venv/bin/python -m pip install --progress-bar on -e ".[${DNLAB_EXTRAS:-test}]"
  touch .venv/.dnlab-installed
fi
if [ "$for_classroom" = 1 ]; then
  if ! .venv/bin/python -c "import jupyterhub, dockerspawner, jupyterhub_idle_culler" 2>/dev/null; then
    echo "==> installing the classroom's hub (jupyterhub, dockerspawner, the idle culler) into .venv"
    .venv/bin/python -m pip install --progress-bar on -e ".[test,classroom]"
  fi
  if [ ! -x .venv/bin/configurable-http-proxy ]; then
    echo "==> installing configurable-http-proxy (npm) into .venv"
    npm install -g --prefix .venv --no-fund --no-audit configurable-http-proxy
  fi
fi
if [ "$for_tests" = 1 ] && [ "$browser_from_apt" = 0 ] && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Playwright's Chromium for the browser tests (not Debian: no Chromium deb)"
  .venv/bin/python -m playwright install --with-deps chromium
fi
echo "==> building the course images (offline, from busybox-static and Debian's tools)"
.venv/bin/python -c "from helpers.world import image; p = image.cached_archive(); print(f'    {\", \".join(image.COURSE_TAGS)}: {p.stat().st_size // 2**20} MiB at {p}')"
for version in $fetch_engines; do
  echo "==> fetching Docker $version (Debian's docker.io and containerd; once per machine, offline afterwards)"
  .venv/bin/dnlab engines fetch "$version"
done
if [ "$for_tests" = 1 ] && ! case " $fetch_engines " in *" 28 "*) true ;; *) false ;; esac; then
  # The tests' Docker 28 leg (DNLAB_ENGINE=28 make test) needs it; a machine whose apt has no Debian
  # archive (Ubuntu) still gets the other legs: the fetch's error names its fix, and install goes on.
  echo "==> fetching Docker 28 for the tests' Docker 28 leg (once per machine, offline afterwards)"
  .venv/bin/dnlab engines fetch 28 || echo "    (not fetched: the Docker 28 leg will say so; the other legs run)"
fi
# An image build has no privileges to check (the course image's entrypoint checks at its start).
[ "${DNLAB_INSTALL_NO_DOCTOR:-}" = 1 ] && exit 0
echo "==> checking the machine"
.venv/bin/dnlab doctor
