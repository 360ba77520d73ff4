#!/usr/bin/env bash
# The host's half of the emulated Pi's can-daemons check (arm-host.sh runs it after the
# serial check's flow; arm-guest.sh's "can-daemons" is the board's half). Two board
# daemons run in the one guest as in test/e2e/multiboard-upgrade.test.ts, `gsu board
# --system` with the link layer and a deployment key: gnc (node 2: estimator,
# controller) on can0, io (node 1: sensor, fdir, telemetry) on can1, the two kvaser_pci
# controllers on one emulated CAN bus at 500 kbit/s; every inter-board frame crosses it
# (Cyphal/CAN over SocketCAN). The ground reaches each daemon over its own UART: gnc on
# /dev/ttyS0 ($GSU_ARM_PTY here), io on /dev/ttyS1 ($GSU_ARM_PTY2) — the daemons serve
# ground management on their serial links, not over CAN, so the host needs no CAN.
# Flow, every step a host gsu command: status of both; upload the signed v2 images to
# gnc; upgrade (the round starts guarded operation on both boards); a fault on gnc whose
# AT_FAILED/TAKEOVER/RECOVERED arrive as events, both boards out of guarded operation,
# estimator 1.0.0 again, every device output on both boards equal to a fault-free run of
# the old versions (scripts/qemu/mb-devices.ts, the e2e test's check); upgrade again,
# commit: committed on both boards, gnc runs 2.0.0.
# Files in $GSU_ARM_RUN/mb (/run/gsu/mb in the guest): system.json, gnc.json, io.json,
# deploy.link, profiles-ready (host -> guest); ready or failed, gnc.log, io.log, state-*
# (guest -> host); done ("ok" or what failed; host -> guest).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cd "$repo" || exit 1
d=${GSU_ARM_RUN:?}/mb
k=$GSU_ARM_RUN/host
mkdir -p "$d"
fin() { echo "$1" > "$d/done"; [ "$1" = ok ]; exit $?; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
[ -n "${GSU_ARM_PTY2:-}" ] || fin "no second pty (GSU_ARM_PTY2): arm-run.sh has one UART only"
[ -f "$k/ground.key" ] || node bin/gsu.js keygen --name ground --out "$k" >/dev/null || fin keygen-failed
cp "$k/ground.pub" "$d/ground.pub"
node bin/gsu.js keygen --link-key deploy --out "$d" >/dev/null || fin link-keygen-failed
node -e '
  const fs = require("fs"), d = process.argv[1], g = "/run/gsu/mb";
  const sys = JSON.parse(fs.readFileSync("examples/system.json", "utf8"));
  sys.boards = [{ name: "gnc", node: 2, components: ["estimator", "controller"] }, { name: "io", node: 1, components: ["sensor", "fdir", "telemetry"] }];
  fs.writeFileSync(d + "/system.json", JSON.stringify(sys));
  const b = { gnc: { node: 2, comps: ["estimator@1.0.0", "controller@1.0.0"], can: "can0", tty: "/dev/ttyS0" },
              io: { node: 1, comps: ["sensor@1.0.0", "fdir@1.0.0", "telemetry@1.0.0"], can: "can1", tty: "/dev/ttyS1" } };
  for (const [n, x] of Object.entries(b)) fs.writeFileSync(`${d}/${n}.json`, JSON.stringify({
    name: n, node: x.node, stateDir: `${g}/state-${n}`, components: x.comps, linkKey: `${g}/deploy.link`,
    links: [{ kind: "socketcan", iface: x.can, bitrate: 500000 }, { kind: "serial", path: x.tty, baud: 115200 }],
    trustedKeys: { ground: `${g}/ground.pub` }, at: { commit: "manual" } }));' "$d" || fin profiles-failed
touch "$d/profiles-ready"
i=0
while [ ! -f "$d/ready" ] && [ ! -f "$d/failed" ] && [ ! -f "$GSU_ARM_RUN/status" ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i + 1)); done
[ -f "$d/ready" ] || { echo "can-daemons: the two daemons never came up: $(cat "$d/failed" 2>/dev/null)"; fin no-daemons; }
echo "ground: can-daemons: gnc (can0, /dev/ttyS0) and io (can1, /dev/ttyS1) serving, session open, after $(cat "$d/ready") s"

