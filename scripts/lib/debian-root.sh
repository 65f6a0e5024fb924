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

# The cached base of an architecture: $CACHE/base.tar for this machine's, base-ARCH.tar for another.
base_tar() {  # base_tar [ARCH]
  local arch=${1:-$(dpkg --print-architecture)}
  if [ "$arch" = "$(dpkg --print-architecture)" ]; then echo "$CACHE/base.tar"; else echo "$CACHE/base-$arch.tar"; fi
}

# Another architecture's programs run here through qemu-user-static, registered with binfmt_misc with
# the F flag (the kernel opens the interpreter at registration, so it works inside a chroot).
need_emulation() {  # need_emulation ARCH
  local qemu
  case "$1" in
    arm64) qemu=aarch64 ;; armhf|armel) qemu=arm ;; ppc64el) qemu=ppc64le ;; riscv64|s390x|i386) qemu=$1 ;;
    *) fail "no qemu for Debian architecture $1" "make course-image ARCH=arm64" ;;
  esac
  [ "$1" = i386 ] && return 0   # amd64 kernels run i386 programs themselves
  if ! [ -x "/usr/bin/qemu-$qemu-static" ]; then
    echo "==> installing qemu-user-static (to run $1 programs here)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user-static; } \
      >/dev/null || fail "qemu-user-static is not installed and apt-get could not install it" \
      "sudo apt-get install -y qemu-user-static"
  fi
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || fail "binfmt_misc cannot be mounted" "sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"
  if ! [ -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ]; then
    local conf=/usr/lib/binfmt.d/qemu-$qemu.conf
    [ -f "$conf" ] || fail "qemu-user-static has no $conf" "sudo apt-get install --reinstall qemu-user-static"
    # systemd-binfmt's format (:name:type:offset:magic:mask:interpreter:flags), one line.
    grep -v '^#' "$conf" | head -1 > /proc/sys/fs/binfmt_misc/register \
      || fail "could not register qemu-$qemu with binfmt_misc" "sudo update-binfmts --enable qemu-$qemu"
  fi
}

# base_tar: a minbase $SUITE root of ARCH (default this machine's), made once (~25 s natively) and
# unpacked afresh by every run.
make_base() {  # make_base [ARCH]
  local arch=${1:-$(dpkg --print-architecture)}
  local tmp=$CACHE/base-$arch.tmp out
  out=$(base_tar "$arch")
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local url
  url=$(mirror)
  [ "$arch" = "$(dpkg --print-architecture)" ] || need_emulation "$arch"
  echo "==> debootstrap $SUITE ($arch) from $url (cached afterwards as $out)"
  local started=$SECONDS
  # make and ca-certificates: what the README assumes a learner's machine has before install.sh.
  debootstrap --arch "$arch" --variant=minbase --include=make,ca-certificates "$SUITE" "$tmp" "$url" \
    > "$CACHE/debootstrap-$arch.log" 2>&1 || fail "debootstrap failed (log: $CACHE/debootstrap-$arch.log)" \
      "rm -rf $out $tmp and run the make target again"
  tar -C "$tmp" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
  echo "    base made in $(( SECONDS - started )) s"
}

# base_tar ARCH, made if missing, under a lock: `make test-debian13` and `make course-image` run
# side by side in CI, and on a fresh machine both would debootstrap into the same folder.
ensure_base() {  # ensure_base [ARCH]
  local arch=${1:-$(dpkg --print-architecture)}
  mkdir -p "$CACHE"
  # Emulation is needed by every run of another architecture (the steps), not only by its debootstrap.
  [ "$arch" = "$(dpkg --print-architecture)" ] || need_emulation "$arch"
  (
    flock 8
    [ -f "$(base_tar "$arch")" ] && exit 0
    need_debootstrap
    make_base "$arch"
  ) 8>"$CACHE/.base$([ "$arch" = "$(dpkg --print-architecture)" ] || echo "-$arch").lock"   # one per architecture:
    # an emulated debootstrap takes many minutes, and the machine's own base must not wait for it
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
