# shellcheck shell=bash disable=SC2034
# (SC2034: globals such as DO_UART are read by the board scripts.)
# hardware/common/setup-lib.sh: the shared part of hardware/<board>/setup.sh.
# Not run on its own: a board's setup.sh sets BOARD and HERE, defines
# board_boot_config (and optionally board_usage, board_option, board_after_can),
# sources this file, then calls gsu_setup_main "$@".
#
# Every step checks before it changes anything, so running setup.sh again is
# safe and changes nothing on a board that is already set up.

GSU_USER=gsu
GSU_STATE=/var/lib/gsu
GSU_UNIT_NAME=gsu-board.service
NODE_MAJOR_MIN=20

DRY_RUN=0
DO_PACKAGES=1
DO_BOOT=1
DO_UART=1
DO_ENABLE=1
NETWORK_FILE=""
UNIT_FILE=""
REBOOT_NEEDED=0
CHANGED=0

log() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf 'setup.sh: warning: %s\n' "$*" >&2; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

# run CMD...: runs a command that changes the system, or prints it under --dry-run.
run() {
  CHANGED=1
  if [ "$DRY_RUN" = 1 ]; then
    printf '    would run: %s\n' "$*"
  else
    printf '    + %s\n' "$*"
    "$@"
  fi
}

gsu_usage() {
  cat <<EOF
Usage: sudo $0 [options]

Prepares a ${BOARD} for the GSU board runtime. Idempotent: run it again at
any time; it changes only what is not set up yet.

  1. packages: nodejs (>= ${NODE_MAJOR_MIN}) and npm from apt, build-essential and python3
     (socketcan's native addon), can-utils (candump/cansend), rsync
  2. the '${GSU_USER}' system user (group dialout for serial links)
  3. boot configuration for the CAN controller and UART (reboot needed if changed)
  4. the CAN interface: a systemd-networkd .network file, and the interface brought up
  5. the systemd unit ${GSU_UNIT_NAME}, installed and enabled

Options:
  --network FILE   .network file to install (default: ${HERE}/80-can.network);
                   'none' when the board has no SocketCAN link
  --unit FILE      systemd unit to install (default: hardware/common/${GSU_UNIT_NAME})
  --no-packages    do not install packages (Node.js ${NODE_MAJOR_MIN}+ must be on PATH)
  --no-boot-config leave the boot configuration alone
  --no-uart        do not free the UART for a serial link
  --no-enable      install the unit but do not enable or start it
  --dry-run        print what would change, change nothing (no root needed)
  -h, --help       this help
EOF
  if declare -F board_usage >/dev/null; then board_usage; fi
}

gsu_parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --network) [ $# -ge 2 ] || die "--network needs a FILE (or 'none')"; NETWORK_FILE=$2; shift 2 ;;
      --network=*) NETWORK_FILE=${1#*=}; shift ;;
      --unit) [ $# -ge 2 ] || die "--unit needs a FILE"; UNIT_FILE=$2; shift 2 ;;
      --unit=*) UNIT_FILE=${1#*=}; shift ;;
      --no-packages) DO_PACKAGES=0; shift ;;
      --no-boot-config) DO_BOOT=0; shift ;;
      --no-uart) DO_UART=0; shift ;;
      --no-enable) DO_ENABLE=0; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h|--help) gsu_usage; exit 0 ;;
      *)
        if declare -F board_option >/dev/null && board_option "$@"; then
          shift "$BOARD_SHIFT"
        else
          printf 'setup.sh: unknown option %s\n' "$1" >&2
          printf "Run '%s --help' for usage.\n" "$0" >&2
          exit 2
        fi
        ;;
    esac
  done
  [ -n "$NETWORK_FILE" ] || NETWORK_FILE="$HERE/80-can.network"
  [ -n "$UNIT_FILE" ] || UNIT_FILE="$HERE/../common/$GSU_UNIT_NAME"
  if [ "$NETWORK_FILE" != none ] && [ ! -f "$NETWORK_FILE" ]; then die "no such .network file: $NETWORK_FILE"; fi
  [ -f "$UNIT_FILE" ] || die "no such unit file: $UNIT_FILE"
}

# install_file SRC DEST MODE: copies SRC to DEST unless DEST already has the same content.
# Returns 0 when it changed DEST, 1 when DEST was already up to date.
install_file() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    log "    $2 is up to date"
    return 1
  fi
  run install -D -m "$3" "$1" "$2"
  return 0
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

