#!/usr/bin/env bash
# hardware/beaglebone/setup.sh: prepares a BeagleBone Black / Green (AM335x,
# BeagleBoard.org Debian image) for the GSU board runtime. Idempotent; see
# --help, and README.md beside this file. `gsu flash` runs it on the board.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BOARD="BeagleBone"
DCAN=1
BOARD_SHIFT=0

# shellcheck source=../common/setup-lib.sh
. "$HERE/../common/setup-lib.sh"

board_usage() {
  cat <<EOF

BeagleBone options:
  --dcan 0|1       which DCAN controller: 1 = P9.24 (RX) / P9.26 (TX) (default),
                   0 = P9.19 (RX) / P9.20 (TX) (these are I2C2, used to read cape EEPROMs)
EOF
}

board_option() {
  case "$1" in
    --dcan)
      if [ $# -lt 2 ] || ! [[ $2 =~ ^[01]$ ]]; then die "--dcan must be 0 or 1"; fi
      DCAN=$2; BOARD_SHIFT=2 ;;
    *) return 1 ;;
  esac
}

# Physical address of each DCAN controller: identifies which canN it became.
dcan_addr() { if [ "$1" = 0 ]; then echo 481cc000; else echo 481d0000; fi; }
dcan_pins() { if [ "$1" = 0 ]; then echo "P9.19 P9.20"; else echo "P9.24 P9.26"; fi; }

# overlay_path NAME: where the image keeps NAME.dtbo (bb-cape-overlays), or nothing.
overlay_path() {
  local f
  for f in "/lib/firmware/$1.dtbo" "/boot/dtbs/$(uname -r)/overlays/$1.dtbo"; do
    if [ -f "$f" ]; then echo "$f"; return; fi
  done
}

board_boot_config() {
  local uenv=/boot/uEnv.txt lines=() can_ovl uart_ovl key
  if [ ! -f "$uenv" ]; then
    warn "$uenv not found (not a BeagleBoard.org image?); configure the DCAN${DCAN} pins with your image's overlay mechanism"
    return
  fi
  if ! grep -q '^enable_uboot_overlays=1' "$uenv"; then
    warn "$uenv does not set enable_uboot_overlays=1; u-boot overlays (below) need it"
  fi
  if [ "$NETWORK_FILE" != none ]; then
    can_ovl=$(overlay_path "BB-CAN${DCAN}-00A0")
    if [ -n "$can_ovl" ]; then
      lines+=("# DCAN${DCAN} on $(dcan_pins "$DCAN") (gsu CAN link)" "uboot_overlay_addr4=$can_ovl")
    else
      warn "BB-CAN${DCAN}-00A0.dtbo not found (install bb-cape-overlays); falling back to config-pin, which lasts until the next boot"
    fi
  fi
  if [ "$DO_UART" = 1 ]; then
    uart_ovl=$(overlay_path "BB-UART4-00A0")
    if [ -n "$uart_ovl" ]; then
      lines+=("# UART4 on P9.11 (RX) / P9.13 (TX) -> /dev/ttyS4 (gsu serial link)" "uboot_overlay_addr5=$uart_ovl")
    else
      warn "BB-UART4-00A0.dtbo not found (install bb-cape-overlays); configure P9.11/P9.13 as UART with config-pin"
    fi
  fi
  for key in uboot_overlay_addr4 uboot_overlay_addr5; do
    if awk -v b="# >>> gsu (hardware/beaglebone/setup.sh) >>>" -v e="# <<< gsu (hardware/beaglebone/setup.sh) <<<" \
         '$0==b{f=1} $0==e{f=0} !f' "$uenv" | grep -q "^$key="; then
      die "$uenv already sets $key outside the gsu block; free it or edit the block by hand"
    fi
  done
  if [ ${#lines[@]} -gt 0 ]; then
    ensure_block "$uenv" "gsu (hardware/beaglebone/setup.sh)" "$(printf '%s\n' "${lines[@]}")"
  else
    log "    nothing to add to $uenv"
  fi
}

# After the .network file: configure pins at run time where config-pin exists
# (cape-universal images), and tell which canN the chosen DCAN became.
board_after_can() {
  local iface=$1 pin n found=""
  if [ -z "$(overlay_path "BB-CAN${DCAN}-00A0")" ] && command -v config-pin >/dev/null 2>&1; then
    for pin in $(dcan_pins "$DCAN"); do
      if config-pin -q "$pin" 2>/dev/null | grep -qi 'can'; then log "    $pin is already in CAN mode"; else run config-pin "$pin" can; fi
    done
  fi
  for n in /sys/class/net/can*; do
    [ -e "$n" ] || continue
    if readlink -f "$n/device" | grep -q "$(dcan_addr "$DCAN")"; then found=${n##*/}; fi
  done
  if [ -z "$found" ]; then
    log "    DCAN${DCAN} has no network interface yet$([ "$REBOOT_NEEDED" = 1 ] && echo ' (reboot to load the overlay)')"
  elif [ "$found" = "$iface" ]; then
    log "    DCAN${DCAN} is $found"
  else
    warn "DCAN${DCAN} is $found here, but the .network file and profile name $iface. Change Name= in the .network file and the profile's socketcan \"iface\" to $found, then run gsu flash (or this script) again"
  fi
}

gsu_setup_main "$@"
