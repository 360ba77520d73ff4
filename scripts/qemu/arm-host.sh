#!/usr/bin/env bash
# The host's half of the emulated Pi's serial check (arm-run.sh --host runs it
# once QEMU has made the pty; arm-guest.sh's "serial" check is the board's half).
# The host is the ground: with its own gsu (x86 Node, the host's node_modules) it
# drives the board daemon running in the emulated aarch64 board over the
# emulated UART (a PCI 16550, /dev/ttyS0 in the guest, $GSU_ARM_PTY here):
#   status                     the board answers a signed status telecommand
#   upload  estimator@2.0.0 and controller@2.0.0, signed images (gsu sign), over the UART
#   upgrade both, guarded operation starts
#   fault   estimator@0 by telecommand: AT_FAILED, TAKEOVER, RECOVERED arrive as events
#   upload, upgrade again (the recovery un-staged them), commit: 2.0.0 runs, not guarded
# The two halves meet through files in the run directory ($GSU_ARM_RUN, /run/gsu
# in the guest): profile.json + profile-ready (host -> guest), board-ready
# (guest -> host: seconds to "serving", or board-failed), host-done (host ->
# guest: "ok" or what failed), board-bin (host -> guest: the compiled gsu.js that
# `gsu flash --root` laid in flash/). GSU_ARM_SERIAL_FLOW=status: the status step only.
# Then, when GSU_ARM_CHECKS has can-daemons, scripts/qemu/arm-host-can.sh (its host half).
# The flash check (when the guest has an ssh port, GSU_ARM_SSH_PORT): an ssh key made for
# this run (flash-key.pub, host -> guest), then, once the guest's dropbear is up
# (ssh-ready), `gsu flash root@gsu-emulated-pi` over real ssh with an ssh_config naming
# the forwarded port and the key (found through an ssh on PATH that passes -F, as
# ~/.ssh/config would); flash-status, flash-ms, flash.out, flash-profile.json (host -> guest).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cd "$repo" || exit 1
d=${GSU_ARM_RUN:?GSU_ARM_RUN: the run directory (arm-run.sh --host sets it)}
pty=${GSU_ARM_PTY:?GSU_ARM_PTY: the host end of the guest UART (arm-run.sh --host sets it)}
k=$d/host
mkdir -p "$k"
done_with() { echo "$1" > "$d/host-done"; [ "$1" = ok ]; exit $?; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

node bin/gsu.js keygen --name ground --out "$k" >/dev/null || { echo "keygen failed"; done_with keygen-failed; }
cp "$k/ground.pub" "$d/ground.pub"
if [ -f "$d/ssh-port" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "gsu-emulated-pi flash $(date +%s)" -f "$k/flash-id" || { echo "ssh-keygen failed"; done_with ssh-keygen-failed; }
  cp "$k/flash-id.pub" "$d/flash-key.pub"
fi
# What a board runs: `gsu flash --root` lays the runtime as compiled JavaScript (no tsx at
# start) into the run directory; the guest starts the daemon from there. Its node_modules:
# what a board installs, `npm ci --omit=dev` for arm64 (arm-setup.sh step 5b:
# /opt/gsu-board in the guest's root); without it, the guest's full arm64 set.
t=$(date +%s%N)
node bin/gsu.js flash --root "$d/flash" --profile raspberry-pi > "$k/flash.out" 2>&1 || { echo "gsu flash --root failed:"; tail -20 "$k/flash.out"; done_with flash-root-failed; }
cache=${GSU_QEMU_ARM_CACHE:-$repo/.cache/qemu-arm}/${GSU_ARM_ARCH:-arm64}
if [ -f "$cache/sysroot/opt/gsu-board/.lock" ]; then
  ln -s /opt/gsu-board/node_modules "$d/flash/opt/gsu/node_modules" # a path in the guest
  deps="npm ci --omit=dev: $(du -sm "$cache/sysroot/opt/gsu-board/node_modules" | cut -f1) MiB"
else
  ln -s "$repo/node_modules" "$d/flash/opt/gsu/node_modules"
  deps="the full arm64 node_modules (no runtime-only install: arm-setup.sh step 5b missing)"
fi
echo "$deps" > "$d/board-deps"
echo "ground: gsu flash --root: the board's files ($(du -sh "$d/flash/opt/gsu/host" | cut -f1) of compiled host/) laid in $(ms_since "$t") ms; node_modules: $deps"
echo /run/gsu/flash/opt/gsu/bin/gsu.js > "$d/board-bin"
cat > "$d/profile.json.tmp" <<EOF
{"name": "arm-pi", "node": 1, "board": "raspberry-pi",
 "links": [{"kind": "serial", "path": "/dev/ttyS0", "baud": 115200}],
 "stateDir": "/tmp/gsu-state",
 "components": ["sensor@1.0.0", "estimator@1.0.0", "controller@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"],
 "trustedKeys": {"ground": "ground.pub"}, "at": {"commit": "manual"}}
EOF
mv "$d/profile.json.tmp" "$d/profile.json" && touch "$d/profile-ready"

# gsu flash over ssh to the emulated Pi: the profile the serial check's daemon runs with,
# its trusted key beside it. setup.sh in its dry-run mode (no apt, no useradd, no
# systemd in the guest), the runtime-only node_modules already on the board
# (/opt/gsu-board, arm-setup.sh 5b: npm ci would need the registry and a compiler), the
# unit left for the guest to start as it says.
if [ -f "$d/ssh-port" ]; then
  i=0
  while [ ! -f "$d/ssh-ready" ] && [ ! -f "$d/ssh-failed" ] && [ ! -f "$d/status" ] && [ $i -lt 3000 ]; do sleep 0.2; i=$((i + 1)); done
  if [ -f "$d/ssh-ready" ]; then
    fp=$k/flash-profile
    mkdir -p "$fp/keys" "$k/bin" && cp "$k/ground.pub" "$fp/keys/ground.pub"
    sed -e 's|"stateDir": "/tmp/gsu-state"|"stateDir": "/var/lib/gsu"|' -e 's|"ground": "ground.pub"|"ground": "keys/ground.pub"|' "$d/profile.json" > "$fp/profile.json"
    cp "$fp/profile.json" "$d/flash-profile.json"
    printf '%s\n' "Host gsu-emulated-pi" "  HostName 127.0.0.1" "  Port $(cat "$d/ssh-port")" "  IdentityFile $k/flash-id" \
      "  IdentitiesOnly yes" "  StrictHostKeyChecking accept-new" "  UserKnownHostsFile $k/known_hosts" "  BatchMode yes" \
      "  ConnectionAttempts 3" "  LogLevel ERROR" > "$k/ssh_config"
    printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$k/ssh_config" > "$k/bin/ssh" && chmod 755 "$k/bin/ssh"
    t=$(date +%s%N)
    PATH=$k/bin:$PATH node bin/gsu.js flash root@gsu-emulated-pi --profile "$fp/profile.json" --setup-dry-run --deps-from /opt/gsu-board/node_modules --no-start > "$d/flash.out" 2>&1
    rc=$?
    ms_since "$t" > "$d/flash-ms"
    echo "ground: gsu flash root@gsu-emulated-pi over ssh: exit $rc in $(cat "$d/flash-ms") ms"
    grep -E '^\[[0-9]+/[0-9]+\]|would run|^left for|^done' "$d/flash.out" | head -40 | sed 's/^/ground: flash| /'
    [ $rc = 0 ] || tail -20 "$d/flash.out"
    echo $rc > "$d/flash-status"
  else
    echo "the guest's ssh server never came up: $(cat "$d/ssh-failed" 2>/dev/null)"
  fi
fi

i=0
while [ ! -f "$d/board-ready" ] && [ ! -f "$d/status" ] && [ $i -lt 4500 ]; do sleep 0.2; i=$((i + 1)); done
[ -f "$d/board-ready" ] || { echo "the board daemon never came up"; done_with no-board; }
[ "$(cat "$d/board-ready")" = board-failed ] && { echo "the board daemon failed to start"; done_with no-board; }

link=(--link "serial:$pty@115200" --board 1 --timeout 60)
key=(--key "$k/ground.key" --target arm-pi)
# gsu STEP ARGS...: runs one ground command, its stdout in $k/STEP.out, its stderr (events,
# progress) in $k/STEP.err; fails the check naming the step.
gsu() {
  local step=$1; shift
  local t; t=$(date +%s%N)
  node bin/gsu.js "$@" > "$k/$step.out" 2> "$k/$step.err"
  local rc=$?
  echo "ground: gsu $1 ($step): exit $rc in $(ms_since "$t") ms"
  if [ $rc != 0 ]; then echo "gsu $* failed (exit $rc):"; tail -c 2000 "$k/$step.out"; tail -c 2000 "$k/$step.err"; done_with "$step-failed"; fi
}
# components of a status --json, and the version of one
comps() { node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const i = (s.instances ?? []);
  if (process.argv[2]) console.log(i.find((x) => x.comp === process.argv[2])?.version ?? "none", s.guarded ? "guarded" : "not-guarded");
  else console.log(i.map((x) => x.comp).sort().join(","));' "$@"; }

gsu status status "${link[@]}" "${key[@]}" --json
[ "$(comps "$k/status.out")" = "controller,estimator,fdir,sensor,telemetry" ] || { echo "status: unexpected components: $(head -c 500 "$k/status.out")"; done_with status-wrong; }
echo "ground: gsu status over $pty: board arm-pi, components $(comps "$k/status.out")"
[ "${GSU_ARM_SERIAL_FLOW:-full}" = status ] && done_with ok

for c in estimator controller; do
  gsu "sign-$c" sign --key "$k/ground.key" --component "$c@2.0.0" --out "$k/$c.gsui"
done
upload() {
  for c in estimator controller; do
    gsu "upload-$c-$1" upload "${link[@]}" "${key[@]}" "$k/$c.gsui"
    cat "$k/upload-$c-$1.out" "$k/upload-$c-$1.err" > "$k/upload-$c-$1.all"
    grep -q "$c 2\.0\.0 staged" "$k/upload-$c-$1.all" || { echo "upload of $c: no 'staged':"; tail -5 "$k/upload-$c-$1.all"; done_with "upload-$c-not-staged"; }
  done
  echo "ground: estimator and controller 2.0.0 ($(stat -c %s "$k/estimator.gsui") + $(stat -c %s "$k/controller.gsui") bytes) uploaded and staged"
}
upload 1
gsu upgrade-1 upgrade "${link[@]}" "${key[@]}" estimator@2.0.0 controller@2.0.0
# The events are watched for a fixed time: the emulated board (TCG) runs ~10x slower than a real one.
gsu fault fault "${link[@]}" "${key[@]}" --watch "${GSU_ARM_WATCH:-20}" estimator@0
cat "$k/fault.out" "$k/fault.err" > "$k/fault.all"
for e in AT_FAILED TAKEOVER RECOVERED; do
  grep -q "$e" "$k/fault.all" || { echo "fault: no $e event within ${GSU_ARM_WATCH:-20} s:"; tail -20 "$k/fault.all"; done_with "no-$e"; }
done
grep -E 'AT_FAILED|TAKEOVER|RECOVERED' "$k/fault.all" | head -6 | sed 's/^/ground: /'
gsu status-2 status "${link[@]}" "${key[@]}" --json
[ "$(comps "$k/status-2.out" estimator)" = "1.0.0 not-guarded" ] || { echo "after the fault: estimator $(comps "$k/status-2.out" estimator), wanted 1.0.0 not-guarded (the old version took over)"; done_with rollback-wrong; }
upload 2
gsu upgrade-2 upgrade "${link[@]}" "${key[@]}" estimator@2.0.0 controller@2.0.0
gsu commit commit "${link[@]}" "${key[@]}"
gsu status-3 status "${link[@]}" "${key[@]}" --json
[ "$(comps "$k/status-3.out" estimator)" = "2.0.0 not-guarded" ] || { echo "after the commit: estimator $(comps "$k/status-3.out" estimator), wanted 2.0.0 not-guarded"; done_with commit-wrong; }
echo "ground: after the fault 1.0.0 ran again (rollback, takeover); committed: estimator 2.0.0, not guarded"
echo ok > "$d/host-done"
# then the can-daemons check: two daemons in the guest over CAN, driven over both UARTs
case " ${GSU_ARM_CHECKS:-} " in *" can-daemons "*) exec bash "$here/arm-host-can.sh" ;; esac
exit 0
