#!/usr/bin/env bash
# catchup.sh: the progress of a catch-up as status shows it, between real
# halled processes.
#
#   commune-a  <---dials---  commune-b      one grouping of the two
#   a backlog of N records,  starts empty
#   made while it was stopped
#   (tests/tools/fillfeed)
#
# While b takes a's backlog, b's status says of a: the records to go (a's
# head as b last heard it, less what b holds), the rate they come at (a
# moving average) and the time left at that rate. to_go is 0 until a's
# heads are heard, then at most N and only falling, down to 0 when b holds
# the whole backlog; while the rate is above 0 the time left is a number,
# else null. `hallectl status` shows a in its "CATCHING UP FROM" table
# meanwhile, and /metrics says halle_peer_records_to_go. Every look is a
# poll of wait_until with a deadline; nothing sleeps and hopes.
. "$(dirname "$0")/lib.sh"

: "${FILLFEED:=$_lib_dir/../../build/tests/fillfeed}"
[[ -x $FILLFEED ]] || fail "$FILLFEED is not an executable (build the fillfeed target)"

A=commune-a
B=commune-b
G=pays-de-foo
# Enough for a catch-up of seconds: polls of b's status see it under way.
N=${CATCHUP_RECORDS:-150000}

step "a backlog of $N records at a, written while a is stopped"
make_node_id $A
make_node_id $B
run "$FILLFEED" "$(conf_of $A)" "$N"
(( RC == 0 )) || fail "fillfeed exited $RC: $ERR"
printf '\n%s\n' "$(peer_section $B)" "$(grouping_section $G $B)" >>"$(conf_of $A)"
write_config_text $B "$(peer_section $A dial)" "$(grouping_section $G $A)"
start_node $A
assert_eq "$N" "$(head_of $A "${NODE_ID[$A]}")" "a's own feed"
pass "a holds $N records of its own"

step "b starts empty and catches up: to_go rises once, then falls to 0"
last=-1		# the last to_go above 0 seen
positive=0	# samples with to_go above 0
fell=0		# times to_go was seen falling
rated=0		# samples with a rate and a time left
table_seen=0
metric_seen=0

# see_human: hallectl status's table of the peers b catches up from.
see_human() {
	local out
	out=$(ctl $B status 2>/dev/null) || return 0
	grep -Eq '^CATCHING UP FROM +TO GO +RATE +TIME LEFT$' <<<"$out" &&
	    grep -Eq "^$A +[0-9,]+ +[0-9.,]+/s +([0-9:dhm]+|-)$" <<<"$out" &&
	    table_seen=1
	return 0
}

# see_metric: halle_peer_records_to_go of a at b, at most the last to_go.
see_metric() {
	local v
	http $B GET /metrics
	v=$(awk -v s="halle_peer_records_to_go{peer=\"$A\"}" \
	    '$1 == s { print $2 }' <<<"$HTTP_BODY")
	[[ $v =~ ^[0-9]+$ ]] || fail "b's /metrics: no halle_peer_records_to_go for a: '$v'"
	(( v <= last )) || fail "b's halle_peer_records_to_go for a is $v, above the to_go of $last seen before"
	(( v > 0 )) && metric_seen=1
	return 0
}

# caught_up: one look at b's status, checked; true once b has taken the
# whole backlog after to_go was seen above 0.
caught_up() {
	local out to_go rate left
	out=$(ctl $B --json status 2>/dev/null) || return 1
	read -r to_go rate left < <(jq -r ".peers[] | select(.name == \"$A\")
	    | \"\(.to_go) \(.rate) \(.time_left_s)\"" <<<"$out")
	[[ $to_go =~ ^[0-9]+$ ]] || fail "b's status: to_go of a is '$to_go'"
	if [[ $rate == 0 || $rate == 0.0 ]]; then
		[[ $left == null ]] || fail "b's status: rate 0 but time_left_s $left"
	else
		[[ $left =~ ^[0-9]+$ ]] || fail "b's status: rate $rate but time_left_s $left"
	fi
	if (( to_go == 0 )); then
		# Before a's heads are heard, or all taken (seen or not).
		[[ $(head_of $B "${NODE_ID[$A]}") == "$N" ]] || {
			(( last <= 0 )) && return 1
			fail "b says nothing to go from a but holds $(head_of $B "${NODE_ID[$A]}") of its $N records"
		}
		(( last > 0 )) && fell=$((fell + 1))	# down to 0
		return 0
	fi
	(( to_go <= N )) || fail "b's to_go from a is $to_go, over the backlog of $N"
	(( last < 0 || to_go <= last )) || fail "b's to_go from a rose from $last to $to_go"
	(( last > 0 && to_go < last )) && fell=$((fell + 1))
	[[ $left =~ ^[0-9]+$ ]] && rated=$((rated + 1))
	last=$to_go
	positive=$((positive + 1))
	(( table_seen )) || see_human
	(( metric_seen )) || see_metric
	return 1
}
# watch_catchup SECONDS: looks at b's status as often as it answers (a
# look is a few requests, each served between the slices of work b's
# transport takes, PEERS_PUMP_MS and one run at most) until b holds a's
# whole backlog; fails past SECONDS.
watch_catchup() {
	local end=$(( $(_now_ms) + $1 * 1000 ))

	until caught_up; do
		(( $(_now_ms) < end )) ||
		    fail "timed out after $1 s waiting for b to take a's $N records"
		sleep 0.01
	done
}
start_node $B
watch_catchup 240
(( positive >= 2 && fell >= 1 )) ||
    fail "the catch-up was seen $positive times with records to go, falling $fell times: too fast to watch (raise CATCHUP_RECORDS)"
(( rated >= 1 )) || fail "no sample of the catch-up had a rate and a time left"
(( table_seen )) || fail "hallectl status never showed a in CATCHING UP FROM"
(( metric_seen )) || fail "/metrics never showed records to go from a"
pass "$positive samples with records to go, $fell falling, $rated with a time left"

step "caught up: nothing to go, no table"
ctlj $B status
assert_json "$J" ".peers[] | select(.name == \"$A\") | .to_go" 0 "b's to_go from a"
assert_json "$J" ".peers[] | select(.name == \"$A\") | .lag_in" 0 "b's lag_in from a"
assert_jq "$J" ".peers[] | select(.name == \"$A\") | .time_left_s == null or .time_left_s == 0" \
    "b's time left from a"
ctl_ok $B status
[[ $OUT != *"CATCHING UP FROM"* ]] || fail "hallectl status still shows a catch-up: $OUT"
http $B GET /metrics
assert_contains "halle_peer_records_to_go{peer=\"$A\"} 0" "$HTTP_BODY" "b's /metrics"
pass "b holds a's $N records"
