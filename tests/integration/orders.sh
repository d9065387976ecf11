#!/usr/bin/env bash
# orders.sh: orders across communes, between real halled nodes.
#
# A producer of commune-a sells at the markets of a, b and c. Orders are
# placed at b and c; each order part travels sealed to a, the producer's
# home node, which rules on the day's stock (shared by every market) and
# seals its ruling back (docs/security.md, docs/control-api.md).
#
#   scenarios 1-3 and 5          scenario 4
#   commune-b ---> commune-a     commune-a <--- commune-c ---> commune-b
#   commune-c ---> commune-a     (a and b list each other by key only:
#   (b and c link through a)      everything between them goes through c)
#
# All three nodes are in one grouping. Scenarios, each ending in one PASS or
# FAIL line:
#   1 b and c order 8 loaves each at the same moment of a stock of 10:
#     exactly 10 confirmed (8 + 2), the short line has a reason, and a's
#     order sheet matches the confirmations seen at b and c
#   2 an order placed at b while a is down stays pending, is ruled once a
#     is back, and is counted once (also after another restart of a)
#   3 changing an order down and cancelling it release stock at a; after
#     the close, change and cancel are refused at b; a's sheet turns final
#   4 through a relay (c) that cannot read: b's order is confirmed, c holds
#     b's records but not the order, and the basket label is not in c's
#     store
#   5 accepting a market for a's producer at b is refused (not_owner)
#
# The checks of a scenario are soft: a failing one is reported and the test
# goes on with the next scenario; it fails at the end. Setting up (nodes,
# producer, markets, distributions) and starting or stopping nodes is not
# soft: when it fails the test ends.
. "$(dirname "$0")/lib.sh"

A=commune-a
B=commune-b
C=commune-c
G=pays-de-foo

# ---- scenario bookkeeping (as federation.sh)

declare -a SUMMARY=()
_sc_name=
_sc_fails=0

_sc_start=0

scenario() {
	_sc_name=$1
	_sc_fails=$SOFT_FAILURES
	_sc_start=$(_now_ms)
	step "scenario $_sc_name"
}

scenario_done() {
	local n=$((SOFT_FAILURES - _sc_fails))
	local took="$(( ($(_now_ms) - _sc_start) / 1000 )) s"
	if (( n == 0 )); then
		pass "scenario $_sc_name ($took)"
		SUMMARY+=("PASS scenario $_sc_name ($took)")
	else
		echo "FAIL $HALLE_TEST: scenario $_sc_name ($n check(s) failed, see above; $took)" >&2
		SUMMARY+=("FAIL scenario $_sc_name ($took)")
	fi
}

# check CMD...: a soft check: a failure is counted and reported.
check() {
	soft "$@" || true
}

# Values made inside soft checks (subshells) are kept in files.
mkdir -p "$WORK/ids"
keep() { echo "$2" >"$WORK/ids/$1"; }
kept() { cat "$WORK/ids/$1" 2>/dev/null || true; }
# need NAME: the kept value, or the check fails saying it is missing.
need() {
	local v
	v=$(kept "$1")
	[[ -n $v ]] || fail "no $1 (an earlier step failed)"
	echo "$v"
}

# ---- configurations

# The star: b and c dial a. a keeps its whole stock in reserve, so that
# every line here is ruled by a as first come first served; stock rights
# granted to the markets have their own test (autonomy.sh).
text_a() {
	printf '%s\n\n' "stock_reserve_percent = 100" "$(peer_section $B)" "$(peer_section $C)" "$(grouping_section $G $B $C)"
}
text_b_star() {
	printf '%s\n\n' "$(peer_section $A dial)" "$(peer_section $C)" "$(grouping_section $G $A $C)"
}
text_c_star() {
	printf '%s\n\n' "$(peer_section $A dial)" "$(peer_section $B)" "$(grouping_section $G $A $B)"
}
# The line a - c - b: c dials both; a and b know each other's key only.
text_b_line() {
	printf '%s\n\n' "$(peer_section $A)" "$(peer_section $C)" "$(grouping_section $G $A $C)"
}
text_c_line() {
	printf '%s\n\n' "$(peer_section $A dial)" "$(peer_section $B dial)" "$(grouping_section $G $A $B)"
}

