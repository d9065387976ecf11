#!/usr/bin/env bash
# writable.sh: when a node may write its own feed (docs/security.md,
# "Writing one's own feed"), with real halled processes.
#
#   commune-a ---dials---> commune-b      one grouping of the two
#
#   1 a new node (key made by --show-id, or at its first start) takes
#     writes at once, its only peer never started
#   2 a started from an older backup takes no write (503 recovering) while
#     b is down, and its status names b; once b is up it takes its own
#     later records back first, then writes on without forking its feed
#   3 a whose own feed is forked (an older backup written to while alone,
#     then linked to b again) says writable false with the reason, and
#     refuses writes with own_feed_forked (409); the proof it found goes to
#     b, which freezes a's feed too
. "$(dirname "$0")/lib.sh"

A=commune-a
B=commune-b
G=vallee

text_a() { printf '%s\n\n' "$(peer_section $B dial)" "$(grouping_section $G $B)"; }
text_b() { printf '%s\n\n' "$(peer_section $A)" "$(grouping_section $G $A)"; }

producer_add() {
	ctlj "$1" producer add "$2"
}

# head_is NAME ORIGIN SEQ: NAME holds ORIGIN's feed up to SEQ exactly.
head_is() {
	[[ $(head_of "$1" "$2") == "$3" ]]
}

# restore_into NAME BACKUP: NAME's store becomes a copy of BACKUP.
restore_into() {
	rm -rf "$WORK/$1/data"
	cp -r "$2" "$WORK/$1/data"
}

step "1: a new node takes writes at once, its peer down"
make_node_id $A
make_node_id $B
AID=${NODE_ID[$A]}
write_config_text $A "$(text_a)"
start_node $A
ctlj $A status
assert_json "$J" .writable true "a's status at its first start, b never started"
assert_json "$J" .write_state writable "a's write state"
assert_json "$J" '.waiting_for | length' 0 "a waits for nobody"
assert_json "$J" '[.peers[].state] | join(",")' connecting "b, as a sees it"
producer_add $A "Ferme du Premier Jour"
assert_eq 1 "$(head_of $A "$AID")" "a's first record"
# A key made at the first start itself (no --show-id) does the same.
write_config "lone"
printf '\n%s\n' "$(peer_section $B dial)" >>"$(conf_of lone)"
start_node lone
producer_add lone "Ferme Solitaire"
stop_node lone
pass "a new node writes at once"

step "2: a started from an older backup waits for b, then writes without forking"
write_config_text $B "$(text_b)"
start_node $B
for i in 1 2 3; do
	producer_add $A "Ferme $i"
done
ctl_ok $A backup "$WORK/backup-old"
for i in 4 5; do
	producer_add $A "Ferme $i"
done
HEAD=$(head_of $A "$AID")
OLD=$((HEAD - 2))
wait_until 20 head_is $B "$AID" "$HEAD"
stop_node $A
stop_node $B
restore_into $A "$WORK/backup-old"
start_node $A
ctlj $A status
assert_json "$J" .writable false "a's status, started from the backup with b down"
assert_json "$J" .write_state restored "a's write state"
assert_json "$J" '.waiting_for | join(",")' $B "a's status names the peer it waits for"
assert_jq "$J" '.write_reason | test("backup")' "a's status says why"
http_error $A POST /v1/producers 503 recovering -H 'Content-Type: application/json' \
    -d '{"name": "Ferme trop pressée"}'
ctl_error $A recovering producer add "Ferme trop pressée"
run ctl $A status
assert_match "waiting for: +$B" "$OUT" "hallectl status names the peer awaited"
assert_eq "$OLD" "$(head_of $A "$AID")" "a's own feed, as the backup had it"
start_node $B
wait_until 20 node_writable $A
assert_eq "$HEAD" "$(head_of $A "$AID")" "a took its later records back before it wrote"
producer_add $A "Ferme d'après"
assert_eq $((HEAD + 1)) "$(head_of $A "$AID")" "seq of a's first write after the restore"
wait_until 20 head_is $B "$AID" $((HEAD + 1))
assert_eq false "$(feed_value $B "$AID" frozen)" "a's feed at b"
ctlj $B status
assert_json "$J" '[.peers[].forks] | add' 0 "b proved no fork"
pass "a restored node waits for a peer's word"

step "3: a node whose own feed is forked says so and refuses writes"
stop_node $A
restore_into $A "$WORK/backup-old"
# Alone (no peer in its configuration) it has nobody to wait for...
write_config $A
start_node $A
producer_add $A "Ferme en double"
assert_eq $((OLD + 1)) "$(head_of $A "$AID")" "a reused a seq b holds"
stop_node $A
# ...and its peers show it the fork when it links up again.
write_config_text $A "$(text_a)"
start_node $A
forked() {
	[[ $(status_value $A .write_state) == own_feed_forked ]]
}
wait_until 20 forked
ctlj $A status
assert_json "$J" .writable false "a's status with its own feed forked"
assert_jq "$J" '.write_reason | test("forked")' "a's status says why"
assert_eq true "$(feed_value $A "$AID" frozen)" "a's own feed at a"
http_error $A POST /v1/producers 409 own_feed_forked -H 'Content-Type: application/json' \
    -d '{"name": "Ferme de trop"}'
ctl_error $A own_feed_forked producer add "Ferme de trop"
# a sent its proof to b: b froze a's feed too.
b_froze() {
	[[ $(feed_value $B "$AID" frozen) == true ]]
}
wait_until 20 b_froze
ctlj $B status
assert_json "$J" "[.peers[] | select(.name == \"$A\") | .forks] | add" 1 "b counts the fork a proved"
# A restart does not forget it.
stop_node $A
start_node $A
assert_json "$(status_value $A .)" .write_state own_feed_forked "a's write state after a restart"
pass "a forked node refuses writes"
