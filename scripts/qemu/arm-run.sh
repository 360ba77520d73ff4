#!/usr/bin/env bash
# Runs a command on an emulated ARM board: QEMU's `virt` machine with Debian's
# kernel for ARCH, two kvaser_pci CAN controllers on one emulated CAN bus (can0
# and can1 in the guest, SJA1000 driver, bit rate set with iproute2's ip) and a
# PCI 16550 UARTs (/dev/ttyS0 and /dev/ttyS1 in the guest) wired to pseudo-terminals on the host.
# Set up first with scripts/qemu/arm-setup.sh ARCH.
#
#   scripts/qemu/arm-run.sh [--arch arm64|armhf] [--host 'HOSTCMD'] 'CMD ...'
#   scripts/qemu/arm-run.sh [--arch ARCH] --check  # 0 if it could run, else 77 + the reason
#
# CMD runs as root in the guest, in the work tree (mounted read-write over 9p at
# its own path) with the ARM node_modules in place of the host's, Node on PATH,
# TMPDIR=/tmp (tmpfs). HOSTCMD, if given, runs on the host once QEMU has made
# the ptys, with GSU_ARM_PTY (the host end of the guest's /dev/ttyS0), GSU_ARM_PTY2
# (of /dev/ttyS1) and
# GSU_ARM_RUN (a directory the guest sees as /run/gsu: the two sides meet
# there through files). Its output is prefixed with "host| ".
#
# Exit status: CMD's (read from a file the guest writes on the 9p share), or
# HOSTCMD's if CMD succeeded and HOSTCMD did not; 77 (with "arm-run: SKIP:
# reason" on stderr) when it cannot run here; 124 on timeout
# (GSU_QEMU_TIMEOUT seconds, default 900); 125 when the guest failed before or
# instead of running CMD.
# Knobs: GSU_QEMU_ARM_CACHE, GSU_QEMU_MEM (MiB), GSU_QEMU_SMP, GSU_QEMU_CPU,
# GSU_ARM_BITRATE (CAN bit/s, default 500000), GSU_QEMU_VERBOSE=1 (kernel
# messages and the QEMU command line), GSU_ARM_SSH_PORT=PORT (QEMU user networking,
# restrict=on, with the guest's port 22 forwarded to 127.0.0.1:PORT; else no network).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
ARCH=${GSU_ARM_ARCH:-arm64}
host_cmd=
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCH=$2; shift 2 ;;
    --host) host_cmd=$2; shift 2 ;;
    *) break ;;
  esac
done
cache=${GSU_QEMU_ARM_CACHE:-$repo/.cache/qemu-arm}/$ARCH
timeout_s=${GSU_QEMU_TIMEOUT:-900}

skip() { echo "arm-run: SKIP: $*" >&2; exit 77; }
case $ARCH in
  arm64) qemu_bin="qemu-system-aarch64"; machine=virt; cpu=${GSU_QEMU_CPU:-cortex-a53}; mem=${GSU_QEMU_MEM:-2048} ;;
  armhf) qemu_bin="qemu-system-arm"; machine="virt,highmem=off"; cpu=${GSU_QEMU_CPU:-cortex-a15}; mem=${GSU_QEMU_MEM:-1024} ;;
  *) echo "arm-run: unknown --arch '$ARCH' (arm64 or armhf)" >&2; exit 2 ;;
esac

[ -z "${GSU_IN_QEMU:-}" ] || skip "already inside an emulated machine"
why=
[ -f "$cache/setup-failed" ] && why="scripts/qemu/arm-setup.sh $ARCH failed: $(cat "$cache/setup-failed")"
qemu=$(command -v $qemu_bin) || skip "$qemu_bin is not installed${why:+; $why} (run: sudo bash scripts/qemu/arm-setup.sh $ARCH)"
for f in kernel initramfs.cpio kernel.env sysroot/opt/node/bin/node sysroot/opt/gsu/.lock; do
  [ -e "$cache/$f" ] || skip "the emulated $ARCH board is not set up (no $cache/$f)${why:+; $why} (run: sudo bash scripts/qemu/arm-setup.sh $ARCH)"
done
command -v timeout >/dev/null || skip "coreutils timeout is missing"
if [ "${1:-}" = --check ]; then
  echo "arm-run: ready ($qemu, $(sed -n 's/^PKG=//p' "$cache/kernel.env"), Node $(cat "$cache/sysroot/opt/node/.version"))"
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: $0 [--arch arm64|armhf] [--host 'HOSTCMD'] 'CMD ...' | --check" >&2; exit 2; }

# Stale ARM node_modules (package-lock changed) or an edited init: set up again
# (no network unless the lock changed).
lock_sum=$(sha256sum < "$repo/package-lock.json" | cut -c1-16) # not package.json: its scripts change often
if [ "$(cat "$cache/sysroot/opt/gsu/.lock")" != "$lock_sum" ] || ! grep -q "$(sha256sum "$here/arm-init.sh" | cut -c1-64)" "$cache/initramfs.stamp" 2>/dev/null ||
   ! grep -q "$(sha256sum "$here/init-lib.sh" | cut -c1-64)" "$cache/initramfs.stamp" 2>/dev/null; then
  echo "arm-run: package-lock.json, arm-init.sh or init-lib.sh changed, running arm-setup.sh $ARCH" >&2
  bash "$here/arm-setup.sh" "$ARCH" >&2 || { echo "arm-run: arm-setup.sh failed" >&2; exit 125; }
fi

