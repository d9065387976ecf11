#!/usr/bin/env bash
# federation.sh: several real halled nodes replicating their feeds over
# ZeroMQ (docs/protocol.md), driven through hallectl and the control API.
#
#   commune-a ---> commune-b <--- commune-c      one grouping of the three;
#                      ^                          a and c list each other by
#                      |                          key only and sync through b
#   commune-d ---------+  (its key unknown at b: refused)
#   fakepeer  ---------+  (tests/tools/fakepeer.c: tampered runs, a fork)
#
# Scenarios, each ending in one PASS or FAIL line:
#   1 the line a-b-c links up and its nodes become writable
#   2 a producer and a catalogue made at a show at c; c's copy of a's feed
#     is byte-identical to a's
#   3 b is killed (-9) while a writes 100 records, then restarted: c
#     converges to a's head
#   4 a node whose key b does not know is refused at the handshake, counted,
#     logged once, and none of its feed reaches b
#   5 reload (hallectl reload, SIGHUP): a new peer appears; a malformed
#     config is refused with a clear message and changes nothing
#   6 a node that lost its store (but kept its key) refuses writes until it
#     recovered its feed from its peers, then goes on without forking it
#   7 a configured peer that sends a tampered run (refused whole, counted,
#     logged) and then a fork (feed frozen, fork counted)
#
# The checks of a scenario are soft: a failing one is reported and the test
# goes on with the next scenario; it fails at the end. Starting and stopping
# nodes is not soft: a node that does not start ends the test.
. "$(dirname "$0")/lib.sh"

: "${FAKEPEER:=$_lib_dir/../../build/tests/fakepeer}"
[[ -x $FAKEPEER ]] || fail "$FAKEPEER is not an executable (build the fakepeer target)"

A=commune-a
B=commune-b
C=commune-c
D=commune-d
F=fake		# the fake peer's name in b's config
G=pays-de-foo

# ---- scenario bookkeeping

declare -a SUMMARY=()
_sc_name=
_sc_fails=0

scenario() {
	_sc_name=$1
	_sc_fails=$SOFT_FAILURES
	step "scenario $_sc_name"
}

scenario_done() {
	local n=$((SOFT_FAILURES - _sc_fails))
	if (( n == 0 )); then
		pass "scenario $_sc_name"
		SUMMARY+=("PASS scenario $_sc_name")
	else
		echo "FAIL $HALLE_TEST: scenario $_sc_name ($n check(s) failed, see above)" >&2
		SUMMARY+=("FAIL scenario $_sc_name")
	fi
}

# ---- helpers

# check CMD...: a soft check (lib.sh's soft): a failure is counted and
# reported, the test goes on.
check() {
	soft "$@" || true
}

# config texts of the line a-b-c
text_a() { printf '%s\n\n' "$(peer_section $B dial)" "$(peer_section $C)" "$(grouping_section $G $B $C)"; }
text_c() { printf '%s\n\n' "$(peer_section $B dial)" "$(peer_section $A)" "$(grouping_section $G $A $B)"; }
# b's, with any more sections given
text_b() {
	printf '%s\n\n' "$(peer_section $A)" "$(peer_section $C)" "$(grouping_section $G $A $C)" "$@"
}
# the fake peer's sections at b: in a grouping of its own with b, so that
# b takes its feed but never relays it to a or c.
text_b_fake() {
	printf '%s\n\n' "$(peer_section $F)" "$(grouping_section essai $F)"
}

# peer_state_is NAME PEER STATE
peer_state_is() {
	local out
	out=$(ctl "$1" --json status 2>/dev/null) || return 1
	[[ $(jq -r ".peers[] | select(.name == \"$2\") | .state" <<<"$out" 2>/dev/null) == "$3" ]]
}

# line_up: a and c see b up, b sees a and c up.
line_up() {
	peer_state_is $A $B up && peer_state_is $C $B up &&
	    peer_state_is $B $A up && peer_state_is $B $C up
}

# head_is NAME ORIGIN SEQ: NAME holds ORIGIN's feed up to SEQ exactly.
head_is() {
	local out
	out=$(ctl "$1" --json feeds 2>/dev/null) || return 1
	[[ $(jq -r "(.[] | select(.origin == \"$2\") | .head_seq) // 0" <<<"$out" 2>/dev/null) == "$3" ]]
}

