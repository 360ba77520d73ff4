# shellcheck shell=bash disable=SC2034,SC2154
# (SC2034, SC2154: t_start and order are read by the caller; cache, busybox, WANT_MODULES,
# MODULE_DIRS and PKG are the caller's.)
# scripts/qemu/setup-lib.sh: what setup.sh (the x86 vcan lane) and arm-setup.sh (the
# emulated ARM boards) both do, sourced by them: logging and the failure record, the
# guest's kernel modules in load order, and the initramfs. Not run on its own.
# The caller sets: cache (its cache directory), LOG_PREFIX, and, for qemu_modules,
# WANT_MODULES, MODULE_DIRS and PKG.

t_start=$(date +%s%N)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
log() { echo "$LOG_PREFIX: $*"; }
# fail MESSAGE: says it, keeps it in $cache/setup-failed (the runner's skip message repeats it), exits 1.
fail() {
  log "FAILED: $*" >&2
  echo "$*" > "$cache/setup-failed"
  exit 1
}
# qemu_on_exit SCRIPT: an exit with no recorded reason records one.
qemu_on_exit() {
  # shellcheck disable=SC2154
  trap 'rc=$?; [ $rc -eq 0 ] || [ -f "$cache/setup-failed" ] || echo "'"$1"' exited with status $rc (see its output)" > "$cache/setup-failed"' EXIT
}

# qemu_modules MDIR: the modules of WANT_MODULES found under MDIR (the kernel package's
# lib/modules/KVER, MODULE_DIRS of it extracted), each after its dependencies (.modinfo's
# depends=), built-ins skipped, copied to $cache/modules with modules.list in load order.
# Sets `order`.
qemu_modules() {
  local mdir=$1 f n m
  declare -gA path_of=() builtin=() seen=()
  order=()
  while IFS= read -r f; do n=$(basename "$f" .ko); path_of[${n//-/_}]=$f; done < <(find "$mdir/kernel" -name '*.ko')
  while IFS= read -r f; do n=$(basename "$f" .ko); builtin[${n//-/_}]=1; done < "$mdir/modules.builtin"
  for m in $WANT_MODULES; do qemu_visit "$m"; done
  mkdir -p "$cache/modules"
  : > "$cache/modules/modules.list"
  for m in "${order[@]}"; do
    cp "${path_of[$m]}" "$cache/modules/$m.ko"
    echo "$m.ko" >> "$cache/modules/modules.list"
  done
}
qemu_visit() {
  local m=${1//-/_} deps d
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  [ -n "${builtin[$m]:-}" ] && return 0
  [ -n "${path_of[$m]:-}" ] || fail "module $m (needed by the guest) is not in $MODULE_DIRS of $PKG"
  deps=$(tr '\0' '\n' < "${path_of[$m]}" | sed -n 's/^depends=//p' | head -1)
  for d in ${deps//,/ }; do qemu_visit "$d"; done
  order+=("$m")
}

# qemu_initramfs INIT BUSYBOX STAMP: $cache/initramfs.cpio holding BUSYBOX (the guest's), INIT as /init,
# init-lib.sh beside it and the modules; rebuilt only when STAMP (what it was built from)
# changed (~0.1-0.5 s). The cpio is written by the host's busybox, $busybox.
qemu_initramfs() {
  local init=$1 guest_busybox=$2 stamp t s
  stamp="$3 $(sha256sum "$(dirname "${BASH_SOURCE[0]}")/init-lib.sh" | cut -c1-64)"
  if [ -f "$cache/initramfs.cpio" ] && [ "$(cat "$cache/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then
    log "initramfs present (cached)"
    return
  fi
  t=$(date +%s%N)
  s=$cache/initramfs.d; rm -rf "$s"
  mkdir -p "$s"/{bin,dev,proc,sys,newroot,gsu,lib/modules}
  cp "$guest_busybox" "$s/bin/busybox"
  cp "$init" "$s/init"; chmod 755 "$s/init"
  cp "$(dirname "${BASH_SOURCE[0]}")/init-lib.sh" "$s/lib/init-lib.sh"
  cp "$cache"/modules/*.ko "$cache/modules/modules.list" "$s/lib/modules/"
  # The kernel opens /dev/console for init before init runs (init reopens it after
  # mounting devtmpfs too, so this node is only a nicety needing root).
  mknod -m 600 "$s/dev/console" c 5 1 2>/dev/null || true
  (cd "$s" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) > "$cache/initramfs.cpio.tmp" \
    || fail "building the initramfs failed"
  mv "$cache/initramfs.cpio.tmp" "$cache/initramfs.cpio"
  rm -rf "$s"
  echo "$stamp" > "$cache/initramfs.stamp"
  log "built initramfs ($(( $(stat -c %s "$cache/initramfs.cpio") / 1024 )) KiB) in $(ms_since "$t") ms"
}