# ---- helpers

# peer_state_is NAME PEER STATE
peer_state_is() {
	local out
	out=$(ctl "$1" --json status 2>/dev/null) || return 1
	[[ $(jq -r ".peers[] | select(.name == \"$2\") | .state" <<<"$out" 2>/dev/null) == "$3" ]]
}

star_up() {
	peer_state_is $B $A up && peer_state_is $C $A up &&
	    peer_state_is $A $B up && peer_state_is $A $C up
}

line_up() {
	peer_state_is $C $A up && peer_state_is $C $B up &&
	    peer_state_is $A $C up && peer_state_is $B $C up
}

# head_is NAME ORIGIN SEQ: NAME holds ORIGIN's feed up to SEQ exactly.
head_is() {
	local out
	out=$(ctl "$1" --json feeds 2>/dev/null) || return 1
	[[ $(jq -r "(.[] | select(.origin == \"$2\") | .head_seq) // 0" <<<"$out" 2>/dev/null) == "$3" ]]
}

# synced ORIGIN NAME...: each NAME holds ORIGIN's feed up to its head at
# the origin's node (ORIGIN is a node name).
synced() {
	local origin=$1 h n; shift
	h=$(head_of "$origin" "${NODE_ID[$origin]}")
	for n in "$@"; do
		head_is "$n" "${NODE_ID[$origin]}" "$h" || return 1
	done
}

# json_ok NAME FILTER ARGS...: hallectl --json ARGS succeeds at NAME and jq
# -e FILTER holds on its answer.
json_ok() {
	local name=$1 filter=$2 out; shift 2
	out=$(ctl "$name" --json "$@" 2>/dev/null) || return 1
	jq -e "$filter" <<<"$out" >/dev/null 2>&1
}

# sells_at NAME MARKET PRODUCER: NAME sees PRODUCER invited and accepted at
# MARKET.
sells_at() {
	json_ok "$1" "any(.producers[]; .id == \"$3\" and .invited and .accepted)" market show "$2"
}

# order_resolved NAME ORDER: no line of the order is pending at NAME.
order_resolved() {
	json_ok "$1" '(.lines | length) > 0 and all(.lines[]; .state != "pending")' order show "$2"
}

# show_order NAME ORDER: sets J to the order as NAME shows it.
show_order() {
	ctlj "$1" order show "$2"
	assert_json "$J" .id "$2" "order show $2 at $1"
}

# line_of JSON SKU FIELD: the field of the order's line for SKU.
line_of() {
	jv "$1" ".lines[] | select(.sku == \"$2\") | .$3"
}

# place NAME KEY DISTRIBUTION BASKET LINE...: places an order at NAME,
# keeps its id as KEY and its answer in J.
place() {
	local name=$1 key=$2 dist=$3 basket=$4; shift 4
	ctlj "$name" order place "$dist" --basket "$basket" "$@"
	local id
	id=$(jv "$J" .id)
	assert_match '^or-[0-9a-f]{12}$' "$id" "order id at $name"
	keep "$key" "$id"
}

# resolved_line NAME ORDER SKU STATE CONFIRMED WHAT: waits until the order
# is ruled, then checks its line for SKU; sets J to the order.
resolved_line() {
	wait_until 30 order_resolved "$1" "$2"
	show_order "$1" "$2"
	assert_eq "$4" "$(line_of "$J" "$3" state)" "$6: $3 state"
	assert_eq "$5" "$(line_of "$J" "$3" confirmed)" "$6: $3 confirmed"
}

# has_reason ORDER_JSON SKU WHAT
has_reason() {
	assert_jq "$1" ".lines[] | select(.sku == \"$2\") | .reason | type == \"string\" and length > 0" \
	    "$3: the $2 line has a reason"
}


# orders_of NAME:DISTRIBUTION...: the orders of each distribution as its
# market's node lists them, one array.
orders_of() {
	local all='[]' nd
	for nd in "$@"; do
		ctlj "${nd%%:*}" order list "${nd#*:}"
		all=$(jq -c --argjson more "$J" '. + $more' <<<"$all")
	done
	echo "$all"
}

