#!/usr/bin/env bash
# grafana.sh: config/grafana/halle.json, the Grafana dashboard, asks only
# for what a real halled serves on GET /metrics.
#
#   halle.json --jq--> PromQL expressions --grep--> metric names, and the
#                                                   label="value" they match
#   a real halled with a peer (its families are there only then)
#        --GET /metrics--> every name has samples, every value a series
#
# The dashboard's model: a Prometheus data source variable, every query
# through it, unique panel ids, and the metrics the issue asks for (peers
# up, lag, records in and out, refusals, writes, order lines, store size,
# the records to go of a catch-up).
# Where promtool is installed (Debian: prometheus), every expression must
# also parse as PromQL; elsewhere that check is noted and skipped.
. "$(dirname "$0")/integration/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
dash=$top/config/grafana/halle.json

step "the dashboard's JSON model"
jq -e . "$dash" >/dev/null || fail "$dash is not JSON"
assert_eq 1 "$(jq '[.templating.list[] | select(.type == "datasource"
    and .query == "prometheus" and .name == "datasource")] | length' "$dash")" \
    "a Prometheus data source variable named datasource"
bad=$(jq -r '.panels[] | select(.type != "row") | .targets[]?
    | select(.datasource.uid != "${datasource}") | .refId' "$dash")
assert_eq "" "$bad" "queries not through \${datasource}"
bad=$(jq -r '.panels[] | select(.type != "row")
    | select((.targets // []) as $t | ($t | length) == 0
        or ($t | map((.expr // "") | length > 0) | all | not)) | .title' "$dash")
assert_eq "" "$bad" "panels without a query, or with an empty one"
assert_eq "$(jq '.panels | length' "$dash")" \
    "$(jq '[.panels[].id] | unique | length' "$dash")" "unique panel ids"
# Every PromQL expression: the panels' and the variables'.
jq -r '(.panels[].targets[]?.expr), (.templating.list[].definition // empty)' \
    "$dash" >"$WORK/exprs"
grep -oE '\bhalle_[a-z0-9_]+' "$WORK/exprs" | sort -u >"$WORK/names"
for m in halle_peer_up halle_peer_lag_records halle_peer_records_in_total \
    halle_peer_records_out_total halle_peer_rejected_total \
    halle_handshakes_refused_total halle_feed_records halle_records \
    halle_order_lines halle_order_lines_confirmed_locally halle_store_bytes \
    halle_peer_records_to_go; do
	grep -qx "$m" "$WORK/names" || fail "the dashboard does not query $m"
done
pass "$(wc -l <"$WORK/exprs") expressions, $(wc -l <"$WORK/names") metrics"

step "the expressions parse as PromQL"
if command -v promtool >/dev/null 2>&1; then
	# Grafana's variables as Prometheus would get them; the expressions
	# as recording rules (JSON is YAML), which promtool parses offline.
	jq '{groups: [{name: "dashboard", rules: [.panels[].targets[]?.expr
	    | gsub("\\$__rate_interval"; "5m") | gsub("\\$[a-z]+"; ".*")]
	    | to_entries | map({record: "dashboard:q\(.key)", expr: .value})}]}' \
	    "$dash" >"$WORK/rules.yml"
	run promtool check rules "$WORK/rules.yml"
	(( RC == 0 )) || fail "promtool refuses an expression: $OUT $ERR"
	pass "promtool check rules"
else
	note "promtool is not installed (Debian: prometheus): PromQL not parsed"
fi

step "a real halled with a peer serves them"
# Two nodes of one grouping, a dialling b: the peer families are there,
# and a takes writes once it has heard from b.
A=commune-a
B=commune-b
make_node_id $A
make_node_id $B
printf '\n%s\n' "$(peer_section $B dial)" "$(grouping_section pays-de-foo $B)" \
    >>"$(conf_of $A)"
write_config_text $B "$(peer_section $A)" "$(grouping_section pays-de-foo $A)"
start_node $B
start_node $A
wait_until 20 node_writable $A
# A write, so that a's own feed (halle_feed_records) is there.
ctlj $A producer add "Ferme du Moulin"
http $A GET /metrics
assert_eq 200 "$HTTP_STATUS" "GET /metrics"
printf '%s\n' "$HTTP_BODY" | grep -v '^#' >"$WORK/samples"
missing=()
while read -r m; do
	grep -Eq "^$m(\{| )" "$WORK/samples" || missing+=("$m")
done <"$WORK/names"
(( ${#missing[@]} == 0 )) ||
    fail "metrics the dashboard queries that halled does not serve: ${missing[*]}"
pass "all $(wc -l <"$WORK/names") metrics"

step "every label=\"value\" the dashboard matches has a series"
# NAME{...label="value"...}: exact matchers only (=~ takes variables).
count=0
while read -r selector; do
	m=${selector%%\{*}
	while read -r pair; do
		[[ -n $pair ]] || continue
		grep -E "^$m\{" "$WORK/samples" | grep -qF "$pair" ||
		    fail "no series $m{$pair} in halled's /metrics"
		count=$((count + 1))
	done < <(grep -oE '[a-z_]+="[^"$]*"' <<<"$selector" || true)
done < <(grep -oE '\bhalle_[a-z0-9_]+\{[^}]*\}' "$WORK/exprs" | sort -u)
pass "$count matchers"

step "writes: the node's own feed is labelled with its name"
# The Writes panel joins halle_feed_records{origin} to halle_info{name}.
assert_contains "halle_info{name=\"$A\"" "$(cat "$WORK/samples")" "halle_info"
grep -Eq "^halle_feed_records\{origin=\"$A\"\} [0-9]+$" "$WORK/samples" ||
    fail "no halle_feed_records{origin=\"$A\"}: $(grep '^halle_feed_records' "$WORK/samples")"
pass "halle_feed_records{origin=\"$A\"}"
stop_node $A
stop_node $B
