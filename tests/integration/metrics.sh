#!/usr/bin/env bash
# metrics.sh: GET /metrics, in the Prometheus text format, on the control
# socket and on metrics_listen.
#
#   commune-a (metrics_listen) ---> commune-b     one grouping of the two
#
# a sells bread and takes three orders (confirmed, cut short, refused); the
# text of both nodes must pass tests/tools/promcheck.c (HELP and TYPE before
# samples, names, labels and escapes, floats, counters in _total, no series
# twice) and say what the status says. metrics_listen serves /metrics and
# nothing else. An order for b's producer is ruled at b and counted at a;
# then both stores pass halled --verify (their views are what their feeds
# give, sealed orders and rulings included). promcheck itself must refuse
# broken texts.
. "$(dirname "$0")/lib.sh"

: "${PROMCHECK:=$_lib_dir/../../build/tests/promcheck}"
[[ -x $PROMCHECK ]] || fail "$PROMCHECK is not an executable (build the promcheck target)"

A=commune-a
B=commune-b
G=pays-de-foo

# metric TEXT SERIES: the value of the sample SERIES (name and labels as
# written), or nothing.
metric() {
	awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $2 }' <<<"$1"
}

# assert_metric TEXT SERIES EXPECTED WHAT
assert_metric() {
	assert_eq "$3" "$(metric "$1" "$2")" "$4: $2"
}

# promcheck_ok TEXT WHAT
promcheck_ok() {
	local out
	out=$("$PROMCHECK" <<<"$1" 2>&1) || fail "$2: promcheck refused the text: $out"
}

step "two nodes, a with metrics_listen"
make_node_id $A
make_node_id $B
MPORT=$(free_port)
NODE_PORT[metrics]=$MPORT
write_config $A "metrics_listen = 127.0.0.1:$MPORT"
printf '\n%s\n' "$(peer_section $B dial)" "$(grouping_section $G $B)" >>"$(conf_of $A)"
write_config_text $B "$(peer_section $A)" "$(grouping_section $G $A)"
start_node $B
start_node $A

peer_up() {
	[[ $(peer_value "$1" "$2" state 2>/dev/null) == up ]]
}
wait_until 20 peer_up $A $B
wait_until 20 peer_up $B $A
wait_until 20 node_writable $A

step "a market day at a: three orders against a stock of 5"
cat >"$WORK/catalogue.json" <<'EOF'
{"products": [{"sku": "PAIN", "name": "Pain \"de campagne\"", "price_cents": 450,
               "stock_per_day": 5}]}
EOF
ctlj $A producer add "Ferme du Moulin"
P=$(jv "$J" .id)
ctlj $A catalogue publish "$P" "$WORK/catalogue.json"
ctlj $A market add "Marché" --place "Place" --town "Saint-Jean"
M=$(jv "$J" .id)
ctlj $A market invite "$M" "$P"
ctlj $A market accept "$M" "$P"
D=$(day_from_today 3)
ctlj $A distribution open "$M" "$D" --from 10:00 --to 12:00 --closes "$(iso_from_now 7200)"
DS=$(jv "$J" .id)
ctlj $A order place "$DS" --basket "Panier 1" "$P:PAIN:3"
assert_json "$J" '.lines[0].state' confirmed "order 1"
ctlj $A order place "$DS" --basket "Panier 2" "$P:PAIN:4"
assert_json "$J" '.lines[0].confirmed' 2 "order 2 cut short"
ctlj $A order place "$DS" --basket "Panier 3" "$P:PAIN:1"
assert_json "$J" '.lines[0].state' refused "order 3"
A_HEAD=$(head_of $A "${NODE_ID[$A]}")
b_has_a() {
	[[ $(head_of $B "${NODE_ID[$A]}") == "$A_HEAD" ]]
}
wait_until 20 b_has_a
lag_gone() {
	[[ $(peer_value $A $B lag_out) == 0 && $(peer_value $B $A lag_in) == 0 ]]
}
wait_until 20 lag_gone

step "GET /metrics on a's control socket"
HDRS=$WORK/headers
curl -s --max-time 20 --unix-socket "$(sock_of $A)" -D "$HDRS" -o "$WORK/a.prom" \
    -w '%{http_code}' http://halle/metrics >"$WORK/status" || fail "curl /metrics failed"
