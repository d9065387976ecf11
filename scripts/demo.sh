#!/usr/bin/env bash
# halle's demo: three communes of one grouping on this machine's loopback,
# in a temporary directory. Saint-Jean is home to two producers; Bourg and
# Le Vallon invite them to their own Saturday markets. Residents order in
# Bourg and Le Vallon; Saint-Jean, the producers' home, confirms each line
# against the day's stock shared by the three markets. Then each node's
# status and the producers' order sheets are printed, and the nodes are
# stopped (also on Ctrl-C).
#
# Run from anywhere: it installs what is missing and builds first, unless
# HALLED and HALLECTL name binaries to use (the test suite does that).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

if [[ -z ${HALLED:-} || -z ${HALLECTL:-} ]]; then
	"$top/scripts/deps.sh"
	cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$top/build" -j "$(nproc 2>/dev/null || echo 2)" \
	    --target halled hallectl >/dev/null
	HALLED=$top/build/daemon/halled
	HALLECTL=$top/build/daemon/hallectl
fi

work=$(mktemp -d /tmp/halle-demo.XXXXXX)
pids=()
stop_all() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap stop_all EXIT
trap 'echo; echo "interrupted: stopping the nodes"; exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2; shift 2
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "gave up waiting for $what"
		sleep 0.1
	done
}

communes=(saint-jean bourg vallon)
declare -A port=([saint-jean]=0 [bourg]=1 [vallon]=2) key
base=$((30000 + $$ % 20000))
for c in "${communes[@]}"; do
	mkdir -p "$work/$c"
	port[$c]=$((base + port[$c]))
	cat >"$work/$c/node.conf" <<-EOF
	[node]
	name = $c
	data_dir = $work/$c/data
	key_file = $work/$c/node.key
	control = $work/$c/control.sock
	listen = tcp://127.0.0.1:${port[$c]}
	log_level = warn
	EOF
	key[$c]=$("$HALLED" -c "$work/$c/node.conf" --show-id)
done
# Bourg and Le Vallon dial Saint-Jean; all three are one grouping.
for c in "${communes[@]}"; do
	members=()
	for p in "${communes[@]}"; do
		[[ $p == "$c" ]] && continue
		members+=("$p")
		printf '[peer %s]\nkey = %s\n' "$p" "${key[$p]}"
		[[ $p == saint-jean ]] && printf 'endpoint = tcp://127.0.0.1:%s\n' \
		    "${port[$p]}"
	done >>"$work/$c/node.conf"
	printf '[grouping trois-vallees]\nmembers = %s, %s\n' "${members[@]}" \
	    >>"$work/$c/node.conf"
done

ctl() { local c=$1; shift; "$HALLECTL" -s "$work/$c/control.sock" "$@"; }
writable() { ctl "$1" --json status | jq -e '.writable != false' ; }

say "starting three communes: ${communes[*]}"
for c in "${communes[@]}"; do
	"$HALLED" -c "$work/$c/node.conf" 2>"$work/$c/halled.log" &
	pids+=($!)
done
for c in "${communes[@]}"; do wait_for 20 "$c to start" writable "$c"; done

say "Saint-Jean registers its producers and publishes their catalogues"
moulin=$(ctl saint-jean --json producer add "Ferme du Moulin" \
    --farm "GAEC du Moulin" --town Saint-Jean | jq -r .id)
combes=$(ctl saint-jean --json producer add "Chèvrerie des Combes" \
    --town Saint-Jean | jq -r .id)
cat >"$work/moulin.json" <<'EOF'
{"products": [
 {"sku": "PAIN-1KG", "name": "Pain de campagne", "unit": "piece", "price_cents": 450, "vat_bp": 550, "organic": true, "stock_per_day": 12},
 {"sku": "BRIOCHE", "name": "Brioche", "unit": "piece", "price_cents": 600, "vat_bp": 550, "stock_per_day": 6}]}
