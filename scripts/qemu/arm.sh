#!/usr/bin/env bash
# The ARM lane (npm run test:arm): GSU's runtime on an emulated Raspberry Pi
# (aarch64) and, with --arch armhf or all, an emulated BeagleBone (armhf).
#
#   bash scripts/qemu/arm.sh [--arch arm64|armhf|all] [--no-setup] [--check]
#
# For each architecture: scripts/qemu/arm-setup.sh (cached; the first run
# downloads ~120 MB), then one boot of scripts/qemu/arm-run.sh running
# scripts/qemu/arm-guest.sh, which checks, on the emulated board:
#   rehearse  `gsu rehearse --steps 200` PASSes;
#   can       300 frames (GSU_ARM_CAN_FRAMES) can0 -> can1 over two kvaser_pci (SJA1000) controllers
#             at 500 kbit/s (set by iproute2's ip), in order and intact, and the
#             SocketCAN suite (test/can/socketcan.test.ts) passes on can0;
#   can-boards the multi-board rehearsal over those controllers: the demo's three boards as
#             OS processes, io and comms on can0, gnc on can1 (gsu rehearse --links
#             socketcan:can0,can1, fault controller@15, 30 steps): PASS;
#   flash     the host's gsu flash over real ssh (dropbear in the guest, QEMU user
#             networking with the guest's port 22 forwarded to a free localhost port):
#             runtime, profile, key and unit arrive; the serial check's daemon starts
#             from them as the unit says;
#   serial    a board daemon (gsu board) on /dev/ttyS0, driven by the host's gsu over
#             the pty (scripts/qemu/arm-host.sh): status, signed uploads, upgrade, a
#             fault whose rollback and takeover arrive as events, upgrade again, commit;
#   can-daemons two gsu board --system daemons in the one guest, gnc on can0 and io on can1
#             (the link layer and a key over the kvaser_pci bus, 500 kbit/s), each on a UART
#             of its own to the host (ttyS0, ttyS1), whose gsu drives uploads, the upgrade
#             round, a fault (AT_FAILED/TAKEOVER/RECOVERED events, devices equal to a
#             fault-free run) and the commit on both (scripts/qemu/arm-host-can.sh).
# Prints "ARM-CHECK name PASS|FAIL|SKIP seconds detail" per check and a summary.
# Exit: 0 all passed (a SKIP names its reason and fails unless GSU_ARM_ALLOW_SKIP=1);
# 1 a check failed; 77 the lane cannot run here (QEMU or set-up missing), with
# the reason; set-up failures exit 1 with arm-setup.sh's message.
# --check: only say whether the set-up is in place (no boot, no network).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cd "$repo" || exit 1

# --- host side of the serial check (run by arm-run.sh --host) -------------------
[ "${1:-}" = --host-side ] && exec bash "$here/arm-host.sh"

arches=arm64 setup=1 check_only=
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arches=$2; shift 2 ;;
    --no-setup) setup=; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "arm.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$arches" = all ] && arches="arm64 armhf"

overall=0
summary=()
for arch in $arches; do
  if [ -n "$check_only" ]; then
    bash "$here/arm-run.sh" --arch "$arch" --check || overall=$?
    continue
  fi
  if [ "$arch" = armhf ]; then
    # npm's newest Node for armv7l is 20.11.0; the runtime supports it (a
    # CRC-32 fallback where node:zlib has no crc32), the suite needs vitest,
    # which needs util.styleText (Node >= 20.12): no CAN suite there.
    export GSU_ARM_CHECKS=${GSU_ARM_CHECKS_ARMHF:-rehearse serial}
  else
    export GSU_ARM_CHECKS=${GSU_ARM_CHECKS_ARM64:-rehearse can can-boards flash serial can-daemons}
  fi
  t0=$(date +%s)
  if [ -n "$setup" ]; then
    echo "=== arm.sh: set-up for $arch (cached after the first run)"
    nice bash "$here/arm-setup.sh" "$arch" || { echo "arm.sh: FAILED: set-up for $arch: $(cat "${GSU_QEMU_ARM_CACHE:-$repo/.cache/qemu-arm}/$arch/setup-failed" 2>/dev/null)"; overall=1; continue; }
  fi
  t1=$(date +%s)
  skipped_file=${GSU_QEMU_ARM_CACHE:-$repo/.cache/qemu-arm}/$arch/socketcan-skipped
  unset GSU_ARM_SOCKETCAN_SKIPPED
  if [ -f "$skipped_file" ]; then GSU_ARM_SOCKETCAN_SKIPPED=$(cat "$skipped_file"); export GSU_ARM_SOCKETCAN_SKIPPED; fi
  echo "=== arm.sh: boot the emulated $arch board and run: $GSU_ARM_CHECKS"
  log=$(mktemp)
  host=
  [[ " $GSU_ARM_CHECKS " == *" serial "* ]] && host="bash $(printf %q "$here/arm.sh") --host-side"
  unset GSU_ARM_SSH_PORT
  if [[ " $GSU_ARM_CHECKS " == *" flash "* ]]; then
    # a free port on the host's loopback for the guest's ssh (QEMU hostfwd)
    GSU_ARM_SSH_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })') && export GSU_ARM_SSH_PORT
  fi
  GSU_QEMU_TIMEOUT=${GSU_QEMU_TIMEOUT:-900} bash "$here/arm-run.sh" --arch "$arch" ${host:+--host "$host"} 'sh scripts/qemu/arm-guest.sh' 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  t2=$(date +%s)
  boot=$(sed -n 's/^arm-guest: .*uptime \([0-9.]*\) s at start/\1/p' "$log")
  echo "=== arm.sh: $arch: set-up $((t1 - t0)) s, boot + checks $((t2 - t1)) s (kernel to the checks' start: ${boot:-?} s guest uptime), exit $rc"
  while IFS= read -r l; do summary+=("$arch: ${l#ARM-CHECK }"); done < <(grep '^ARM-CHECK ' "$log")
  if [ "$rc" = 77 ]; then overall=77
  elif [ "$rc" != 0 ]; then overall=1
  elif grep -q '^ARM-CHECK [^ ]* SKIP' "$log" && [ -z "${GSU_ARM_ALLOW_SKIP:-}" ]; then
    echo "arm.sh: a check was skipped (GSU_ARM_ALLOW_SKIP=1 accepts that)"; overall=1
  fi
  n_checks=$(grep -c '^ARM-CHECK ' "$log")
  [ "$rc" = 0 ] && [ "$n_checks" -lt "$(echo $GSU_ARM_CHECKS | wc -w)" ] && { echo "arm.sh: only $n_checks checks reported"; overall=1; }
  rm -f "$log"
done
[ -n "$check_only" ] && exit $overall
echo "=== arm.sh summary"
for l in "${summary[@]}"; do echo "  $l"; done
[ $overall = 0 ] && echo "arm.sh: PASS" || echo "arm.sh: FAILED (status $overall)"
exit $overall