assert_eq 200 "$(cat "$WORK/status")" "GET /metrics status"
assert_match 'text/plain; version=0\.0\.4' "$(grep -i '^content-type:' "$HDRS")" "GET /metrics content type"
TA=$(cat "$WORK/a.prom")
promcheck_ok "$TA" "a's metrics"
ctlj $A status
S=$J
assert_metric "$TA" halle_records "$(jv "$S" .store.records)" "a"
assert_metric "$TA" halle_feeds "$(jv "$S" .store.feeds)" "a"
assert_metric "$TA" "halle_feed_records{origin=\"$A\"}" "$A_HEAD" "a"
assert_metric "$TA" halle_store_map_bytes "$(jv "$S" .store.map_bytes)" "a"
[[ $(metric "$TA" halle_store_bytes) -gt 0 ]] || fail "a: halle_store_bytes is not positive"
[[ -n $(metric "$TA" halle_uptime_seconds) ]] || fail "a: no halle_uptime_seconds"
assert_metric "$TA" halle_orders 3 "a"
assert_metric "$TA" halle_orders_cancelled 0 "a"
assert_metric "$TA" 'halle_order_lines{state="confirmed"}' 2 "a"
assert_metric "$TA" 'halle_order_lines{state="refused"}' 1 "a"
assert_metric "$TA" 'halle_order_lines{state="pending"}' 0 "a"
assert_metric "$TA" "halle_peer_up{peer=\"$B\"}" 1 "a"
assert_metric "$TA" "halle_peer_lag_records{peer=\"$B\",direction=\"out\"}" 0 "a"
assert_metric "$TA" "halle_peer_records_out_total{peer=\"$B\"}" "$(peer_value $A $B records_out)" "a"
assert_metric "$TA" "halle_peer_rejected_total{peer=\"$B\"}" 0 "a"
assert_metric "$TA" halle_handshakes_refused_total 0 "a"
assert_metric "$TA" halle_writable 1 "a"
assert_contains "halle_info{name=\"$A\",id=\"${NODE_ID[$A]}\"" "$TA" "a: halle_info"
assert_contains '# TYPE halle_peer_records_in_total counter' "$TA" "a: TYPE of a counter"
pass "a's metrics on the control socket"

step "GET /metrics at b: the records came in from a"
http $B GET /metrics
assert_eq 200 "$HTTP_STATUS" "b: GET /metrics"
TB=$HTTP_BODY
promcheck_ok "$TB" "b's metrics"
[[ $(metric "$TB" "halle_peer_records_in_total{peer=\"$A\"}") -ge $A_HEAD ]] ||
    fail "b: halle_peer_records_in_total{peer=\"$A\"} is $(metric "$TB" "halle_peer_records_in_total{peer=\"$A\"}"), under a's head $A_HEAD"
assert_metric "$TB" "halle_feed_records{origin=\"$A\"}" "$A_HEAD" "b"
assert_metric "$TB" "halle_peer_lag_records{peer=\"$A\",direction=\"in\"}" 0 "b"
assert_metric "$TB" "halle_peer_up{peer=\"$A\"}" 1 "b"
pass "b's metrics"

step "metrics_listen: /metrics and nothing else"
code=$(curl -s --max-time 20 -D "$HDRS" -o "$WORK/tcp.prom" -w '%{http_code}' \
    "http://127.0.0.1:$MPORT/metrics") || fail "curl http://127.0.0.1:$MPORT/metrics failed"
assert_eq 200 "$code" "metrics_listen: GET /metrics"
assert_match 'text/plain; version=0\.0\.4' "$(grep -i '^content-type:' "$HDRS")" "metrics_listen content type"
TT=$(cat "$WORK/tcp.prom")
promcheck_ok "$TT" "a's metrics on metrics_listen"
assert_metric "$TT" 'halle_order_lines{state="confirmed"}' 2 "metrics_listen"
assert_metric "$TT" "halle_peer_up{peer=\"$B\"}" 1 "metrics_listen"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/v1/status")
assert_eq 404 "$code" "metrics_listen does not serve the control API"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST \
    -d '{"name":"x"}' "http://127.0.0.1:$MPORT/v1/producers")
[[ $code == 404 || $code == 405 ]] || fail "metrics_listen: POST /v1/producers answered $code"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")
[[ $code == 405 ]] || fail "metrics_listen: POST /metrics answered $code, expected 405"
ctlj $A producer list
assert_json "$J" 'length' 1 "nothing was written through metrics_listen"
http_error $A POST /metrics 405 method_not_allowed
pass "metrics_listen"

