#!/usr/bin/env bash
# autonomy.sh: markets keep confirming while the producer's home is down.
#
#   commune-b ---> commune-a <--- commune-c     (b and c dial a)
#
# a is home to a producer whose bread is limited to 10 a day; b and c each
# run a market that sells it on Saturday. a grants each market's node
# stock rights (8 of 10 shared evenly, 2 kept), then is killed -9. Orders
# at b and c within their rights are confirmed at once, by b and c alone;
# what exceeds them waits for a. When a is back it rules the rest from its
# reserve: never more than 10 confirmed in all, and a's order sheet matches
# the orders at b and c line for line.
. "$(dirname "$0")/lib.sh"

A=commune-a
B=commune-b
C=commune-c
G=pays-de-foo

peer_up() {
	local out
	out=$(ctl "$1" --json status 2>/dev/null) || return 1
	[[ $(jq -r ".peers[] | select(.name == \"$2\") | .state" <<<"$out") == up ]]
}
star_up() {
	peer_up $B $A && peer_up $C $A && peer_up $A $B && peer_up $A $C
}
json_ok() {
	local name=$1 filter=$2 out; shift 2
	out=$(ctl "$name" --json "$@" 2>/dev/null) || return 1
	jq -e "$filter" <<<"$out" >/dev/null 2>&1
}
# granted_at NAME MARKET: NAME sees rights granted to MARKET for bread.
granted_at() {
	json_ok "$1" ".products[] | select(.sku == \"PAIN-1KG\") | .markets[]
	    | select(.market == \"$2\") | .granted > 0" stock "$P" "$DSAT"
}
line_of() {
	jv "$1" ".lines[0].$2"
}
order_resolved() {
	json_ok "$1" 'all(.lines[]; .state != "pending")' order show "$2"
}

step "setting up a, b and c"
for n in $A $B $C; do
	make_node_id $n
done
write_config_text $A "$(peer_section $B)" "$(peer_section $C)" \
    "$(grouping_section $G $B $C)"
write_config_text $B "$(peer_section $A dial)" "$(peer_section $C)" \
    "$(grouping_section $G $A $C)"
write_config_text $C "$(peer_section $A dial)" "$(peer_section $B)" \
    "$(grouping_section $G $A $B)"
for n in $A $B $C; do
	start_node $n
done
wait_until 20 star_up

cat >"$WORK/moulin.json" <<'EOF'
{"products": [
  {"sku": "PAIN-1KG", "name": "Pain de campagne", "price_cents": 450,
   "vat_bp": 550, "stock_per_day": 10}]}
EOF
ctlj $A producer add "Ferme du Moulin"
P=$(jv "$J" .id)
ctlj $A catalogue publish "$P" "$WORK/moulin.json"
declare -A MK=() DS=()
for n in $B $C; do
	ctlj $n market add "Marché de $n" --place "Place" --town "Bourg-$n" \
	    --weekday sat --from 10:00 --to 12:00
	MK[$n]=$(jv "$J" .id)
done
for n in $B $C; do
	wait_until 20 json_ok $n ".version == 1" catalogue show "$P"
	ctlj $n market invite "${MK[$n]}" "$P"
	wait_until 20 json_ok $A ".id == \"${MK[$n]}\"" market show "${MK[$n]}"
	ctlj $A market accept "${MK[$n]}" "$P"
done
DSAT=
for k in 1 2 3 4 5 6 7; do
	d=$(day_from_today $k)
	if [[ $(weekday_of "$d") == 6 ]]; then
		DSAT=$d
		break
	fi
done
for n in $B $C; do
	wait_until 20 json_ok $n "any(.producers[]; .id == \"$P\" and .accepted)" \
	    market show "${MK[$n]}"
	ctlj $n distribution open "${MK[$n]}" "$DSAT" --closes "$(iso_from_now 7200)"
	DS[$n]=$(jv "$J" .id)
done

step "a grants rights to both markets' nodes"
for n in $B $C; do
	wait_until 20 granted_at $n "${MK[$n]}"
done
ctlj $A stock "$P" "$DSAT"
assert_json "$J" '.products[0].stock' 10 "bread per day"
assert_json "$J" '[.products[0].markets[].granted] | add' 8 "granted in all (20 % kept)"
assert_json "$J" '.products[0].reserve' 2 "a's reserve"
ctlj $B stock "$P" "$DSAT"
assert_json "$J" ".products[0].markets[] | select(.market == \"${MK[$B]}\") | .granted" 4 "b's rights, seen at b"
assert_json "$J" ".products[0].markets[] | select(.market == \"${MK[$B]}\") | .node" "${NODE_ID[$B]}" "the node holding b's rights"
assert_json "$J" '.products[0].reserve' null "the reserve is a's to know"

step "a is killed: b and c confirm within their rights at once"
kill9_node $A
ctlj $B order place "${DS[$B]}" --basket "Panier B-1" "$P:PAIN-1KG:3"
OB1=$(jv "$J" .id)
assert_eq confirmed "$(line_of "$J" state)" "b's order of 3 with a down: state"
assert_eq 3 "$(line_of "$J" confirmed)" "b's order of 3 with a down: confirmed"
assert_eq "${NODE_ID[$B]}" "$(line_of "$J" ruled_by)" "b's order: ruled by b"
ctlj $C order place "${DS[$C]}" --basket "Panier C-1" "$P:PAIN-1KG:6"
OC1=$(jv "$J" .id)
assert_eq pending "$(line_of "$J" state)" "c's order of 6 with rights for 4: state"
assert_eq 4 "$(line_of "$J" confirmed)" "c's order of 6: confirmed at once"
assert_eq 4 "$(line_of "$J" confirmed_locally)" "c's order of 6: confirmed by c"
ctlj $C status
assert_json "$J" '.stock.lines_pending' 1 "c's status: a line awaiting a"
ctlj $B status
assert_json "$J" '.stock.lines_confirmed_locally' 1 "b's status: a line confirmed from rights"
assert_json "$J" '.stock.rights_free' 1 "b's status: rights left"

step "a is back: it rules what waited from its reserve"
start_node $A
wait_until 20 star_up
wait_until 30 order_resolved $C "$OC1"
ctlj $C order show "$OC1"
assert_eq 6 "$(line_of "$J" confirmed)" "c's order of 6 once a is back"
assert_eq "${NODE_ID[$A]}" "$(line_of "$J" ruled_by)" "c's order: the rest ruled by a"
ctlj $B order place "${DS[$B]}" --basket "Panier B-2" "$P:PAIN-1KG:5"
OB2=$(jv "$J" .id)
assert_eq 1 "$(line_of "$J" confirmed_locally)" "b's order of 5: its last right"
wait_until 30 order_resolved $B "$OB2"
ctlj $B order show "$OB2"
assert_eq 1 "$(line_of "$J" confirmed)" "b's order of 5: nothing more is left"
[[ -n $(line_of "$J" reason) ]] || fail "b's short line has no reason"

step "never more than the stock; a's sheet matches the orders"
total=0
for o in "$B:$OB1" "$B:$OB2" "$C:$OC1"; do
	ctlj "${o%%:*}" order show "${o#*:}"
	total=$(( total + $(line_of "$J" confirmed) ))
done
assert_eq 10 "$total" "bread confirmed at b and c together"
all=$(jq -cn --argjson b "$(ctl $B --json order list "${DS[$B]}")" \
    --argjson c "$(ctl $C --json order list "${DS[$C]}")" '$b + $c')
want=$(sheet_from_orders "$P" "$all")
ctlj $A sheet "$P" "$DSAT"
assert_eq "$want" "$(normal_sheet "$J")" "a's sheet and the orders at b and c"
# b's pick-up list hands over what b's orders confirmed, basket by basket.
ctlj $B distribution baskets "${DS[$B]}"
assert_json "$J" '[.baskets[].label] | join(",")' "Panier B-1,Panier B-2" "b's pick-up list: its baskets"
assert_json "$J" '[.baskets[].items[].quantity] | add' 4 "b's pick-up list: bread to hand over (3 + 1)"
out=$(ctl $B distribution baskets "${DS[$B]}")
assert_contains "Panier B-1" "$out" "hallectl distribution baskets prints the baskets"
for n in $A $B $C; do
	stop_node $n
	run "$HALLED" -c "$(conf_of $n)" --verify
	assert_eq 0 "$RC" "halled --verify at $n: $ERR"
done
pass "markets confirmed within their rights while a was down; 10 of 10 in all"
