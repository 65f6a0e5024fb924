# Shared by scripts/debian13.sh (`make test-debian13`) and scripts/course-image/build.sh
# (`make course-image`): the cached debootstrapped Debian base both unpack. Sourced, not run.
# The caller sets CACHE (the cache folder), SUITE (trixie) and defines fail MESSAGE [FIX].

# The Debian mirror this machine's apt already uses (deb822 `URIs:` or a one-line `deb` entry), so
# the root comes from where the machine's own packages come from.
mirror() {
  [ -n "${DNLAB_DEBIAN_MIRROR:-}" ] && { echo "$DNLAB_DEBIAN_MIRROR"; return; }
  local found
  found=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
  [ -n "$found" ] || found=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    | awk '$0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
  [ -n "$found" ] || fail "no Debian mirror found in /etc/apt" "export DNLAB_DEBIAN_MIRROR=<the URL of a Debian mirror>"
  echo "$found"
}

# debootstrap's tool itself (CI starts from a machine without it).
need_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  echo "==> installing debootstrap"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } >/dev/null \
    || fail "debootstrap is not installed and apt-get could not install it" "sudo apt-get install -y debootstrap"
}

# $CACHE/base.tar: a minbase $SUITE root, made once (~25 s) and unpacked afresh by every run.
make_base() {
  local tmp=$CACHE/base.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local url
  url=$(mirror)
  echo "==> debootstrap $SUITE from $url (cached afterwards as $CACHE/base.tar)"
  local started=$SECONDS
  # make and ca-certificates: what the README assumes a learner's machine has before install.sh.
  debootstrap --variant=minbase --include=make,ca-certificates "$SUITE" "$tmp" "$url" \
    > "$CACHE/debootstrap.log" 2>&1 || fail "debootstrap failed (log: $CACHE/debootstrap.log)" \
      "rm -rf $CACHE/base.tar $CACHE/base.tmp and run the make target again"
  tar -C "$tmp" -cf "$CACHE/base.tar.tmp" .
  mv "$CACHE/base.tar.tmp" "$CACHE/base.tar"
  rm -rf "$tmp"
  echo "    base made in $(( SECONDS - started )) s"
}

# $CACHE/base.tar, made if missing, under a lock: `make test-debian13` and `make course-image` run
# side by side in CI, and on a fresh machine both would debootstrap into the same folder.
ensure_base() {
  mkdir -p "$CACHE"
  (
    flock 8
    [ -f "$CACHE/base.tar" ] && exit 0
    need_debootstrap
    make_base
  ) 8>"$CACHE/.base.lock"
}

# An apt archive folder of this build's own (apt locks the whole folder while it downloads, so two
# roots installing at once cannot share one), seeded with hard links to the .debs another build
# already downloaded (no copy, no second download).
own_apt_archives() {  # own_apt_archives DIR SEED_DIR
  mkdir -p "$1/partial"
  if [ -d "$2" ]; then
    find "$2" -maxdepth 1 -name '*.deb' -exec cp -ln {} "$1/" \; 2>/dev/null || true
  fi
}

# What a root needs mounted inside its private mount namespace (all of it goes with the namespace):
# proc, the machine's /sys and /dev, a fresh /run and /tmp, the download caches bound in.
# Runs inside `unshare`: callers `export -f mount_root` with their own `inside`.
mount_root() {  # mount_root ROOT APT_ARCHIVES PIP_CACHE
  mount -t proc proc "$1/proc"
  mount --rbind /sys "$1/sys"
  mount --rbind /dev "$1/dev"
  mount -t tmpfs -o mode=755 tmpfs "$1/run"
  mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
  mount --bind "$2" "$1/var/cache/apt/archives"
  mkdir -p "$1/root/.cache/pip"
  mount --bind "$3" "$1/root/.cache/pip"
}