# sheet_matches DATE WHAT NAME:DISTRIBUTION...: a's sheet of P for DATE is
# what the orders at the markets' nodes say, line for line.
sheet_matches() {
	local date=$1 what=$2 want got; shift 2
	want=$(sheet_from_orders "$P" "$(orders_of "$@")")
	ctlj $A sheet "$P" "$date"
	got=$(normal_sheet "$J")
	assert_eq "$want" "$got" "$what: a's sheet of $date and the orders at the markets' nodes"
}

# sheet_value DATE FILTER: jq -r FILTER of a's sheet of P for DATE.
sheet_value() {
	ctlj $A sheet "$P" "$1"
	jv "$J" "$2"
}

# baskets_of DATE MARKET SKU: "label:quantity,..." at MARKET in a's sheet.
baskets_of() {
	sheet_value "$1" "[.markets[] | select(.id == \"$2\") | .products[] | select(.sku == \"$3\")
	    | .baskets[] | \"\(.label):\(.quantity)\"] | sort | join(\",\")"
}

# ---- setting up: three nodes, one producer, three markets

step "setting up a, b and c"
setup_start=$(_now_ms)
for n in $A $B $C; do
	make_node_id $n
done
write_config_text $A "$(text_a)"
write_config_text $B "$(text_b_star)"
write_config_text $C "$(text_c_star)"
start_node $A
start_node $B
start_node $C
AID=${NODE_ID[$A]}
BID=${NODE_ID[$B]}
wait_until 20 star_up
for n in $A $B $C; do
	wait_until 10 node_writable $n
done

mkdir -p "$WORK/catalogues"
cat >"$WORK/catalogues/moulin.json" <<'EOF'
{"version": 1,
 "products": [
  {"sku": "PAIN-1KG", "name": "Pain de campagne", "unit": "piece", "quantity": 1,
   "price_cents": 450, "vat_bp": 550, "organic": true, "stock_per_day": 10},
  {"sku": "GATEAU", "name": "Gâteau basque", "price_cents": 1200, "stock_per_day": 5},
  {"sku": "OEUFS-6", "name": "Six œufs", "price_cents": 320, "stock_per_day": 6},
  {"sku": "MIEL", "name": "Miel de fleurs", "price_cents": 800}
 ]}
EOF
ctlj $A producer add "Ferme du Moulin" --farm "GAEC du Moulin" --town "Saint-Jean"
P=$(jv "$J" .id)
assert_match '^pr-[0-9a-f]{12}$' "$P" "producer id"
assert_json "$J" .home "$AID" "the producer's home is a"
ctlj $A catalogue publish "$P" "$WORK/catalogues/moulin.json"

declare -A MK=()
for n in $A $B $C; do
	ctlj $n market add "Marché de $n" --place "Place de la mairie" --town "Bourg-$n" \
	    --weekday sat --from 10:00 --to 12:00
	MK[$n]=$(jv "$J" .id)
	assert_match '^mk-[0-9a-f]{12}$' "${MK[$n]}" "market id at $n"
done
MA=${MK[$A]}
MB=${MK[$B]}
MC=${MK[$C]}

# Each market's node invites the producer (once it holds its catalogue);
# a, its home, accepts each market (once it holds the market).
for n in $B $C; do
	wait_until 20 json_ok $n ".version == 1" catalogue show "$P"
done
for n in $A $B $C; do
	ctlj $n market invite "${MK[$n]}" "$P"
done
for n in $B $C; do
	wait_until 20 json_ok $A ".id == \"${MK[$n]}\"" market show "${MK[$n]}"
done
for n in $A $B $C; do
	ctlj $A market accept "${MK[$n]}" "$P"
done
for n in $A $B $C; do
	wait_until 20 sells_at $n "${MK[$n]}" "$P"
done

# DSAT: the next Saturday after today; DCLOSE: another day, for a
# distribution whose window closes while we watch.
DSAT=
for k in 1 2 3 4 5 6 7; do
	d=$(day_from_today $k)
	if [[ $(weekday_of "$d") == 6 ]]; then
		DSAT=$d
		break
	fi
