#!/usr/bin/env bash
# backup.sh: POST /v1/backup (hallectl backup PATH) while the node runs.
#
# commune-a takes a market day's data, is backed up while it runs, and goes
# on writing. A second halled started on the backup (a copy of a's config
# with data_dir at the backup, the same key) holds everything a held at
# the backup, byte for byte, and `halled --verify` passes on both stores
# (feeds, then views rebuilt from the feeds). A target that is not empty,
# a file, or a relative path over HTTP is refused and writes nothing.
. "$(dirname "$0")/lib.sh"

A=commune-a
R=restored

step "a market day at a"
start_node $A
cat >"$WORK/catalogue.json" <<'EOF'
{"products": [{"sku": "PAIN", "name": "Pain", "price_cents": 450, "stock_per_day": 5},
              {"sku": "OEUFS", "name": "Oeufs", "price_cents": 300}]}
EOF
ctlj $A producer add "Ferme du Moulin"
P=$(jv "$J" .id)
ctlj $A catalogue publish "$P" "$WORK/catalogue.json"
ctlj $A market add "Marché" --place "Place" --town "Saint-Jean" --weekday sat --from 10:00 --to 12:00
M=$(jv "$J" .id)
ctlj $A market invite "$M" "$P"
ctlj $A market accept "$M" "$P"
D=$(day_from_today 3)
ctlj $A distribution open "$M" "$D" --from 10:00 --to 12:00 --closes "$(iso_from_now 7200)"
DS=$(jv "$J" .id)
ctlj $A order place "$DS" --basket "Panier 1" "$P:PAIN:3" "$P:OEUFS:2"
O1=$(jv "$J" .id)
ctlj $A order place "$DS" --basket "Panier 2" "$P:PAIN:4"
O2=$(jv "$J" .id)
ctlj $A order cancel "$O1"
ID=$(status_value $A .node.id)
HEAD=$(head_of $A "$ID")

step "backup while a runs"
# hallectl makes a relative PATH absolute: the node runs elsewhere.
run bash -c "cd '$WORK' && '$HALLECTL' -s '$(sock_of $A)' --json backup backup"
(( RC == 0 )) || fail "hallectl backup exited $RC: $ERR $OUT"
assert_json "$OUT" .path "$WORK/backup" "backup: path"
assert_jq "$OUT" '.bytes > 0' "backup: bytes"
[[ -f $WORK/backup/data.mdb ]] || fail "no $WORK/backup/data.mdb"
assert_eq "$(jv "$OUT" .bytes)" "$(stat -c %s "$WORK/backup/data.mdb")" "backup: bytes is the file's size"
ctl_ok $A backup "$WORK/backup2"
assert_match '^backup written to .*/backup2 \(' "$OUT" "hallectl backup, readable"
# Off a terminal, no progress bar: stderr says nothing.
assert_eq "" "$ERR" "hallectl backup off a terminal: stderr"
# On one (a pseudo-terminal from script(1)), the bar of the bytes written,
# finished, then the same line.
if command -v script >/dev/null 2>&1; then
	run timeout 60 script -qec "'$HALLECTL' -s '$(sock_of $A)' backup '$WORK/backup3'" /dev/null
	(( RC == 0 )) || fail "hallectl backup on a terminal exited $RC: $OUT $ERR"
	grep -Eq "writing backup +\[#+\] 100%  [0-9.]+ (B|KiB|MiB)/[0-9.]+ (B|KiB|MiB)"$'\r'"?\$" <<<"$OUT" ||
		fail "hallectl backup on a terminal: no finished bar in: $OUT"
	assert_contains "backup written to $WORK/backup3 (" "$OUT" "hallectl backup on a terminal"
else
	note "script(1) is missing: the progress bar on a terminal is not checked"
fi
# a goes on after the backup: the backup stays as it was.
ctlj $A order place "$DS" --basket "Panier 3" "$P:OEUFS:1"
O3=$(jv "$J" .id)
pass "backup while running"

