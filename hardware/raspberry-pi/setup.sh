#!/usr/bin/env bash
# hardware/raspberry-pi/setup.sh: prepares a Raspberry Pi (Raspberry Pi OS or
# Debian) for the GSU board runtime. Idempotent; see --help, and README.md
# beside this file for the whole procedure. `gsu flash` runs it on the board.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BOARD="Raspberry Pi"
OSCILLATOR=16000000
INTERRUPT=25
BOARD_SHIFT=0

# shellcheck source=../common/setup-lib.sh
. "$HERE/../common/setup-lib.sh"

board_usage() {
  cat <<EOF

Raspberry Pi options (MCP2515 CAN HAT on SPI0 CE0):
  --oscillator HZ  the HAT's crystal: 16000000 (default), 12000000 or 8000000
  --interrupt N    the GPIO of the HAT's INT line (default 25)
EOF
}

board_option() {
  case "$1" in
    --oscillator|--interrupt)
      if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then die "$1 needs a number"; fi
      if [ "$1" = --oscillator ]; then OSCILLATOR=$2; else INTERRUPT=$2; fi
      BOARD_SHIFT=2 ;;
    *) return 1 ;;
  esac
}

boot_dir() {
  # Raspberry Pi OS bookworm and later mount the boot partition at /boot/firmware.
  if [ -f /boot/firmware/config.txt ]; then echo /boot/firmware; else echo /boot; fi
}

board_boot_config() {
  local dir lines=("[all]")
  dir=$(boot_dir)
  if [ "$NETWORK_FILE" != none ]; then
    lines+=("# CAN HAT: MCP2515 on SPI0 CE0, ${OSCILLATOR} Hz crystal, INT on GPIO${INTERRUPT} -> can0"
            "dtparam=spi=on"
            "dtoverlay=mcp2515-can0,oscillator=${OSCILLATOR},interrupt=${INTERRUPT}")
  fi
  if [ "$DO_UART" = 1 ]; then
    lines+=("# UART0 (PL011) on GPIO14 (TXD) / GPIO15 (RXD) -> /dev/ttyAMA0; Bluetooth off"
            "enable_uart=1"
            "dtoverlay=disable-bt")
  fi
  if [ ${#lines[@]} -eq 1 ]; then log "    nothing to configure (no CAN, --no-uart)"; return; fi
  ensure_block "$dir/config.txt" "gsu (hardware/raspberry-pi/setup.sh)" "$(printf '%s\n' "${lines[@]}")"

  if [ "$DO_UART" = 1 ]; then
    # The serial link needs the UART to itself: no kernel console, no getty,
    # no Bluetooth modem attach (Pi 3/4).
    local cmdline="$dir/cmdline.txt"
    if [ -f "$cmdline" ] && grep -qE 'console=(serial0|ttyAMA0|ttyS0),[0-9]+' "$cmdline"; then
      REBOOT_NEEDED=1
      run cp "$cmdline" "$cmdline.gsu-backup"
      run sed -i -E 's/[[:space:]]*console=(serial0|ttyAMA0|ttyS0),[0-9]+//g' "$cmdline"
    elif [ -f "$cmdline" ]; then
      log "    no serial console in $cmdline"
    else
      warn "$cmdline not found; make sure no console= option of the kernel uses the serial link's UART"
    fi
    if systemctl is-enabled --quiet hciuart.service 2>/dev/null; then
      run systemctl disable hciuart.service
    fi
  fi
}

gsu_setup_main "$@"
