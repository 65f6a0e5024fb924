#!/usr/bin/env bash
# `make course-image [VARIANT=test] [ARCH=arm64]`: the course image built here without any registry. A fresh Debian 13 root (the
# debootstrapped base that `make test-debian13` caches), the repository copied in by `git archive HEAD`
# to /opt/dnlab, the Dockerfile's own build steps (scripts/course-image/steps.sh) run in it, then the
# root as a tar plus the Dockerfile's image settings as `docker import --change` lines:
#
#   /var/cache/dnlab/course-image/rootfs.tar     the image's filesystem
#   /var/cache/dnlab/course-image/changes.json   ENV, WORKDIR, VOLUME, EXPOSE, ENTRYPOINT, CMD
#   /var/cache/dnlab/course-image/key            the repository tree (HEAD^{tree}) they were built from
#   /var/cache/dnlab/course-image/engine-store-* an engine's image store of this image, kept by the
#                                                classroom (helpers/hosting/classroom.py); a rebuild removes it
#
# VARIANT=learner (default: what learners and the classroom run) or test (adds what `make test` inside
# needs: steps.sh test); ARCH=arm64 (or any Debian architecture; default this machine's) debootstraps
# that architecture's Debian 13 and runs the steps under qemu-user-static through binfmt_misc. Each
# other variant or architecture has a folder of its own: course-image-test, course-image-arm64,
# course-image-test-arm64 (helpers/hosting/course_image.py course_image_dir), so the default one others
# import is never overwritten by them.
#
# A rebuild of an unchanged tree does nothing; DNLAB_COURSE_IMAGE_REUSE=1 keeps an image of an earlier
# tree (and prints the files changed since), e.g. `make test-course-image-arm64` after a commit that
# only touched the tests. It prints the `docker import` command that makes the
# image in an engine; `make test-course-image` imports it into a throwaway engine and tests it.
#
# Isolation: private mount and pid namespaces (`unshare --mount --pid --fork`), then chroot (the steps
# only install things: no engine runs). Every mount goes with the mount namespace, every process with
# the pid namespace. The root shares the machine's network namespace: apt and pip reach their registries.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
CACHE=${DNLAB_DEBIAN13_CACHE:-/var/cache/dnlab/debian13}    # base.tar, pip-cache (its .debs seed ours)
VARIANT=${VARIANT:-learner}
NATIVE=$(dpkg --print-architecture)
ARCH=${ARCH:-$NATIVE}
suffix=""
[ "$VARIANT" = learner ] || suffix="-$VARIANT"
[ "$ARCH" = "$NATIVE" ] || suffix="$suffix-$ARCH"
OUT=${DNLAB_COURSE_IMAGE_DIR:-/var/cache/dnlab/course-image}$suffix
SUITE=trixie
ROOT=$OUT/root
INNER=/opt/dnlab

fail() { echo "course-image: $1" >&2; [ -n "${2:-}" ] && echo "  fix: $2" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, mounts, chroot)" "sudo make course-image"
case "$VARIANT" in learner|test) ;; *) fail "unknown VARIANT=$VARIANT (learner or test)" "make course-image VARIANT=test" ;; esac
git -C "$REPO" rev-parse --verify -q HEAD >/dev/null || fail "no git commit to build from" "git commit, then make course-image"
# shellcheck source=../lib/debian-root.sh
. "$REPO/scripts/lib/debian-root.sh"

print_import() {
  echo "==> the $VARIANT image ($ARCH), offline: rootfs $(du -m "$OUT/rootfs.tar" | cut -f1) MiB; to make it in an engine:"
  echo "    $(cat "$OUT/import-command.txt")"
}

prepare_root() {
  mkdir -p "$CACHE/pip-cache"
  # Its own apt archive: CI builds the image while the Debian 13 leg installs into its root.
  own_apt_archives "$OUT/apt-archives" "$CACHE/apt-archives"
  ensure_base "$ARCH"
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  tar -C "$ROOT" -xf "$(base_tar "$ARCH")"
  mkdir -p "$ROOT$INNER"
  git -C "$REPO" archive --format=tar HEAD | tar -C "$ROOT$INNER" -xf -
  # Name resolution and TLS for apt and pip during the build; replaced by the engine's at run time.
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  [ -f /etc/ssl/certs/ca-certificates.crt ] \
    && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$ROOT/run" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/root/.cache/pip"
  # Keep downloaded .debs in the bind-mounted cache (the base's apt deletes them by default).
  echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > "$ROOT/etc/apt/apt.conf.d/90dnlab-keep"
  rm -f "$ROOT/etc/apt/apt.conf.d/docker-clean"
}

