# shellcheck shell=dash disable=SC2034
# (SC2034: o9p is the caller's to use.)
# scripts/qemu/init-lib.sh: what the guests' init scripts (init.sh, the x86 vcan lane;
# arm-init.sh, the emulated ARM boards) both do. The initramfs holds it as
# /lib/init-lib.sh (setup-lib.sh's qemu_initramfs); the init sources it. The caller
# defines die MESSAGE.

o9p=trans=virtio,version=9p2000.L,msize=262144

# /dev (devtmpfs), the console as stdin/stdout/stderr, /proc, /sys; plain \n on the
# serial console, as on the host.
early_mounts() {
  mount -t devtmpfs dev /dev
  exec </dev/console >/dev/console 2>&1
  mount -t proc proc /proc
  mount -t sysfs sys /sys
  stty -onlcr 2>/dev/null
}

# The modules in /lib/modules/modules.list, in its order (their dependencies first).
load_modules() {
  for m in $(cat /lib/modules/modules.list); do
    insmod "/lib/modules/$m" || die "insmod $m failed"
  done
}

# chroot_mounts ROOT: /proc, /sys, devtmpfs /dev (+ devpts, /dev/shm), tmpfs /tmp and /run
# in the chroot, the run directory (/gsu) at /run/gsu there.
chroot_mounts() {
  mount -t proc proc "$1/proc" &&
    mount -t sysfs sys "$1/sys" &&
    mount -t devtmpfs dev "$1/dev" &&
    mkdir -p "$1/dev/pts" "$1/dev/shm" &&
    mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$1/dev/pts" &&
    mount -t tmpfs -o mode=1777 shm "$1/dev/shm" &&
    mount -t tmpfs -o mode=1777 tmp "$1/tmp" &&
    mount -t tmpfs -o mode=755 run "$1/run" &&
    mkdir -p "$1/run/gsu" && mount --bind /gsu "$1/run/gsu"
}

# run_command ROOT: the run directory's cmd.sh in the chroot, with its env.sh, in the
# work tree; its stdout and stderr to the console through a pipe (so it sees no tty, as
# in CI). Waits for the command itself, not for the pipe's end, which a stray background
# process may hold open. Sets `status`, also written to /gsu/status.
run_command() {
  mkfifo /out
  cat /out &
  cat_pid=$!
  chroot "$1" /bin/sh -c '. /run/gsu/env.sh && cd "$GSU_REPO" && exec /bin/sh /run/gsu/cmd.sh' </dev/null >/out 2>&1
  status=$?
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    kill -0 $cat_pid 2>/dev/null || break
    sleep 0.1
  done
  kill $cat_pid 2>/dev/null
  echo "$status" > /gsu/status
}
