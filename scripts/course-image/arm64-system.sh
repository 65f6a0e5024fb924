#!/usr/bin/env bash
# The arm64 course image under FULL-SYSTEM emulation: a real arm64 kernel (Debian 13's
# linux-image-cloud-arm64) boots under qemu-system-aarch64 (TCG: every instruction emulated) on a disk
# made from the image's root filesystem, and runs a command there the way the image's entrypoint runs
# one in a container. What qemu-user cannot carry (rtnetlink's link and address requests, nftables'
# netlink: helpers/hosting/emulation.py) is carried here by that kernel.
#
#   arm64-system.sh [--rootfs TAR] [--changes JSON] [--timeout S] [--wall-clock] -- COMMAND...
#       boots, runs `entrypoint.sh COMMAND...` as the image's ENTRYPOINT would (the image's ENV and
#       WORKDIR from changes.json), powers off. Prints the command's stdout and stderr and exits with
#       its exit status (124: it did not end within the timeout; 125: the VM did not get to run it).
#       Default TAR and JSON: the arm64 learner image (make course-image ARCH=arm64).
#       --wall-clock: the VM's clock is this machine's, not its instruction count (see CLOCK below):
#       how dockerd 28.5's containerd wait failed here (docs/COURSE_IMAGE.md "arm64").
#
# Kept in $SYSTEM (the image's folder's system/): the kernel (fetched once, ~30 MB, its modules
# uncompressed with a modules.dep), the last run's disk (sparse, removed at the next run) and its
# console (console.log: the kernel's boot messages, then the command's stderr as it runs, each line
# stamped with the seconds since qemu started, on this machine's clock). The VM has no network device
# (-nic none): nothing leaves it, the lab's traffic stays in its own namespaces. No engine of this machine is touched.
#
# Not what a container gives: the init below mounts /proc, /sys, /dev, the cgroup2 hierarchy, /run and
# /tmp itself and brings `lo` up, as an engine would for a container; the kernel's module loader uses
# busybox's modprobe (the image has no kmod: in a container the machine's kernel has its modules).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
CACHE=${DNLAB_DEBIAN13_CACHE:-/var/cache/dnlab/debian13}
IMAGE_DIR=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from helpers.hosting.course_image import course_image_dir; print(course_image_dir(arch="arm64"))' "$REPO")
SYSTEM=$IMAGE_DIR/system
ROOTFS=$IMAGE_DIR/rootfs.tar
CHANGES=$IMAGE_DIR/changes.json
TIMEOUT=3600
KERNEL_PACKAGE=linux-image-cloud-arm64   # virtio, NVMe and ext4 built in; netfilter, bridge, veth as modules
SUITE=trixie
DISK_SIZE=8G
# The emulated CPU: everything of `max` but pointer authentication, whose QARMA cipher qemu computes in
# software at each signed pointer (a kernel built for it signs its return addresses): the kernel booted
# in 17 s with it, 6-9 s without (2026-12-07, load 2-9). Nothing in the course uses it; `max` keeps the
# RNDR instruction, which seeds the kernel's CRNG at boot ("random: crng init done" at 0.000000).
CPU=max,pauth=off
# The VM's clock. Under TCG each instruction is emulated on this shared 2-core machine, at a speed that
# follows its load; with the machine's clock, programs' own timeouts run out while the emulation waits
# for a core: dockerd 28.5 gives the containerd it starts 15 s to answer (moby's libcontainerd
# startupTimeout), and containerd 2.1 printed its first line 7 s after dockerd started it and served
# after 12.5 s, so both hosts' dockerd ended "failed to start containerd: timeout waiting for containerd
# to start". -icount shift=0: the clock advances 1 ns per instruction executed, so to the programs the
# VM is a 1 GHz arm64 machine however loaded this one is (their timeouts stay theirs, counted in the VM's
# own work); idle time passes at the real rate (sleep=on). qemu then runs both vCPUs in one thread.
CLOCK=(-icount shift=0,sleep=on)

fail() { echo "arm64-system: $1" >&2; [ -n "${2:-}" ] && echo "  fix: $2" >&2; exit 125; }
# shellcheck source=../lib/debian-root.sh
. "$REPO/scripts/lib/debian-root.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs) ROOTFS=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --wall-clock) CLOCK=(); shift ;;
    --) shift; break ;;
    *) fail "unknown argument $1" "bash scripts/course-image/arm64-system.sh -- uname -a" ;;
  esac
done
[ $# -gt 0 ] || fail "no command to run in the VM" "bash scripts/course-image/arm64-system.sh -- uname -a"
[ "$(id -u)" -eq 0 ] || fail "needs root (the disk keeps the image's owners)" "sudo bash $0 -- $*"
[ -f "$ROOTFS" ] || fail "no arm64 image at $ROOTFS" "sudo make course-image ARCH=arm64"
if ! command -v qemu-system-aarch64 >/dev/null; then
  echo "==> installing qemu-system-arm (qemu-system-aarch64: the arm64 VM)" >&2
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-system-arm; } \
    >/dev/null || fail "qemu-system-aarch64 is not installed and apt-get could not install it" \
    "sudo apt-get install -y --no-install-recommends qemu-system-arm"
