#!/bin/busybox sh
# PID 1 of the emulated Linux booted by scripts/qemu/run.sh (setup.sh copies
# this file into the initramfs as /init; edit it, and the next setup.sh or
# run.sh rebuilds the initramfs).
#
# Loads the 9p and CAN modules, brings up vcan0 and vcan1, mounts the host's
# root read-only over 9p with the work tree read-write at its own path, then
# runs the command from run.sh in a chroot of it and hands the command's exit
# status to QEMU through isa-debug-exit (port 0xf4).
#
# 9p shares (tags): hostroot = host's /, repo = the work tree, gsurun = run.sh's
# temporary directory with `repo` (the work tree's path), env.sh and cmd.sh;
# the command's exact exit status is written back there as `status`.
/bin/busybox --install -s /bin
export PATH=/bin
# early_mounts, load_modules, chroot_mounts, run_command, $o9p (shared with arm-init.sh)
# shellcheck source=init-lib.sh
. /lib/init-lib.sh
early_mounts

# QEMU exits with (v << 1) | 1 when v is written to the isa-debug-exit port;
# run.sh decodes it. Statuses >= 127 are passed as 127 there (the exact one
# is in gsurun/status).
report() {
  v=$1; [ "$v" -gt 127 ] && v=127
  sync
  printf "\\$(printf %03o "$v")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  echo "qemu-init: isa-debug-exit did not stop QEMU" # not reached
  poweroff -f
}
die() { echo "qemu-init: $*"; report 125; }

load_modules

mount -t 9p -o "$o9p" gsurun /gsu || die "cannot mount the run directory (9p tag gsurun)"
repo=$(cat /gsu/repo)
mount -t 9p -o "$o9p,ro,cache=loose" hostroot /newroot || die "cannot mount the host's root (9p tag hostroot)"
r=/newroot
chroot_mounts $r || die "cannot mount /proc, /sys, /dev, /tmp or /run in the chroot"
mkdir -p "$r$repo" 2>/dev/null # exists already unless it lies under /tmp or /run
mount -t 9p -o "$o9p,cache=loose" repo "$r$repo" || die "cannot mount the work tree $repo (9p tag repo)"

ip link set lo up
for i in vcan0 vcan1; do
  ip link add dev $i type vcan && ip link set $i up || die "cannot bring up $i"
done
hostname gsu-qemu

run_command $r
report "$status"