step "refused targets"
ctl_error $A backup_target_exists backup "$WORK/backup"
touch "$WORK/a-file"
ctl_error $A backup_target_exists backup "$WORK/a-file"
mkdir -p "$WORK/empty"
ctl_ok $A backup "$WORK/empty"
http_error $A POST /v1/backup 400 invalid_field -d '{"path": "relative/dir"}'
http_error $A POST /v1/backup 400 invalid_field -d '{}'
http_error $A GET /v1/backup 405 method_not_allowed
assert_eq $((HEAD + 1 + 1)) "$(head_of $A "$ID")" "backups write nothing to the feed (the one order after it does)"
pass "refused targets"

step "a node started on the backup holds what a held"
NODE_PORT[$R]=$(free_port)
mkdir -p "$WORK/$R"
sed -e "s|^data_dir = .*|data_dir = $WORK/backup|" \
    -e "s|^control = .*|control = $(sock_of $R)|" \
    -e "s|^listen = .*|listen = tcp://127.0.0.1:${NODE_PORT[$R]}|" \
    "$(conf_of $A)" >"$(conf_of $R)"
grep -q "^key_file = $(key_of $A)\$" "$(conf_of $R)" || fail "the copy of the config does not keep a's key file"
start_node $R
assert_eq "$ID" "$(status_value $R .node.id)" "restored node's id"
assert_eq "$HEAD" "$(head_of $R "$ID")" "restored node's feed head"
RA=$(feed_records $A "$ID" | jq -c ".[:$HEAD]")
RR=$(feed_records $R "$ID")
[[ $RA == "$RR" ]] || fail "the restored feed differs from a's first $HEAD records"
for cmd in "producer show $P" "catalogue show $P" "market show $M" "distribution show $DS" \
    "order show $O1" "order show $O2"; do
	# shellcheck disable=SC2086
	ctlj $A $cmd
	JA=$J
	# shellcheck disable=SC2086
	ctlj $R $cmd
	assert_eq "$(jq -S 'del(.state)' <<<"$JA")" "$(jq -S 'del(.state)' <<<"$J")" "$cmd on the restored node"
done
run ctl $R --json order show "$O3"
(( RC == 1 )) || fail "the order placed after the backup is on the restored node (exit $RC)"
ctlj $R order show "$O2"
assert_json "$J" '.lines[0].confirmed' 2 "restored: order 2, cut to what order 1 left"
ctlj $R order show "$O1"
assert_json "$J" .cancelled true "restored: order 1 cancelled"
pass "restored node"

step "halled --verify on the backup and on a"
stop_node $R
SUM=$(sha256sum <"$WORK/backup/data.mdb")
run timeout 60 "$HALLED" -c "$(conf_of $R)" --verify
(( RC == 0 )) || fail "halled --verify on the backup exited $RC: $OUT $ERR"
assert_eq "$SUM" "$(sha256sum <"$WORK/backup/data.mdb")" "--verify wrote nothing to the store it checked"
assert_contains "views: rebuilt from the feeds, the same key by key" "$OUT" "--verify on the backup"
assert_contains "store verified" "$OUT" "--verify on the backup"
stop_node $A
run timeout 60 "$HALLED" -c "$(conf_of $A)" --verify
(( RC == 0 )) || fail "halled --verify on a exited $RC: $OUT $ERR"
assert_contains "store verified" "$OUT" "--verify on a"
# Off a terminal, no progress bar: stderr says nothing.
assert_eq "" "$ERR" "halled --verify off a terminal: stderr"
# On one (script(1) gives it a pseudo-terminal), a bar per step, each
# finished, then the same verdict.
if command -v script >/dev/null 2>&1; then
	run timeout 60 script -qec "'$HALLED' -c '$(conf_of $A)' --verify" /dev/null
	(( RC == 0 )) || fail "halled --verify on a terminal exited $RC: $OUT $ERR"
	for bar in "checking feeds" "rebuilding views" "comparing views"; do
		grep -Eq "$bar +\[#+\] 100%  [0-9]+/[0-9]+ (records|keys)"$'\r'"?\$" <<<"$OUT" ||
			fail "halled --verify on a terminal: no finished '$bar' bar in: $OUT"
	done
	assert_contains "store verified" "$OUT" "--verify on a terminal"
else
	note "script(1) is missing: the progress bars on a terminal are not checked"
fi
pass "verify"
