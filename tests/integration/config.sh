#!/usr/bin/env bash
# config.sh: halled's configuration check, its identity, and the modes of
# the files it makes: the key (0600, refused when group or others can read
# it) and the control socket (0660). A second halled on the same data
# directory is refused, told the pid of the first.
. "$(dirname "$0")/lib.sh"

N=commune-a
write_config "$N"
CONF=$(conf_of "$N")
KEY=$(key_of "$N")

# halled_run ARGS...: runs halled in the foreground, bounded to 20 s.
halled_run() {
	run timeout 20 "$HALLED" "$@"
	(( RC != 124 )) || fail "halled $* still running after 20 s"
}

step "halled -n accepts a good configuration"
halled_run -n -c "$CONF"
assert_eq 0 "$RC" "halled -n -c $CONF exit status (stderr: $ERR)"
[[ ! -e $(sock_of "$N") ]] || fail "halled -n created the control socket"

# bad_config FILE_LINES EXPECTED_STDERR_REGEX WHAT: halled -n refuses.
bad_config() {
	local file=$1 want=$2 what=$3
	halled_run -n -c "$file"
	assert_eq 78 "$RC" "halled -n -c on $what: exit status (EX_CONFIG; stderr: $ERR)"
	if ! grep -Eq -- "$want" <<<"$ERR"; then
		fail "halled -n -c on $what: expected stderr matching /$want/, got: $ERR"
	fi
}

step "halled -n refuses bad configurations with FILE:LINE: messages"
re_file=$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$WORK/bad")
cp "$CONF" "$WORK/bad-key.conf"
echo "colour = blue" >>"$WORK/bad-key.conf"
halled_run -n -c "$WORK/bad-key.conf"
assert_eq 78 "$RC" "halled -n on an unknown key: exit status (EX_CONFIG)"
assert_contains "$WORK/bad-key.conf:8: unknown key 'colour' in [node]" "$ERR" \
    "halled -n on an unknown key: stderr"

{ cat "$CONF"; echo "[market]"; echo "name = x"; } >"$WORK/bad-section.conf"
bad_config "$WORK/bad-section.conf" "^${re_file}-section\\.conf:(8|9): .*market" "an unknown section"

{ cat "$CONF"; echo "name = again"; } >"$WORK/bad-dup.conf"
bad_config "$WORK/bad-dup.conf" "^${re_file}-dup\\.conf:8: .*name" "a duplicate key"

grep -v '^listen' "$CONF" >"$WORK/bad-missing.conf"
bad_config "$WORK/bad-missing.conf" "^${re_file}-missing\\.conf(:[0-9]+)?: .*listen" "a missing listen"

{ sed 's/^name = .*/name = Commune A/' "$CONF"; } >"$WORK/bad-name.conf"
bad_config "$WORK/bad-name.conf" "^${re_file}-name\\.conf(:2)?: .*(name|Commune A)" "a bad node name"

# As the Debian package ships it: halled says what to set.
{ sed 's/^name = .*/name =/' "$CONF"; } >"$WORK/bad-unnamed.conf"
bad_config "$WORK/bad-unnamed.conf" "^${re_file}-unnamed\\.conf:[0-9]+: name is empty: set the node's name" "an empty node name"

{ cat "$CONF"; echo "log_level = chatty"; } >"$WORK/bad-level.conf"
bad_config "$WORK/bad-level.conf" "^${re_file}-level\\.conf(:8)?: .*(log.?level|chatty)" "a bad log_level"

halled_run -n -c "$WORK/does-not-exist.conf"
assert_eq 78 "$RC" "halled -n on a missing file: exit status (EX_CONFIG)"
assert_contains "$WORK/does-not-exist.conf" "$ERR" "halled -n on a missing file: stderr names it"

step "first start: key file 0600, control socket 0660"
umask 022
[[ ! -e $KEY ]] || fail "key file $KEY exists before the first start"
start_node "$N"
[[ -f $KEY ]] || fail "no key file $KEY after the first start"
assert_eq 600 "$(stat -c %a "$KEY")" "mode of the key file $KEY"
[[ -S $(sock_of "$N") ]] || fail "$(sock_of "$N") is not a socket"
assert_eq 660 "$(stat -c %a "$(sock_of "$N")")" "mode of the control socket"
ctlj "$N" status
ID=$(jv "$J" .node.id)
assert_match '^[0-9a-f]{64}$' "$ID" "status node.id"
assert_json "$J" .node.name "$N" "status node.name"
stop_node "$N"
assert_eq 0 "$STOP_STATUS" "halled exit status after SIGTERM"

step "--show-id prints the public key, the same each time"
halled_run -c "$CONF" --show-id
assert_eq 0 "$RC" "halled --show-id exit status (stderr: $ERR)"
assert_match '^[0-9a-f]{64}$' "$OUT" "halled --show-id output"
assert_eq "$ID" "$OUT" "halled --show-id equals status node.id"
halled_run -c "$CONF" --show-id
assert_eq "$ID" "$OUT" "halled --show-id a second time"

# start_refused WHAT: halled must exit non-zero, naming the key file, and
# never answer on its socket.
start_refused() {
	local log=$WORK/refused.log pid rc=0
	"$HALLED" -c "$CONF" >"$log" 2>&1 &
	pid=$!
	if ! _wait_dead "$pid" 20; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		fail "halled started with $1 (still running after 20 s); log: $(cat "$log")"
	fi
	wait "$pid" || rc=$?
	(( rc != 0 )) || fail "halled exited 0 with $1 (expected a refusal)"
	assert_contains "$KEY" "$(cat "$log")" "halled's message refusing $1 names the key file"
}

step "a key file readable by group or others is refused"
chmod 0640 "$KEY"
start_refused "a key file of mode 0640"
assert_eq 640 "$(stat -c %a "$KEY")" "halled left the key file's mode alone"
chmod 0604 "$KEY"
start_refused "a key file of mode 0604"

step "mode 0600 again: the node starts with the same identity"
chmod 0600 "$KEY"
start_node "$N"
ctlj "$N" status
assert_json "$J" .node.id "$ID" "node id after restart"
assert_eq 660 "$(stat -c %a "$(sock_of "$N")")" "mode of the control socket after restart"

step "a second halled on the same data directory is refused"
# The same configuration but for its control socket and listen endpoint.
mkdir -p "$WORK/second"
sed -e "s|^control = .*|control = $WORK/second/control.sock|" \
    -e "s|^listen = .*|listen = tcp://127.0.0.1:$(free_port)|" \
    "$CONF" >"$WORK/second/halled.conf"
halled_run -c "$WORK/second/halled.conf"
assert_eq 1 "$RC" "second halled on $(node_dir "$N")/data: exit status (stderr: $ERR)"
assert_contains "pid ${NODE_PID[$N]}" "$ERR" "the refusal names the running halled"
[[ ! -e $WORK/second/control.sock ]] || fail "the refused halled made its control socket"
ctlj "$N" status
assert_json "$J" .node.id "$ID" "the first halled still answers"
stop_node "$N"
pass