# same_feed NAME1 NAME2 ORIGIN WHAT: both nodes answer the records route
# with the same records (seq, hash and envelope bytes), all of them.
same_feed() {
	local r1 r2 n1 n2
	r1=$(feed_records "$1" "$3")
	r2=$(feed_records "$2" "$3")
	n1=$(jq length <<<"$r1")
	n2=$(jq length <<<"$r2")
	(( n1 > 0 )) || fail "$4: $1 holds no record of the feed"
	assert_eq "$n1" "$n2" "$4: number of records at $1 and at $2"
	assert_jq "$r1" "[.[].seq] == [range(1; $n1 + 1)]" "$4: $1 answers seqs 1..$n1"
	assert_jq "$r1" 'all(.[]; (.envelope | type == "string" and length > 0) and (.hash | test("^[0-9a-f]{64}$")))' \
	    "$4: each record has a hash and an envelope"
	if [[ $r1 != "$r2" ]]; then
		local first
		first=$(jq -rn --argjson a "$r1" --argjson b "$r2" \
		    'first(range(0; $a | length) | select($a[.] != $b[.])) | $a[.].seq')
		fail "$4: records differ between $1 and $2, first at seq $first"
	fi
}

# ---- 1: the line a-b-c

scenario "1: three nodes a-b-c in a line link up and become writable"
for n in $A $B $C; do
	make_node_id $n
done
write_config_text $B "$(text_b)"
write_config_text $A "$(text_a)"
write_config_text $C "$(text_c)"
start_node $B
start_node $A
start_node $C

check_line_up() {
	wait_until 20 line_up
	ctlj $B status
	assert_json "$J" '[.peers[].name] | sort | join(",")' "$A,$C" "b's status lists a and c"
	assert_json "$J" "[.peers[] | select(.name == \"$A\") | .id] | join(\",\")" "${NODE_ID[$A]}" "b's status: a's id"
	assert_json "$J" "[.groupings[] | select(.name == \"$G\") | .members | sort | join(\",\")] | join(\"\")" \
	    "$(printf '%s\n' $A $B $C | sort | paste -sd,)" "b's grouping $G lists the three"
	assert_json "$J" .handshakes_refused 0 "b refused no handshake"
	assert_jq "$J" '(.peers | length) == 2 and all(.peers[]; . as $p
	    | ["name", "id", "endpoint", "state", "since_s", "last_seen_s", "rtt_ms",
	       "records_in", "records_out", "rejected", "forks", "lag_in", "lag_out",
	       "last_error"] | all(. as $k | $p | has($k)))' "b's status: the fields of each peer"
	assert_jq "$J" 'all(.groupings[]; has("name") and has("members") and has("feeds") and has("in_sync"))' \
	    "b's status: the fields of each grouping"
	assert_jq "$J" 'has("writable")' "b's status: writable"
	ctlj $A status
	assert_json "$J" "[.peers[] | select(.name == \"$B\") | .endpoint] | join(\"\")" "$(endpoint_of $B)" "a's status: b's endpoint"
}
check check_line_up

# Each node's key was made with its store (--show-id): it takes writes at
# once, whatever its peers are doing.
check_writable() {
	assert_json "$(status_value "$1" .)" .writable true "$1 status writable"
}
for n in $B $A $C; do
	check check_writable $n
done
if ! node_writable $A; then
	# A bug (the check above failed): to test the rest all the same, give
	# a a feed of its own while it has no peer (a node without peers
	# always takes writes), then start it again with its peers.
	note "$A is not writable: bootstrapping its feed without peers to test the rest"
	stop_node $A
	write_config $A
	start_node $A
	ctlj $A producer add "Amorce de $A"
	stop_node $A
	write_config_text $A "$(text_a)"
	start_node $A
	check wait_until 20 line_up
	check wait_until 10 node_writable $A
fi
scenario_done

# ---- 2: a producer and a catalogue made at a show at c

