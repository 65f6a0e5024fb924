#!/usr/bin/env bash
# `make test-debian13`: the course's own install and full test suite inside a fresh Debian 13
# (trixie: docker.io 26.1, Python 3.13, iptables-nft) root made here from Debian's packages.
#
#   bash scripts/debian13.sh                 clean checkout (git archive HEAD) into a fresh root,
#                                            then `bash scripts/install.sh --tests && make test`
#   bash scripts/debian13.sh --worktree      the working tree as it is (tracked + untracked files)
#   bash scripts/debian13.sh --reuse -- CMD  keep the root (and its .venv) from the last run and run
#                                            CMD in the repository there (targeted test runs)
#
# The debootstrapped base is cached as a tarball (/var/cache/dnlab/debian13/base.tar); each run
# unpacks it afresh, so every run starts from a root where nothing of the course is installed.
# Downloaded .debs and pip wheels are cached next to it (bind-mounted), so a rerun downloads little.
#
# Isolation: private mount and pid namespaces (`unshare --mount --pid --fork`), then pivot_root. Every
# mount is made inside that mount namespace and goes away with it; every process (the lab's
# dockerds included) dies with the pid namespace. The root shares the machine's kernel, network
# namespace and cgroup hierarchies: the lab's own namespaces live under the root's private /run
# (tmpfs), and its world id (DNLAB_WORLD, default d13) keeps its engines' cgroups apart from a world
# running on the machine itself at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${DNLAB_DEBIAN13_CACHE:-/var/cache/dnlab/debian13}
WORLD=${DNLAB_DEBIAN13_WORLD:-d13}
SUITE=trixie
ROOT=$CACHE/root
INNER=/work/dnlab            # where the repository sits inside the root
# `make test`'s JUnit XML: written inside the root (on its disk, not its tmpfs /run), copied out after
# the run to $DNLAB_JUNIT (where .ci/run counts from), default one file per world like scripts/test.sh.
INNER_JUNIT=/var/tmp/dnlab-test-results/junit.xml
JUNIT=${DNLAB_JUNIT:-/run/dnlab-test-results/$WORLD.xml}

fail() { echo "debian13.sh: $1" >&2; [ -n "${2:-}" ] && echo "  fix: $2" >&2; exit 2; }

source_mode=head reuse=0 cmd=""
while [ $# -gt 0 ]; do
  case "$1" in
    --worktree) source_mode=worktree ;;
    --reuse) reuse=1 ;;
    --) shift; cmd="$*"; break ;;
    *) fail "unknown argument $1" "bash scripts/debian13.sh [--worktree] [--reuse] [-- CMD]" ;;
  esac
  shift
done
[ -n "$cmd" ] || cmd="bash scripts/install.sh --tests && make test"

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, mounts, pivot_root)" "sudo make test-debian13"
# mirror, need_debootstrap, make_base: shared with `make course-image`.
. "$REPO/scripts/lib/debian-root.sh"
need_debootstrap
command -v unshare >/dev/null || fail "unshare (util-linux) is not installed" "sudo apt-get install -y util-linux"

copy_repo() {
  mkdir -p "$ROOT$INNER"
  # A reused root keeps its .venv only: no file of an earlier copy survives into this one.
  find "$ROOT$INNER" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
  if [ "$source_mode" = head ]; then
    git -C "$REPO" archive --format=tar HEAD | tar -C "$ROOT$INNER" -xf -
  else
    # Tracked and untracked (not ignored) files: never .venv, build output or caches.
    git -C "$REPO" ls-files -z -co --exclude-standard \
      | (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) \
      | tar -C "$ROOT$INNER" -xf -
  fi
}