ground() { local p=$GSU_ARM_PTY n=2; [ "$1" = io ] && p=$GSU_ARM_PTY2 n=1; echo --link "serial:$p@115200" --board $n --timeout 60 --key "$k/ground.key" --target "$1"; }
gsu() {
  local step=$1; shift
  local t; t=$(date +%s%N)
  # shellcheck disable=SC2046
  node bin/gsu.js "$@" > "$d/$step.out" 2> "$d/$step.err"
  local rc=$?
  echo "ground: can-daemons: gsu $1 ($step): exit $rc in $(ms_since "$t") ms"
  if [ $rc != 0 ]; then echo "gsu $* failed (exit $rc):"; tail -c 1500 "$d/$step.out"; tail -c 1500 "$d/$step.err"; fin "$step-failed"; fi
}
# status JSON field: guarded / estimator version
st() { node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(process.argv[2] === "guarded" ? String(!!s.guarded) : (s.instances ?? []).filter((x) => x.comp === process.argv[2]).map((x) => x.version).join(","));' "$@"; }
n=0
# wait_guarded BOARD true|false: polls gsu status until guarded is as wanted (90 s)
wait_guarded() {
  local t0; t0=$(date +%s)
  while :; do
    n=$((n + 1)); gsu "status-$1-$n" status $(ground "$1") --json
    last=$d/status-$1-$n.out
    [ "$(st "$last" guarded)" = "$2" ] && return 0
    [ $(( $(date +%s) - t0 )) -gt 90 ] && { echo "$1: guarded never became $2: $(head -c 800 "$d/status-$1-$n.out")"; tail -5 "$d/$1.log"; fin "$1-guarded-not-$2"; }
    sleep 1
  done
}
for c in estimator controller; do
  [ -f "$k/$c.gsui" ] || gsu "sign-$c" sign --key "$k/ground.key" --component "$c@2.0.0" --out "$k/$c.gsui"
done
round() {
  for c in estimator controller; do gsu "upload-$c-$1" upload $(ground gnc) --quiet "$k/$c.gsui"; done
  gsu "upgrade-$1" upgrade $(ground gnc) estimator@2.0.0 controller@2.0.0
  grep -q 'upgrade round started' "$d/upgrade-$1.out" "$d/upgrade-$1.err" || { echo "upgrade: no 'upgrade round started'"; fin "upgrade-$1-not-started"; }
  wait_guarded gnc true; wait_guarded io true
}
round 1
echo "ground: can-daemons: upgrade round 1: guarded operation on both boards"
before=$(wc -l < "$d/state-gnc/devices.jsonl" 2>/dev/null || echo 0)
gsu fault fault $(ground gnc) --watch "${GSU_ARM_WATCH:-20}" estimator@0
for e in AT_FAILED TAKEOVER RECOVERED; do
  grep -q "$e" "$d/fault.out" || { echo "fault: no $e event:"; tail -20 "$d/fault.out" "$d/fault.err"; fin "no-$e"; }
done
i=0; while ! grep -q 'event recovered' "$d/io.log" && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
grep -q 'event recovered' "$d/io.log" || { echo "io never recovered:"; tail -10 "$d/io.log"; fin io-no-recovery; }
wait_guarded io false; wait_guarded gnc false
[ "$(st "$last" estimator)" = 1.0.0 ] || { echo "after the fault, estimator on gnc is $(st "$last" estimator), not 1.0.0 alone"; fin rollback-wrong; }
# the loop goes on after the takeover; every device output is the old versions' own
i=0; while [ "$(wc -l < "$d/state-gnc/devices.jsonl")" -le $((before + 40)) ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
node --import tsx "$here/mb-devices.ts" "$d/state-gnc" wheel $((before + 40)) "$d/state-io" downlink 40 > "$d/devices.out" 2>&1 || { cat "$d/devices.out"; fin devices-differ; }
sed 's/^/ground: can-daemons: /' "$d/devices.out"
round 2
gsu commit commit $(ground gnc)
i=0; while ! { grep -Eq 'commit: (estimator, controller|controller, estimator) committed' "$d/gnc.log" && grep -q 'event commit' "$d/io.log"; } && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
grep -Eq 'commit: (estimator, controller|controller, estimator) committed' "$d/gnc.log" || { echo "gnc never committed:"; tail -10 "$d/gnc.log"; fin gnc-not-committed; }
grep -q 'event commit' "$d/io.log" || { echo "io never committed:"; tail -10 "$d/io.log"; fin io-not-committed; }
wait_guarded io false; wait_guarded gnc false
[ "$(st "$last" estimator)" = 2.0.0 ] || { echo "after the commit, gnc's estimator is $(st "$last" estimator), not 2.0.0"; fin commit-wrong; }
echo "ground: can-daemons: committed on both boards; gnc runs estimator 2.0.0"
fin ok