scenario "2: what a publishes shows at c; c's copy of a's feed is a's, byte for byte"
AID=${NODE_ID[$A]}
mkdir -p "$WORK/catalogues"
cat >"$WORK/catalogues/moulin.json" <<'EOF'
{"version": 1,
 "products": [
  {"sku": "PAIN-1KG", "name": "Pain de campagne", "unit": "piece", "quantity": 1,
   "price_cents": 450, "vat_bp": 550, "organic": true, "stock_per_day": 10}
 ]}
EOF
P1=
publish_at_a() {
	ctlj $A producer add "Ferme du Moulin" --farm "GAEC du Moulin" --town "Saint-Jean"
	P1=$(jv "$J" .id)
	assert_match '^pr-[0-9a-f]{12}$' "$P1" "producer id at a"
	echo "$P1" >"$WORK/p1"
	ctlj $A catalogue publish "$P1" "$WORK/catalogues/moulin.json"
	assert_json "$J" .version 1 "catalogue published at a"
}
check publish_at_a
P1=$(cat "$WORK/p1" 2>/dev/null || true)

producer_at() {
	local out
	out=$(ctl "$1" --json producer list 2>/dev/null) || return 1
	jq -e --arg id "$2" 'any(.[]; .id == $id)' <<<"$out" >/dev/null 2>&1
}
catalogue_at() {
	local out
	out=$(ctl "$1" --json catalogue show "$2" 2>/dev/null) || return 1
	jq -e '.version == 1' <<<"$out" >/dev/null 2>&1
}
check_at_c() {
	[[ -n $P1 ]] || fail "no producer was made at a"
	wait_until 20 producer_at $C "$P1"
	wait_until 20 catalogue_at $C "$P1"
	ctlj $C producer show "$P1"
	assert_json "$J" '[.name, .farm, .town, .home] | @csv' \
	    "\"Ferme du Moulin\",\"GAEC du Moulin\",\"Saint-Jean\",\"$AID\"" "producer at c"
	ctlj $C catalogue show "$P1"
	assert_json "$J" '[.products[0].sku, .products[0].price_cents, .products[0].stock_per_day] | @csv' \
	    '"PAIN-1KG",450,10' "catalogue at c"
	local head
	head=$(head_of $A "$AID")
	wait_until 20 head_is $C "$AID" "$head"
	same_feed $A $C "$AID" "a's feed at a and at c"
	same_feed $A $B "$AID" "a's feed at a and at b"
	ctlj $C feeds
	assert_json "$J" "[.[] | select(.origin == \"$AID\") | .name] | join(\"\")" $A "c names a's feed"
	assert_json "$J" "[.[] | select(.origin == \"$AID\") | .frozen] | join(\"\")" false "a's feed at c not frozen"
	assert_json "$J" "[.[] | select(.origin == \"$AID\") | .groupings[]] | join(\",\")" $G "a's feed at c: groupings"
}
check check_at_c
scenario_done

# ---- 3: kill -9 of b while a writes

scenario "3: b killed (-9) while a writes 100 records, restarted: c converges"
head0=$(head_of $A "$AID")
for (( i = 1; i <= 100; i++ )); do
	ctl_ok $A --json producer add "Producteur $i" --town "Village $i"
	if (( i == 30 )); then
		kill9_node $B
	elif (( i == 70 )); then
		start_node $B
	fi
done
check_convergence() {
	local head
	head=$(head_of $A "$AID")
	assert_eq $((head0 + 100)) "$head" "a's head after 100 writes"
	wait_until 40 head_is $B "$AID" "$head"
	wait_until 40 head_is $C "$AID" "$head"
	same_feed $A $C "$AID" "a's feed at a and at c after b's crash"
	ctlj $C producer list
	assert_json "$J" '[.[] | select(.name | startswith("Producteur "))] | length' 100 "the 100 producers at c"
	ctlj $C feeds
	assert_json "$J" "[.[] | select(.origin == \"$AID\") | .frozen] | join(\"\")" false "a's feed at c not frozen"
	# Once the heads have been exchanged (a heartbeat), b sees its
	# grouping in sync and no lag to a or c.
	wait_until 20 grouping_in_sync $B
	ctlj $B status
	assert_json "$J" '[.peers[] | .lag_in + .lag_out] | add' 0 "b's lags to a and c"
	assert_json "$J" "[.peers[] | select(.name == \"$A\") | .records_in > 0] | all" true \
	    "b's records_in from a counts the records it took since its restart"
}
# grouping_in_sync NAME: NAME's status says its grouping $G is in sync.
grouping_in_sync() {
	local out
	out=$(ctl "$1" --json status 2>/dev/null) || return 1
	jq -e ".groupings[] | select(.name == \"$G\") | .in_sync == true" <<<"$out" >/dev/null 2>&1
}
check check_convergence
check wait_until 20 line_up
scenario_done