# Runs inside the private mount + pid namespaces.
inside() {
  set -euo pipefail
  mount --make-rprivate /
  mount_root "$ROOT" "$OUT/apt-archives" "$CACHE/pip-cache"
  # A clean environment: none of the machine's pip settings (paths that do not exist inside).
  exec chroot "$ROOT" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    /bin/bash -c "bash $INNER/scripts/course-image/steps.sh $VARIANT \
      && $INNER/.venv/bin/python -m helpers.hosting.course_image changes $INNER/Dockerfile > /tmp/changes.json \
      && $INNER/.venv/bin/python -m helpers.hosting.course_image command /tmp/changes.json $OUT/rootfs.tar $FOREIGN \
         > /root/import-command.txt && cp /tmp/changes.json /root/changes.json"
}

# What the build alone needed goes before the tar: the machine's resolver and CA bundle stay out.
finish_root() {
  mv "$ROOT/root/changes.json" "$OUT/changes.json.tmp"
  mv "$ROOT/root/import-command.txt" "$OUT/import-command.txt"
  rm -f "$ROOT/etc/apt/apt.conf.d/90dnlab-keep"
  # The base's own .debs (debootstrap leaves them), hidden under the bind-mounted archive during the steps.
  find "$ROOT/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
  : > "$ROOT/etc/resolv.conf"
  rm -rf "$ROOT/root/.cache"
  # The base's own CA bundle again (ca-certificates makes it from the root's certificates).
  chroot "$ROOT" update-ca-certificates --fresh >/dev/null 2>&1 || true
}

main() {
  local started=$SECONDS key
  key=$(git -C "$REPO" rev-parse 'HEAD^{tree}')
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock -n 9 || fail "another course-image build holds $OUT/.lock" "wait for it to end"
  if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
    echo "==> note: uncommitted changes are not in the image (it is built from HEAD, $(git -C "$REPO" rev-parse --short HEAD))"
  fi
  if [ -f "$OUT/rootfs.tar" ] && [ -f "$OUT/changes.json" ] && [ "$(cat "$OUT/key" 2>/dev/null)" = "$key" ]; then
    echo "==> course image of tree ${key:0:12} is already built (cached, $(( SECONDS - started )) s)"
    print_import
    return 0
  fi
  # An image of an earlier tree, kept on purpose (the arm64 build takes more than an hour under
  # emulation): what changed since is printed, so a test of it says what it tested.
  if [ "${DNLAB_COURSE_IMAGE_REUSE:-}" = 1 ] && [ -f "$OUT/rootfs.tar" ] && [ -f "$OUT/changes.json" ] && [ -s "$OUT/key" ]; then
    local built
    built=$(cat "$OUT/key")
    echo "==> DNLAB_COURSE_IMAGE_REUSE=1: the image of tree ${built:0:12} is used as it is (HEAD's tree is" \
      "${key:0:12}); files changed since it was built:"
    git -C "$REPO" diff --stat=120 "$built" "$key" 2>/dev/null | sed 's/^/    /' \
      || echo "    (tree ${built:0:12} is not in this repository: unknown)"
    print_import
    return 0
  fi
  echo "==> building the course image ($VARIANT, $ARCH) of tree ${key:0:12} in $ROOT"
  prepare_root
  FOREIGN=""   # the architecture import names (--platform), only when it is not the machine's
  [ "$ARCH" = "$NATIVE" ] || FOREIGN=$ARCH
  export ROOT CACHE INNER OUT VARIANT ARCH FOREIGN
  export -f inside mount_root
  unshare --mount --pid --fork --propagation private bash -c inside \
    || fail "the build steps failed (above)" "sudo make course-image   # after fixing the cause"
  finish_root
  echo "==> steps done after $(( SECONDS - started )) s; writing the root's tar"
  rm -f "$OUT/key"
  # Engines' image stores of the image being replaced (helpers/hosting/course_image.py engine_store):
  # named after its tar, so never used again; their files are the old image's last links.
  rm -rf "$OUT"/engine-store-* "$OUT"/.engine-store-*
  tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -cf "$OUT/rootfs.tar.tmp" .
  mv "$OUT/rootfs.tar.tmp" "$OUT/rootfs.tar"
  mv "$OUT/changes.json.tmp" "$OUT/changes.json"
  echo "$key" > "$OUT/key"
  rm -rf "$ROOT"
  echo "==> course image ($VARIANT, $ARCH) built in $(( SECONDS - started )) s"
  print_import
}

main; exit "$?"