step_os() {
  step "checking the operating system"
  local id="" like="" version=""
  if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    id=${ID:-}; like=${ID_LIKE:-}; version=${VERSION_CODENAME:-}
  fi
  log "    ${PRETTY_NAME:-unknown OS} (${id:-?} ${version:-?}, $(uname -m))"
  case " $id $like " in
    *" debian "*|*" raspbian "*) ;;
    *) warn "this script is written for Debian and Raspberry Pi OS; continuing anyway" ;;
  esac
  if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then die "run me as root (sudo $0), or with --dry-run"; fi
}

step_packages() {
  step "packages"
  if [ "$DO_PACKAGES" = 0 ]; then log "    skipped (--no-packages)"; return; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    local why="apt-get not found; install Node.js ${NODE_MAJOR_MIN}+, build-essential, python3, can-utils and rsync by hand, then rerun with --no-packages"
    # a dry run goes on (it shows the rest); a real run stops here
    if [ "$DRY_RUN" = 1 ]; then warn "$why (a real run stops here)"; else die "$why"; fi
  fi
  local want=(build-essential python3 can-utils rsync iproute2) missing=() p
  # A Node.js >= 20 that is already there (e.g. from NodeSource, which bundles
  # npm) is kept; otherwise Debian's nodejs and npm packages are installed.
  if [ "$(node_major)" -lt "$NODE_MAJOR_MIN" ]; then want=(nodejs npm "${want[@]}"); fi
  for p in "${want[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    log "    all installed: ${want[*]}"
  else
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  if [ "$DRY_RUN" = 0 ]; then
    local major
    major=$(node_major)
    if [ "$major" -lt "$NODE_MAJOR_MIN" ]; then
      die "Node.js ${NODE_MAJOR_MIN}+ is required, but node is $(node --version 2>/dev/null || echo 'missing').
  Debian 12 (bookworm) and Raspberry Pi OS based on it ship Node.js 18. Either
  flash an image based on Debian 13 (trixie), whose nodejs is 20, or install
  Node.js 20 yourself (for example from NodeSource) and run this script again."
    fi
    log "    node $(node --version), npm $(npm --version 2>/dev/null || echo missing)"
  fi
}

step_user() {
  step "system user '$GSU_USER'"
  if id -u "$GSU_USER" >/dev/null 2>&1; then
    log "    exists"
  else
    run useradd --system --user-group --home-dir "$GSU_STATE" --no-create-home --shell /usr/sbin/nologin "$GSU_USER"
  fi
  if id -nG "$GSU_USER" 2>/dev/null | tr ' ' '\n' | grep -qx dialout; then
    log "    in group dialout"
  elif getent group dialout >/dev/null; then
    run usermod -a -G dialout "$GSU_USER"
  fi
  local d
  for d in /etc/gsu /etc/gsu/keys /opt/gsu; do
    if [ -d "$d" ]; then log "    $d exists"; else run install -d -m 0755 "$d"; fi
  done
}

# ensure_block FILE TAG CONTENT: keeps exactly CONTENT between '# >>> TAG >>>'
# and '# <<< TAG <<<' markers at the end of FILE (appended the first time,
# replaced when it differs). Sets REBOOT_NEEDED when it changes the file.
ensure_block() {
  local file=$1 tag=$2 content=$3 begin end current tmp
  begin="# >>> $tag >>>"
  end="# <<< $tag <<<"
  if [ ! -f "$file" ]; then warn "$file not found; add these lines to your boot configuration by hand:"; printf '%s\n' "$begin" "$content" "$end" >&2; return; fi
  current=$(awk -v b="$begin" -v e="$end" '$0==b{f=1;next} $0==e{f=0} f' "$file")
  if grep -qxF "$begin" "$file" && [ "$current" = "$content" ]; then
    log "    $file already has the gsu lines"
    return
  fi
  REBOOT_NEEDED=1
  if [ "$DRY_RUN" = 1 ]; then
    CHANGED=1
    printf '    would set these lines in %s:\n' "$file"
    printf '      %s\n' "$begin" "$content" "$end"
    return
  fi
  tmp=$(mktemp)
  awk -v b="$begin" -v e="$end" '$0==b{f=1;next} $0==e{f=0;next} !f' "$file" > "$tmp"
  printf '%s\n%s\n%s\n' "$begin" "$content" "$end" >> "$tmp"
  run cp "$file" "$file.gsu-backup"
  run install -m 0644 "$tmp" "$file"
  rm -f "$tmp"
}