# ---- 4: a node whose key b does not know

scenario "4: a stranger's handshake is refused, counted, logged once; none of its feed at b"
make_node_id $D
DID=${NODE_ID[$D]}
# d first writes a record of its own, alone (without peers it takes writes).
start_node $D
ctlj $D producer add "Ferme de D"
stop_node $D
mark=$(log_mark $B)
refused0=$(status_value $B '.handshakes_refused // 0')
write_config_text $D "$(peer_section $B dial)" "$(grouping_section $G $B)"
d_was_up=0
# refused_over N: b refused more than N handshakes; notes whether d ever
# saw b up meanwhile.
refused_over() {
	peer_state_is $D $B up && d_was_up=1
	local n
	n=$(ctl $B --json status 2>/dev/null | jq -r '.handshakes_refused // 0' 2>/dev/null) || return 1
	(( n > $1 ))
}
# libzmq (4.3) does not redial after a handshake the server refused: each
# start of d is one more attempt.
attempts=3
check_stranger_attempts() {
	local k n
	for (( k = 1; k <= attempts; k++ )); do
		n=$(status_value $B '.handshakes_refused // 0')
		start_node $D
		wait_for 20 refused_over "$n" ||
		    note "attempt $k: b's handshakes_refused still $n after 20 s"
		# d stays away from b a while (it must never see b up).
		local end=$(( $(_now_ms) + 1500 ))
		while (( $(_now_ms) < end )); do
			peer_state_is $D $B up && d_was_up=1
			sleep 0.2
		done
		ctlj $D status
		note "attempt $k: d's view of b: $(jv "$J" ".peers[] | select(.name == \"$B\") | {state, last_error} | tojson")"
		stop_node $D
	done
}
check_stranger() {
	(( d_was_up == 0 )) || fail "d saw b up although b does not know d's key"
	local got lines
	got=$(( $(status_value $B '.handshakes_refused // 0') - refused0 ))
	(( got >= attempts )) || fail "b's handshakes_refused grew by $got after $attempts attempts of d"
	lines=$(log_since $B "$mark" 'refused a handshake|unknown key')
	assert_eq 1 "$(grep -c . <<<"$lines")" "lines of b's log about d's refused key after $got refused handshakes (got: $lines)"
	assert_contains "unknown key" "$lines" "b's log line"
	assert_eq 0 "$(head_of $B "$DID")" "d's feed at b (head)"
	ctlj $B status
	assert_json "$J" "[.peers[].name] | index(\"$D\")" null "b's status has no peer d"
	line_up || fail "the line a-b-c is not up after d's attempts"
}
# Starting and stopping d is not soft (see above): d's daemon must not be
# left to a subshell.
check_stranger_attempts
check check_stranger
scenario_done

# ---- 5: reload

