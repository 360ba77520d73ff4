#!/usr/bin/env bash
# Prepares the emulated Linux that scripts/qemu/run.sh boots to test SocketCAN
# for real (this machine's own kernel has no CAN at all).
#
#   - installs qemu-system-x86 (+ qemu-system-data for the qboot firmware),
#     busybox-static and xz-utils from Debian, if they are missing;
#   - downloads Debian's stock kernel package (the one linux-image-amd64 points
#     at) with `apt-get download` into the cache, without installing it;
#   - extracts vmlinuz -> vmlinux (uncompressed ELF: the kernel supports PVH
#     boot, which saves ~3 s per run) and the few modules the guest needs;
#   - builds a tiny initramfs: busybox + those modules + scripts/qemu/init.sh.
#
# Idempotent: a second run with everything in place touches no network and
# takes well under a second. The cache is $GSU_QEMU_CACHE, default
# <repo>/.cache/qemu (not committed). Needs root for apt-get when something
# is missing. On failure the reason is kept in the cache as setup-failed, and
# run.sh reports it when it declines to run (exit 77: the suite skips).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${GSU_QEMU_CACHE:-$repo/.cache/qemu}
mkdir -p "$cache"

LOG_PREFIX=qemu-setup
# shellcheck source=setup-lib.sh
. "$here/setup-lib.sh" # log, fail, ms_since, qemu_modules, qemu_initramfs (shared with arm-setup.sh)
qemu_on_exit setup.sh

# Modules the guest loads (their dependencies are found and loaded first).
# virtio_pci + 9pnet_virtio + 9p: the host's filesystem; the rest: CAN.
WANT_MODULES="virtio_pci 9pnet_virtio 9p can can_raw can_bcm can_dev vcan"
# Directories of the kernel package that hold them and their dependencies.
MODULE_DIRS="kernel/drivers/virtio kernel/net/9p kernel/fs/9p kernel/fs/netfs kernel/fs/fscache kernel/net/can kernel/drivers/net/can/dev kernel/drivers/net/can/vcan.ko"