done
[[ -n $DSAT ]] || fail "no Saturday in the next 7 days?"
DCLOSE=$(day_from_today 1)
[[ $DCLOSE != "$DSAT" ]] || DCLOSE=$(day_from_today 2)
CLOSES=$(iso_from_now 7200)
declare -A DS=()
for n in $A $B $C; do
	ctlj $n distribution open "${MK[$n]}" "$DSAT" --closes "$CLOSES"
	DS[$n]=$(jv "$J" .id)
	assert_json "$J" .state open "distribution at $n"
done
DA=${DS[$A]}
DB=${DS[$B]}
DC=${DS[$C]}
note "producer $P, markets a $MA b $MB c $MC, distributions of $DSAT: a $DA b $DB c $DC" \
    "(set up in $(( ($(_now_ms) - setup_start) / 1000 )) s)"

# ---- 1: two orders at the same moment for a stock of 10

scenario "1: b and c order 8 of 10 at the same moment: exactly 10 confirmed, the sheet agrees"
s1() {
	local pb pc rb=0 rc=0 ob oc qb qc jb jc
	ctl $B --json order place "$DB" --basket "Panier B-1" "$P:PAIN-1KG:8" \
	    >"$WORK/s1b.out" 2>"$WORK/s1b.err" &
	pb=$!
	ctl $C --json order place "$DC" --basket "Panier C-1" "$P:PAIN-1KG:8" \
	    >"$WORK/s1c.out" 2>"$WORK/s1c.err" &
	pc=$!
	wait $pb || rb=$?
	wait $pc || rc=$?
	assert_eq 0 "$rb" "order place at b: exit status ($(cat "$WORK/s1b.err"))"
	assert_eq 0 "$rc" "order place at c: exit status ($(cat "$WORK/s1c.err"))"
	ob=$(jv "$(cat "$WORK/s1b.out")" .id)
	oc=$(jv "$(cat "$WORK/s1c.out")" .id)
	for jb in "$WORK/s1b.out" "$WORK/s1c.out"; do
		[[ $(jq -r '.lines[0].state' "$jb") == pending ]] ||
		    note "the answer to an order placement was not pending: $(jq -c .lines "$jb")"
	done
	wait_until 30 order_resolved $B "$ob"
	wait_until 30 order_resolved $C "$oc"
	show_order $B "$ob"
	jb=$J
	show_order $C "$oc"
	jc=$J
	assert_eq confirmed "$(line_of "$jb" PAIN-1KG state)" "b's order: state"
	assert_eq confirmed "$(line_of "$jc" PAIN-1KG state)" "c's order: state"
	qb=$(line_of "$jb" PAIN-1KG confirmed)
	qc=$(line_of "$jc" PAIN-1KG confirmed)
	note "confirmed at b: $qb, at c: $qc"
	assert_eq 10 $((qb + qc)) "loaves confirmed at b ($qb) and c ($qc) together"
	assert_eq "2,8" "$(printf '%s\n' "$qb" "$qc" | sort -n | paste -sd,)" "confirmed at b and c"
	if (( qb == 2 )); then
		has_reason "$jb" PAIN-1KG "b's order (2 of 8)"
		assert_json "$jb" '.total_cents' 900 "b's order total (2 × 450)"
	else
		has_reason "$jc" PAIN-1KG "c's order (2 of 8)"
		assert_json "$jc" '.total_cents' 900 "c's order total (2 × 450)"
	fi
	# a's sheet, line for line.
	sheet_matches "$DSAT" "scenario 1" "$A:$DA" "$B:$DB" "$C:$DC"
	ctlj $A sheet "$P" "$DSAT"
	assert_json "$J" '[.markets[].id] | sort | join(",")' \
	    "$(printf '%s\n' "$MB" "$MC" | sort | paste -sd,)" "a's sheet: the markets of b and c"
	assert_json "$J" "[.markets[] | select(.id == \"$MB\") | .products[] | select(.sku == \"PAIN-1KG\") | .quantity] | add" \
	    "$qb" "a's sheet: bread at b's market"
	assert_json "$J" "[.markets[] | select(.id == \"$MC\") | .products[] | select(.sku == \"PAIN-1KG\") | .quantity] | add" \
	    "$qc" "a's sheet: bread at c's market"
	assert_json "$J" "[.markets[] | select(.id == \"$MB\") | .products[].baskets[] | .label] | join(\",\")" \
	    "Panier B-1" "a's sheet: baskets at b's market"
	assert_json "$J" "[.markets[] | select(.id == \"$MB\") | .distribution] | join(\",\")" \
	    "$DB" "a's sheet: b's distribution"
	assert_json "$J" '[.markets[].final] | all(. == false)' true "a's sheet: not final while orders are open"
}
check s1
scenario_done

