#!/usr/bin/env bash
# events.sh: GET /v1/events between real halled nodes, followed as a
# commune's website would (tests/integration/sse.py, HTTP/1.1 and SSE).
#
#   commune-b ---> commune-a <--- commune-c     (b and c dial a)
#
# a is home to a producer that sells at the markets of a, b and c. Steps,
# each ending in one PASS or FAIL line:
#   1 a website follows a's events while orders are placed at b and c and
#     ruled at a; it is killed, more orders are placed, a is restarted, and
#     it reconnects with the last id it saw: it has seen every event once
#     (ids in order, none twice, none missing; one order.placed per order,
#     one line.confirmed per line), and a's peers going down and up again
#   2 b's website saw b's orders placed and ruled, and nothing of c's
#   3 cursors that are not numbers, or past the last event, are refused
#     (400 invalid_field naming the field), other methods are 405
#   4 a client that reads nothing while a's market takes orders of many
#     lines is dropped with a last event `dropped`, having been sent a
#     bounded part of what it missed; a answers meanwhile
#   5 c serves at most 32 streams (503 too_many_streams past it) and its
#     API answers while they are open; c keeps 5 events (events_keep): a
#     client from 0 is told of the gap first
#   6 hallectl events prints the events; when the node stops, it says the
#     id to resume after and exits 3; a stream idle past the control
#     socket's timeouts stays open, kept alive by comments
#   7 a client that reads steadily but slowly, far behind, is not dropped
#     while it takes what was sent
#   8 an HTTP/1.0 client (not chunked: the stream ends with the
#     connection) gets the events, and a stops cleanly while it follows
. "$(dirname "$0")/lib.sh"

A=commune-a
B=commune-b
C=commune-c
G=pays-de-foo
SSE="python3 $(dirname "$0")/sse.py"

