#!/usr/bin/env bash
# Measures the audit command line at scale (issues 10 and 11): writes a
# 1,050,000-event export (about 155,000 links) with bench/src/export-file.ts if
# it is not there yet, then runs every command over it under /usr/bin/time -v and
# prints one line each: exit status, wall time, user and system time, max RSS.
# Also times plain JSON.parse of every line of the same file (the floor any
# reader pays), in the same run, so figures can be read against this machine.
#
#   pnpm build && scripts/measure-command-line.sh [FILE]   (default /tmp/linked-accounts-1m.ndjson)
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-/tmp/linked-accounts-1m.ndjson}
CLI=packages/projections/dist/cli.js
[ -f "$FILE" ] || node bench/dist/export-file.js "$FILE"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() {
  local status=0
  /usr/bin/time -v node "$CLI" "$@" > "$OUT/stdout" 2> "$OUT/stderr" || status=$?
  local wall user sys rss
  wall=$(grep "Elapsed (wall clock)" "$OUT/stderr" | awk '{print $NF}')
  user=$(grep "User time" "$OUT/stderr" | awk '{print $NF}')
  sys=$(grep "System time" "$OUT/stderr" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$OUT/stderr" | awk '{print $NF}')
  echo "linked-accounts $* | exit $status | wall $wall | user ${user}s sys ${sys}s | max RSS $((rss / 1024)) MB | $(head -c 100 "$OUT/stdout" | head -1)"
}

echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), $(du -m "$FILE" | cut -f1) MB export"
/usr/bin/time -f "floor: wall %e s, user %U s, max RSS %M KB" node -e '
const fs = require("fs");
const t0 = performance.now();
let carry = null, n = 0;
const fd = fs.openSync(process.argv[1], "r"), buf = Buffer.alloc(1 << 20);
for (;;) {
  const r = fs.readSync(fd, buf, 0, buf.length, null);
  if (r === 0) break;
  const b = carry ? Buffer.concat([carry, buf.subarray(0, r)]) : buf.subarray(0, r);
  let s = 0;
  for (let nl; (nl = b.indexOf(10, s)) >= 0; s = nl + 1) { JSON.parse(b.toString("utf8", s, nl)); n++; }
  carry = Buffer.from(b.subarray(s));
}
console.log(`floor: JSON.parse of each of ${n} lines (nothing else): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
' "$FILE" 2>&1
run grants --from "$FILE"
run grants --from "$FILE" --json
run grants --from "$FILE" --as-of 2026-01-01T19:00+13:00
run who-can-manage acct-1 --from "$FILE"
run managed-by B000000000 --from "$FILE"
run explain acct-0 acct-1 --from "$FILE"
run timeline acct-1 --from "$FILE"
run loans acct-0 --from "$FILE"
run export "$FILE"
mv "$OUT/stdout" "$OUT/exported.ndjson"
run grants --from "$OUT/exported.ndjson"