step "an order for b's producer: ruled at b, counted at a"
ctlj $B producer add "Ferme de B"
PB=$(jv "$J" .id)
ctlj $B catalogue publish "$PB" "$WORK/catalogue.json"
node_knows() {	# node_knows NAME WHAT ID
	ctl "$1" --json "$2" show "$3" >/dev/null 2>&1
}
wait_until 20 node_knows $A catalogue "$PB"
ctlj $A market invite "$M" "$PB"
wait_until 20 node_knows $B market "$M"
invited_at_b() {
	[[ $(ctl $B --json market show "$M" 2>/dev/null | jq -r ".producers[] | select(.id == \"$PB\") | .invited") == true ]]
}
wait_until 20 invited_at_b
ctlj $B market accept "$M" "$PB"
sells_at_a() {
	[[ $(ctl $A --json market show "$M" 2>/dev/null | jq -r ".producers[] | select(.id == \"$PB\") | .accepted") == true ]]
}
wait_until 20 sells_at_a
ctlj $A order place "$DS" --basket "Panier 4" "$PB:PAIN:2"
O4=$(jv "$J" .id)
ruled() {
	[[ $(ctl $A --json order show "$O4" 2>/dev/null | jq -r '.lines[0].state') == confirmed ]]
}
wait_until 20 ruled
# b's feed may grow while a is scraped (b's chores: the producer's stock
# rights for a's market): the sample lies between b's head before and after.
b_head0=$(head_of $A "${NODE_ID[$B]}")
http $A GET /metrics
b_head1=$(head_of $A "${NODE_ID[$B]}")
promcheck_ok "$HTTP_BODY" "a's metrics after b ruled"
assert_metric "$HTTP_BODY" halle_orders 4 "a"
assert_metric "$HTTP_BODY" 'halle_order_lines{state="confirmed"}' 3 "a"
assert_metric "$HTTP_BODY" 'halle_order_lines{state="pending"}' 0 "a"
b_records=$(metric "$HTTP_BODY" "halle_feed_records{origin=\"$B\"}")
(( b_records >= b_head0 && b_records <= b_head1 )) ||
    fail "a: halle_feed_records{origin=\"$B\"} is '$b_records', not from $b_head0 to $b_head1 (b's head at a before and after)"
[[ $(metric "$HTTP_BODY" "halle_peer_records_in_total{peer=\"$B\"}") -gt 0 ]] ||
    fail "a: no record counted in from b"
pass "an order across the two nodes"

step "halled --verify: the views of both stores are what their feeds give"
stop_node $A
stop_node $B
for n in $A $B; do
	run timeout 60 "$HALLED" -c "$(conf_of $n)" --verify
	(( RC == 0 )) || fail "halled --verify on $n exited $RC: $OUT $ERR"
	assert_contains "views: rebuilt from the feeds, the same key by key" "$OUT" "--verify on $n"
done
pass "both stores verify"

step "promcheck refuses broken texts"
refused() {
	local out
	if out=$(printf '%b' "$1" | "$PROMCHECK" 2>&1); then
		fail "promcheck accepted $2: $(printf '%b' "$1")"
	fi
	assert_contains "$3" "$out" "promcheck on $2"
}
refused 'x 1\n' "a sample without TYPE" "no TYPE"
refused '# TYPE x gauge\nx 1\n' "a family without HELP" "no HELP"
refused '# HELP x h\n# TYPE x counter\nx 1\n' "a counter not in _total" "_total"
refused '# HELP x h\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n' "a series twice" "twice"
refused '# HELP x h\n# TYPE x gauge\nx{a="\\q"} 1\n' "a bad escape" "bad labels"
refused '# HELP x h\n# TYPE x gauge\nx{a="1",a="2"} 1\n' "a label twice" "bad labels"
refused '# HELP x h\n# TYPE x gauge\nx{a="1",} 1\n' "a trailing comma" "bad labels"
refused '# HELP x h\n# TYPE x gauge\nx 1e\n' "a bad value" "not a float"
refused '# HELP x h\n# TYPE x gauge\nx 0x10\n' "a hex value" "not a float"
refused '# HELP 1x h\n# TYPE 1x gauge\n' "a bad name" "bad metric name"
refused '# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\nx 2\n' \
    "a family split" "comes back"
refused '# HELP x h\n# TYPE x gauge\nx 1' "no final newline" "newline"
out=$(printf '# HELP x_total a \\\\ and \\n\n# TYPE x_total counter\nx_total{a="q\\"\\\\\\n"} 1.5e3 1700000000000\n# HELP y h\n# TYPE y gauge\ny NaN\ny{b="x"} -Inf\n' | "$PROMCHECK" 2>&1) ||
    fail "promcheck refused a valid text: $out"
pass "promcheck"
