#!/usr/bin/env bash
# The README's first command, as a test: scripts/demo.sh with the built
# binaries must run to the end, show every order ruled on and print the
# sheets, within its own deadlines (each wait in the demo is bounded).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! timeout 120 "$top/scripts/demo.sh" >"$out" 2>&1; then
	cat "$out"
	echo "FAIL demo: scripts/demo.sh failed"
	exit 1
fi
fail() { cat "$out"; echo "FAIL demo: $*"; exit 1; }
grep -q "pending" "$out" && fail "an order line is still pending"
[[ $(grep -c "^order sheet of" "$out") -eq 2 ]] || fail "not two order sheets"
grep -q "only 3 left on" "$out" || fail "no partially confirmed line"
[[ $(grep -c "^trois-vallees .* yes$" "$out") -eq 3 ]] ||
	fail "not every node reports its grouping in sync"
echo "PASS demo"