prepare_root() {
  mkdir -p "$CACHE/apt-archives/partial" "$CACHE/pip-cache"
  ensure_base
  if [ "$reuse" = 0 ] || [ ! -d "$ROOT/usr" ]; then
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    tar -C "$ROOT" -xf "$CACHE/base.tar"
  fi
  copy_repo
  # Name resolution and TLS for apt and pip inside (the root's own files, not the machine's).
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  [ -f /etc/ssl/certs/ca-certificates.crt ] \
    && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
  # iproute2's `ip netns` needs /run/netns on a mount point; the lab makes it under the tmpfs /run.
  mkdir -p "$ROOT/run" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
}

# Runs inside the private mount + pid namespaces: mounts (all private to them), then the root.
inside() {
  set -euo pipefail
  mount --make-rprivate /
  mount --bind "$ROOT" "$ROOT"          # `ip netns` needs / to be a mount point
  mount_root "$ROOT" "$CACHE/apt-archives" "$CACHE/pip-cache"
  # The root's apt deletes downloaded .debs after installing by default (docker-clean): keep them.
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > "$ROOT/etc/apt/apt.conf.d/90dnlab-keep"
  rm -f "$ROOT/etc/apt/apt.conf.d/docker-clean"
  # pivot_root, not a bare chroot: `docker exec` (runc) joins a container's mount namespace, and
  # joining one puts the process at that namespace's root mount. Under a chroot, runc's own
  # pivot_root swaps only the chroot's mount, so every exec'd process landed in the machine's
  # Debian 12 root (/etc/debian_version 12.11, no `ping`). Here the root mount itself is the root.
  cd "$ROOT"
  mkdir -p .dnlab-oldroot
  pivot_root . .dnlab-oldroot
  /usr/bin/umount -l /.dnlab-oldroot
  rmdir /.dnlab-oldroot
  # A clean environment: none of the machine's pip settings (paths that do not exist inside).
  # The command travels in the environment, so its own quotes and pipes reach bash unchanged.
  exec /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
    LANG=C.UTF-8 CI=1 DNLAB_WORLD="$WORLD" DNLAB_JUNIT="$INNER_JUNIT" PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt DNLAB_DEBIAN13_CMD="$cmd" \
    /bin/bash -c 'cd "$1" && echo "==> Debian $(cat /etc/debian_version), world $DNLAB_WORLD: $DNLAB_DEBIAN13_CMD" \
                  && eval "$DNLAB_DEBIAN13_CMD"' debian13 "$INNER"
}

# The whole run is one function, read before it starts: editing this file during a run (an hour
# of tests) cannot change what the running shell reads next.
main() {
  started=$SECONDS
  mkdir -p "$CACHE"
  # One run at a time: two would unpack over each other's root.
  exec 9>"$CACHE/.lock"
  flock -n 9 || fail "another debian13.sh run holds $CACHE/.lock" "wait for it to end"
  prepare_root
  echo "==> root ready in $(( SECONDS - started )) s: $ROOT"
  export ROOT CACHE WORLD INNER INNER_JUNIT cmd
  export -f inside mount_root
  rm -f "$ROOT$INNER_JUNIT" "$JUNIT"   # a reused root's results are not this run's
  set +e
  unshare --mount --pid --fork --propagation private bash -c inside
  rc=$?
  set -e
  if [ -f "$ROOT$INNER_JUNIT" ]; then
    mkdir -p "$(dirname "$JUNIT")" && cp "$ROOT$INNER_JUNIT" "$JUNIT" && echo "==> JUnit results: $JUNIT"
  else
    echo "==> no JUnit results: the run inside wrote no $INNER_JUNIT"
  fi
  # Cgroups are the machine's: a dockerd killed with the pid namespace leaves its world's (empty)
  # cgroup directories behind. Remove this world's only, leaves first (rmdir fails on a busy one).
  for dir in /sys/fs/cgroup/*/dnlab-"$WORLD"-*; do
    [ -d "$dir" ] && { find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
  done
  echo "==> Debian 13 leg: exit $rc after $(( SECONDS - started )) s (mounts and processes gone with its namespaces)"
  return "$rc"
}

main; exit "$?"
