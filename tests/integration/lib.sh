# lib.sh: shared helpers for halle's integration tests.
#
# A test script sources this file first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It needs $HALLED and $HALLECTL (ctest sets them; run by hand, they default
# to the build tree's binaries), jq and curl. It makes a private temporary
# directory $WORK; on exit it kills every daemon the test started, prints the
# end of each node's log if the test failed, and removes $WORK (set
# HALLE_KEEP_TMP=1 to keep it).
#
# A node NAME lives in $WORK/NAME: halled.conf, node.key, data/, control.sock
# and halled.log (the daemon's stderr and stdout, appended across restarts).
#
# Everything waits for a condition with a deadline (wait_until); nothing
# sleeps a fixed time and hopes. Failures print one line
# "FAIL <test>: <what was expected, what was got>" and exit 1.

set -euo pipefail
set -o errtrace

HALLE_TEST=${HALLE_TEST:-$(basename "$0" .sh)}
_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${HALLED:=$_lib_dir/../../build/daemon/halled}"
: "${HALLECTL:=$_lib_dir/../../build/daemon/hallectl}"
export TZ_NODE=Europe/Paris

for _tool in jq curl timeout; do
	if ! command -v "$_tool" >/dev/null 2>&1; then
		echo "FAIL $HALLE_TEST: $_tool is not installed (scripts/deps.sh installs it)" >&2
		exit 1
	fi
done
for _bin in "$HALLED" "$HALLECTL"; do
	if [[ ! -x $_bin ]]; then
		echo "FAIL $HALLE_TEST: $_bin is not an executable (build first)" >&2
		exit 1
	fi
done

# Unix socket paths are limited to 108 bytes: keep $WORK short.
WORK=$(mktemp -d "${HALLE_TMP:-/tmp}/halle-it.XXXXXX")
declare -A NODE_PID=()
declare -A NODE_PORT=()
_failed=0

