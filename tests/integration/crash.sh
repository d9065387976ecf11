#!/usr/bin/env bash
# crash.sh: kill -9 during a stream of writes loses nothing acknowledged.
#
# Three times: a writer adds producers and places orders as fast as hallectl
# goes, recording every id the node acknowledged; a killer job waits for 50
# more acknowledgements, lets a short random delay pass, and kills halled
# with SIGKILL while writes are in flight. The stopped store must pass
# `halled --verify`; the restarted node must hold every acknowledged id and
# accept new writes; after a clean stop the store must verify again.
. "$(dirname "$0")/lib.sh"

N=commune-a
CYCLES=3
MAX_OPS=400		# per cycle
MAX_SECONDS=30		# of writes per cycle
KILL_AFTER_ACKS=50	# new acknowledgements before the kill
ACKS=$WORK/acks		# "producer ID" or "order ID", one a line

start_node "$N"
CONF=$(conf_of "$N")

step "setup"
ctlj "$N" producer add "Ferme des Poules"
P=$(jv "$J" .id)
ctlj "$N" catalogue publish "$P" - \
    <<<'{"products": [{"sku": "OEUFS-6", "name": "Six oeufs", "price_cents": 240}]}'
ctlj "$N" market add "Marché du soir" --place "Halle" --town "Saint-Jean"
M=$(jv "$J" .id)
ctlj "$N" market invite "$M" "$P"
ctlj "$N" market accept "$M" "$P"
ctlj "$N" distribution open "$M" "$(day_from_today 3)" --from 17:00 --to 19:00 \
    --closes "$(iso_from_now 21600)"
D=$(jv "$J" .id)
: >"$ACKS"

# verify_store WHEN: halled --verify on the stopped node must exit 0.
verify_store() {
	run timeout 120 "$HALLED" --verify -c "$CONF"
	if (( RC != 0 )); then
		fail "halled --verify -c $CONF $1 exited $RC (expected 0); stdout: $OUT; stderr: $ERR"
	fi
}

# check_acks: every acknowledged id is on the running node.
check_acks() {
	local kind id missing
	ctlj "$N" producer list
	missing=$(comm -23 <(awk '$1 == "producer" { print $2 }' "$ACKS" | sort -u) \
	    <(jq -r '.[].id' <<<"$J" | sort -u))
	[[ -z $missing ]] || fail "acknowledged producers missing after restart: $(tr "\n" " " <<<"$missing")"
	ctlj "$N" order list "$D"
	missing=$(comm -23 <(awk '$1 == "order" { print $2 }' "$ACKS" | sort -u) \
	    <(jq -r '.[].id' <<<"$J" | sort -u))
	[[ -z $missing ]] || fail "acknowledged orders missing after restart: $(tr "\n" " " <<<"$missing")"
	# And one by one, those of the last cycle.
	while read -r kind id; do
		ctlj "$N" "$kind" show "$id"
		assert_json "$J" .id "$id" "$kind show $id after restart"
	done < <(tail -n "+$((cycle_first_ack + 1))" "$ACKS")
}

# killer PID ACKS_BEFORE: waits for KILL_AFTER_ACKS new acknowledgements
# (at most MAX_SECONDS), then a random 0-0.49 s, then SIGKILL.
killer() {
	trap - ERR
	local pid=$1 target=$(( $2 + KILL_AFTER_ACKS ))
	local end=$(( $(_now_ms) + MAX_SECONDS * 1000 ))
	while (( $(wc -l <"$ACKS") < target && $(_now_ms) < end )); do
		sleep 0.02
	done
	sleep "0.$(printf '%02d' $((RANDOM % 50)))"
	wc -l <"$ACKS" >"$WORK/killed-at"
	kill -KILL "$pid" 2>/dev/null || true
}

total_ops=0
for (( cycle = 1; cycle <= CYCLES; cycle++ )); do
	step "cycle $cycle: writes, then kill -9"
	pid=${NODE_PID[$N]}
	cycle_first_ack=$(wc -l <"$ACKS")
	rm -f "$WORK/killed-at"
	killer "$pid" "$cycle_first_ack" &
	killer_pid=$!
	ops=0
	start=$SECONDS
	while (( ops < MAX_OPS && SECONDS - start < MAX_SECONDS )); do
		ops=$((ops + 1))
		if (( ops % 2 )); then
			kind=producer
			run ctl "$N" --json producer add "Crash $cycle-$ops" --town "Saint-Jean"
		else
			kind=order
			run ctl "$N" --json order place "$D" --basket "C$cycle-$ops" "$P:OEUFS-6:1"
		fi
		if (( RC == 0 )); then
			# A regex, not jq: keep the writes coming fast.
			[[ $OUT =~ \"id\":\ *\"(${kind:0:1}r-[0-9a-f]{12})\" ]] ||
			    fail "hallectl acknowledged a $kind without an id: $OUT"
			id=${BASH_REMATCH[1]}
			echo "$kind $id" >>"$ACKS"
			continue
		fi
		# A failure must be the kill: the daemon is gone (or going).
		if _wait_dead "$pid" 5; then
			break
		fi
		fail "$kind write refused while halled runs: exit $RC; stderr: $ERR; stdout: $OUT"
	done
	total_ops=$((total_ops + ops))
	wait "$killer_pid"
	_wait_dead "$pid" 10 || fail "halled still running 10s after SIGKILL"
	wait "$pid" 2>/dev/null || true
	NODE_PID[$N]=
	acked=$(( $(wc -l <"$ACKS") - cycle_first_ack ))
	killed_at=$(cat "$WORK/killed-at")
	echo "cycle $cycle: $ops writes tried, $acked acknowledged, killed after $((killed_at - cycle_first_ack)) acks"
	(( acked >= KILL_AFTER_ACKS )) || fail "cycle $cycle: only $acked writes acknowledged in ${MAX_SECONDS}s before the kill"
	if (( ops >= MAX_OPS )) && (( killed_at - cycle_first_ack >= acked )); then
		note "cycle $cycle: the kill came after the last write (writes were faster than the killer)"
	fi

	step "cycle $cycle: verify the killed store, restart, check"
	verify_store "after kill -9 (cycle $cycle)"
	start_node "$N"
	check_acks
	ctlj "$N" producer add "Après crash $cycle"
	echo "producer $(jv "$J" .id)" >>"$ACKS"
	ctlj "$N" order place "$D" --basket "Après $cycle" "$P:OEUFS-6:2"
	echo "order $(jv "$J" .id)" >>"$ACKS"
	ctlj "$N" status
	records=$(jv "$J" .store.records)
	(( records >= $(wc -l <"$ACKS") )) || \
	    fail "status store.records $records < $(wc -l <"$ACKS") acknowledged writes"

	step "cycle $cycle: clean stop, verify"
	stop_node "$N"
	verify_store "after a clean stop (cycle $cycle)"
	start_node "$N"
done
check_acks
stop_node "$N"
pass "$CYCLES kill -9 during $total_ops writes: all $(wc -l <"$ACKS") acknowledged ids kept, store verified"
