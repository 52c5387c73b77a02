#!/bin/sh
# Recovery from EMFILE, many times over: each run opens connected pairs up to
# `ulimit -n LIMIT`, closes every one, then starts 1,000 connects at once, which
# must all connect and be accepted while Deno's closes still settle
# (tests/fixtures/socket_limits.ts burst). Prints the runs that failed, any
# panic, and "held N of RUNS runs".
#
# Run: sh bench/profile/emfile_runs.sh [RUNS] [LIMIT]   (defaults: 30, 20000; about 3 s a run)
cd "$(dirname "$0")/../.." || exit 2
runs=${1:-30}; limit=${2:-20000}; ok=0; panics=0
errors=$(mktemp)
for run in $(seq 1 "$runs"); do
  out=$(sh -c "ulimit -n $limit && timeout 90 deno run -NR tests/fixtures/socket_limits.ts burst 1000" 2>"$errors")
  if echo "$out" | grep -q "burst: 1000 connected, 1000 accepted"; then
    ok=$((ok + 1))
  else
    echo "run $run: $(echo "$out" | tail -3 | tr '\n' '|')"
  fi
  if grep -qi panic "$errors"; then
    panics=$((panics + 1))
    echo "run $run panicked: $(head -c 300 "$errors")"
  fi
done
rm -f "$errors"
echo "held $ok of $runs runs, $panics panics (ulimit -n $limit)"