_on_exit() {
	local rc=$?
	trap - ERR
	set +e
	local name pid log
	for name in "${!NODE_PID[@]}"; do
		pid=${NODE_PID[$name]}
		[[ -n $pid ]] || continue
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if (( rc != 0 )); then
		for log in "$WORK"/*/halled.log; do
			[[ -f $log ]] || continue
			echo "---- last lines of $log ----" >&2
			tail -n 60 "$log" >&2
			echo "---- end of $log ----" >&2
		done
		(( _failed )) || echo "FAIL $HALLE_TEST: exit status $rc" >&2
	fi
	if [[ ${HALLE_KEEP_TMP:-0} == 1 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap '_failed=1; exit 1' USR1
trap '_on_err $LINENO "$BASH_COMMAND"' ERR

_on_err() {
	# Only the shell a failure ends reports; subshells pass the failure up.
	[[ $BASHPID == "$_fail_target" ]] || return 0
	(( _failed )) && return 0
	echo "FAIL $HALLE_TEST: command failed at line $1: $2" >&2
	_failed=1
}

# The shell that a failure ends: the test's, or a soft check's subshell.
_fail_target=$$

# fail MESSAGE: prints "FAIL <test>: MESSAGE" and ends the test (or the soft
# check), even when called inside a command substitution: the subshell
# signals the shell to end.
fail() {
	echo "FAIL $HALLE_TEST: $*" >&2
	_failed=1
	if [[ $BASHPID != "$_fail_target" ]]; then
		kill -USR1 "$_fail_target" 2>/dev/null || true
	fi
	exit 1
}

# soft CMD...: runs CMD in a subshell; when it fails, SOFT_FAILURES counts it
# and the test goes on (for independent checks: one report lists them all).
# Returns CMD's status.
SOFT_FAILURES=0
soft() {
	local rc
	set +e
	(
		set -e
		_fail_target=$BASHPID
		trap '_failed=1; exit 1' USR1
		"$@"
	)
	rc=$?
	set -e
	(( rc == 0 )) || SOFT_FAILURES=$((SOFT_FAILURES + 1))
	return "$rc"
}

# pass [WHAT]: prints "PASS <test>[: WHAT]".
pass() {
	echo "PASS $HALLE_TEST${1:+: $1}"
}

# note MESSAGE: prints a remark that is not a failure.
note() {
	echo "NOTE $HALLE_TEST: $*" >&2
}

# step MESSAGE: says what the test is about to check.
step() {
	echo "---- $*"
}

# assert_eq EXPECTED GOT WHAT
assert_eq() {
	if [[ "$1" != "$2" ]]; then
		fail "$3: expected '$1', got '$2'"
	fi
}

# assert_match REGEX GOT WHAT
assert_match() {
	if [[ ! "$2" =~ $1 ]]; then
		fail "$3: expected to match /$1/, got '$2'"
	fi
}

# assert_contains NEEDLE HAYSTACK WHAT
assert_contains() {
	if [[ "$2" != *"$1"* ]]; then
		fail "$3: expected to contain '$1', got: $2"
	fi
}

# jv JSON FILTER: prints jq -r FILTER of JSON (fails the test on bad JSON).
jv() {
	local out
	if ! out=$(jq -r "$2" <<<"$1" 2>&1); then
		fail "jq '$2' failed ($out) on: $1"
	fi
	printf '%s\n' "$out"
}

# assert_json JSON FILTER EXPECTED WHAT: jq -r FILTER of JSON is EXPECTED.
assert_json() {
	local got
	if ! got=$(jq -r "$2" <<<"$1" 2>&1); then
		fail "$4: jq '$2' failed ($got) on: $1"
	fi
	if [[ "$got" != "$3" ]]; then
		fail "$4: expected $2 == '$3', got '$got' in: $(jq -c . <<<"$1" 2>/dev/null || echo "$1")"
	fi
}

# assert_jq JSON FILTER WHAT: jq -e FILTER of JSON is true.
assert_jq() {
	if ! jq -e "$2" <<<"$1" >/dev/null 2>&1; then
		fail "$3: expected $2 to hold in: $(jq -c . <<<"$1" 2>/dev/null || echo "$1")"
	fi
}

# run CMD...: runs CMD, sets RC (exit status), OUT (stdout) and ERR (stderr).
run() {
	local o="$WORK/.out.$BASHPID" e="$WORK/.err.$BASHPID"
	if "$@" >"$o" 2>"$e"; then RC=0; else RC=$?; fi
	OUT=$(cat "$o")
	ERR=$(cat "$e")
	rm -f "$o" "$e"
}

# pid_alive PID: true while PID runs (a zombie counts as dead).
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# node_alive NAME
node_alive() {
	local pid=${NODE_PID[$1]:-}
	[[ -n $pid ]] && pid_alive "$pid"
}

_now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# wait_until DEADLINE_S CMD...: polls CMD (in this shell) every 0.1 s until it
# succeeds; fails the test naming CMD when DEADLINE_S seconds pass first.
wait_until() {
	local deadline=$1; shift
	local end=$(( $(_now_ms) + deadline * 1000 ))
	while :; do
		if "$@"; then
			return 0
		fi
		if (( $(_now_ms) >= end )); then
			fail "timed out after ${deadline}s waiting for: $*"
		fi
		sleep 0.1
	done
}

# _wait_dead PID SECONDS: true once PID has exited, false after SECONDS.
_wait_dead() {
	local end=$(( $(_now_ms) + $2 * 1000 ))
	while pid_alive "$1"; do
		(( $(_now_ms) < end )) || return 1
		sleep 0.05
	done
}

# port_in_use PORT: true when something accepts TCP connections there.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: prints a TCP port in 20000-39999 that nothing listens on and
# no node of this test uses.
free_port() {
	local base=$(( 20000 + ($$ * 37 + RANDOM) % 20000 )) i p used
	for (( i = 0; i < 200; i++ )); do
		p=$(( 20000 + (base - 20000 + i * 101) % 20000 ))
		used=0
		for q in "${NODE_PORT[@]}"; do
			[[ $q == "$p" ]] && used=1
		done
		(( used )) && continue
		port_in_use "$p" && continue
		echo "$p"
		return 0
	done
	fail "no free TCP port found"
}

node_dir()  { echo "$WORK/$1"; }
conf_of()   { echo "$WORK/$1/halled.conf"; }
sock_of()   { echo "$WORK/$1/control.sock"; }
key_of()    { echo "$WORK/$1/node.key"; }
log_of()    { echo "$WORK/$1/halled.log"; }

# write_config NAME [EXTRA_LINE...]: writes $WORK/NAME/halled.conf; the
# [node] section is lines 1-7, extra lines follow from line 8.
write_config() {
	local name=$1 dir=$WORK/$1; shift
	mkdir -p "$dir"
	if [[ -z ${NODE_PORT[$name]:-} ]]; then
		NODE_PORT[$name]=$(free_port)
	fi
	{
		echo "[node]"
		echo "name = $name"
		echo "data_dir = $dir/data"
		echo "key_file = $dir/node.key"
		echo "control = $dir/control.sock"
		echo "listen = tcp://127.0.0.1:${NODE_PORT[$name]}"
		echo "timezone = $TZ_NODE"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$dir/halled.conf"
}

# show_log NAME: prints the end of the node's log on stderr.
show_log() {
	local log
	log=$(log_of "$1")
	[[ -f $log ]] || return 0
	echo "---- last lines of $log ----" >&2
	tail -n 60 "$log" >&2
	echo "---- end of $log ----" >&2
}

# start_node NAME [DEADLINE_S]: writes a config unless one exists, starts
# halled in the background (stderr and stdout to the node's log) and waits
# until `hallectl status` answers.
start_node() {
	local name=$1 deadline=${2:-20}
	local dir=$WORK/$1 pid rc end
	if node_alive "$name"; then
		fail "start_node $name: already running (pid ${NODE_PID[$name]})"
	fi
	[[ -f $dir/halled.conf ]] || write_config "$name"
	echo "==== $(date '+%F %T') test starts halled -c $dir/halled.conf" >>"$dir/halled.log"
	"$HALLED" -c "$dir/halled.conf" >>"$dir/halled.log" 2>&1 &
	pid=$!
	NODE_PID[$name]=$pid
	end=$(( $(_now_ms) + deadline * 1000 ))
	while :; do
		if "$HALLECTL" -s "$dir/control.sock" status >/dev/null 2>&1; then
			return 0
		fi
		if ! pid_alive "$pid"; then
			rc=0
			wait "$pid" || rc=$?
			NODE_PID[$name]=
			fail "halled $name exited with status $rc before answering 'hallectl status'"
		fi
		if (( $(_now_ms) >= end )); then
			fail "halled $name did not answer 'hallectl status' within ${deadline}s"
		fi
		sleep 0.1
	done
}

# stop_node NAME [DEADLINE_S]: SIGTERM, then waits for the exit. Sets
# STOP_STATUS to the daemon's exit status; a non-zero one is noted.
stop_node() {
	local name=$1 deadline=${2:-20} pid
	pid=${NODE_PID[$name]:-}
	[[ -n $pid ]] || fail "stop_node $name: not running"
	kill -TERM "$pid" 2>/dev/null || true
	if ! _wait_dead "$pid" "$deadline"; then
		fail "halled $name still running ${deadline}s after SIGTERM"
	fi
	STOP_STATUS=0
	wait "$pid" || STOP_STATUS=$?
	NODE_PID[$name]=
	if (( STOP_STATUS != 0 )); then
		note "halled $name exited with status $STOP_STATUS after SIGTERM (expected 0)"
	fi
}

# kill9_node NAME: SIGKILL, then waits for the exit.
kill9_node() {
	local name=$1 pid
	pid=${NODE_PID[$name]:-}
	[[ -n $pid ]] || fail "kill9_node $name: not running"
	kill -KILL "$pid" 2>/dev/null || true
	_wait_dead "$pid" 10 || fail "halled $name still running 10s after SIGKILL"
	wait "$pid" 2>/dev/null || true
	NODE_PID[$name]=
}

# ctl NAME ARGS...: runs hallectl against NAME's control socket.
ctl() {
	local name=$1; shift
	"$HALLECTL" -s "$(sock_of "$name")" "$@"
}

# ctl_ok NAME ARGS...: runs hallectl, which must exit 0; sets OUT and ERR.
ctl_ok() {
	local name=$1; shift
	run ctl "$name" "$@"
	if (( RC != 0 )); then
		fail "hallectl $* exited $RC (expected 0); stderr: $ERR; stdout: $OUT"
	fi
}

# ctlj NAME ARGS...: runs hallectl --json ARGS, which must exit 0 and print
# JSON; sets J to that JSON.
ctlj() {
	local name=$1; shift
	ctl_ok "$name" --json "$@"
	if ! jq -e . <<<"$OUT" >/dev/null 2>&1; then
		fail "hallectl --json $* printed no JSON: '$OUT'"
	fi
	J=$OUT
}

# error_code_of: prints the error code hallectl reported in OUT/ERR (JSON
# {"error":{"code":…}} on either stream), or nothing.
error_code_of() {
	local s c
	for s in "$OUT" "$ERR"; do
		c=$(jq -r '.error.code? // empty' <<<"$s" 2>/dev/null) || c=
		if [[ -n $c ]]; then
			echo "$c"
			return 0
		fi
	done
}

# ctl_error NAME CODE ARGS...: hallectl --json ARGS must exit 1 (the node
# answered an error), print a message on stderr, and report CODE.
ctl_error() {
	local name=$1 code=$2; shift 2
	run ctl "$name" --json "$@"
	if (( RC != 1 )); then
		fail "hallectl --json $*: expected exit 1 ($code), got $RC; stdout: $OUT; stderr: $ERR"
	fi
	if [[ -z $ERR ]]; then
		fail "hallectl --json $*: exit 1 but no message on stderr (stdout: $OUT)"
	fi
	local got
	got=$(error_code_of)
	if [[ -z $got ]]; then
		# No JSON error body: accept the bare code in the output.
		if [[ "$OUT $ERR" == *"$code"* ]]; then
			return 0
		fi
		fail "hallectl --json $*: expected error code $code, none shown; stdout: $OUT; stderr: $ERR"
	fi
	assert_eq "$code" "$got" "hallectl --json $*: error code"
}

# http NAME METHOD PATH [CURL_ARGS...]: one raw request to the control API;
# sets HTTP_STATUS and HTTP_BODY.
http() {
	local name=$1 method=$2 path=$3; shift 3
	local body=$WORK/.http.$BASHPID
	rm -f "$body"
	HTTP_STATUS=$(curl -s --max-time 20 --unix-socket "$(sock_of "$name")" \
	    -X "$method" -o "$body" -w '%{http_code}' "$@" "http://halle$path") || true
	HTTP_BODY=$(cat "$body" 2>/dev/null || true)
	rm -f "$body"
}

# http_error NAME METHOD PATH STATUS CODE [CURL_ARGS...]: the answer must be
# STATUS with body {"error":{"code":CODE,"message":non-empty}}.
http_error() {
	local name=$1 method=$2 path=$3 status=$4 code=$5; shift 5
	http "$name" "$method" "$path" "$@"
	if [[ $HTTP_STATUS != "$status" ]]; then
		fail "$method $path: expected HTTP $status ($code), got $HTTP_STATUS; body: $HTTP_BODY"
	fi
	if ! jq -e . <<<"$HTTP_BODY" >/dev/null 2>&1; then
		fail "$method $path: HTTP $status body is not JSON: $HTTP_BODY"
	fi
	assert_json "$HTTP_BODY" '.error.code' "$code" "$method $path: error code"
	assert_jq "$HTTP_BODY" '.error.message | type == "string" and length > 0' \
	    "$method $path: error message"
}

# Dates and times, in the nodes' time zone.
tzdate()    { TZ=$TZ_NODE date "$@"; }
# day_from_today N: the date N days from today, YYYY-MM-DD.
day_from_today() { tzdate -d "today + $1 days" +%F; }
# weekday_of DATE: 1 (Monday) .. 7 (Sunday).
weekday_of() { tzdate -d "$1" +%u; }
# iso_from_now SECONDS: the instant SECONDS from now, ISO 8601 with offset.
iso_from_now() { tzdate -d "now + $1 seconds" +%Y-%m-%dT%H:%M:%S%:z; }
# iso_at "DATE HH:MM": that local time as ISO 8601 with offset.
iso_at()    { tzdate -d "$1" +%Y-%m-%dT%H:%M:%S%:z; }
# epoch_of ISO: seconds since the epoch.
epoch_of()  { date -d "$1" +%s; }

# ---- Several nodes: keys, peers, groupings (federation.sh) ----
#
# A node's id is its Ed25519 public key, as `halled --show-id` prints it.
# make_node_id writes a config without peers (unless one exists) so that
# halled can make the key, and keeps the id in NODE_ID. The full config of
# a node is then the [node] section of write_config followed by a text of
# [peer] and [grouping] sections (write_config_text / start_node_with).

declare -A NODE_ID=()

# make_node_id NAME: makes NAME's key (halled -c CONF --show-id) and sets
# NODE_ID[NAME]. Call it in the test's shell, not in $(...).
make_node_id() {
	local name=$1 out
	[[ -f $(conf_of "$name") ]] || write_config "$name"
	out=$(timeout 20 "$HALLED" -c "$(conf_of "$name")" --show-id 2>&1) ||
	    fail "halled -c $(conf_of "$name") --show-id failed: $out"
	[[ $out =~ ^[0-9a-f]{64}$ ]] ||
	    fail "halled --show-id for $name printed '$out', not 64 hex digits"
	NODE_ID[$name]=$out
}

# endpoint_of NAME: the node's listen endpoint.
endpoint_of() {
	echo "tcp://127.0.0.1:${NODE_PORT[$1]}"
}

# peer_section NAME [dial]: the text of a [peer NAME] section with NAME's
# key (NODE_ID), and its endpoint when the second argument is "dial". Give
# each section to write_config_text as an argument of its own ($(...) takes
# the last newline away).
peer_section() {
	[[ -n ${NODE_ID[$1]:-} ]] || fail "peer_section $1: no id (make_node_id first)"
	printf '[peer %s]\nkey = %s\n' "$1" "${NODE_ID[$1]}"
	if [[ ${2:-} == dial ]]; then
		printf 'endpoint = %s\n' "$(endpoint_of "$1")"
	fi
}

# grouping_section NAME MEMBER...: the text of a [grouping NAME] section.
grouping_section() {
	local name=$1; shift
	local IFS=,
	printf '[grouping %s]\nmembers = %s\n' "$name" "$*"
}

# write_config_text NAME TEXT...: the [node] section of write_config, then
# each TEXT (sections of peers and groupings) on lines of its own.
write_config_text() {
	local name=$1 text; shift
	write_config "$name"
	for text in "$@"; do
		printf '\n%s\n' "$text"
	done >>"$(conf_of "$name")"
}

# start_node_with NAME TEXT...: write_config_text, then start_node.
start_node_with() {
	write_config_text "$@"
	start_node "$1"
}

# node_writable NAME: true when the node's status says it takes writes
# (a node without peers has no "writable" field: it always does).
node_writable() {
	local out
	out=$(ctl "$1" --json status 2>/dev/null) || return 1
	jq -e '.writable != false' <<<"$out" >/dev/null 2>&1
}

# status_value NAME FILTER: prints jq -r FILTER of the node's status.
status_value() {
	ctlj "$1" status
	jv "$J" "$2"
}

# peer_value NAME PEER FIELD: prints a field of status peers[] for PEER
# (nothing when the node has no such peer).
peer_value() {
	status_value "$1" ".peers[] | select(.name == \"$2\") | .$3"
}

# feed_value NAME ORIGIN_HEX FIELD: prints a field of the feed of ORIGIN in
# `feeds --json` at NAME, or nothing when the node holds no such feed.
feed_value() {
	ctlj "$1" feeds
	jv "$J" ".[] | select(.origin == \"$2\") | .$3"
}

# head_of NAME ORIGIN_HEX: the head seq of ORIGIN's feed at NAME (0 if none).
head_of() {
	local h
	h=$(feed_value "$1" "$2" head_seq)
	echo "${h:-0}"
}

# feed_records NAME ORIGIN_HEX: prints the records route's answer for all
# the feed's records (pages of 1000), one JSON array.
feed_records() {
	local name=$1 origin=$2 from=1 all='[]' n
	while :; do
		http "$name" GET "/v1/feeds/$origin/records?from=$from&count=1000"
		if [[ $HTTP_STATUS == 404 ]] && (( from == 1 )); then
			break
		fi
		[[ $HTTP_STATUS == 200 ]] ||
		    fail "GET /v1/feeds/$origin/records?from=$from at $name: HTTP $HTTP_STATUS: $HTTP_BODY"
		n=$(jq 'length' <<<"$HTTP_BODY") ||
		    fail "records route at $name: not JSON: $HTTP_BODY"
		all=$(jq -c --argjson more "$HTTP_BODY" '. + $more' <<<"$all")
		(( n == 1000 )) || break
		from=$((from + 1000))
	done
	echo "$all"
}

# log_count NAME REGEX: how many lines of the node's log match REGEX (grep -E).
log_count() {
	local log
	log=$(log_of "$1")
	[[ -f $log ]] || { echo 0; return 0; }
	grep -Ec -- "$2" "$log" || true
}

# log_mark NAME: prints the number of lines the node's log has now; with
# log_since NAME MARK REGEX, what the log said after the mark.
log_mark() {
	local log
	log=$(log_of "$1")
	[[ -f $log ]] || { echo 0; return 0; }
	wc -l <"$log"
}
log_since() {
	local log
	log=$(log_of "$1")
	[[ -f $log ]] || return 0
	tail -n "+$(( $2 + 1 ))" "$log" | grep -E -- "$3" || true
}

# wait_for DEADLINE_S CMD...: like wait_until, but returns 1 when
# DEADLINE_S seconds pass first instead of failing the test.
wait_for() {
	local deadline=$1; shift
	local end=$(( $(_now_ms) + deadline * 1000 ))
	while ! "$@"; do
		(( $(_now_ms) < end )) || return 1
		sleep 0.1
	done
}

# sheet_from_orders PRODUCER ORDERS: what the producer's order sheet must
# say, computed from orders (a JSON array, as `order list --json` gives):
# per distribution, per sku, the sum of the confirmed quantities and the
# baskets; in the shape normal_sheet gives, to compare the two.
sheet_from_orders() {
	jq -cn --argjson all "$2" --arg p "$1" '
	  [$all[] | select(.cancelled | not) | . as $o
	   | .lines[] | select(.producer == $p and (.confirmed // 0) > 0)
	   | {d: $o.distribution, sku: .sku, "label": $o.basket, q: .confirmed}]
	  | group_by(.d)
	  | map({distribution: .[0].d,
	         products: (group_by(.sku)
	                    | map({sku: .[0].sku, quantity: (map(.q) | add),
	                           baskets: (map({"label": .label, quantity: .q}) | sort_by(.label))}))})'
}

# normal_sheet SHEET: a sheet (`sheet --json`) in that shape, markets with
# no product left out.
normal_sheet() {
	jq -c '[.markets[] | select((.products | length) > 0)
	        | {distribution,
	           products: ([.products[] | {sku, quantity,
	                                      baskets: (.baskets | map({"label": .label, quantity: .quantity}) | sort_by(.label))}]
	                      | sort_by(.sku))}]
	       | sort_by(.distribution)' <<<"$1"
}