# bitrate_of VALUE: "500K" -> 500000 (systemd's base-1000 suffixes K, M).
bitrate_of() {
  local v=$1
  case "$v" in
    *[kK]) echo $(( ${v%?} * 1000 )) ;;
    *M) echo $(( ${v%?} * 1000000 )) ;;
    *) echo "$v" ;;
  esac
}

step_can() {
  step "CAN interface"
  if [ "$NETWORK_FILE" = none ]; then log "    skipped (--network none: no SocketCAN link)"; return; fi
  local name bitrate_raw bitrate dest="/etc/systemd/network/80-can.network"
  name=$(sed -n 's/^[[:space:]]*Name=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$NETWORK_FILE" | head -n1)
  bitrate_raw=$(sed -n 's/^[[:space:]]*BitRate=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$NETWORK_FILE" | head -n1)
  if [ -z "$name" ] || [ -z "$bitrate_raw" ]; then die "$NETWORK_FILE needs Name= under [Match] and BitRate= under [CAN]"; fi
  bitrate=$(bitrate_of "$bitrate_raw")
  log "    $name at $bitrate bit/s (from $NETWORK_FILE)"
  if install_file "$NETWORK_FILE" "$dest" 0644; then
    if [ "$DRY_RUN" = 0 ] && systemctl is-active --quiet systemd-networkd; then run networkctl reload; fi
  fi
  if systemctl is-enabled --quiet systemd-networkd 2>/dev/null; then
    log "    systemd-networkd is enabled"
  else
    run systemctl enable systemd-networkd
  fi
  if ! systemctl is-active --quiet systemd-networkd 2>/dev/null; then run systemctl start systemd-networkd; fi
  if declare -F board_after_can >/dev/null; then board_after_can "$name"; fi
  if [ ! -e "/sys/class/net/$name" ]; then
    if [ "$REBOOT_NEEDED" = 1 ]; then
      log "    $name is not there yet: reboot to load the CAN overlay, then run this script again"
    else
      warn "$name does not exist. Check the CAN controller's wiring and boot configuration (dmesg | grep -i can), and 'ip -br link' for its name"
    fi
    return
  fi
  # Bring it up now, at the right bit rate, unless it already is (networkd normally does this).
  local details
  details=$(ip -details link show "$name" 2>/dev/null || true)
  if printf '%s' "$details" | grep -q "bitrate $bitrate " && printf '%s' "$details" | grep -q '<[^>]*UP[^>]*>'; then
    log "    $name is up at $bitrate bit/s"
  else
    run ip link set "$name" down
    run ip link set "$name" type can bitrate "$bitrate" restart-ms 100
    run ip link set "$name" up
  fi
}

step_unit() {
  step "systemd unit $GSU_UNIT_NAME"
  local dest="/etc/systemd/system/$GSU_UNIT_NAME"
  if install_file "$UNIT_FILE" "$dest" 0644; then run systemctl daemon-reload; fi
  if [ "$DO_ENABLE" = 0 ]; then log "    not enabled (--no-enable)"; return; fi
  if systemctl is-enabled --quiet "$GSU_UNIT_NAME" 2>/dev/null; then
    log "    enabled"
  else
    run systemctl enable "$GSU_UNIT_NAME"
  fi
  if [ -f /opt/gsu/bin/gsu.js ] && [ -f /etc/gsu/profile.json ] && [ -d /opt/gsu/node_modules ]; then
    if systemctl is-active --quiet "$GSU_UNIT_NAME"; then log "    running"; else run systemctl start "$GSU_UNIT_NAME"; fi
  else
    log "    not started: the runtime is not deployed yet (gsu flash installs /opt/gsu and /etc/gsu/profile.json)"
  fi
}

gsu_setup_main() {
  gsu_parse_args "$@"
  log "gsu setup for ${BOARD}$([ "$DRY_RUN" = 1 ] && echo ' (dry run: nothing is changed)')"
  step_os
  step_packages
  step_user
  step "boot configuration"
  if [ "$DO_BOOT" = 0 ]; then log "    skipped (--no-boot-config)"; else board_boot_config; fi
  step_can
  step_unit
  if [ "$CHANGED" = 0 ]; then
    log "done: nothing to change, the board was already set up."
  elif [ "$DRY_RUN" = 1 ]; then
    log "done (dry run): the steps above marked 'would' are what a real run changes."
  else
    log "done."
  fi
  if [ "$REBOOT_NEEDED" = 1 ]; then log "REBOOT NEEDED: the boot configuration changed; run 'sudo reboot', then this script again to bring up CAN."; fi
}