# --- 1. Debian packages -------------------------------------------------------
apt_updated=
apt_update() {
  [ -n "$apt_updated" ] && return 0
  local t; t=$(date +%s%N)
  log "apt-get update"
  apt-get update -q >/dev/null || fail "apt-get update failed"
  apt_updated=1
  log "apt-get update took $(ms_since "$t") ms"
}

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -f /usr/share/qemu/qboot.rom ] || need+=(qemu-system-data)
[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing Debian packages ${need[*]}: run this script as root (or apt-get install them)"
  apt_update
  t=$(date +%s%N)
  log "apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >"$cache/apt-install.log" 2>&1 \
    || { tail -20 "$cache/apt-install.log" >&2; fail "apt-get install ${need[*]} failed (log: $cache/apt-install.log)"; }
  log "apt-get install took $(ms_since "$t") ms"
else
  log "packages present: qemu-system-x86_64 $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'), qboot, busybox-static, xz"
fi
busybox=/bin/busybox
[ -x "$busybox" ] || fail "$busybox missing after installing busybox-static"

# --- 2. Kernel package --------------------------------------------------------
# kernel.env records which package the cache holds: PKG, PKG_VERSION, KVER.
if [ -f "$cache/kernel.env" ] && [ -f "$cache/vmlinux" ] && [ -f "$cache/modules/modules.list" ]; then
  # shellcheck disable=SC1091
  . "$cache/kernel.env"
  log "kernel present: $PKG $PKG_VERSION (cached)"
else
  rm -rf "$cache/vmlinux" "$cache/modules" "$cache/kernel.env" "$cache/initramfs.stamp"
  kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -1; }
  PKG=$(kernel_pkg)
  if [ -z "$PKG" ]; then apt_update; PKG=$(kernel_pkg); fi
  [ -n "$PKG" ] || fail "apt-cache cannot resolve linux-image-amd64 to a kernel package"
  PKG_VERSION=$(apt-cache policy "$PKG" | sed -n 's/^ *Candidate: //p')
  KVER=${PKG#linux-image-}
  t=$(date +%s%N)
  log "apt-get download $PKG $PKG_VERSION"
  dl="$cache/download"; rm -rf "$dl"; mkdir -p "$dl"
  (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >/dev/null) \
    || { apt_update; (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >/dev/null); } \
    || fail "apt-get download $PKG failed"
  deb=$(ls "$dl"/*.deb)
  log "downloaded $(( $(stat -c %s "$deb") / 1048576 )) MiB in $(ms_since "$t") ms"

  # Only vmlinuz and a few module directories: not the whole 400 MB tree,
  # and no initramfs-tools step (that would take ~17 s).
  t=$(date +%s%N)
  x="$cache/extract"; rm -rf "$x"; mkdir -p "$x"
  members=("./boot/vmlinuz-$KVER" "./lib/modules/$KVER/modules.builtin")
  for d in $MODULE_DIRS; do members+=("./lib/modules/$KVER/$d"); done
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" "${members[@]}" || fail "extracting $deb failed"

  # vmlinuz is a bzImage: setup sectors, then the protected-mode part, whose
  # compressed payload starts at payload_offset (0x248) and is payload_length
  # (0x24c) bytes long (boot protocol >= 2.08). Debian 12 compresses with xz.
  z="$x/boot/vmlinuz-$KVER"
  u8() { od -An -tu1 -j "$1" -N1 "$z" | tr -d ' '; }
  u32() { od -An -tu4 -j "$1" -N4 "$z" | tr -d ' '; }
  setup_sects=$(u8 $((0x1f1))); [ "$setup_sects" = 0 ] && setup_sects=4
  start=$(( (setup_sects + 1) * 512 + $(u32 $((0x248))) ))
  len=$(u32 $((0x24c)))
  magic=$(od -An -tx1 -j "$start" -N6 "$z" | tr -d ' \n')
  case $magic in
    fd377a585a00) dec=(xz -dc --single-stream) ;;
    1f8b*) dec=(gzip -dc) ;;
    28b52ffd*) dec=(zstd -dcq) ;;
    *) fail "unknown vmlinuz payload compression (magic $magic)" ;;
  esac
  dd if="$z" bs=64K iflag=skip_bytes,count_bytes skip="$start" count="$len" status=none \
    | "${dec[@]}" > "$cache/vmlinux.tmp" 2>/dev/null || true
  [ "$(head -c 4 "$cache/vmlinux.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] \
    || fail "decompressing vmlinuz's payload (${dec[*]}) did not give an ELF vmlinux"
  mv "$cache/vmlinux.tmp" "$cache/vmlinux"

  # Module load order: each module after its dependencies (from .modinfo's
  # depends=), built-ins skipped.
  qemu_modules "$x/lib/modules/$KVER"
  printf 'PKG=%s\nPKG_VERSION=%s\nKVER=%s\n' "$PKG" "$PKG_VERSION" "$KVER" > "$cache/kernel.env"
  rm -rf "$x" "$dl"
  log "extracted vmlinux ($(( $(stat -c %s "$cache/vmlinux") / 1048576 )) MiB) and ${#order[@]} modules (${order[*]}) in $(ms_since "$t") ms"
fi

# --- 3. initramfs -------------------------------------------------------------
# Rebuilt whenever init.sh, busybox or the kernel changes (takes ~0.1 s).
qemu_initramfs "$here/init.sh" "$busybox" "$PKG $PKG_VERSION $(sha256sum "$here/init.sh" "$busybox" "$cache/modules/modules.list" | cut -c1-64 | tr '\n' ' ')"

rm -f "$cache/setup-failed"
log "ready in $(ms_since "$t_start") ms: $cache (kernel $KVER from $PKG $PKG_VERSION)"
