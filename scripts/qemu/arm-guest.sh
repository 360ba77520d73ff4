#!/bin/sh
# The checks scripts/qemu/arm.sh runs inside the emulated ARM board (busybox sh,
# in the work tree, the ARM node_modules in place). Each prints a line
# "ARM-CHECK <name> PASS|FAIL|SKIP <seconds>s <detail>"; the exit status is 1
# if any failed. The serial check meets the host side (arm.sh --host-side)
# through files in /run/gsu (the run directory, a 9p share).
# GSU_ARM_CHECKS: which checks (default "rehearse can can-boards flash serial can-daemons").
checks=${GSU_ARM_CHECKS:-rehearse can can-boards flash serial can-daemons}
d=/run/gsu
failed=0
now() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; } # ms since boot
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
result() { echo "ARM-CHECK $1 $2 $(secs "$3" "$(now)")s $4"; [ "$2" = FAIL ] && failed=1; return 0; }

echo "arm-guest: $(uname -m), kernel $(uname -r), Node $(node --version), $(grep -c ^processor /proc/cpuinfo) CPU, uptime $(cut -d' ' -f1 /proc/uptime) s at start"

# The flash check's ssh server, started first: the host runs gsu flash over it while the
# other checks run. dropbear (Debian's arm64 package) with a host key made now, root's
# authorized key the one the host made for this run (arm-host.sh); port 22 is reached
# from the host at 127.0.0.1:$GSU_ARM_SSH_PORT (QEMU user networking, hostfwd).
flash_unit=
case " $checks " in *" flash "*)
  if [ ! -f "$d/ssh-port" ]; then echo "no ssh port: arm-run.sh was not given GSU_ARM_SSH_PORT" > "$d/ssh-failed"
  elif [ -f "$d/net-missing" ]; then cp "$d/net-missing" "$d/ssh-failed"
  else
    i=0
    while [ ! -f "$d/flash-key.pub" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
    mkdir -p /root/.ssh && chmod 700 /root/.ssh && cp "$d/flash-key.pub" /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys &&
      dropbearkey -t ed25519 -f /tmp/ssh_host_ed25519_key > /tmp/dropbearkey.log 2>&1 &&
      { dropbear -r /tmp/ssh_host_ed25519_key -p 22 -E -F > /tmp/dropbear.log 2>&1 & } &&
      sleep 0.5 && echo "arm-guest: ssh server up: $(dropbear -V 2>&1 | head -1), eth0 $(/usr/bin/ip -br addr show eth0 | tr -s ' ')" &&
      touch "$d/ssh-ready" || echo "the ssh server did not start: $(tail -3 /tmp/dropbearkey.log /tmp/dropbear.log 2>/dev/null | tr '\n' ' ')" > "$d/ssh-failed"
  fi ;;
esac

for c in $checks; do
  t=$(now)
  echo "arm-guest: $c, at uptime $(secs 0 "$t") s"
  case $c in
  rehearse)
    # The in-process rehearsal (simulated links), as on the host: must PASS. Run by
    # the compiled JavaScript the host lays with gsu flash --root (what a board
    # runs: no transpiler at start) when the serial check's host side is there.
    i=0
    case " $checks " in *" serial "*) while [ ! -f "$d/board-bin" ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done ;; esac
    bin=$(cat "$d/board-bin" 2>/dev/null); [ -f "$bin" ] || bin=bin/gsu.js
    node "$bin" rehearse --steps 200 --html - > /tmp/rehearse.log 2>&1
    rc=$?
    tail -15 /tmp/rehearse.log
    how=$([ "$bin" = bin/gsu.js ] && echo "TypeScript through tsx" || echo "compiled JS")
    if [ $rc = 0 ] && grep -q '^Verdict: PASS' /tmp/rehearse.log; then result rehearse PASS "$t" "gsu rehearse --steps 200 ($how): Verdict: PASS"
    else result rehearse FAIL "$t" "gsu rehearse --steps 200 ($how) exited $rc without 'Verdict: PASS'"; fi
    ;;
  can)
    # Real CAN controllers: can0 and can1 are two kvaser_pci (SJA1000) on one
    # emulated bus, set to $GSU_ARM_BITRATE by iproute2's ip at boot.
    if [ -f "$d/can-missing" ]; then result can FAIL "$t" "$(cat "$d/can-missing")"; continue; fi
    /usr/bin/ip -details link show can0 | sed -n '1p;/bitrate/p'
    if ! node -e 'require("socketcan")' 2>/tmp/sc.err; then
      result can SKIP "$t" "socketcan does not load for $(uname -m): $(head -1 /tmp/sc.err) (${GSU_ARM_SOCKETCAN_SKIPPED:-see arm-setup.sh output})"
      continue
    fi
    echo "arm-guest: can0 txqueuelen $(cat /sys/class/net/can0/tx_queue_len), vcan0 MTU $(cat /sys/class/net/vcan0/mtu 2>/dev/null || echo none)"
    node scripts/qemu/can-throughput.cjs can0 can1 ${GSU_ARM_CAN_FRAMES:-300} > /tmp/tp.log 2>&1; rc1=$?
    cat /tmp/tp.log
    # The SocketCAN suite on a real controller's interface (can0), its FD half on
    # vcan0 (MTU 72; the SJA1000 is classic only, which the suite checks is refused
    # for +fd). Every test must pass: none may be skipped. Counts come from vitest's
    # JSON report, failures are shown with their error lines. In the same vitest run,
    # test/det-math.test.ts: the simulated devices' inputs have on ARM the bits pinned on
    # x86-64 (a board's devices are compared with a reference computed on the host).
    rm -f /tmp/vt.json
    GSU_TEST_CAN_IFACE=can0 GSU_TEST_CAN_FD_IFACE=vcan0 node node_modules/vitest/vitest.mjs run test/can/socketcan.test.ts test/det-math.test.ts --no-cache \
      --reporter=verbose --reporter=json --outputFile.json=/tmp/vt.json > /tmp/vt.log 2>&1; rc2=$?
    sed 's/\x1b\[[0-9;]*m//g' /tmp/vt.log | grep -E '^ *(✓|×|↓) |Test Files|Tests  ' | head -20
    node scripts/qemu/vitest-summary.cjs /tmp/vt.json --no-skip > /tmp/vs.log 2>&1; rc3=$?
    cat /tmp/vs.log
    counts=$(sed -n 's/^VITEST //p' /tmp/vs.log)
    if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]; then
      result can PASS "$t" "$(sed -n 's/^CAN-THROUGHPUT //p' /tmp/tp.log); test/can/socketcan.test.ts on can0 (+FD on vcan0) and test/det-math.test.ts: ${counts}"
    else
      # vitest's own account of what failed (its summary and errors), when the JSON report has not said it
      [ $rc3 = 2 ] && sed 's/\x1b\[[0-9;]*m//g' /tmp/vt.log | tail -40
      result can FAIL "$t" "throughput exit $rc1 ($(grep '^CAN-THROUGHPUT' /tmp/tp.log | head -1)); SocketCAN suite exit $rc2: ${counts:-no report}"
    fi
    ;;
  can-boards)
    # The multi-board rehearsal over the real CAN controllers: the demo's three boards
    # as separate OS processes (the compiled JS gsu flash --root lays, when there),
    # io and comms on can0, gnc on can1 (two kvaser_pci on one emulated bus, 500 kbit/s),
    # every frame between gnc and the others crossing the bus from one SJA1000 to the
    # other; fault controller@30, rollback, takeover; devices equal to the reference run.
    if [ -f "$d/can-missing" ]; then result can-boards FAIL "$t" "$(cat "$d/can-missing")"; continue; fi
    i=0
    case " $checks " in *" serial "*) while [ ! -f "$d/board-bin" ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done ;; esac
    bin=$(cat "$d/board-bin" 2>/dev/null); [ -f "$bin" ] || bin=bin/gsu.js
    how=$([ "$bin" = bin/gsu.js ] && echo "TypeScript through tsx" || echo "compiled JS")
    if ! node -e 'require("socketcan")' 2>/tmp/sc.err; then
      result can-boards SKIP "$t" "socketcan does not load for $(uname -m): $(head -1 /tmp/sc.err)"; continue
    fi
    steps=${GSU_ARM_CAN_STEPS:-30}
    st() { cat /sys/class/net/$1/statistics/$2; }
    c0=$(st can0 tx_packets) c1=$(st can1 tx_packets)
    node "$bin" rehearse --links socketcan:can0,can1 --steps "$steps" --fault controller@$((steps / 2)) --period "${GSU_ARM_CAN_PERIOD:-250}" --timeout "${GSU_ARM_CAN_TIMEOUT:-300}" --json --html - > /tmp/canb.json 2> /tmp/canb.err
    rc=$?
    tail -5 /tmp/canb.err
    node -e '
      const s = JSON.parse(require("fs").readFileSync("/tmp/canb.json", "utf8").split("\n").find((l) => l.startsWith("{")));
      const tl = s.timeline.map((e) => `${e.board}:${e.type}${e.comp ? " " + e.comp : ""}`);
      console.log(`CAN-BOARDS verdict ${s.verdict}, ${s.boards} boards on ${s.links}, devices ${Object.entries(s.devices).map(([d, n]) => d + " " + n).join(", ")}, timeline ${tl.join(", ")}, wall ${(s.wall_ms / 1000).toFixed(1)} s${s.errors.length ? ", errors: " + s.errors.join("; ") : ""}${s.differences.length ? ", differences: " + s.differences.slice(0, 3).join("; ") : ""}`);
      process.exit(s.verdict === "pass" && s.boards === 3 && tl.some((x) => x.includes(":takeover")) ? 0 : 1);' > /tmp/canb.sum 2>&1
    rc2=$?
    frames="frames sent: can0 $(( $(st can0 tx_packets) - c0 )), can1 $(( $(st can1 tx_packets) - c1 )) (each received by the other controller: can0 rx $(st can0 rx_packets), can1 rx $(st can1 rx_packets) since boot; dropped rx can0 $(st can0 rx_dropped), can1 $(st can1 rx_dropped))"
    cat /tmp/canb.sum
    echo "arm-guest: $frames"
    if [ $rc = 0 ] && [ $rc2 = 0 ]; then result can-boards PASS "$t" "gsu rehearse --links socketcan:can0,can1 --steps $steps ($how): $(sed -n 's/^CAN-BOARDS //p' /tmp/canb.sum); $frames"
    else result can-boards FAIL "$t" "gsu rehearse --links socketcan:can0,can1 ($how) exited $rc: $(head -c 600 /tmp/canb.sum) $(tail -c 400 /tmp/canb.json)"; fi
    ;;
  flash)
    # gsu flash from the host over real ssh (arm-host.sh): the runtime, the profile, the
    # unit arrive; setup.sh ran in its dry-run mode (no network, no systemd here), the
    # runtime-only node_modules installed beforehand are linked (--deps-from), the unit
    # is not started (--no-start): the serial check starts the daemon as it says.
    if [ -f "$d/ssh-failed" ]; then result flash FAIL "$t" "$(cat "$d/ssh-failed")"; continue; fi
    i=0
    while [ ! -f "$d/flash-status" ] && [ $i -lt 2000 ]; do sleep 0.2; i=$((i + 1)); done
    fs=$(cat "$d/flash-status" 2>/dev/null)
    # the unit as flash staged it (setup.sh installs it to /etc/systemd/system; a dry run here)
    u=/root/.cache/gsu-flash/etc/systemd/system/gsu-board.service
    miss=
    for f in /opt/gsu/bin/gsu.js /opt/gsu/host/cli/main.js /opt/gsu/host/runtime/board.js /opt/gsu/package.json /etc/gsu/profile.json /etc/gsu/keys/ground.pub $u; do [ -f $f ] || miss="$miss $f"; done
    [ -f /opt/gsu/node_modules/serialport/package.json ] || miss="$miss /opt/gsu/node_modules (-> $(readlink /opt/gsu/node_modules))"
    cmp -s /etc/gsu/profile.json "$d/flash-profile.json" || miss="$miss /etc/gsu/profile.json-as-sent"
    cmp -s /etc/gsu/keys/ground.pub "$d/ground.pub" || miss="$miss /etc/gsu/keys/ground.pub-as-sent"
    tail -12 /tmp/dropbear.log 2>/dev/null | grep -v '^$' | tail -3
    if [ "$fs" = 0 ] && [ -z "$miss" ]; then
      flash_unit=$u
      result flash PASS "$t" "gsu flash root@gsu-emulated-pi over ssh (dropbear, QEMU hostfwd) in $(cat "$d/flash-ms" 2>/dev/null) ms: $(find /opt/gsu -type f | wc -l) files in /opt/gsu ($(du -sk /opt/gsu | cut -f1) KiB), /etc/gsu/profile.json and keys as sent, the unit staged; setup.sh --dry-run, node_modules -> $(readlink /opt/gsu/node_modules), unit not started (no systemd)"
    else result flash FAIL "$t" "gsu flash over ssh exited ${fs:-never (no flash-status)}${miss:+; missing or different:$miss}: $(tail -c 600 "$d/flash.out" 2>/dev/null | tr '\n' ' ')"; fi
    ;;
  serial)
    # A board daemon on /dev/ttyS0 (the PCI UART wired to a host pty); the host
    # (scripts/qemu/arm-host.sh) writes its profile and key, then drives it with its
    # own gsu: status, uploads, upgrade, fault (rollback, takeover), commit.
    i=0
    while [ ! -f "$d/profile-ready" ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
    if [ ! -f "$d/profile-ready" ]; then result serial FAIL "$t" "the host side never wrote the board profile"; continue; fi
    # From what gsu flash installed over ssh, started as its unit says (ExecStart, in its
    # WorkingDirectory, its Environment; as root: no gsu user here); else from the compiled
    # JavaScript the host laid with gsu flash --root.
    bin=$(cat "$d/board-bin" 2>/dev/null); [ -f "$bin" ] || bin=bin/gsu.js
    if [ -n "$flash_unit" ]; then
      exe=$(sed -n 's/^ExecStart=//p' "$flash_unit") wd=$(sed -n 's/^WorkingDirectory=//p' "$flash_unit") env=$(sed -n 's/^Environment=//p' "$flash_unit")
      bin="/opt/gsu/bin/gsu.js (installed by gsu flash over ssh)"
      mkdir -p /var/lib/gsu # StateDirectory=gsu
      echo "arm-guest: starting the board daemon as $flash_unit says: cd $wd && env $env $exe"
      # shellcheck disable=SC2086
      (cd "$wd" && exec env $env $exe --sim-devices 10) > /tmp/board.log 2>&1 &
    else
      echo "arm-guest: starting the board daemon: node $bin board"
      node "$bin" board --profile "$d/profile.json" --sim-devices 10 > /tmp/board.log 2>&1 &
    fi
    bpid=$!
    i=0
    while ! grep -q 'up; serving the ground' /tmp/board.log && kill -0 $bpid 2>/dev/null && [ $i -lt 900 ]; do sleep 0.2; i=$((i + 1)); done
    up=$(secs "$t" "$(now)")
    if grep -q 'up; serving the ground' /tmp/board.log; then
      echo "arm-guest: board daemon ($bin) serving on /dev/ttyS0 after ${up}s"
      echo "$up" > "$d/board-ready"
      i=0
      while [ ! -f "$d/host-done" ] && [ $i -lt 3000 ]; do sleep 0.2; i=$((i + 1)); done
    else
      echo "board-failed" > "$d/board-ready"
    fi
    # Stopped as systemd would: SIGTERM, then SIGKILL after 30 s.
    kill $bpid 2>/dev/null
    ts=$(now) i=0 stop="stopped on SIGTERM"
    while kill -0 $bpid 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
    if kill -0 $bpid 2>/dev/null; then kill -9 $bpid; stop="WARNING: did not stop within 30 s of SIGTERM, killed"; fi
    wait $bpid 2>/dev/null
    stop="$stop after $(secs "$ts" "$(now)")s"
    echo "arm-guest: board daemon $stop"
    tail -8 /tmp/board.log
    hs=$(cat "$d/host-done" 2>/dev/null)
    if [ "$hs" = ok ]; then result serial PASS "$t" "board daemon ($( [ "$bin" = bin/gsu.js ] && echo "TypeScript through tsx" || echo "$([ -n "$flash_unit" ] && echo "compiled JS installed by gsu flash over ssh, node_modules: npm ci --omit=dev for arm64" || echo "compiled JS from gsu flash --root, $(cat "$d/board-deps" 2>/dev/null)")")) on /dev/ttyS0 serving after ${up}s; from the host over the pty: ${GSU_ARM_SERIAL_FLOW:-status, 2 signed uploads, upgrade, fault -> AT_FAILED/TAKEOVER/RECOVERED events and 1.0.0 back, upload + upgrade again, commit -> 2.0.0}; daemon $stop"
    else result serial FAIL "$t" "board daemon or host side failed (host: ${hs:-no answer})"; fi
    ;;
  can-daemons)
    # Two board daemons (gsu board --system, the link layer, a deployment key) in this one
    # guest: gnc on can0, io on can1 (two kvaser_pci on one emulated bus, 500 kbit/s),
    # each also on a UART of its own to the host (gnc /dev/ttyS0, io /dev/ttyS1), whose
    # gsu drives the ground flow (scripts/qemu/arm-host-can.sh): uploads, upgrade round,
    # fault -> AT_FAILED/TAKEOVER/RECOVERED events, devices exact, upgrade, commit on both.
    m=$d/mb
    if [ -f "$d/can-missing" ]; then result can-daemons FAIL "$t" "$(cat "$d/can-missing")"; continue; fi
    i=0
    while [ ! -f "$m/profiles-ready" ] && [ ! -f "$d/.host-status" ] && [ $i -lt 1500 ]; do sleep 0.2; i=$((i + 1)); done
    if [ ! -f "$m/profiles-ready" ]; then result can-daemons FAIL "$t" "the host side never wrote the profiles (host: $(cat "$d/host-done" 2>/dev/null))"; continue; fi
    bin=$(cat "$d/board-bin" 2>/dev/null); [ -f "$bin" ] || bin=bin/gsu.js
    st() { cat /sys/class/net/$1/statistics/$2; }
    c0=$(st can0 tx_packets) c1=$(st can1 tx_packets)
    node "$bin" board --profile "$m/gnc.json" --system "$m/system.json" > "$m/gnc.log" 2>&1 &
    gpid=$!
    node "$bin" board --profile "$m/io.json" --system "$m/system.json" --sim-devices "${GSU_ARM_MB_HZ:-10}" > "$m/io.log" 2>&1 &
    ipid=$!
    i=0
    while ! { grep -q 'session with node 1 open' "$m/gnc.log" && grep -q 'session with node 2 open' "$m/io.log"; } &&
      kill -0 $gpid 2>/dev/null && kill -0 $ipid 2>/dev/null && [ $i -lt 900 ]; do sleep 0.2; i=$((i + 1)); done
    up=$(secs "$t" "$(now)")
    if grep -q 'session with node 1 open' "$m/gnc.log" && grep -q 'session with node 2 open' "$m/io.log"; then
      echo "arm-guest: gnc (can0) and io (can1) serving, their session open over CAN after ${up}s"
      echo "$up" > "$m/ready"
      i=0
      while [ ! -f "$m/done" ] && [ ! -f "$d/.host-status" ] && [ $i -lt 4500 ]; do sleep 0.2; i=$((i + 1)); done
    else
      echo "gnc or io did not come up within ${up}s" > "$m/failed"
    fi
    kill $gpid $ipid 2>/dev/null; wait $gpid $ipid 2>/dev/null
    frames="CAN frames sent: can0 (gnc) $(( $(st can0 tx_packets) - c0 )), can1 (io) $(( $(st can1 tx_packets) - c1 )); dropped rx can0 $(st can0 rx_dropped), can1 $(st can1 rx_dropped)"
    echo "arm-guest: $frames"
    tail -4 "$m/gnc.log"; tail -4 "$m/io.log"
    hs=$(cat "$m/done" 2>/dev/null)
    if [ "$hs" = ok ]; then result can-daemons PASS "$t" "gnc on can0 and io on can1 (gsu board --system, $( [ "$bin" = bin/gsu.js ] && echo "TypeScript through tsx" || echo "compiled JS"), link layer + key), session open after ${up}s; host gsu over ttyS0/ttyS1: uploads, upgrade round -> guarded on both, fault -> AT_FAILED/TAKEOVER/RECOVERED events, both recovered, devices equal to a fault-free run, upgrade again, commit -> committed on both; $frames"
    else result can-daemons FAIL "$t" "host: ${hs:-no answer}; $(cat "$m/failed" 2>/dev/null) gnc: $(tail -c 300 "$m/gnc.log" | tr '\n' ' ') io: $(tail -c 300 "$m/io.log" | tr '\n' ' ')"; fi
    ;;
  *) result "$c" FAIL "$t" "unknown check" ;;
  esac
done
exit $failed
