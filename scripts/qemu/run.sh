#!/usr/bin/env bash
# Runs a command inside an emulated Linux with SocketCAN: Debian's stock
# kernel under QEMU (TCG), vcan0 and vcan1 up, the host's root mounted
# read-only and this work tree read-write at its own path. The command runs as
# root in a chroot of the host's root, in the work tree, with the host's PATH
# (so the host's node and node_modules), a tmpfs /tmp and HOME unchanged
# (read-only there). Its output streams to stdout, and its exit status is
# run.sh's.
#
#   scripts/qemu/run.sh 'CMD ...'     # CMD is a shell string (args joined by spaces)
#   scripts/qemu/run.sh --check       # exit 0 if it could run, else 77 + the reason
#
# Exit status: CMD's; 77 (with "qemu-run: SKIP: reason" on stderr) when it
# cannot run here (QEMU missing, setup.sh not run, already inside the VM);
# 124 on timeout ($GSU_QEMU_TIMEOUT seconds, default 900); 125 when the guest
# failed before or instead of running CMD. A CMD that itself exits 77 is told
# apart by the absence of the SKIP line.
#
# Environment passed to CMD: PATH, HOME, USER, LANG, LC_ALL, TZ, CI, TERM,
# NO_COLOR, FORCE_COLOR, and every GSU_* variable; plus GSU_IN_QEMU=1,
# GSU_REPO, TMPDIR=/tmp and an npm cache in /tmp.
# Other knobs: GSU_QEMU_CACHE (default <repo>/.cache/qemu), GSU_QEMU_MEM
# (MiB, default 2048), GSU_QEMU_VERBOSE=1 (kernel messages and QEMU command).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cache=${GSU_QEMU_CACHE:-$repo/.cache/qemu}
timeout_s=${GSU_QEMU_TIMEOUT:-900}

skip() { echo "qemu-run: SKIP: $*" >&2; exit 77; }

check() {
  [ -z "${GSU_IN_QEMU:-}" ] || skip "already inside the emulated Linux"
  [ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host (this is $(uname -m))"
  if [ -f "$cache/setup-failed" ]; then
    why="scripts/qemu/setup.sh failed: $(cat "$cache/setup-failed")"
  else why=; fi
  qemu=$(command -v qemu-system-x86_64) ||
    skip "qemu-system-x86_64 is not installed${why:+; $why} (run: sudo bash scripts/qemu/setup.sh)"
  for f in vmlinux initramfs.cpio kernel.env; do
    [ -f "$cache/$f" ] || skip "the emulated Linux is not set up (no $cache/$f)${why:+; $why} (run: sudo bash scripts/qemu/setup.sh)"
  done
  command -v timeout >/dev/null || skip "coreutils timeout is missing"
}
check
if [ "${1:-}" = --check ]; then echo "qemu-run: ready ($qemu, $(sed -n 's/^PKG=//p' "$cache/kernel.env"))"; exit 0; fi
[ $# -gt 0 ] || { echo "usage: $0 'CMD ...' | --check" >&2; exit 2; }

# init.sh or init-lib.sh edited since setup: rebuild the initramfs (fast, no network).
stale=
for f in init.sh init-lib.sh; do grep -q "$(sha256sum "$here/$f" | cut -c1-64)" "$cache/initramfs.stamp" 2>/dev/null || stale=$f; done
if [ -n "$stale" ]; then
  echo "qemu-run: $stale changed, rebuilding the initramfs" >&2
  bash "$here/setup.sh" >&2 || { echo "qemu-run: setup.sh failed" >&2; exit 125; }
fi

# The run directory (shared with the guest as gsurun) lives in the cache, out
# of reach of /tmp cleaners.
mkdir -p "$cache/runs" && run=$(mktemp -d "$cache/runs/run.XXXXXX") || exit 125
qemu_pid=
cleanup() { rm -rf "$run"; }
trap cleanup EXIT
trap 'echo "qemu-run: interrupted" >&2; [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; exit 130' INT TERM

# --- what the guest runs --------------------------------------------------------
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
node_dir=$(dirname "$(command -v node 2>/dev/null || echo /usr/bin/node)")
guest_path=$PATH
case ":$guest_path:" in *":$node_dir:"*) ;; *) guest_path=$node_dir:$guest_path ;; esac
{
  echo "export PATH=$(q "$guest_path")"
  for v in HOME USER LANG LC_ALL TZ CI TERM NO_COLOR FORCE_COLOR $(compgen -e | grep '^GSU_' || true); do
    [ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"
  done
  # The guest's output is a pipe; colours only when ours is a terminal.
  [ -t 1 ] || echo "export TERM=dumb"
  echo "export GSU_IN_QEMU=1 GSU_REPO=$(q "$repo") TMPDIR=/tmp npm_config_cache=/tmp/.npm npm_config_update_notifier=false"
  [ -n "${HOME:-}" ] || echo "export HOME=/tmp"
} > "$run/env.sh"
printf '%s\n' "$*" > "$run/cmd.sh"
printf '%s' "$repo" > "$run/repo"

# --- QEMU -----------------------------------------------------------------------
append="console=ttyS0 panic=-1 tsc=reliable no_timer_check"
if [ -n "${GSU_QEMU_VERBOSE:-}" ]; then append+=" loglevel=7"; else append+=" quiet loglevel=3"; fi
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
args=(
  -accel "tcg${GSU_QEMU_TCG_OPTS:+,$GSU_QEMU_TCG_OPTS}" -M pc -cpu "${GSU_QEMU_CPU:-max}" -smp "${GSU_QEMU_SMP:-1}" -m "${GSU_QEMU_MEM:-2048}"
  "${bios[@]}" -nodefaults -no-user-config -display none -nic none -no-reboot
  -chardev stdio,id=con -serial chardev:con
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -kernel "$cache/vmlinux" -initrd "$cache/initramfs.cpio" -append "$append"
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$repo,mount_tag=repo,security_model=none,multidevs=remap"
  -virtfs "local,path=$run,mount_tag=gsurun,security_model=none"
)
[ -n "${GSU_QEMU_VERBOSE:-}" ] && echo "qemu-run: $qemu ${args[*]}" >&2

t0=$(date +%s%N)
timeout -k 5 "$timeout_s" "$qemu" "${args[@]}" </dev/null &
qemu_pid=$!
wait "$qemu_pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))

if [ "$rc" = 124 ]; then
  echo "qemu-run: timed out after ${timeout_s}s" >&2
  exit 124
fi
if [ -f "$run/status" ]; then
  status=$(cat "$run/status")
elif [ $((rc & 1)) = 1 ]; then
  status=$((rc >> 1))
else
  echo "qemu-run: the guest stopped without reporting a status (QEMU exit $rc; kernel panic?)" >&2
  exit 125
fi
[ "$status" = 125 ] && [ ! -f "$run/status" ] && echo "qemu-run: the guest failed before running the command" >&2
echo "qemu-run: exit $status after ${ms} ms (boot + run)" >&2
exit "$status"