fi
command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null \
  || fail "mkfs.ext4 and debugfs are not installed" "sudo apt-get install -y e2fsprogs"

# The kernel and its modules, fetched once with apt from the machine's Debian mirror into an apt root of
# arm64's own (this machine's dpkg gets no foreign architecture), unpacked with dpkg-deb. busybox's
# depmod (under qemu-user) writes modules.dep for busybox's modprobe, which reads uncompressed modules.
fetch_kernel() {
  local dir=$SYSTEM/kernel apt=$SYSTEM/apt tmp
  [ -f "$dir/ready" ] && return 0
  need_emulation arm64
  echo "==> fetching Debian $SUITE's $KERNEL_PACKAGE and busybox-static (arm64) from $(mirror)" >&2
  rm -rf "$dir" "$apt"
  mkdir -p "$apt/etc/apt/apt.conf.d" "$apt/etc/apt/preferences.d" "$apt/etc/apt/sources.list.d" \
    "$apt/var/lib/apt/lists/partial" "$apt/var/cache/apt/archives/partial" "$apt/var/lib/dpkg" "$apt/debs"
  : > "$apt/var/lib/dpkg/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) $SUITE main" > "$apt/etc/apt/sources.list"
  local options=(-o "Dir=$apt" -o "Dir::State::status=$apt/var/lib/dpkg/status" -o APT::Architecture=arm64
                 -o APT::Architectures::=arm64 -o Debug::NoLocking=1)
  apt-get "${options[@]}" update -q >&2 || fail "apt could not read $SUITE's arm64 package lists" "sudo apt-get update"
  local image
  image=$(apt-cache "${options[@]}" depends "$KERNEL_PACKAGE" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$image" ] || fail "apt names no kernel package behind $KERNEL_PACKAGE" "rm -rf $SYSTEM and run again"
  (cd "$apt/debs" && apt-get "${options[@]}" download "$image" busybox-static >&2) \
    || fail "apt could not download $image" "rm -rf $SYSTEM and run again"
  tmp=$dir.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp/root"
  dpkg-deb -x "$apt/debs/$image"_*.deb "$tmp/root"
  dpkg-deb -x "$apt/debs"/busybox-static_*.deb "$tmp/busybox"
  cp "$tmp/root"/boot/vmlinuz-* "$tmp/vmlinuz"
  cp "$tmp/busybox/usr/bin/busybox" "$tmp/busybox.arm64"
  ln -s usr/lib "$tmp/root/lib"
  find "$tmp/root/usr/lib/modules" -name '*.ko.xz' -exec xz -d {} +
  "$tmp/busybox.arm64" depmod -b "$tmp/root" "$(ls "$tmp/root/usr/lib/modules")"
  mv "$tmp/root/usr/lib/modules" "$tmp/modules"
  rm -rf "$tmp/root" "$tmp/busybox"
  echo "$image" > "$tmp/package"
  touch "$tmp/ready"
  mv "$tmp" "$dir"
}

# PID 1 in the VM: what an engine does for a container, then the image's ENTRYPOINT with the command,
# its output kept on the disk (read back with debugfs) and its exit status on the console.
write_init() {  # write_init ROOT COMMAND...
  local root=$1
  shift
  mkdir -p "$root/dnlab-system"
  cp "$SYSTEM/kernel/busybox.arm64" "$root/dnlab-system/busybox"
  ln -sf busybox "$root/dnlab-system/modprobe"
  cp -a "$SYSTEM/kernel/modules/." "$root/usr/lib/modules/"
  python3 - "$CHANGES" > "$root/dnlab-system/image.env" <<'PY'
import json, shlex, sys
for change in json.load(open(sys.argv[1])):
    instruction, _, rest = change.partition(" ")
    if instruction == "ENV":
        for pair in shlex.split(rest):
            name, _, value = pair.partition("=")
            print(f"export {name}={shlex.quote(value)}")
    elif instruction == "WORKDIR":
        print(f"cd {shlex.quote(rest)}")
    elif instruction == "ENTRYPOINT":
        print(f"ENTRYPOINT={shlex.quote(' '.join(json.loads(rest)))}")
PY
  printf '%q ' "$@" > "$root/dnlab-system/command"
  cat > "$root/dnlab-system/init" <<'INIT'
#!/bin/bash
# PID 1 of the VM (scripts/course-image/arm64-system.sh). bash: the command is written with printf %q.
bb=/dnlab-system/busybox
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mkdir -p /dev/pts /dev/shm /dev/mqueue
# The links runc makes in a container's /dev (devtmpfs has none; bash's process substitution needs /dev/fd).
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
ln -sfn /proc/kcore /dev/core
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo /dnlab-system/modprobe > /proc/sys/kernel/modprobe
echo 1 > /proc/sys/kernel/printk      # the console is for the command's progress, not the kernel's
$bb hostname dnlab-arm64
[ -s /etc/hosts ] || printf '127.0.0.1 localhost\n::1 localhost\n' > /etc/hosts
$bb ip link set lo up
echo "DNLAB-SYSTEM: booted $(uname -srm) in $(cut -d' ' -f1 /proc/uptime) s"
# The environment an engine gives a container's process (HOME, HOSTNAME; no TERM without -t), then the image's.
unset TERM
export HOME=/root HOSTNAME=dnlab-arm64
. /dnlab-system/image.env
command=$(cat /dnlab-system/command)
started=$(cut -d' ' -f1 /proc/uptime)
# stderr also to the console, as it comes: the machine stamps each line with its own clock.
eval "$ENTRYPOINT $command" > /dnlab-system/stdout 2> >(tee /dnlab-system/stderr > /dev/console) < /dev/null
rc=$?
wait $! 2>/dev/null || true   # tee's last lines
echo "$rc" > /dnlab-system/exit
# For a failure's diagnosis: the kernel's messages and the lab's logs (on tmpfs: gone at power-off).
dmesg > /dnlab-system/dmesg 2>&1
mkdir -p /dnlab-system/logs
find /run/dnlab /var/lib/dnlab -maxdepth 4 -name '*.log' -exec cp --parents {} /dnlab-system/logs/ \; 2>/dev/null
echo "DNLAB-SYSTEM: exit $rc after $(awk -v s="$started" '{ printf "%.0f", $1 - s }' /proc/uptime) s"
sync
$bb poweroff -f
INIT
  chmod 755 "$root/dnlab-system/init"
}

# Each line of the console, its \r dropped, after the seconds since START ($SECONDS) it came at.
stamp() {
  local line cr=$'\r'
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%4d s | %s\n' "$(( SECONDS - $1 ))" "${line%"$cr"}"
  done
}

main() {
  local started=$SECONDS
  mkdir -p "$SYSTEM"
  exec 9>"$SYSTEM/.lock"
  flock -n 9 || fail "another arm64-system run holds $SYSTEM/.lock" "wait for it to end"
  fetch_kernel
  local root=$SYSTEM/root disk=$SYSTEM/disk.img console=$SYSTEM/console.log
  rm -rf "$root" "$disk" "$console"
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xf "$ROOTFS"
  write_init "$root" "$@"
  # ext4 (built into the kernel) on an NVMe disk (also built in): no initramfs needed.
  mkfs.ext4 -q -F -L dnlab-arm64 -d "$root" "$disk" "$DISK_SIZE" >&2
  rm -rf "$root"
  echo "==> disk ready after $(( SECONDS - started )) s; booting $(cat "$SYSTEM/kernel/package") under" \
    "qemu-system-aarch64 -cpu $CPU ${CLOCK[*]:-"(this machine's clock)"}" >&2
  local booted=$SECONDS rc=0
  set +e
  timeout --kill-after 30 "$TIMEOUT" qemu-system-aarch64 -M virt -cpu "$CPU" "${CLOCK[@]}" -smp 2 -m 2048 \
    -nographic -nic none -no-reboot -kernel "$SYSTEM/kernel/vmlinuz" \
    -append "console=ttyAMA0 root=/dev/nvme0n1 rw rootwait init=/dnlab-system/init panic=-1" \
    -drive "file=$disk,if=none,id=disk,format=raw" -device nvme,drive=disk,serial=dnlab \
    < /dev/null 2>&1 | stamp "$booted" > "$console"
  rc=${PIPESTATUS[0]}
  set -e
  echo "==> the VM ran $(( SECONDS - booted )) s (qemu exit $rc); console: $console" >&2
  # When (this machine's seconds since qemu started) the VM got to run the command, and each smoke step
  # ended (helpers/hosting/emulation.py STEP_MARK), indented: not a step's own mark.
  grep -a -E '^ *[0-9]+ s \| (DNLAB-SYSTEM:|==> dnlab-arm64 step )' "$console" | sed 's/^ */    console at /' >&2 || true
  local file
  rm -rf "$SYSTEM/logs"
  debugfs -R "rdump /dnlab-system/logs $SYSTEM" "$disk" >/dev/null 2>&1 || true
  for file in stdout stderr exit dmesg; do
    debugfs -R "dump /dnlab-system/$file $SYSTEM/$file" "$disk" >/dev/null 2>&1 || rm -f "$SYSTEM/$file"
  done
  cat "$SYSTEM/stdout" 2>/dev/null || true
  cat "$SYSTEM/stderr" >&2 2>/dev/null || true
  [ "$rc" -eq 124 ] && return 124
  [ -s "$SYSTEM/exit" ] || { echo "arm64-system: the VM did not run the command (console: $console)" >&2; return 125; }
  return "$(cat "$SYSTEM/exit")"
}

main "$@"