EOF
cat >"$work/combes.json" <<'EOF'
{"products": [
 {"sku": "CROTTIN", "name": "Crottin de chèvre", "unit": "piece", "price_cents": 280, "vat_bp": 550, "stock_per_day": 10},
 {"sku": "YAOURT-4", "name": "Yaourts de chèvre x4", "unit": "piece", "price_cents": 390, "vat_bp": 550}]}
EOF
ctl saint-jean catalogue publish "$moulin" "$work/moulin.json" | head -1
ctl saint-jean catalogue publish "$combes" "$work/combes.json" | head -1

say "each commune opens its Saturday market"
declare -A market=([saint-jean]="Marché de Saint-Jean" [bourg]="Marché de Bourg" \
    [vallon]="Halle du Vallon")
declare -A mid dist
saturday=$(date -d "next saturday" +%F)
closes=${saturday}T08:00
for c in "${communes[@]}"; do
	mid[$c]=$(ctl "$c" --json market add "${market[$c]}" --place "Place de la mairie" \
	    --town "$c" --weekday sat --from 09:00 --to 12:00 | jq -r .id)
done
for c in "${communes[@]}"; do
	# The market's node invites, once the producers have reached it.
	wait_for 20 "the producers to reach $c" ctl "$c" producer show "$combes"
	ctl "$c" market invite "${mid[$c]}" "$moulin" >/dev/null
	ctl "$c" market invite "${mid[$c]}" "$combes" >/dev/null
done
for c in "${communes[@]}"; do
	# The producers' home node accepts, once the market has reached it.
	wait_for 20 "${market[$c]} to reach saint-jean" ctl saint-jean market show "${mid[$c]}"
	ctl saint-jean market accept "${mid[$c]}" "$moulin" >/dev/null
	ctl saint-jean market accept "${mid[$c]}" "$combes" >/dev/null
done
sells() { ctl "$1" --json market show "${mid[$1]}" |
    jq -e '[.producers[] | select(.invited and .accepted)] | length == 2'; }
for c in "${communes[@]}"; do
	wait_for 20 "both producers to sell at ${market[$c]}" sells "$c"
	dist[$c]=$(ctl "$c" --json distribution open "${mid[$c]}" "$saturday" \
	    --closes "$closes" | jq -r .id)
	echo "${market[$c]}: $saturday 09:00-12:00, orders until $closes (${dist[$c]})"
done

say "residents order in Bourg and Le Vallon (one through a digital mediator)"
place() { local c=$1 basket=$2; shift 2
	ctl "$c" --json order place "${dist[$c]}" --basket "$basket" "$@" | jq -r .id; }
orders=(
 "bourg $(place bourg "Panier 1" "$moulin:PAIN-1KG:5" "$combes:CROTTIN:4")"
 "bourg $(place bourg "Panier 2" --mediator "France Services" "$moulin:PAIN-1KG:4" "$moulin:BRIOCHE:2")"
 "vallon $(place vallon "Panier 7" "$moulin:PAIN-1KG:6" "$combes:CROTTIN:8" "$combes:YAOURT-4:3")"
 "vallon $(place vallon "Panier 8" "$moulin:BRIOCHE:3")"
 "saint-jean $(place saint-jean "Panier 3" "$combes:YAOURT-4:2")"
)
settled() { ctl "$1" --json order show "$2" | jq -e 'all(.lines[]; .state != "pending")'; }
for o in "${orders[@]}"; do
	set -- $o
	wait_for 20 "order $2 to be ruled on" settled "$1" "$2"
	echo "-- at $1:"
	ctl "$1" order show "$2"
done

in_sync() { ctl "$1" --json status | jq -e 'all(.groupings[]; .in_sync)'; }
for c in "${communes[@]}"; do wait_for 20 "$c to be in sync" in_sync "$c"; done
for c in "${communes[@]}"; do
	say "status of $c"
	ctl "$c" status
done
for p in "$moulin" "$combes"; do
	say "order sheet, at Saint-Jean"
	ctl saint-jean sheet "$p" "$saturday"
done
say "done: stopping the nodes"