# ---- 2: an order placed while a is down

scenario "2: an order placed at b while a is down is pending, then ruled once, across restarts of a"
stop_node $A
s2_place() {
	http $B POST /v1/orders -H 'Content-Type: application/json' \
	    -d "{\"distribution\": \"$DB\", \"basket\": \"Panier B-2\", \"lines\": [{\"producer\": \"$P\", \"sku\": \"GATEAU\", \"quantity\": 3}]}"
	assert_eq 201 "$HTTP_STATUS" "POST /v1/orders at b while a is down: status (body $HTTP_BODY)"
	local id
	id=$(jv "$HTTP_BODY" .id)
	keep O2 "$id"
	assert_eq pending "$(line_of "$HTTP_BODY" GATEAU state)" "the answer: line state while a is down"
	assert_eq 0 "$(line_of "$HTTP_BODY" GATEAU confirmed)" "the answer: confirmed while a is down"
	show_order $B "$id"
	assert_eq pending "$(line_of "$J" GATEAU state)" "order show at b while a is down"
}
check s2_place
start_node $A
# sheet_counts_once WHAT: the order O2 is in a's sheet once, for 3 cakes.
s2_once() {
	local o2
	o2=$(need O2)
	resolved_line $B "$o2" GATEAU confirmed 3 "$1: the order placed while a was down"
	assert_eq "Panier B-2:3" "$(baskets_of "$DSAT" "$MB" GATEAU)" "$1: cakes' baskets at b's market in a's sheet"
	assert_eq 3 "$(sheet_value "$DSAT" "[.markets[] | select(.id == \"$MB\") | .products[] | select(.sku == \"GATEAU\") | .quantity] | add")" \
	    "$1: cakes at b's market in a's sheet"
	sheet_matches "$DSAT" "$1" "$A:$DA" "$B:$DB" "$C:$DC"
}
check s2_once "after a's restart"
# Once more: a restarts, links up again; b holds all of a's feed again.
stop_node $A
start_node $A
check wait_until 20 star_up
check wait_until 20 synced $A $B $C
check s2_once "after a second restart of a"
# The stock took 3 cakes once: 2 of 5 remain.
s2_stock() {
	place $B O2b "$DB" "Panier B-2bis" "$P:GATEAU:5"
	resolved_line $B "$(need O2b)" GATEAU confirmed 2 "an order of 5 cakes after the restarts (5 - 3 left)"
	has_reason "$J" GATEAU "the order of 5 cakes"
	assert_eq "Panier B-2:3,Panier B-2bis:2" "$(baskets_of "$DSAT" "$MB" GATEAU)" "cakes' baskets in a's sheet"
}
check s2_stock
scenario_done

# ---- 3: changes and cancellations

scenario "3: changing down and cancelling at b release stock at a; after the close both are refused; the sheet turns final"
s3_change() {
	place $B O3b "$DB" "Panier B-3" "$P:OEUFS-6:5"
	local ob
	ob=$(need O3b)
	resolved_line $B "$ob" OEUFS-6 confirmed 5 "b's order of 5 of 6"
	place $C O3c1 "$DC" "Panier C-3a" "$P:OEUFS-6:4"
	resolved_line $C "$(need O3c1)" OEUFS-6 confirmed 1 "c's order of 4 with 1 left"
	has_reason "$J" OEUFS-6 "c's order of 4 with 1 left"
	ctlj $B order change "$ob" "$P:OEUFS-6:2"
	assert_json "$J" .version 2 "b's order after the change: version"
	resolved_line $B "$ob" OEUFS-6 confirmed 2 "b's order changed down to 2"
	assert_eq "Panier B-3:2" "$(baskets_of "$DSAT" "$MB" OEUFS-6)" "eggs at b's market in a's sheet after the change"
	place $C O3c2 "$DC" "Panier C-3b" "$P:OEUFS-6:4"
	resolved_line $C "$(need O3c2)" OEUFS-6 confirmed 3 "c's order of 4 after b released 3"
}
check s3_change
s3_cancel() {
	local ob
	ob=$(need O3b)
	ctlj $B order cancel "$ob"
	assert_json "$J" .cancelled true "b's order cancelled"
	# a's ruling on the cancelled version: the line refused, nothing held.
	resolved_line $B "$ob" OEUFS-6 refused 0 "b's cancelled order"
	assert_eq "" "$(baskets_of "$DSAT" "$MB" OEUFS-6)" "eggs at b's market in a's sheet after the cancel"
	place $C O3c3 "$DC" "Panier C-3c" "$P:OEUFS-6:4"
	resolved_line $C "$(need O3c3)" OEUFS-6 confirmed 2 "c's order of 4 after b's cancel released 2"
	sheet_matches "$DSAT" "scenario 3" "$A:$DA" "$B:$DB" "$C:$DC"
}
check s3_cancel

# A distribution whose window closes in a few seconds.
closes_soon=$(iso_from_now 8)
closes_epoch=$(epoch_of "$closes_soon")
ctlj $B distribution open "$MB" "$DCLOSE" --from 10:00 --to 12:00 --closes "$closes_soon"
DB2=$(jv "$J" .id)
s3_closing() {
	run ctl $B --json order place "$DB2" --basket "Panier B-fin" "$P:OEUFS-6:1"
	if (( RC != 0 )); then
		(( $(date +%s) < closes_epoch )) ||
		    fail "this machine was too slow: the 8 s window closed before the order ($ERR)"
		fail "order place in an open window at b exited $RC: $ERR $OUT"
	fi
	local of
	of=$(jv "$OUT" .id)
	keep O3f "$of"
	resolved_line $B "$of" OEUFS-6 confirmed 1 "b's order in the closing window"
	# Read before the close (checked after the read), the sheet is not final.
	local early
	early=$(sheet_value "$DCLOSE" "[.markets[] | select(.id == \"$MB\") | .final] | join(\",\")")
	if (( $(date +%s) < closes_epoch )); then
		assert_eq false "$early" "a's sheet of $DCLOSE before the close: b's market final"
	else
		note "the order in the closing window was ruled after the close: no check of the sheet before it"
	fi
}
check s3_closing
clock_past() { (( $(date +%s) >= $1 )); }
check wait_until 20 clock_past "$closes_epoch"
s3_after_close() {
	local of
	of=$(need O3f)
	wait_until 10 json_ok $B '.state == "closed"' distribution show "$DB2"
	ctl_error $B order_window_closed order change "$of" "$P:OEUFS-6:2"
	ctl_error $B order_window_closed order cancel "$of"
	ctl_error $B order_window_closed order place "$DB2" --basket "Panier B-tard" "$P:OEUFS-6:1"
	show_order $B "$of"
	assert_json "$J" '[.version, .cancelled, .lines[0].quantity, .lines[0].confirmed] | @csv' '1,false,1,1' \
	    "b's order unchanged after the refused change and cancel"
	# b marks the distribution closed (within ~2 s); a, once it holds the
	# mark, says its sheet for b's market is final.
	wait_until 10 json_ok $B '.closed_marked == true' distribution show "$DB2"
	wait_until 20 json_ok $A "any(.markets[]; .id == \"$MB\" and .final == true)" sheet "$P" "$DCLOSE"
	assert_eq "Panier B-fin:1" "$(baskets_of "$DCLOSE" "$MB" OEUFS-6)" "a's final sheet of $DCLOSE at b's market"
	sheet_matches "$DCLOSE" "the final sheet" "$B:$DB2"
	# The other distribution of b is still open, and its market not final.
	assert_eq false "$(sheet_value "$DSAT" "[.markets[] | select(.id == \"$MB\") | .final] | join(\",\")")" \
	    "a's sheet of $DSAT: b's market (still open) final"
}
check s3_after_close
scenario_done

# ---- 4: through a relay that cannot read

scenario "4: b's order reaches a through c, which holds it sealed and cannot read it"
stop_node $B
stop_node $C
# From here on, a must see no new link from b (a keeps showing b "up" for a
# few heartbeats after b stopped: its status alone cannot tell).
mark_a=$(log_mark $A)
write_config_text $B "$(text_b_line)"
write_config_text $C "$(text_c_line)"
start_node $C
start_node $B
check wait_until 20 line_up
LABEL="Panier-relais-$$-$RANDOM$RANDOM"
s4() {
	assert_eq "" "$(status_value $B ".peers[] | select(.name == \"$A\") | .endpoint // \"\"")" \
	    "b dials no endpoint of a"
	peer_state_is $B $A up && fail "b sees a up: they are not to be linked"
	place $B O4 "$DB" "$LABEL" "$P:MIEL:2"
	local o4
	o4=$(need O4)
	resolved_line $B "$o4" MIEL confirmed 2 "b's order ruled by a through c"
	assert_eq "$LABEL:2" "$(baskets_of "$DSAT" "$MB" MIEL)" "honey at b's market in a's sheet"
	# c relayed it: it holds b's feed, order part included...
	wait_until 20 synced $B $C
	local recs hb
	hb=$(head_of $B "$BID")
	recs=$(feed_records $C "$BID")
	assert_eq "$hb" "$(jq length <<<"$recs")" "records of b's feed held at c"
	assert_jq "$recs" "[.[].seq] == [range(1; $hb + 1)]" "c holds b's records 1..$hb"
	# ...but cannot read it.
	ctl_error $C unknown_order order show "$o4"
	ctlj $C order list "$DB"
	assert_json "$J" "[.[].id] | index(\"$o4\")" null "c's order list of b's distribution"
	assert_json "$J" 'length' 0 "c's order list of b's distribution (sealed orders only)"
	# LMDB stores values raw: the label is in the stores of b and a, not c.
	grep -r -a -F -q -- "$LABEL" "$WORK/$B/data" || fail "the basket label is not in b's store (the grep does not see the views?)"
	grep -r -a -F -q -- "$LABEL" "$WORK/$A/data" || fail "the basket label is not in a's store"
	! grep -r -a -F -q -- "$LABEL" "$WORK/$C/data" || fail "the basket label '$LABEL' is in c's store: $(grep -r -a -F -l -- "$LABEL" "$WORK/$C/data")"
	! grep -a -F -q -- "$LABEL" "$(log_of $C)" || fail "the basket label is in c's log"
	# Still no link between a and b.
	peer_state_is $B $A up && fail "b saw a up during the scenario"
	local links
	links=$(log_since $A "$mark_a" "$B connected to us")
	[[ -z $links ]] || fail "b linked to a directly during the scenario: $links"
	return 0
}
check s4
scenario_done

# ---- 5: only a producer's home accepts markets for it

scenario "5: a decision of another commune's node is refused here (not_owner)"
s5() {
	ctl_error $B not_owner market accept "$MB" "$P"
	assert_contains "$P" "$ERR" "the message names the producer"
	ctl_error $A not_owner market invite "$MB" "$P"
	# Only b takes orders for its distribution, and only b cancels it.
	ctl_error $A not_owner order place "$DB" --basket "Panier A-X" \
	    "$P:PAIN-1KG:1"
	ctl_error $A not_owner distribution cancel "$DB"
	# Nothing changed: the producer still sells at b's market.
	sells_at $B "$MB" "$P" || fail "the producer no longer sells at b's market"
}
check s5
scenario_done

step "summary"
printf '%s\n' "${SUMMARY[@]}"
for n in $A $B $C; do
	node_alive $n || fail "halled $n died"
done
if (( SOFT_FAILURES > 0 )); then
	echo "FAIL $HALLE_TEST: $SOFT_FAILURES check(s) failed" >&2
	_failed=1
	exit 1
fi
pass
