#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the emulated ARM board booted by scripts/qemu/arm-run.sh
# (arm-setup.sh copies this file into the initramfs as /init).
#
# Loads the virtio/9p and CAN modules (kvaser_pci: the SJA1000 driver for the
# two emulated CAN controllers), mounts the sysroot (ARM libc, Node, the
# project's node_modules for this architecture) read-only over 9p as the root
# of a chroot, the work tree read-write at its own path with the ARM
# node_modules bound over its node_modules, sets can0 and can1 to the bit rate
# in env.sh (iproute2's ip) and brings them up, adds vcan0, runs the command, writes its
# exit status to the run directory and powers off (-M virt has no
# isa-debug-exit).
#
# 9p shares (tags): sysroot, repo (the work tree), gsurun (arm-run.sh's run
# directory: repo, env.sh, cmd.sh; `status` is written back there).
/bin/busybox --install -s /bin
export PATH=/bin
# early_mounts, load_modules, chroot_mounts, run_command, $o9p (shared with init.sh)
# shellcheck source=init-lib.sh
. /lib/init-lib.sh
early_mounts

finish() {
  sync
  poweroff -f
}
die() {
  echo "arm-init: $*"
  [ -d /gsu/ok ] 2>/dev/null && echo 125 > /gsu/status
  finish
}

load_modules

mount -t 9p -o "$o9p" gsurun /gsu || die "cannot mount the run directory (9p tag gsurun)"
mkdir -p /gsu/ok
repo=$(cat /gsu/repo)
bitrate=$(cat /gsu/bitrate 2>/dev/null || echo 500000)
mount -t 9p -o "$o9p,ro,cache=loose" sysroot /newroot || die "cannot mount the sysroot (9p tag sysroot)"
r=/newroot
chroot_mounts $r &&
  mount -t tmpfs -o mode=700 root $r/root ||
  die "cannot mount /proc, /sys, /dev, /tmp, /run or /root in the chroot"
# A work tree under /tmp, /run or /root (a CI clone in /tmp) is hidden by the tmpfs just
# mounted there: make its mount point in the tmpfs.
[ -d "$r$repo" ] || mkdir -p "$r$repo" || die "cannot make the mount point $repo for the work tree"
mount -t 9p -o "$o9p,cache=loose" repo "$r$repo" || die "cannot mount the work tree $repo (9p tag repo)"
# The host's node_modules are x86 (esbuild, rolldown, serialport's bindings):
# the ARM ones from the sysroot take their place in the guest.
[ -d "$r$repo/node_modules" ] || die "$repo has no node_modules (run npm ci on the host first)"
mount --bind $r/opt/gsu/node_modules "$r$repo/node_modules" || die "cannot bind the ARM node_modules over $repo/node_modules"
# vitest writes its bundled config to node_modules/.vite-temp: tmpfs there.
mount -t tmpfs -o mode=755 vite "$r$repo/node_modules/.vite-temp" || die "cannot mount a tmpfs on node_modules/.vite-temp"
# Where gsu flash installs (/opt/gsu, /etc/gsu, /etc/systemd) and the daemon keeps its
# state (/var/lib/gsu): writable, as on a board (the sysroot is read-only). /opt/gsu
# in the sysroot holds the ARM node_modules bound over the work tree's just above; that
# bind stays.
for m in opt/gsu etc/gsu etc/systemd var; do
  [ -d "$r/$m" ] && mount -t tmpfs -o mode=755 "gsu-$(echo $m | tr / -)" "$r/$m" || die "cannot mount a tmpfs on /$m (run arm-setup.sh again)"
done
mkdir -p $r/var/lib $r/var/log $r/etc/systemd/system $r/etc/systemd/network

ip link set lo up
# No CAN interface is not fatal here (the rehearsal and serial checks still
# run); the reason goes to the run directory, where the CAN check reports it.
# (Seen on armhf: kvaser_pci enables the PCI device, then registers no can0.)
for i in can0 can1; do
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do [ -e /sys/class/net/$i ] && break; sleep 0.2; done
  if [ ! -e /sys/class/net/$i ]; then
    echo "no $i: the kvaser_pci CAN controller did not register a CAN interface (kernel: $(dmesg | grep -i -E 'kvaser|sja1000' | tail -2 | tr '\n' ' '))" > /gsu/can-missing
    echo "arm-init: $(cat /gsu/can-missing)"
    break
  fi
  # /usr/bin/ip by path: busybox's chroot would run its own ip applet for "ip".
  # The TX queue stays at the kernel's default for a CAN controller (txqueuelen 10),
  # as on a board: a burst fills it and send(2) fails with ENOBUFS, which the runtime
  # must handle (SocketCanBus keeps the frame and tries again).
  chroot $r /usr/bin/ip link set $i type can bitrate "$bitrate" restart-ms 100 &&
    chroot $r /usr/bin/ip link set $i up || die "cannot set $i to $bitrate bit/s and up it with iproute2's ip"
done
# vcan0 (MTU 72): the SocketCAN FD suite's FD interface; the kvaser_pci controllers
# (SJA1000) are classic CAN only, which the same suite checks is refused for +fd.
chroot $r /usr/bin/ip link add dev vcan0 type vcan && chroot $r /usr/bin/ip link set vcan0 up ||
  echo "arm-init: no vcan0 (the FD suite will say so)"
hostname gsu-arm
# QEMU user networking (arm-run.sh with GSU_ARM_SSH_PORT; restrict=on: only the
# host-forwarded port, no way out): eth0 at slirp's 10.0.2.15.
if [ -f /gsu/ssh-port ]; then
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
  chroot $r /usr/bin/ip addr add 10.0.2.15/24 dev eth0 && chroot $r /usr/bin/ip link set eth0 up ||
    echo "no eth0 (virtio-net): $(dmesg | grep -i virtio | tail -2 | tr '\n' ' ')" > /gsu/net-missing
fi

run_command $r
finish
