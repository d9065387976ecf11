#!/usr/bin/env bash
# limits.sh: the bounds of the control socket and of metrics_listen
# (docs/security.md, "Resource limits"), met by clients that overstep them.
#
# - Headers: a header line that never ends is answered 431
#   headers_too_large at the limit, at once, and the daemon's memory stays
#   small; the same on metrics_listen at its smaller limit.
# - Errors: bodies over the limit, bad chunk sizes, both Content-Length and
#   Transfer-Encoding, a negative Content-Length, unsupported and unknown
#   methods: each answered with its status and the JSON error body.
# - Slow and idle clients: 80 connections sending a byte a second are all
#   closed by the request deadline (10 s), the connection cap (64) is met
#   and counted, and the node answers afterwards.
# - Descriptors: with the daemon's descriptor limit lowered and more
#   clients than it allows, accepting pauses (logged once, counted) and the
#   daemon does not spin; once the clients leave, it answers again.
. "$(dirname "$0")/lib.sh"

RAW="python3 $(dirname "$0")/rawhttp.py"
N=commune-a
MPORT=$(free_port)
NODE_PORT[metrics]=$MPORT
write_config $N "metrics_listen = 127.0.0.1:$MPORT"
start_node $N
PID=${NODE_PID[$N]}
CTL=unix:$(sock_of $N)
MET=tcp:127.0.0.1:$MPORT

# metric NAME SERVER: the value of NAME{server="SERVER"} on the control API.
metric() {
	http $N GET /metrics
	awk -v want="$1{server=\"$2\"}" '$1 == want { print $2 }' <<<"$HTTP_BODY"
}

# raw_error ADDR STATUS CODE WHAT: stdin is a raw request, whose answer
# must be STATUS with the JSON error body of CODE.
raw_error() {
	local addr=$1 status=$2 code=$3 what=$4 out
	out=$($RAW "$addr" request) || fail "$what: rawhttp failed"
	assert_eq "$status" "$(head -n 1 <<<"$out")" "$what: status"
	assert_json "$(tail -n +2 <<<"$out")" .error.code "$code" "$what: error code"
	assert_jq "$(tail -n +2 <<<"$out")" '.error.message | length > 0' "$what: message"
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"
}

# Each check runs in soft: one run reports every bound that does not hold.

header_limits() {
	step "headers: an endless header line is cut at the limit"
	rss_before=$(rss_kib)
	for addr in "$CTL" "$MET"; do
		out=$($RAW "$addr" flood $((64 * 1024 * 1024)) 2>"$WORK/flood.err") ||
		    fail "flood $addr: rawhttp failed"
		assert_eq 431 "$(head -n 1 <<<"$out")" "flood $addr: status ($(cat "$WORK/flood.err"))"
		assert_json "$(tail -n +2 <<<"$out")" .error.code headers_too_large "flood $addr"
		sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' "$WORK/flood.err")
		(( sent < 8 * 1024 * 1024 )) ||
		    fail "flood $addr: the server read $sent bytes of one header line before answering"
	done
	rss_after=$(rss_kib)
	(( rss_after - rss_before < 32 * 1024 )) ||
	    fail "the header floods grew halled's memory from $rss_before to $rss_after KiB"
	pass "header limits"
}