scenario "5: reload adds a peer; a malformed config is refused and changes nothing"
mkdir -p "$WORK/$F"
FKEY=$WORK/$F/node.key
run "$FAKEPEER" --key "$FKEY" --show-id
(( RC == 0 )) && [[ $OUT =~ ^[0-9a-f]{64}$ ]] || fail "fakepeer --show-id: exit $RC, '$OUT' $ERR"
NODE_ID[$F]=$OUT
FID=$OUT
b_peer_names() {
	status_value $B '[.peers[].name] | sort | join(",")'
}
check_reload_add() {
	write_config_text $B "$(text_b "$(text_b_fake)")"
	ctlj $B reload
	ctlj $B status
	assert_json "$J" '[.peers[].name] | sort | join(",")' "$A,$C,$F" "b's peers after reload"
	assert_json "$J" "[.peers[] | select(.name == \"$F\") | .id] | join(\"\")" "$FID" "new peer's id"
	assert_json "$J" '[.groupings[].name] | sort | join(",")' "essai,$G" "b's groupings after reload"
	# The links to a and c come back.
	wait_until 20 line_up
}
check check_reload_add
check_reload_bad() {
	local before conf good
	before=$(b_peer_names)
	conf=$(conf_of $B)
	good=$WORK/b-good.conf
	cp "$conf" "$good"
	printf '\n[peer commune-x]\nkey = not-a-key\n' >>"$conf"
	ctl_error $B bad_config reload
	assert_contains "$conf" "$ERR" "reload of a malformed config: message names the file"
	assert_contains "commune-x" "$ERR" "reload of a malformed config: message names the bad peer"
	assert_eq "$before" "$(b_peer_names)" "b's peers after a refused reload"
	line_up || fail "the line is not up after a refused reload"
	# SIGHUP reads the file too: refused the same way, logged.
	local mark
	mark=$(log_mark $B)
	kill -HUP "${NODE_PID[$B]}"
	wait_until 10 eval '[[ -n $(log_since $B "$mark" "SIGHUP: .*commune-x") ]]'
	assert_eq "$before" "$(b_peer_names)" "b's peers after a refused SIGHUP"
	# and takes a good file.
	cp "$good" "$conf"
	mark=$(log_mark $B)
	kill -HUP "${NODE_PID[$B]}"
	wait_until 10 eval '[[ -n $(log_since $B "$mark" "reload: 3 peers") ]]'
	node_alive $B || fail "b died on SIGHUP"
	assert_eq "$before" "$(b_peer_names)" "b's peers after a good SIGHUP"
	wait_until 20 line_up
}
check check_reload_bad
# Whatever happened above, b goes on with the fake peer configured.
write_config_text $B "$(text_b "$(text_b_fake)")"
if [[ $(b_peer_names) != "$A,$C,$F" ]]; then
	note "restarting b with the fake peer configured"
	stop_node $B
	start_node $B
	check wait_until 20 line_up
fi
scenario_done

# ---- 6: a node that lost its store recovers its feed

scenario "6: a restored without its store: writes refused until its feed is back, then no fork"
old_head=0
prepare_recovery() {
	old_head=$(head_of $A "$AID")
	(( old_head > 0 )) || fail "a has no feed of its own"
	echo "$old_head" >"$WORK/old_head"
	wait_until 20 head_is $B "$AID" "$old_head"
	wait_until 20 head_is $C "$AID" "$old_head"
}
check prepare_recovery
old_head=$(cat "$WORK/old_head" 2>/dev/null || head_of $A "$AID")
old_producers=$(ctl $A --json producer list | jq length)
stop_node $A
mv "$WORK/$A/data" "$WORK/$A/data.lost"
# b is down while a starts: a cannot know how far its feed goes.
stop_node $B
start_node $A
check_refused() {
	ctlj $A status
	assert_json "$J" .writable false "a's status right after a start without its store"
	assert_json "$J" .write_state recovering "a's write state without its store"
	assert_json "$J" '.waiting_for | join(",")' $B "a waits for the peer it dials"
	http_error $A POST /v1/producers 503 recovering -H 'Content-Type: application/json' \
	    -d '{"name": "Ferme trop pressée"}'
	ctl_error $A recovering producer add "Ferme trop pressée"
	assert_eq 0 "$(head_of $A "$AID")" "a's own feed while its peers are away"
}
check check_refused
start_node $B
early_write=
# recovered_yet: a holds its feed up to the old head again; notes when a
# said it takes writes while it still held less (head read after status).
recovered_yet() {
	local w h
	w=$(ctl $A --json status 2>/dev/null | jq -r .writable 2>/dev/null) || return 1
	h=$(ctl $A --json feeds 2>/dev/null |
	    jq -r "(.[] | select(.origin == \"$AID\") | .head_seq) // 0" 2>/dev/null) || return 1
	if [[ $w == true ]] && (( h < old_head )); then
		early_write="writable with its feed at $h of $old_head"
	fi
	(( h == old_head ))
}
check_recovered() {
	wait_until 30 recovered_yet
	[[ -z $early_write ]] || fail "a took writes before it recovered its feed: $early_write"
	same_feed $A $B "$AID" "a's recovered feed and b's copy"
	ctlj $A producer list
	assert_json "$J" length "$old_producers" "producers at a after recovery"
}
check check_recovered
check_writes_again() {
	wait_until 20 node_writable $A
	ctlj $A producer add "Ferme d'après"
	assert_eq $((old_head + 1)) "$(head_of $A "$AID")" "seq of a's first write after recovery"
	wait_until 20 head_is $B "$AID" $((old_head + 1))
	wait_until 20 head_is $C "$AID" $((old_head + 1))
	same_feed $A $C "$AID" "a's feed at a and at c after recovery"
	local n
	for n in $B $C; do
		assert_eq false "$(feed_value $n "$AID" frozen)" "a's feed at $n not frozen"
		ctlj $n status
		assert_json "$J" '[.peers[].forks] | add' 0 "$n proved no fork"
	done
}
check check_writes_again
scenario_done

