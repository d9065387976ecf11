#!/usr/bin/env bash
# systemd.sh: halled under systemd, without systemd running.
#
#   bash tests/systemd.sh unit     config/halled.service passes
#                                  `systemd-analyze verify`, its hardening
#                                  stays at exposure 2.0 or below, and its
#                                  directories are config/halled.conf's
#   bash tests/systemd.sh notify   halled speaks sd_notify to a stand-in
#                                  for systemd (tests/tools/notify_listen):
#                                  READY, WATCHDOG, RELOADING then READY on
#                                  SIGHUP, STOPPING then exit 0 on SIGTERM
#
# Needs $HALLED and, for notify, $NOTIFY_LISTEN (ctest sets them), and what
# tests/integration/lib.sh needs; unit needs systemd-analyze (the systemd
# package, in scripts/debian-packages), which works without a running
# systemd.
mode=${1:-}
HALLE_TEST=systemd_$mode
. "$(dirname "$0")/integration/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

# conf_value KEY: the value of KEY in config/halled.conf.
conf_value() {
	sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$top/config/halled.conf"
}

# unit_value KEY: the value of KEY in config/halled.service (the last one).
unit_value() {
	sed -n "s/^$1=//p" "$top/config/halled.service" | tail -n 1
}

check_unit() {
	local unit=$WORK/halled.service out

	command -v systemd-analyze >/dev/null ||
	    fail "systemd-analyze is not installed (scripts/deps.sh installs systemd)"
	# verify wants ExecStart's binary to exist: point it at the built one.
	grep -q '^ExecStart=/usr/sbin/halled ' "$top/config/halled.service" ||
	    fail "config/halled.service: no 'ExecStart=/usr/sbin/halled ' line"
	sed "s|^ExecStart=/usr/sbin/halled |ExecStart=$(readlink -f "$HALLED") |" \
	    "$top/config/halled.service" >"$unit"

	# verify runs man for each Documentation= page: give it docs/man.
	local page
	for page in "$top"/docs/man/*.[1-9]; do
		mkdir -p "$WORK/man/man${page##*.}"
		ln -s "$page" "$WORK/man/man${page##*.}/"
	done

	step "systemd-analyze verify"
	run env MANPATH="$WORK/man" systemd-analyze verify "$unit"
	out="$OUT$ERR"
	(( RC == 0 )) || fail "systemd-analyze verify exited $RC: $out"
	# Unknown keys and bad values are warnings with status 0: none allowed.
	if grep -q 'halled\.service' <<<"$out"; then
		fail "systemd-analyze verify warns: $out"
	fi
	[[ -z $out ]] || note "systemd-analyze verify, about other units: $out"
	pass "systemd-analyze verify accepts the unit"

	step "systemd-analyze security"
	run systemd-analyze security --offline=true --threshold=20 "$unit"
	(( RC == 0 )) || fail "exposure over 2.0: $(grep -E '✗|Overall' <<<"$OUT")"
	pass "$(grep -o 'exposure level.*' <<<"$OUT" | head -n 1)"

	step "the sandbox leaves halled what libzmq needs"
	# Without netlink libzmq aborts binding the endpoint (getifaddrs);
	# with ~@resources its threads abort setting their (default) policy.
	assert_contains AF_NETLINK "$(unit_value RestrictAddressFamilies)" \
	    "RestrictAddressFamilies"
	if grep -Eq '^SystemCallFilter=~.*@resources' "$top/config/halled.service"; then
		fail "SystemCallFilter denies @resources: libzmq aborts without sched_setscheduler"
	fi
	pass "AF_NETLINK, @resources"

	step "the unit's directories are config/halled.conf's"
	local state run conf
	state=/var/lib/$(unit_value StateDirectory)
	run=/run/$(unit_value RuntimeDirectory)
	conf=/etc/$(unit_value ConfigurationDirectory)
	assert_eq "$state" "$(conf_value data_dir)" "data_dir, StateDirectory"
	assert_eq "$state" "$(dirname "$(conf_value key_file)")" \
	    "key_file's directory, StateDirectory"
	assert_eq "$run" "$(dirname "$(conf_value control)")" \
	    "control's directory, RuntimeDirectory"
	assert_contains " -c $conf/halled.conf" "$(unit_value ExecStart)" \
	    "ExecStart's configuration, ConfigurationDirectory"
	run "$HALLED" -n -c "$top/config/halled.conf"
	(( RC == 0 )) || fail "halled -n -c config/halled.conf: $OUT$ERR"
	pass "paths agree"
}

# listener_lines REGEX: how many datagrams received so far match REGEX.
listener_lines() {
	grep -Ec -- "$1" "$WORK/notify.out" || true
}

# has_datagrams REGEX N: true once N datagrams match REGEX.
has_datagrams() {
	(( $(listener_lines "$1") >= $2 ))
}

# start_listener SOCKET: starts notify_listen in the background (lib.sh's
# exit trap ends it with the nodes: it is in NODE_PID) and waits for it.
start_listener() {
	: >"$WORK/notify.out"
	"$NOTIFY_LISTEN" -t 120 "$1" >"$WORK/notify.out" 2>"$WORK/notify.err" &
	NODE_PID[notify_listen]=$!
	if [[ $1 == @* ]]; then
		wait_until 10 grep -q "@${1#@}" /proc/net/unix
	else
		wait_until 10 test -S "$1"
	fi
}

stop_listener() {
	kill -TERM "${NODE_PID[notify_listen]}" 2>/dev/null || true
	wait "${NODE_PID[notify_listen]}" || true
	NODE_PID[notify_listen]=
}

check_notify() {
	[[ -x ${NOTIFY_LISTEN:-} ]] ||
	    fail "\$NOTIFY_LISTEN ('${NOTIFY_LISTEN:-}') is not an executable"
	local pid

	step "READY=1 once the control socket serves"
	start_listener "$WORK/notify.sock"
	write_config a "log_level = debug"
	NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=400000 start_node a
	pid=${NODE_PID[a]}
	wait_until 10 has_datagrams '^READY=1' 1
	assert_contains "MAINPID=$pid" "$(grep '^READY=1' "$WORK/notify.out")" \
	    "READY=1 datagram"
	assert_contains "STATUS=node a serving $(sock_of a)" \
	    "$(grep '^READY=1' "$WORK/notify.out")" "READY=1 datagram"
	pass "READY=1"

	step "WATCHDOG=1 every WATCHDOG_USEC/2"
	wait_until 10 has_datagrams '^WATCHDOG=1$' 2
	assert_eq 1 "$(log_count a 'notify: watchdog every 200 ms')" \
	    "halled's log lines about the watchdog"
	pass "WATCHDOG=1"

	step "SIGHUP: RELOADING=1, then READY=1"
	kill -HUP "$pid"
	wait_until 10 has_datagrams '^READY=1' 2
	grep -Ev '^WATCHDOG=1$' "$WORK/notify.out" >"$WORK/notify.states"
	assert_eq 3 "$(wc -l <"$WORK/notify.states")" "state datagrams so far"
	assert_match '^RELOADING=1	MONOTONIC_USEC=[0-9]+$' \
	    "$(sed -n 2p "$WORK/notify.states")" "datagram after SIGHUP"
	assert_match '^READY=1	STATUS=node a: 0 peers, 0 groupings	MAINPID=' \
	    "$(sed -n 3p "$WORK/notify.states")" "datagram after the reload"
	ctl_ok a status
	pass "RELOADING=1, READY=1"

	step "SIGTERM: STOPPING=1, exit 0"
	stop_node a
	assert_eq 0 "$STOP_STATUS" "halled's exit status after SIGTERM"
	wait_until 10 has_datagrams '^STOPPING=1$' 1
	[[ ! -e $(sock_of a) ]] || fail "control socket left behind after SIGTERM"
	stop_listener
	pass "STOPPING=1"

	step "an abstract NOTIFY_SOCKET (@name), no watchdog for another pid"
	local name=@halle-notify-$$-$RANDOM mark
	start_listener "$name"
	mark=$(log_mark a)
	NOTIFY_SOCKET=$name WATCHDOG_USEC=20000 WATCHDOG_PID=1 start_node a
	wait_until 10 has_datagrams '^READY=1' 1
	stop_node a
	assert_eq 0 "$STOP_STATUS" "halled's exit status after SIGTERM"
	wait_until 10 has_datagrams '^STOPPING=1$' 1
	stop_listener
	# The window may be shorter than 10 ms: the log says it for sure.
	assert_eq 0 "$(listener_lines '^WATCHDOG=1$')" \
	    "WATCHDOG=1 datagrams with WATCHDOG_PID=1"
	assert_eq "" "$(log_since a "$mark" 'notify: watchdog')" \
	    "halled's log about the watchdog with WATCHDOG_PID=1"
	pass "abstract socket"

	step "no NOTIFY_SOCKET: halled runs the same"
	start_node a
	ctl_ok a status
	stop_node a
	assert_eq 0 "$STOP_STATUS" "halled's exit status after SIGTERM"
	pass "without systemd"
}

case $mode in
unit)	check_unit ;;
notify)	check_notify ;;
*)	fail "usage: systemd.sh unit|notify" ;;
esac
