# Sourced by tests/bench/run: the fleet, plan and idle measurements (issue 7).
#
#   fleet  one agent whose policy (generic form, layout "separate") yields $FLEET certificates,
#          all issued by `certagent run --once` against a pebble with PEBBLE_VA_ALWAYS_VALID=1
#          and ten-year certificates: wall time, certificates/s, certagent's and pebble's CPU
#          (pebble's from /proc/<pid>/stat utime+stime before and after) and pebble's share.
#   plan   `certagent plan` over that policy, median of 5, with an empty and with a full store.
#   idle   `certagent run` (the daemon) tracking those certificates, none due for years:
#          after it settles, RSS (VmRSS, VmHWM) and context switches of all its threads
#          (voluntary + involuntary, /proc/<pid>/task/*/status) over $IDLE_SECONDS seconds.
# Writes $OUT/daemon.json and appends its lines to $OUT/table.md.

DAEMON_PID=""

has_subcommand() {  # has_subcommand WORDS...: certagent knows this subcommand
  "$CERTAGENT" "$@" --help >/dev/null 2>&1
}

write_fleet_policy() {  # write_fleet_policy FILE N: N certificates, one name each
  python3 - "$1" "$2" "$DIRECTORY_URL" "$TLS_ROOT" "$HTTP01_PORT" "$FLEET_CONCURRENCY" <<'PY'
import json, sys
path, n, directory, trust, port, concurrency = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
names = {f"site{i:04d}": [f"site{i:04d}.{{fleet}}"] for i in range(n)}
policy = {
    "ca": {"directory": directory, "trust_bundle": trust},
    "challenge": {"type": "http-01", "listen": f"127.0.0.1:{port}"},
    "key": "ec-p256",
    "variables": {"fleet": "fleet.bench.test"},
    "roles": [{"role": "custom", "id": "fleet", "layout": "separate", "names": names}],
}
if concurrency:
    policy["ca"]["concurrency"] = int(concurrency)
json.dump(policy, open(path, "w"), indent=1)
PY
}

