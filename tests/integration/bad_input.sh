#!/usr/bin/env bash
# bad_input.sh: every bad input is refused with the contract's error code,
# hallectl exits 1 with a message on stderr, and nothing changes: the store
# holds the same number of records and every list reads the same.
. "$(dirname "$0")/lib.sh"

N=commune-a
start_node "$N"
files=$WORK/files
mkdir -p "$files"
JSON=(-H 'Content-Type: application/json')

step "setup"
ctlj "$N" producer add "Ferme du Moulin"
P=$(jv "$J" .id)
cat >"$files/good-v2.json" <<'EOF'
{"version": 2, "products": [{"sku": "PAIN-1KG", "name": "Pain", "price_cents": 450, "stock_per_day": 5}]}
EOF
ctlj "$N" catalogue publish "$P" "$files/good-v2.json"
assert_json "$J" .version 2 "setup: catalogue v2"
ctlj "$N" producer add "Boulangerie Invitée"	# invited, has not accepted
P_INVITED=$(jv "$J" .id)
ctlj "$N" producer add "Fromagerie Absente"	# neither invited nor accepted
P_ABSENT=$(jv "$J" .id)
for p in "$P_INVITED" "$P_ABSENT"; do
	ctlj "$N" catalogue publish "$p" - <<<'{"products": [{"sku": "X", "name": "X", "price_cents": 100}]}'
done
ctlj "$N" market add "Marché du samedi" --place "Place" --town "Saint-Jean" \
    --weekday sat --from 10:00 --to 12:00
M=$(jv "$J" .id)
ctlj "$N" market invite "$M" "$P"
ctlj "$N" market accept "$M" "$P"
ctlj "$N" market invite "$M" "$P_INVITED"
DATE=$(day_from_today 3)
ctlj "$N" distribution open "$M" "$DATE" --closes "$(iso_from_now 7200)"
D=$(jv "$J" .id)
ctlj "$N" order place "$D" --basket "Panier 1" "$P:PAIN-1KG:2"
O=$(jv "$J" .id)
ctlj "$N" distribution open "$M" "$(day_from_today 4)" --opens "$(iso_from_now 3600)" \
    --closes "$(iso_from_now 7200)"
D_UPCOMING=$(jv "$J" .id)
assert_json "$J" .state upcoming "distribution whose orders open in an hour"
ctlj "$N" distribution open "$M" "$(day_from_today 5)" --closes "$(iso_from_now 7200)"
D_CANCELLED=$(jv "$J" .id)
ctlj "$N" distribution cancel "$D_CANCELLED"
NO_PR=pr-000000000000
NO_MK=mk-000000000000
NO_DS=ds-000000000000
NO_OR=or-000000000000

# snapshot: what must not change.
snapshot() {
	local out
	ctlj "$N" status
	out="records=$(jv "$J" .store.records)"
	for args in "producer list" "market list" "distribution list" "order list $D" \
	    "catalogue show $P" "order show $O"; do
		# shellcheck disable=SC2086
		ctl_ok "$N" --json $args
		out+=$'\n'"$args: $OUT"
		# shellcheck disable=SC2086
		ctl_ok "$N" $args
		out+=$'\n'"$OUT"
	done
	printf '%s\n' "$out"
}
BASELINE=$(snapshot)
assert_match '^records=[1-9][0-9]*' "$BASELINE" "status store.records"
checks=0

unchanged() {
	local now
	now=$(snapshot)
	if [[ $now != "$BASELINE" ]]; then
		diff -u <(echo "$BASELINE") <(echo "$now") >&2 || true
		fail "after $1: the node's state changed (diff above)"
	fi
	node_alive "$N" || fail "after $1: halled is no longer running"
}

# Each check is soft: a failed one is reported, the state taken again, and
# the next check runs; the test fails at the end if any failed.
_bad() {
	ctl_error "$N" "$@"
	unchanged "hallectl $*"
}
_bad_http() {
	local status=$1 code=$2 method=$3 path=$4; shift 4
	http_error "$N" "$method" "$path" "$status" "$code" "$@"
	unchanged "$method $path"
}

# bad CODE HALLECTL_ARGS...: hallectl refuses with CODE, nothing changes.
bad() {
	checks=$((checks + 1))
	soft _bad "$@" || BASELINE=$(snapshot)
}

# bad_http STATUS CODE METHOD PATH [CURL_ARGS...]
bad_http() {
	checks=$((checks + 1))
	soft _bad_http "$@" || BASELINE=$(snapshot)
}

step "malformed JSON"
printf '{"version": 3, "products": [' >"$files/truncated.json"
printf '{"version": 3, "products": []} trailing' >"$files/trailing.json"
# hallectl reads the file itself: a file that is not JSON is the user's
# mistake, named with its line and column, and never reaches the node.
for f in truncated trailing; do
	run ctl "$N" catalogue publish "$P" "$files/$f.json"
	assert_eq 2 "$RC" "hallectl catalogue publish $f.json: exit status"
	[[ $ERR == *"$f.json:1:"* ]] ||
		fail "hallectl catalogue publish $f.json: stderr does not name the file and line: $ERR"
	unchanged "catalogue publish $f.json"
