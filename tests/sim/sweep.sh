#!/usr/bin/env bash
# sweep.sh: runs the sync simulator over many seeds, in chunks, and sums
# up: how many seeds ran, which failed (seed and failure line) and the
# slowest convergence after healing. A benchmark, not a CI test: at about
# a second a seed, 10,000 seeds take hours.
#
#   tests/sim/sweep.sh [-s SIM] [-c CHUNK] FIRST COUNT
#
# SIM is the simulator binary (build/tests/sim by default), CHUNK the seeds
# per sim process (100). Each chunk's own output goes to $LOG_DIR/FIRST.log
# (LOG_DIR defaults to $TMPDIR/halle-sweep, TMPDIR to /tmp), so a sweep
# stopped half way keeps what it learnt; the stores of a failing seed are
# kept in TMPDIR as the simulator says. Runs nice'd. Exit status 1 when a
# seed failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
sim=$top/build/tests/sim
chunk=100
while getopts s:c: opt; do
	case $opt in
	s) sim=$OPTARG ;;
	c) chunk=$OPTARG ;;
	*) echo "usage: sweep.sh [-s SIM] [-c CHUNK] FIRST COUNT" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -ne 2 ]; then
	echo "usage: sweep.sh [-s SIM] [-c CHUNK] FIRST COUNT" >&2
	exit 2
fi
first=$1 count=$2
logs=${LOG_DIR:-${TMPDIR:-/tmp}/halle-sweep}
mkdir -p "$logs"

ran=0 failed=0 slowest=-1 slowest_seed= failed_seeds=
start=$(date +%s)
s=$first
while [ "$s" -lt $((first + count)) ]; do
	n=$((first + count - s))
	[ "$n" -gt "$chunk" ] && n=$chunk
	log=$logs/$s.log
	nice -n 10 "$sim" --seed "$s" --seeds "$n" >"$log" 2>&1 || true
	summary=$(grep '^sim: [0-9]* seeds' "$log" || true)
	if [ -z "$summary" ]; then
		echo "sweep: seeds $s..$((s + n - 1)): the simulator stopped" \
		    "without a summary (see $log)" >&2
		failed=$((failed + 1))
	else
		f=$(sed -n 's/^sim: [0-9]* seeds, \([0-9]*\) failed.*/\1/p' \
		    <<<"$summary")
		failed=$((failed + f))
		ms=$(sed -n 's/.*slowest convergence \([0-9]*\) ms.*/\1/p' \
		    <<<"$summary")
		if [ -n "$ms" ] && [ "$ms" -gt "$slowest" ]; then
			slowest=$ms
			slowest_seed=$(sed -n 's/.*(seed \([0-9]*\)).*/\1/p' \
			    <<<"$summary")
		fi
	fi
	grep -E 'FAILED' "$log" >&2 || true
	failed_seeds+=$(sed -n 's/^sim: seed \([0-9]*\) FAILED.*/ \1/p' "$log" |
	    tr -d '\n')
	ran=$((ran + n))
	s=$((s + n))
	echo "sweep: $ran/$count seeds run, $failed failed," \
	    "$(( $(date +%s) - start )) s"
done
echo "sweep: seeds $first..$((first + count - 1)): $ran run, $failed failed," \
    "slowest convergence $slowest ms after healing (seed ${slowest_seed:-none})"
[ -n "$failed_seeds" ] && echo "sweep: failed seeds:$failed_seeds"
[ "$failed" -eq 0 ]