declare -a SUMMARY=()
_step_fails=0
part() {
	_step_fails=$SOFT_FAILURES
	step "$1"
	_part=$1
}
part_done() {
	if (( SOFT_FAILURES == _step_fails )); then
		pass "$_part"
		SUMMARY+=("PASS $_part")
	else
		echo "FAIL $HALLE_TEST: $_part" >&2
		SUMMARY+=("FAIL $_part")
	fi
}
check() {
	soft "$@" || true
}

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
# streams_at NAME N: NAME serves N event streams (its metrics say).
streams_at() {
	local out
	out=$(ctl "$1" --json status >/dev/null 2>&1 && curl -s --max-time 5 \
	    --unix-socket "$(sock_of "$1")" http://halle/metrics) || return 1
	grep -qx "halle_event_streams $2" <<<"$out"
}
order_resolved() {
	json_ok "$1" '(.lines | length) > 0 and all(.lines[]; .state != "pending")' order show "$2"
}

# events_in FILE: the events a follower wrote, one JSON array.
events_in() {
	jq -s '[.[] | select(.type != null)]' "$1"
}
# seen FILE FILTER: jq -e FILTER holds on the events of FILE.
seen() {
	[[ -f $1 ]] && jq -e "$2" <<<"$(events_in "$1")" >/dev/null 2>&1
}
# placed_and_ruled FILE ORDER...: FILE has each order placed and its two
# lines confirmed.
placed_and_ruled() {
	local f=$1 o; shift
	for o in "$@"; do
		seen "$f" "[.[] | select(.data.order == \"$o\" and .type == \"line.confirmed\")] | length == 2" ||
		    return 1
	done
}

# place NAME DISTRIBUTION BASKET: an order of 2 loaves and a honey; its id.
place() {
	local out
	out=$(ctl "$1" --json order place "$2" --basket "$3" "$P:PAIN:2" "$P:MIEL:1") ||
	    fail "order place at $1: $out"
	jq -r .id <<<"$out"
}

step "setting up a, b and c"
for n in $A $B $C; do
	make_node_id $n
done
write_config_text $A "stock_reserve_percent = 100" "$(peer_section $B)" \
    "$(peer_section $C)" "$(grouping_section $G $B $C)"
write_config_text $B "$(peer_section $A dial)" "$(peer_section $C)" \
    "$(grouping_section $G $A $C)"
write_config_text $C "events_keep = 5" "$(peer_section $A dial)" \
    "$(peer_section $B)" "$(grouping_section $G $A $B)"
for n in $A $B $C; do
	start_node $n
done
wait_until 20 star_up

{
	printf '{"version": 1, "products": ['
	printf '{"sku": "PAIN", "name": "Pain", "price_cents": 450, "stock_per_day": 100},'
	printf '{"sku": "MIEL", "name": "Miel", "price_cents": 800}'
	for i in $(seq 1 40); do
		printf ',{"sku": "P%02d", "name": "Produit numéro %d de la ferme", "price_cents": 100}' "$i" "$i"
	done
	printf ']}\n'
} >"$WORK/catalogue.json"
ctlj $A producer add "Ferme du Moulin"
P=$(jv "$J" .id)
ctlj $A catalogue publish "$P" "$WORK/catalogue.json"
declare -A MK=() DS=()
for n in $A $B $C; do
	ctlj $n market add "Marché de $n" --place "Place" --town "Bourg-$n"
	MK[$n]=$(jv "$J" .id)
done
for n in $B $C; do
	wait_until 20 json_ok $n ".version == 1" catalogue show "$P"
	wait_until 20 json_ok $A ".id == \"${MK[$n]}\"" market show "${MK[$n]}"
done
DAY=$(day_from_today 3)
for n in $A $B $C; do
	ctlj $n market invite "${MK[$n]}" "$P"
	ctlj $A market accept "${MK[$n]}" "$P"
done
for n in $A $B $C; do
	wait_until 20 json_ok $n "any(.producers[]; .invited and .accepted)" market show "${MK[$n]}"
	ctlj $n distribution open "${MK[$n]}" "$DAY" --from 10:00 --to 12:00 \
	    --closes "$(iso_from_now 7200)"
	DS[$n]=$(jv "$J" .id)
done

# ---- 1: a website follows a; killed; a restarted; it resumes

part "1: a's follower, killed and back after a restart, saw each event once"
F1=$WORK/a-1.jsonl
F2=$WORK/a-2.jsonl
FB=$WORK/b.jsonl
$SSE "$(sock_of $A)" follow "$F1" &
P1=$!
$SSE "$(sock_of $B)" follow "$FB" &
PB=$!
wait_until 10 test -s "$F1"
wait_until 10 test -s "$FB"
declare -a ORDERS=() BORDERS=() CORDERS=()
for k in 1 2; do
	o=$(place $B "${DS[$B]}" "B-$k"); ORDERS+=("$o"); BORDERS+=("$o")
	o=$(place $C "${DS[$C]}" "C-$k"); ORDERS+=("$o"); CORDERS+=("$o")
done
wait_until 30 placed_and_ruled "$F1" "${ORDERS[@]}"
kill -KILL $P1
wait $P1 2>/dev/null || true
LAST1=$(jq -s '[.[] | .id // .start | select(. != null)] | max' "$F1")
note "a's follower killed after event $LAST1"
# While nobody follows a: more orders; then a restarts; then another.
o=$(place $B "${DS[$B]}" "B-3"); ORDERS+=("$o"); BORDERS+=("$o")
o=$(place $C "${DS[$C]}" "C-3"); ORDERS+=("$o"); CORDERS+=("$o")
for o in "${BORDERS[@]}"; do wait_until 30 order_resolved $B "$o"; done
for o in "${CORDERS[@]}"; do wait_until 30 order_resolved $C "$o"; done
stop_node $A
start_node $A
wait_until 20 star_up
o=$(place $B "${DS[$B]}" "B-4"); ORDERS+=("$o"); BORDERS+=("$o")
wait_until 30 order_resolved $B "$o"
$SSE "$(sock_of $A)" follow "$F2" "$LAST1" &
P2=$!
wait_until 30 placed_and_ruled "$F2" "${ORDERS[@]:4}"
wait_until 10 seen "$F2" '[.[] | select(.type == "peer.up")] | length == 2'
kill -KILL $P2
wait $P2 2>/dev/null || true
ALL=$(jq -s '[.[] | select(.type != null)]' "$F1" "$F2")
s1_ids() {
	assert_jq "$ALL" '[.[].id] as $i | $i == ($i | unique)' "ids increase, none twice"
	assert_jq "$ALL" '[.[].id] as $i | ($i | length) == ($i[-1] - $i[0] + 1)' "no id missing"
	assert_json "$(jq -s '[.[] | select(.start)][0].start' "$F2")" . "$LAST1" \
	    "the second stream starts after the last id seen"
	assert_jq "$ALL" 'all(.[]; .id == .data.id and .type == .data.type)' "id and type as in the data"
}
s1_orders() {
	local o
	for o in "${ORDERS[@]}"; do
		assert_jq "$ALL" "[.[] | select(.type == \"order.placed\" and .data.order == \"$o\")] | length == 1" \
		    "order $o placed, once"
		assert_jq "$ALL" "[.[] | select(.type == \"line.confirmed\" and .data.order == \"$o\") | .data.sku] | sort == [\"MIEL\", \"PAIN\"]" \
		    "order $o: each line confirmed, once"
		assert_jq "$ALL" "[.[] | select(.data.order == \"$o\") | .type] | . - [\"order.placed\", \"line.confirmed\"] == []" \
		    "order $o: nothing else said"
	done
	assert_jq "$ALL" "[.[] | select(.type == \"line.confirmed\" and .data.sku == \"PAIN\") | .data.confirmed] | all(. == 2)" \
	    "2 loaves confirmed each time"
}
s1_peers() {
	local f2
	f2=$(events_in "$F2")
	assert_jq "$f2" '[.[] | select(.type == "peer.down") | .data.peer] | sort == ["commune-b", "commune-c"]' \
	    "after the restart, both peers said down"
	assert_jq "$f2" '[.[] | select(.type == "peer.up") | .data.peer] | sort == ["commune-b", "commune-c"]' \
	    "...then up"
	assert_jq "$(events_in "$F1")" '[.[] | select(.type | startswith("peer."))] | length == 0' \
	    "no link changed before"
}
check s1_ids
check s1_orders
check s1_peers
part_done

# ---- 2: b's website

part "2: b's follower saw b's orders, none of c's"
s2() {
	local o fb
	wait_until 20 placed_and_ruled "$FB" "${BORDERS[@]}"
	fb=$(events_in "$FB")
	for o in "${BORDERS[@]}"; do
		assert_jq "$fb" "[.[] | select(.type == \"order.placed\" and .data.order == \"$o\")] | length == 1" \
		    "b's order $o placed, once"
	done
	for o in "${CORDERS[@]}"; do
		assert_jq "$fb" "[.[] | select(.data.order == \"$o\")] | length == 0" \
		    "nothing of c's order $o at b"
	done
	assert_jq "$fb" '[.[].id] as $i | $i == ($i | unique)' "b's ids increase"
}
check s2
part_done

# ---- 3: bad cursors

part "3: bad cursors are refused, naming the field"
s3() {
	http_error $A GET "/v1/events?since=abc" 400 invalid_field
	assert_contains "'since'" "$HTTP_BODY" "the field named"
	http_error $A GET "/v1/events?since=-1" 400 invalid_field
	http_error $A GET "/v1/events?since=" 400 invalid_field
	http_error $A GET "/v1/events?since=999999999999" 400 invalid_field
	assert_contains "past this node's last event" "$HTTP_BODY" "a cursor from the future"
	http_error $A GET "/v1/events" 400 invalid_field -H "Last-Event-ID: 12x"
	assert_contains "'Last-Event-ID'" "$HTTP_BODY" "the header named"
	http_error $A POST "/v1/events" 405 method_not_allowed
}
check s3
part_done

# ---- 4: a client too slow

part "4: a client that reads nothing is dropped, and sent a bounded part"
GO=$WORK/go
$SSE "$(sock_of $A)" stall "$GO" >"$WORK/stall.json" &
PS=$!
wait_until 10 streams_at $A 1
# Orders of 40 lines at a's own market: ruled at once, 41 events each.
LINES=()
for i in $(seq 1 40); do LINES+=("$P:$(printf P%02d "$i"):1"); done
for k in $(seq 1 40); do
	ctl_ok $A order place "${DS[$A]}" --basket "A-$k" "${LINES[@]}"
done
s4_dropped() {
	grep -q "events: a stream took nothing for 10 s: dropped" "$(log_of $A)"
}
wait_until 40 s4_dropped
s4_meanwhile() {
	ctlj $A status
	assert_json "$J" .writable true "a answers while a client stalls"
}
check s4_meanwhile
touch "$GO"
wait $PS || true
STALL=$(cat "$WORK/stall.json")
note "the stalled client: $STALL"
s4_check() {
	assert_json "$STALL" .status 200 "the stream was answered"
	assert_jq "$STALL" '.dropped != null' "it ends with a dropped event"
	assert_jq "$STALL" '.dropped.resume_after == .last_id' "dropped names the last id sent"
	assert_jq "$STALL" '.contiguous and .eof' "what came, came in order, then the end"
	assert_jq "$STALL" '.events < 40 * 41' "not everything was held for it"
	# What a node may hold for it (256 KiB) and the socket's buffers.
	assert_jq "$STALL" '.bytes < 1536 * 1024' "a bounded part ($(jv "$STALL" .bytes) bytes)"
	ctl_ok $A status
	assert_contains "halle_event_streams_dropped_total 1" \
	    "$(curl -s --unix-socket "$(sock_of $A)" http://halle/metrics)" "counted"
}
check s4_check
s4_resume() {
	local last
	last=$(jv "$STALL" .dropped.resume_after)
	run timeout 5 "$HALLECTL" -s "$(sock_of $A)" --json events --since "$last"
	assert_jq "$(head -n1 <<<"$OUT")" ".id == $last + 1" "resuming after it goes on with the next"
}
check s4_resume
part_done

# ---- 5: the cap, and the gap

part "5: at most 32 streams; a client below the floor is told of the gap"
s5_cap() {
	local out
	out=$($SSE "$(sock_of $C)" cap 33)
	assert_json "$out" '.statuses[:32] | unique | join(",")' 200 "32 streams served"
	assert_json "$out" '.statuses[32]' 503 "the 33rd refused"
	assert_json "$out" '.refused.error.code' too_many_streams "with its code"
	assert_json "$out" .status_while_full 200 "the API answers meanwhile"
}
check s5_cap
# gap_first NAME: a client from 0 at NAME is told of a gap first; sets G0.
gap_first() {
	G0=$($SSE "$(sock_of "$1")" fetch 0) || return 1
	jq -e '.[0].type == "gap"' <<<"$G0" >/dev/null
}
s5_gap() {
	wait_until 10 gap_first $C
	assert_jq "$G0" '.[0].data.after == 0 and .[0].id > 1' "the gap says from where"
	assert_jq "$G0" '(.[1:] | length) <= 5 and .[1].id == .[0].id + 1' \
	    "then the events kept (at most 5), from the next id"
}
check s5_gap
part_done

# ---- 6: hallectl events, idle streams, the end

part "6: hallectl events; an idle stream lives on; the end says where to resume"
s6_print() {
	run timeout 3 "$HALLECTL" -s "$(sock_of $B)" events --since 0
	assert_match "^[0-9]+  [0-9-]+ [0-9:]+  node.write_state  writable" "$(head -n1 <<<"$OUT")" "the human form"
	assert_contains "order.placed  ${BORDERS[0]} \"B-1\"" "$OUT" "b's first order"
	run timeout 3 "$HALLECTL" -s "$(sock_of $B)" --json events --since 0
	assert_jq "$(head -n1 <<<"$OUT")" '.id == 1 and .type == "node.write_state"' "the JSON form"
}
check s6_print
s6_idle() {
	# b's follower has been connected from the start, idle at times for
	# longer than the control socket's 10 s request timeout.
	assert_jq "$(jq -s . "$FB")" '[.[] | select(.comment == "keepalive")] | length >= 1' \
	    "keepalive comments on an idle stream"
	kill -0 $PB || fail "b's follower ended"
}
check s6_idle
"$HALLECTL" -s "$(sock_of $B)" events >"$WORK/ctl.out" 2>"$WORK/ctl.err" &
PH=$!
wait_until 10 streams_at $B 2	# b's follower and hallectl
stop_node $B
wait $PH && RC_EVENTS=0 || RC_EVENTS=$?
wait $PB || true
s6_end() {
	assert_eq 3 "$RC_EVENTS" "hallectl events exits 3 when the node stops"
	assert_match "the node ended the event stream; last event [0-9]+: resume with 'hallectl events --since [0-9]+'" \
	    "$(cat "$WORK/ctl.err")" "it says where to resume"
	assert_jq "$(jq -s . "$FB")" '.[-1].end == "closed"' "b's follower saw its stream end"
}
check s6_end
part_done

# ---- 7: a slow reader

part "7: a client that reads slowly, far behind, is not dropped"
# More orders of 40 lines at a: its log holds about 900 KB of events, far
# more than the node holds for a client, the socket's buffers and what
# the client reads in 14 s at 8 KiB/s.
for k in $(seq 41 80); do
	ctl_ok $A order place "${DS[$A]}" --basket "A-$k" "${LINES[@]}"
done
DROPS=$(log_count $A "events: a stream took nothing for")
SLOW=$($SSE "$(sock_of $A)" slow 0 8192 14)
note "the slow client: $SLOW"
s7() {
	assert_jq "$SLOW" '.eof == false' "the node did not end its stream"
	assert_eq "$DROPS" "$(log_count $A "events: a stream took nothing for")" \
	    "nor said it dropped it"
	assert_jq "$SLOW" '.bytes > 8192 * 10' "it read all the while ($(jv "$SLOW" .bytes) bytes)"
}
check s7
part_done

# ---- 8: HTTP/1.0

part "8: an HTTP/1.0 follower gets the events; a stops cleanly under it"
F10=$WORK/http10.out
wait_until 10 streams_at $A 0	# the slow client's is gone
curl -s --http1.0 -N --max-time 60 --unix-socket "$(sock_of $A)" \
    http://halle/v1/events >"$F10" &
P10=$!
wait_until 10 streams_at $A 1
ctl_ok $A order place "${DS[$A]}" --basket "A-http10" "$P:MIEL:1"
wait_until 10 grep -q "^event: order.placed" "$F10"
stop_node $A
wait $P10 && RC10=0 || RC10=$?
s8() {
	assert_eq 0 "$STOP_STATUS" "a exits with status 0 when stopped under an HTTP/1.0 stream"
	assert_eq 0 "$RC10" "the HTTP/1.0 answer ends with the connection, whole"
	assert_contains '"basket":"A-http10"' "$(cat "$F10")" "the event, as the data of an SSE event"
	assert_contains "stopped" "$(tail -n 1 "$(log_of $A)")" "a said it stopped"
}
check s8
part_done

for line in "${SUMMARY[@]}"; do
	echo "$line"
done
(( SOFT_FAILURES == 0 )) || fail "$SOFT_FAILURES check(s) failed"
pass