done
bad_http 400 malformed_json PUT "/v1/producers/$P/catalogue" "${JSON[@]}" \
    --data-binary @"$files/truncated.json"
bad_http 400 malformed_json PUT "/v1/producers/$P/catalogue" "${JSON[@]}" \
    --data-binary '[1, 2, 3]'
bad_http 400 malformed_json POST /v1/producers "${JSON[@]}" --data-binary '"Ferme"'
bad_http 400 malformed_json POST /v1/orders "${JSON[@]}" --data-binary '{"distribution": '

step "invalid fields"
bad_http 400 invalid_field POST /v1/producers "${JSON[@]}" --data-binary '{}'
# Query parameters are whole numbers or refused, never read as 0 or 1.
NID=$(status_value "$N" .node.id)
for q in from=abc from=1x from=-3 from= count=0 count=1001 count=2e3; do
	bad_http 400 invalid_field GET "/v1/feeds/$NID/records?$q"
done
bad_http 400 invalid_field POST /v1/producers "${JSON[@]}" --data-binary '{"name": 42}'
bad_http 400 invalid_field POST /v1/producers "${JSON[@]}" --data-binary '{"name": ""}'
bad_http 400 invalid_field POST /v1/markets "${JSON[@]}" --data-binary '{"name": "M", "place": "P"}'
bad_http 400 invalid_field POST /v1/orders "${JSON[@]}" \
    --data-binary "{\"distribution\": \"$D\", \"lines\": [{\"producer\": \"$P\", \"sku\": \"PAIN-1KG\", \"quantity\": 1}]}"
bad invalid_field catalogue publish "$P" - <<<'{"products": [{"sku": "A", "price_cents": 100}]}'

step "unknown producer"
bad unknown_producer producer show "Personne"
bad unknown_producer producer show "$NO_PR"
bad unknown_producer catalogue show "Personne"
bad unknown_producer catalogue publish "Personne" "$files/good-v2.json"
bad unknown_producer market invite "$M" "Personne"
bad unknown_producer order place "$D" --basket "Panier X" "Personne:PAIN-1KG:1"
bad unknown_producer sheet "Personne" "$DATE"
bad_http 404 unknown_producer GET "/v1/producers/$NO_PR"

step "names already taken"
bad name_taken producer add "FERME DU MOULIN"
bad name_taken market add "marché du samedi" --place "Ailleurs" --town "Autre"
bad_http 409 name_taken POST /v1/producers "${JSON[@]}" --data-binary '{"name": "ferme du moulin"}'

step "unknown market"
bad unknown_market market show "Nulle Part"
bad unknown_market market invite "Nulle Part" "$P"
bad unknown_market distribution open "Nulle Part" "$DATE"
bad unknown_market distribution schedule "$NO_MK" --weeks 2
bad unknown_market distribution list "$NO_MK"
bad_http 404 unknown_market GET "/v1/markets/$NO_MK"

step "unknown distribution"
bad unknown_distribution distribution show "$NO_DS"
bad unknown_distribution distribution cancel "$NO_DS"
bad unknown_distribution order place "$NO_DS" --basket "Panier X" "$P:PAIN-1KG:1"
bad unknown_distribution order list "$NO_DS"

step "unknown sku, no catalogue"
bad unknown_sku order place "$D" --basket "Panier X" "$P:NOPE:1"
bad unknown_sku order change "$O" "$P:NOPE:1"
ctlj "$N" producer add "Ferme Sans Catalogue"
P_EMPTY=$(jv "$J" .id)
BASELINE=$(snapshot)
bad no_catalogue catalogue show "$P_EMPTY"

step "unknown order"
bad unknown_order order show "$NO_OR"
bad unknown_order order cancel "$NO_OR"
bad unknown_order order change "$NO_OR" "$P:PAIN-1KG:1"
bad_http 404 unknown_order GET "/v1/orders/$NO_OR"

step "bad quantities"
bad bad_quantity order place "$D" --basket "Panier X" "$P:PAIN-1KG:0"
bad bad_quantity order place "$D" --basket "Panier X" "$P:PAIN-1KG:-1"
bad bad_quantity order change "$O" "$P:PAIN-1KG:0"
bad_http 400 bad_quantity POST /v1/orders "${JSON[@]}" --data-binary \
    "{\"distribution\": \"$D\", \"basket\": \"Panier X\", \"lines\": [{\"producer\": \"$P\", \"sku\": \"PAIN-1KG\", \"quantity\": 0}]}"
bad_http 400 bad_quantity POST /v1/orders "${JSON[@]}" --data-binary \
    "{\"distribution\": \"$D\", \"basket\": \"Panier X\", \"lines\": [{\"producer\": \"$P\", \"sku\": \"PAIN-1KG\", \"quantity\": -3}]}"