json_errors() {

	step "errors are the JSON body, whatever the layer that finds them"
	printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n' |
	    raw_error "$CTL" 413 body_too_large "Content-Length over the limit"
	{
		printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n'
		for _ in 1 2 3; do
			printf '80000\r\n'
			head -c $((0x80000)) /dev/zero | tr '\0' a
			printf '\r\n'
		done
		printf '0\r\n\r\n'
	} | raw_error "$CTL" 413 body_too_large "chunked body over the limit"
	printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n' |
	    raw_error "$CTL" 400 bad_request "a chunk size that is not hexadecimal"
	printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n' |
	    raw_error "$CTL" 400 bad_request "a negative chunk size"
	printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' |
	    raw_error "$CTL" 400 bad_request "Content-Length and Transfer-Encoding"
	printf 'POST /v1/producers HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n' |
	    raw_error "$CTL" 400 bad_request "a negative Content-Length"
	printf 'GET /v1/status HTTP/1.1\r\nHost h\r\n\r\n' |
	    raw_error "$CTL" 400 bad_request "a header without a colon"
	for method in PATCH OPTIONS TRACE BREW; do
		printf '%s /v1/status HTTP/1.1\r\nHost: h\r\n\r\n' "$method" |
		    raw_error "$CTL" 405 method_not_allowed "$method /v1/status"
	done
	printf 'POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n' |
	    raw_error "$MET" 405 method_not_allowed "POST on metrics_listen"
	printf 'GET /v1/status HTTP/1.1\r\nHost: h\r\n\r\n' |
	    raw_error "$MET" 404 not_found "the API on metrics_listen"
	printf 'GET /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n' |
	    raw_error "$MET" 413 body_too_large "a body on metrics_listen"
	ctlj $N status
	pass "JSON errors"
}

slow_clients() {

	step "slow and idle clients are closed at the request deadline"
	timeouts_before=$(metric halle_http_request_timeouts_total control)
	caps_before=$(metric halle_http_connection_cap_total control)
	$RAW "$CTL" slowloris 80 30 2>"$WORK/slow.err" || fail "slowloris: rawhttp failed"
	slow=$(cat "$WORK/slow.err")
	assert_match 'opened=80 ' "$slow" "slowloris connections opened"
	assert_match 'left_open=0$' "$slow" "slow connections the server closed"
	last=$(sed -n 's/.*last_close=\([0-9]*\).*/\1/p' <<<"$slow")
	(( last <= 25 )) || fail "the last slow connection was closed after ${last}s: $slow"
	ctlj $N status
	timeouts=$(metric halle_http_request_timeouts_total control)
	(( timeouts - timeouts_before >= 64 )) ||
	    fail "request timeouts counted: $timeouts_before then $timeouts"
	(( $(metric halle_http_connection_cap_total control) > caps_before )) ||
	    fail "the connection cap was not met with 80 clients"
	assert_eq 64 "$(metric halle_http_connections_max control)" "connection cap"
	pass "slow clients"
}

accept_pause() {

	step "out of descriptors: accepting pauses instead of spinning"
	# What halled holds open now, plus a few: the clients below exhaust it.
	nfds=$(ls "/proc/$PID/fd" | wc -l)
	nofile_soft=$(prlimit --pid "$PID" --nofile --output SOFT --noheadings | tr -d ' ')
	prlimit --pid "$PID" --nofile=$((nfds + 8)):
	mark=$(log_mark $N)
	$RAW "$CTL" hold 40 4 2>"$WORK/hold.err" &
	holder=$!
	wait_until 10 test -s "$WORK/hold.err"
	ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
	# The holder keeps its connections 4 s: the daemon's CPU over 2 s of it.
	t0=$(ticks)
	start_ms=$(_now_ms)
	while (( $(_now_ms) - start_ms < 2000 )); do sleep 0.2; done
	t1=$(ticks)
	wait "$holder"
	(( t1 - t0 < 50 )) || fail "halled used $(( t1 - t0 )) ticks of CPU in 2 s while out of descriptors"
	prlimit --pid "$PID" --nofile="$nofile_soft":
	wait_until 10 node_writable $N
	pauses=$(metric halle_http_accept_pauses_total control)
	(( pauses >= 1 )) || fail "no accept pause counted"
	said=$(log_since $N "$mark" 'accept: ' | wc -l)
	(( said >= 1 && said <= 2 )) || fail "the accept failure was logged $said times"
	(( $(log_since $N "$mark" 'Error from accept' | wc -l) == 0 )) ||
	    fail "libevent logged its accept errors"
	pass "accept pause"
}

soft header_limits || true
soft json_errors || true
soft slow_clients || true
node_alive $N || fail "halled died"
soft accept_pause || true
node_alive $N || fail "halled died"
stop_node $N
(( SOFT_FAILURES == 0 )) || fail "$SOFT_FAILURES of 4 checks failed (FAIL lines above)"