# ---- 7: a configured peer that misbehaves

scenario "7: a peer's tampered run is refused whole; its fork freezes its feed"
fake() {
	run timeout 30 "$FAKEPEER" --key "$FKEY" --name $F --connect "$(endpoint_of $B)" \
	    --server-key "${NODE_ID[$B]}" --timeout-ms 3000 "$@"
	{ echo "== fakepeer $*: exit $RC"; echo "$OUT"; echo "$ERR"; } >>"$WORK/$F/fakepeer.out"
	echo "$OUT" | sed 's/^/  fakepeer: /'
}
rejected_over() {
	local n
	n=$(peer_value $B $F rejected)
	(( ${n:-0} > $1 ))
}
check_tamper() {
	local mark rejected0 lines
	mark=$(log_mark $B)
	rejected0=$(peer_value $B $F rejected)
	[[ -n $rejected0 ]] || fail "b's status has no peer $F"
	fake --tamper
	assert_eq 0 "$RC" "fakepeer --tamper exit status ($ERR)"
	assert_contains "sent RECORDS of our feed, seq 1..3" "$OUT" "fakepeer --tamper sent its run"
	assert_contains "result: no ACK" "$OUT" "b acknowledged nothing of a tampered run"
	wait_until 10 rejected_over "$rejected0"
	assert_eq 0 "$(head_of $B "$FID")" "the fake peer's feed at b after a tampered run"
	assert_eq "" "$(feed_value $B "$FID" head_seq)" "b lists no feed of the fake peer"
	lines=$(log_since $B "$mark" "peer $F: .*refused")
	[[ -n $lines ]] || fail "b's log has no line about the refused run"
	assert_match 'signature' "$lines" "b's log line names the reason"
	note "b's log: $(head -n 1 <<<"$lines")"
	assert_match 'signature' "$(peer_value $B $F last_error)" "b's status: the peer's last_error"
}
check check_tamper
frozen_at_b() {
	[[ $(feed_value $B "$FID" frozen) == true ]]
}
check_fork() {
	local mark
	mark=$(log_mark $B)
	fake --fork
	assert_eq 0 "$RC" "fakepeer --fork exit status ($ERR)"
	assert_contains "records 1..2 acknowledged" "$OUT" "b acknowledged the good records 1..2"
	assert_contains "(a fork)" "$OUT" "fakepeer --fork sent the other record 2"
	assert_contains "result: no ACK" "$OUT" "b acknowledged nothing after the fork"
	wait_until 10 frozen_at_b
	assert_eq 2 "$(head_of $B "$FID")" "the fake peer's feed at b keeps records 1..2"
	local forks
	forks=$(peer_value $B $F forks)
	(( ${forks:-0} >= 1 )) || fail "b's status: forks of the fake peer is '$forks', expected >= 1"
	[[ -n $(log_since $B "$mark" "peer $F: fork of feed") ]] || fail "b's log has no line about the fork"
	# The frozen feed is b's alone: a and c were never to see it.
	assert_eq 0 "$(head_of $C "$FID")" "the fake peer's feed at c"
}
check check_fork
scenario_done

step "summary"
printf '%s\n' "${SUMMARY[@]}"
if (( SOFT_FAILURES > 0 )); then
	echo "FAIL $HALLE_TEST: $SOFT_FAILURES check(s) failed" >&2
	_failed=1
	exit 1
fi
pass
