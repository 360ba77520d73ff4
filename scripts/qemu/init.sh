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
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
stty -onlcr 2>/dev/null # plain \n on the serial console, as on the host

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

for m in $(cat /lib/modules/modules.list); do
  insmod "/lib/modules/$m" || die "insmod $m failed"
done

o9p=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$o9p" gsurun /gsu || die "cannot mount the run directory (9p tag gsurun)"
repo=$(cat /gsu/repo)
mount -t 9p -o "$o9p,ro,cache=loose" hostroot /newroot || die "cannot mount the host's root (9p tag hostroot)"
r=/newroot
mount -t proc proc $r/proc &&
  mount -t sysfs sys $r/sys &&
  mount -t devtmpfs dev $r/dev &&
  mkdir -p $r/dev/pts $r/dev/shm &&
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts &&
  mount -t tmpfs -o mode=1777 shm $r/dev/shm &&
  mount -t tmpfs -o mode=1777 tmp $r/tmp &&
  mount -t tmpfs -o mode=755 run $r/run &&
  mkdir -p $r/run/gsu && mount --bind /gsu $r/run/gsu ||
  die "cannot mount /proc, /sys, /dev, /tmp or /run in the chroot"
mkdir -p "$r$repo" 2>/dev/null # exists already unless it lies under /tmp or /run
mount -t 9p -o "$o9p,cache=loose" repo "$r$repo" || die "cannot mount the work tree $repo (9p tag repo)"

ip link set lo up
for i in vcan0 vcan1; do
  ip link add dev $i type vcan && ip link set $i up || die "cannot bring up $i"
done
hostname gsu-qemu

# The command's stdout and stderr go to the console through a pipe (so it
# sees no tty, as in CI). Wait for the command itself, not for the pipe's
# end, which a stray background process may hold open.
mkfifo /out
cat /out &
cat_pid=$!
chroot $r /bin/sh -c '. /run/gsu/env.sh && cd "$GSU_REPO" && exec /bin/sh /run/gsu/cmd.sh' </dev/null >/out 2>&1
status=$?
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  kill -0 $cat_pid 2>/dev/null || break
  sleep 0.1
done
kill $cat_pid 2>/dev/null
echo "$status" > /gsu/status
report "$status"