mkdir -p "$cache/runs" && run=$(mktemp -d "$cache/runs/run.XXXXXX") || exit 125
chmod 755 "$run"
qemu_pid='' host_pid=''
cleanup() {
  [ -n "$host_pid" ] && kill -- "-$host_pid" 2>/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
trap 'echo "arm-run: interrupted" >&2; [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; exit 130' INT TERM

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo "export PATH=/opt/node/bin:/usr/sbin:/usr/bin HOME=/root"
  for v in LANG LC_ALL TZ CI NO_COLOR FORCE_COLOR $(compgen -e | grep '^GSU_' || true); do
    [ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"
  done
  [ -t 1 ] && echo "export TERM=${TERM:-vt100}" || echo "export TERM=dumb"
  echo "export GSU_IN_QEMU=1 GSU_ARM_ARCH=$ARCH GSU_REPO=$(q "$repo") TMPDIR=/tmp"
} > "$run/env.sh"
printf '%s\n' "$*" > "$run/cmd.sh"
printf '%s' "$repo" > "$run/repo"
printf '%s' "${GSU_ARM_BITRATE:-500000}" > "$run/bitrate"
nic=(-nic none)
if [ -n "${GSU_ARM_SSH_PORT:-}" ]; then
  nic=(-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$GSU_ARM_SSH_PORT-:22")
  printf '%s' "$GSU_ARM_SSH_PORT" > "$run/ssh-port"
fi

append="console=ttyAMA0 panic=-1"
if [ -n "${GSU_QEMU_VERBOSE:-}" ]; then append+=" loglevel=7"; else append+=" quiet loglevel=3"; fi
share() { echo "-fsdev local,id=$1,path=$2,security_model=none${3:+,$3} -device virtio-9p-pci,fsdev=$1,mount_tag=$1"; }
# shellcheck disable=SC2207,SC2054
args=(
  -M "$machine" -cpu "$cpu" -smp "${GSU_QEMU_SMP:-1}" -m "$mem"
  -nodefaults -no-user-config -display none "${nic[@]}" -no-reboot
  -chardev stdio,id=con,signal=off -serial chardev:con
  -kernel "$cache/kernel" -initrd "$cache/initramfs.cpio" -append "$append"
  -object can-bus,id=canbus0
  -device kvaser_pci,canbus=canbus0 -device kvaser_pci,canbus=canbus0
  -chardev pty,id=gl -device pci-serial,chardev=gl
  -chardev pty,id=gl2 -device pci-serial,chardev=gl2
  $(share sysroot "$cache/sysroot" readonly=on) $(share repo "$repo") $(share gsurun "$run")
)
[ -n "${GSU_QEMU_VERBOSE:-}" ] && echo "arm-run: $qemu ${args[*]}" >&2

# QEMU prints "char device redirected to /dev/pts/N (label gl)" on its stdout,
# among the console's lines: the pty is taken from there.
t0=$(date +%s%N)
mkfifo "$run/.qemu-out"
timeout -k 5 "$timeout_s" nice "$qemu" "${args[@]}" </dev/null >"$run/.qemu-out" &
qemu_pid=$!
host_rc=0 pty='' pty2=''
{
  while IFS= read -r line; do
    case $line in
      "char device redirected to "*"(label gl)"*|"char device redirected to "*"(label gl2)"*)
        p=${line#char device redirected to }; p=${p%% *}
        case $line in *"(label gl)"*) pty=$p; echo "$pty" > "$run/pty" ;; *) pty2=$p; echo "$pty2" > "$run/pty2" ;; esac
        # the host command starts once both ptys are known
        if [ -n "$host_cmd" ] && [ -n "$pty" ] && [ -n "$pty2" ]; then
          # Its own process group (setsid), so it can be ended with everything it started.
          GSU_ARM_PTY=$pty GSU_ARM_PTY2=$pty2 GSU_ARM_RUN=$run GSU_ARM_ARCH=$ARCH HOST_CMD=$host_cmd setsid bash -c \
            'bash -c "$HOST_CMD" 2>&1 | sed -u "s/^/host| /"; echo "${PIPESTATUS[0]}" > "$GSU_ARM_RUN/.host-status"' &
          host_pid=$!
        fi
        continue ;;
    esac
    printf '%s\n' "$line"
  done
  # The guest is gone: the host command gets 20 s to finish, then is ended.
  if [ -n "$host_pid" ]; then
    for _ in $(seq 100); do kill -0 "$host_pid" 2>/dev/null || break; sleep 0.2; done
    kill -- "-$host_pid" 2>/dev/null && echo "arm-run: ended the host command (the guest had stopped)" >&2
    wait "$host_pid" 2>/dev/null
  fi
} < "$run/.qemu-out"
wait "$qemu_pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ -f "$run/.host-status" ] && host_rc=$(cat "$run/.host-status")
if [ -n "$host_cmd" ] && [ ! -f "$run/.host-status" ]; then
  echo "arm-run: the host command did not run (no pty from QEMU?)" >&2; host_rc=125
fi

if [ "$rc" = 124 ]; then
  echo "arm-run: timed out after ${timeout_s}s" >&2
  exit 124
fi
if [ -f "$run/status" ]; then
  status=$(cat "$run/status")
else
  echo "arm-run: the guest stopped without reporting a status (QEMU exit $rc; kernel panic?)" >&2
  exit 125
fi
[ "$status" = 125 ] && echo "arm-run: the guest failed before running the command" >&2
echo "arm-run: exit $status after ${ms} ms (boot + run)${host_cmd:+, host command exit $host_rc}" >&2
[ "$status" = 0 ] && [ "$host_rc" != 0 ] && exit "$host_rc"
exit "$status"