step "overflow"
bad overflow order place "$D" --basket "Panier X" "$P:PAIN-1KG:1000000000000"
bad overflow order place "$D" --basket "Panier X" "$P:PAIN-1KG:1000001"
bad_http 400 overflow POST /v1/orders "${JSON[@]}" --data-binary \
    "{\"distribution\": \"$D\", \"basket\": \"Panier X\", \"lines\": [{\"producer\": \"$P\", \"sku\": \"PAIN-1KG\", \"quantity\": 1000000000000}]}"
cat >"$files/price-overflow.json" <<'EOF'
{"products": [{"sku": "OR-1KG", "name": "Or", "price_cents": 99999999999999}]}
EOF
bad overflow catalogue publish "$P" "$files/price-overflow.json"
bad_http 400 overflow PUT "/v1/producers/$P/catalogue" "${JSON[@]}" \
    --data-binary @"$files/price-overflow.json"
bad overflow catalogue publish "$P" - \
    <<<'{"products": [{"sku": "A", "name": "A", "price_cents": 100, "stock_per_day": 1000000000001}]}'

step "dates in the wrong order"
bad bad_dates distribution open "$M" "$DATE" --from 12:00 --to 10:00
bad bad_dates distribution open "$M" "$DATE" --closes "$(iso_at "$DATE 11:00")"
bad bad_dates distribution open "$M" "$DATE" --closes "$(iso_from_now -3600)"
bad bad_dates distribution open "$M" "$DATE" --opens "$(iso_from_now 7200)" --closes "$(iso_from_now 3600)"
bad bad_dates distribution open "$M" 2026-02-30
bad bad_dates market add "Marché à l'envers" --place P --town T --weekday sat --from 12:00 --to 10:00

step "order windows"
bad order_window_not_open order place "$D_UPCOMING" --basket "Panier X" "$P:PAIN-1KG:1"
bad distribution_cancelled order place "$D_CANCELLED" --basket "Panier X" "$P:PAIN-1KG:1"

step "names: spaces only, bidirectional overrides, only spaces apart"
bad invalid_field producer add "   "
bad invalid_field producer add $'Ferme\u202eoc.liam'
bad invalid_field market add $'March\u00e9 \u2066du samedi' --place P --town T \
    --weekday sat --from 10:00 --to 12:00
bad name_taken producer add "Ferme du Moulin  "
bad name_taken producer add "  Ferme   du Moulin"

step "catalogue versions stop at 2^53 - 1"
bad invalid_field catalogue publish "$P" - \
    <<<'{"version": 9223372036854775807, "products": [{"sku": "PAIN-1KG", "name": "Pain", "price_cents": 400}]}'

step "stale catalogue version"
bad stale_version catalogue publish "$P" - \
    <<<'{"version": 1, "products": [{"sku": "PAIN-1KG", "name": "Pain", "price_cents": 400}]}'
bad stale_version catalogue publish "$P" - \
    <<<'{"version": 2, "products": [{"sku": "PAIN-1KG", "name": "Pain", "price_cents": 400}]}'

step "producer not at the market"
bad not_at_market order place "$D" --basket "Panier X" "$P_ABSENT:X:1"
bad not_at_market order place "$D" --basket "Panier X" "$P_INVITED:X:1"
bad not_at_market order change "$O" "$P:PAIN-1KG:2" "$P_INVITED:X:1"

step "body over 1 MiB"
{
	printf '{"name": "'
	head -c 1200000 /dev/zero | tr '\0' a
	printf '"}'
} >"$files/big.json"
bad_http 413 body_too_large POST /v1/producers "${JSON[@]}" --data-binary @"$files/big.json"
{
	printf '{"products": [{"sku": "A", "name": "'
	head -c 1100000 /dev/zero | tr '\0' a
	printf '", "price_cents": 100}]}'
} >"$files/big-catalogue.json"
bad body_too_large catalogue publish "$P" "$files/big-catalogue.json"

step "routes and methods"
bad_http 404 not_found GET /v1/nothing
bad_http 404 not_found GET /nothing
bad_http 404 not_found POST /v1/producers/"$P"/nothing "${JSON[@]}" --data-binary '{}'
bad_http 405 method_not_allowed DELETE /v1/status

step "hallectl usage and reachability"
run "$HALLECTL" -s "$(sock_of "$N")"
assert_eq 2 "$RC" "hallectl with no command: exit status"
run ctl "$N" order place
assert_eq 2 "$RC" "hallectl order place with no argument: exit status"
run ctl "$N" order place "$D" --basket "Panier X" "no-colons-here"
assert_eq 2 "$RC" "hallectl order place with a line lacking PRODUCER:SKU:QTY: exit status"
run "$HALLECTL" -s "$WORK/nobody.sock" status
assert_eq 3 "$RC" "hallectl on a socket nobody serves: exit status"
[[ -n $ERR ]] || fail "hallectl on a socket nobody serves: no message on stderr"
unchanged "usage errors"

stop_node "$N"
(( SOFT_FAILURES == 0 )) || fail "$SOFT_FAILURES of $checks checks failed (FAIL lines above)"
pass "$checks refusals changed nothing"