cpu_ticks() {  # utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat)
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

machine_ticks() {  # busy clock ticks of the whole machine so far (/proc/stat: all but idle and iowait)
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

handled_now() {  # handled_now 'METHOD /path': such requests pebble has handled so far
  grep -c " $1 -> calling handler()" "$LOG" || true
}

ctx_switches() {  # voluntary + involuntary context switches of every thread of PID
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}

status_kib() {  # status_kib PID FIELD (VmRSS, VmHWM)
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

time_plan() {  # time_plan LABEL: median of 5 wall times (ms) of `certagent plan --json`
  local label=$1 i
  : >"$OUT/plan-$label.times"
  for i in 1 2 3 4 5; do
    local t0=$EPOCHREALTIME
    "$CERTAGENT" --policy "$POLICY" --state-dir "$STATE" plan --json >"$OUT/plan-$label.json" 2>>"$OUT/plan.err" ||
      die "certagent plan failed ($label); see $OUT/plan.err"
    python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$EPOCHREALTIME" >>"$OUT/plan-$label.times"
  done
  python3 -c "import sys, statistics; print(round(statistics.median(float(l) for l in open(sys.argv[1])) * 1000))" \
    "$OUT/plan-$label.times"
}

run_daemon_part() {
  if ! has_subcommand run || ! has_subcommand plan; then
    log "this certagent has no 'run' (daemon/engine): idle, fleet and plan NOT measured"
    echo '{"measured": false, "why": "certagent has no run subcommand in this build"}' >"$OUT/daemon.json"
    return 0
  fi
  start_pebble "fleet=default,PEBBLE_WFE_NONCEREJECT=0,PEBBLE_VA_ALWAYS_VALID=1,certificateValidityPeriod=315360000"
  local pebble_pid=$PID
  POLICY=$OUT/fleet-policy.json STATE=$WORK/fleet-state
  rm -rf "$STATE"
  write_fleet_policy "$POLICY" "$FLEET"
  "$CERTAGENT" policy check "$POLICY" >&2 || die "the fleet policy is not valid"

  local plan_empty_ms plan_full_ms
  time_plan empty >"$OUT/plan-empty.ms"; plan_empty_ms=$(cat "$OUT/plan-empty.ms")
  local n_planned
  n_planned=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['certificates']))" "$OUT/plan-empty.json")
  log "plan over $n_planned certificates, empty store: ${plan_empty_ms} ms (median of 5)"

  log "fleet: issuing $n_planned certificates with run --once"
  local p0 p1 m0 m1 r0 r1 dir0 dir1 nonce0 nonce1 rc=0
  dir0=$(handled_now 'GET /dir') nonce0=$(handled_now 'HEAD /nonce-plz')
  p0=$(cpu_ticks "$pebble_pid") r0=$(requests_now) m0=$(machine_ticks)
  /usr/bin/time -o "$OUT/fleet.time" -f '%e %U %S %M' "$CERTAGENT" --policy "$POLICY" --state-dir "$STATE" run --once \
    >"$OUT/fleet.out" 2>"$OUT/fleet.err" || rc=$?
  p1=$(cpu_ticks "$pebble_pid") r1=$(requests_now) m1=$(machine_ticks)
  dir1=$(handled_now 'GET /dir') nonce1=$(handled_now 'HEAD /nonce-plz')
  [ "$rc" = 0 ] || { tail -n 5 "$OUT/fleet.err" >&2; die "certagent run --once failed (exit $rc); see $OUT/fleet.err"; }
  local wall user sys rss issued
  read -r wall user sys rss < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$OUT/fleet.time" | tail -1)
  issued=$(find "$STATE/certs" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' | wc -l)
  local ticks; ticks=$(getconf CLK_TCK)

  time_plan full >"$OUT/plan-full.ms"; plan_full_ms=$(cat "$OUT/plan-full.ms")
  log "plan over $n_planned certificates, full store: ${plan_full_ms} ms (median of 5)"

  log "idle: starting the daemon; watching it for $IDLE_SECONDS s once it settles"
  "$CERTAGENT" --policy "$POLICY" --state-dir "$STATE" run >"$OUT/daemon.out" 2>"$OUT/daemon.err" &
  DAEMON_PID=$!
  # settled: no context switch for 2 s (its first pass over the full store is done)
  local prev=-1 now i
  for i in $(seq 1 120); do
    sleep 2
    kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon exited; see $OUT/daemon.err"
    now=$(ctx_switches "$DAEMON_PID")
    [ "$now" = "$prev" ] && break
    prev=$now
  done
  local c0 c1 rss_idle hwm threads
  c0=$(ctx_switches "$DAEMON_PID")
  sleep "$IDLE_SECONDS"
  c1=$(ctx_switches "$DAEMON_PID")
  rss_idle=$(status_kib "$DAEMON_PID" VmRSS) hwm=$(status_kib "$DAEMON_PID" VmHWM)
  threads=$(ls /proc/"$DAEMON_PID"/task | wc -l)
  kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""

  python3 - "$OUT" <<PY
import json, sys
out = sys.argv[1]
wall, user, sys_, rss = $wall, $user, $sys, $rss
rss_idle, hwm = $rss_idle, $hwm
pebble_cpu = ($p1 - $p0) / $ticks
agent_cpu = user + sys_
# Everything else the machine did meanwhile: the kernel's writeback threads
# (certagent's syncfs hands its writes to them), interrupts, other processes.
rest_cpu = max(0.0, ($m1 - $m0) / $ticks - pebble_cpu - agent_cpu)
d = {"measured": True, "certificates_planned": $n_planned, "certificates_stored": $issued,
     "fleet_wall_s": wall, "certs_per_s": round($issued / wall, 1) if wall else None,
     "certagent_cpu_s": round(agent_cpu, 2), "certagent_peak_rss_kib": rss,
     "pebble_cpu_s": round(pebble_cpu, 2),
     "pebble_cpu_share": round(pebble_cpu / (pebble_cpu + agent_cpu), 3) if pebble_cpu + agent_cpu else None,
     "pebble_busy_of_wall": round(pebble_cpu / wall, 3) if wall else None,
     "rest_of_machine_cpu_s": round(rest_cpu, 2),
     "fleet_concurrency": int("$FLEET_CONCURRENCY") if "$FLEET_CONCURRENCY" else "default (4)",
     "fleet_requests": $r1 - $r0, "fleet_directory_requests": $dir1 - $dir0,
     "fleet_nonce_requests": $nonce1 - $nonce0,
     "plan_empty_store_ms": $plan_empty_ms, "plan_full_store_ms": $plan_full_ms,
     "idle_seconds": $IDLE_SECONDS, "idle_ctx_switches": $c1 - $c0,
     "idle_vmrss_kib": $rss_idle, "idle_vmhwm_kib": $hwm, "idle_threads": $threads}
json.dump(d, open(f"{out}/daemon.json", "w"), indent=1)
lines = [
  "",
  f"Fleet ({d['certificates_stored']} certificates, PEBBLE_VA_ALWAYS_VALID=1, run --once, ca.concurrency {d['fleet_concurrency']}): "
  f"{wall:.1f} s wall, {d['certs_per_s']} certificates/s, {d['fleet_requests']} requests "
  f"({d['fleet_directory_requests']} GET /dir, {d['fleet_nonce_requests']} HEAD /nonce-plz); "
  f"certagent CPU {agent_cpu:.1f} s (peak RSS {rss / 1024:.1f} MiB), pebble CPU {pebble_cpu:.1f} s "
  f"= {d['pebble_cpu_share'] * 100:.0f}% of the two's CPU (pebble busy {d['pebble_busy_of_wall'] * 100:.0f}% of the wall time); "
  f"the rest of the machine meanwhile {rest_cpu:.1f} s CPU (kernel writeback threads, interrupts, anything else running)",
  f"certagent plan over {d['certificates_planned']} certificates: {d['plan_empty_store_ms']} ms (empty store), "
  f"{d['plan_full_store_ms']} ms (all stored); median of 5",
  f"Daemon idle, tracking {d['certificates_stored']} certificates: VmRSS {rss_idle / 1024:.1f} MiB "
  f"(VmHWM {hwm / 1024:.1f} MiB), {d['idle_ctx_switches']} context switches in {d['idle_seconds']} s "
  f"({d['idle_threads']} threads)",
]
print("\n".join(lines))
open(f"{out}/table.md", "a").write("\n".join(lines) + "\n")
PY
}
