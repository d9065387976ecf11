#!/usr/bin/env bash
# week.sh: a whole market week on one node, through hallectl.
#
# Two producers (one with a limited daily stock, one unlimited), two markets
# selling the limited producer's bread on the same day (the stock is shared),
# orders placed, changed and cancelled, a new catalogue version, the weekly
# schedule, the order sheet, the status; then an order window that closes
# while we watch.
. "$(dirname "$0")/lib.sh"

N=commune-a
start_node "$N"
cat_dir=$WORK/catalogues
mkdir -p "$cat_dir"

# line_of JSON SKU FILTER: FILTER applied to the order's line for SKU.
line_of() {
	jv "$1" ".lines[] | select(.sku == \"$2\") | $3"
}

# check_line ORDER_JSON SKU STATE CONFIRMED PRICE WHAT
check_line() {
	local j=$1 sku=$2
	assert_json "$j" "[.lines[] | select(.sku == \"$sku\")] | length" 1 "$6: one $sku line"
	assert_eq "$3" "$(line_of "$j" "$sku" .state)" "$6: $sku state"
	assert_eq "$4" "$(line_of "$j" "$sku" .confirmed)" "$6: $sku confirmed"
	assert_eq "$5" "$(line_of "$j" "$sku" .price_cents)" "$6: $sku price_cents"
}

# has_reason ORDER_JSON SKU WHAT: the line carries a non-empty reason.
has_reason() {
	assert_jq "$1" ".lines[] | select(.sku == \"$2\") | .reason | type == \"string\" and length > 0" \
	    "$3: $2 line has a reason"
}

# show_order ID: sets J to `order show ID --json` and checks it is ID.
show_order() {
	ctlj "$N" order show "$1"
	assert_json "$J" .id "$1" "order show $1"
}

step "producers"
ctlj "$N" producer add "Ferme du Moulin" --farm "GAEC du Moulin" --town "Saint-Jean"
P1=$(jv "$J" .id)
assert_match '^pr-[0-9a-f]{12}$' "$P1" "producer id"
assert_json "$J" .name "Ferme du Moulin" "producer add: name"
assert_json "$J" .farm "GAEC du Moulin" "producer add: farm"
assert_json "$J" .town "Saint-Jean" "producer add: town"
assert_json "$J" .catalogue_version 0 "producer add: catalogue_version"
ctlj "$N" producer add "Maraîcher Dupont" --town "Sainte-Marie"
P2=$(jv "$J" .id)
assert_match '^pr-[0-9a-f]{12}$' "$P2" "producer id"
[[ $P1 != "$P2" ]] || fail "two producers got the same id $P1"

step "catalogues v1"
cat >"$cat_dir/p1-v1.json" <<'EOF'
{"version": 1,
 "products": [
  {"sku": "PAIN-1KG", "name": "Pain de campagne", "unit": "piece", "quantity": 1,
   "price_cents": 450, "vat_bp": 550, "organic": true, "stock_per_day": 10},
  {"sku": "BRIOCHE", "name": "Brioche", "price_cents": 600}
 ]}
EOF
ctlj "$N" catalogue publish "$P1" "$cat_dir/p1-v1.json"
assert_json "$J" .version 1 "catalogue publish P1 v1: version"
assert_json "$J" .producer "$P1" "catalogue publish P1 v1: producer"
assert_json "$J" '.products | length' 2 "catalogue publish P1 v1: products"
assert_json "$J" '.products[] | select(.sku == "PAIN-1KG") | .stock_per_day' 10 "PAIN-1KG stock"
assert_json "$J" '.products[] | select(.sku == "BRIOCHE") | .stock_per_day' null "BRIOCHE stock (unlimited)"
assert_json "$J" '.products[] | select(.sku == "BRIOCHE") | [.unit, .quantity, .vat_bp, .organic] | @csv' \
    '"piece",1,0,false' "BRIOCHE defaults"
cat >"$cat_dir/p2-v1.json" <<'EOF'
{"products": [
  {"sku": "CAROTTES-1KG", "name": "Carottes", "unit": "kg", "quantity": 1,
   "price_cents": 250, "vat_bp": 550}
 ]}
EOF
ctlj "$N" catalogue publish "Maraîcher Dupont" "$cat_dir/p2-v1.json"
assert_json "$J" .version 1 "catalogue publish P2 (no version given): version"
assert_json "$J" '.products[0].stock_per_day' null "CAROTTES-1KG stock (unlimited)"
ctlj "$N" producer show "$P1"
assert_json "$J" .catalogue_version 1 "producer show P1: catalogue_version"
ctlj "$N" catalogue show "$P2"
assert_json "$J" .version 1 "catalogue show P2: version"
assert_json "$J" '.products[0].price_cents' 250 "catalogue show P2: price"

step "markets, invitations and acceptances"
ctlj "$N" market add "Marché du samedi" --place "Place de l'église" --town "Saint-Jean" \
    --weekday sat --from 10:00 --to 12:00
M1=$(jv "$J" .id)
assert_match '^mk-[0-9a-f]{12}$' "$M1" "market id"
assert_json "$J" '.schedule | [.weekday, .from, .to] | @csv' '"sat","10:00","12:00"' "market M1 schedule"
assert_json "$J" .opens_days 7 "market M1 opens_days default"
assert_json "$J" .closes_hours 36 "market M1 closes_hours default"
ctlj "$N" market add "Halle de Sainte-Marie" --place "Préau de l'école" --town "Sainte-Marie"
M2=$(jv "$J" .id)
assert_json "$J" .schedule null "market M2 without schedule"
# Names resolve case-insensitively.
ctlj "$N" market invite "marché du samedi" "ferme du moulin"
ctlj "$N" market accept "$M1" "$P1"
ctlj "$N" market invite "$M1" "$P2"
ctlj "$N" market accept "$M1" "$P2"
ctlj "$N" market accept "$M1" "$P2"	# repeating is harmless
ctlj "$N" market invite "$M2" "$P1"
ctlj "$N" market accept "$M2" "$P1"
ctlj "$N" market show "$M1"
assert_json "$J" '[.producers[] | select(.invited and .accepted) | .id] | sort | join(",")' \
    "$(printf '%s\n' "$P1" "$P2" | sort | paste -sd,)" "market M1 sells P1 and P2"
ctlj "$N" market show "$M2"
assert_json "$J" '[.producers[] | select(.invited and .accepted) | .id] | join(",")' "$P1" \
    "market M2 sells P1 only"

step "distributions"
# A day 2 or 3 days ahead that is not a Saturday (the schedule's day).
D=$(day_from_today 2)
[[ $(weekday_of "$D") != 6 ]] || D=$(day_from_today 3)
CLOSES=$(iso_from_now 10800)
ctlj "$N" distribution open "$M1" "$D" --closes "$CLOSES"
D1=$(jv "$J" .id)
assert_match '^ds-[0-9a-f]{12}$' "$D1" "distribution id"
assert_json "$J" '[.market, .date, .from, .to, .state, .cancelled] | @csv' \
    "\"$M1\",\"$D\",\"10:00\",\"12:00\",\"open\",false" "distribution D1"
assert_eq "$(epoch_of "$CLOSES")" "$(epoch_of "$(jv "$J" .closes_at)")" "distribution D1 closes_at"
ctlj "$N" distribution open "$M2" "$D" --from 16:00 --to 18:00 --closes "$CLOSES"
D2=$(jv "$J" .id)
assert_json "$J" '[.market, .date, .from, .to, .state] | @csv' \
    "\"$M2\",\"$D\",\"16:00\",\"18:00\",\"open\"" "distribution D2"

step "orders against a stock of 10 shared by two markets"
ctlj "$N" order place "$D1" --basket "Panier 1" "$P1:PAIN-1KG:4" "$P2:CAROTTES-1KG:3"
O1=$(jv "$J" .id)
assert_match '^or-[0-9a-f]{12}$' "$O1" "order id"
assert_json "$J" '[.distribution, .basket, .mediator, .cancelled] | @csv' \
    "\"$D1\",\"Panier 1\",\"\",false" "order O1"
check_line "$J" PAIN-1KG confirmed 4 450 "O1"
check_line "$J" CAROTTES-1KG confirmed 3 250 "O1"
assert_json "$J" .total_cents $((4 * 450 + 3 * 250)) "O1 total_cents"
ctlj "$N" order place "$D1" --basket "Panier 2" --mediator "Espace France Services" \
    "Ferme du Moulin:PAIN-1KG:4"
O2=$(jv "$J" .id)
assert_json "$J" .mediator "Espace France Services" "O2 mediator"
check_line "$J" PAIN-1KG confirmed 4 450 "O2"
ctlj "$N" order place "$D2" --basket "Panier 3" "$P1:PAIN-1KG:4"
O3=$(jv "$J" .id)
show_order "$O3"
check_line "$J" PAIN-1KG confirmed 2 450 "O3 (2 of 4 left, other market)"
assert_json "$J" '.lines[0].quantity' 4 "O3 quantity asked"
has_reason "$J" PAIN-1KG "O3"
assert_json "$J" .total_cents 900 "O3 total_cents (confirmed only)"
ctlj "$N" order place "$D1" --basket "Panier 4" "$P1:PAIN-1KG:1" "$P2:CAROTTES-1KG:2"
O4=$(jv "$J" .id)
show_order "$O4"
check_line "$J" PAIN-1KG refused 0 450 "O4 (no bread left)"
has_reason "$J" PAIN-1KG "O4"
check_line "$J" CAROTTES-1KG confirmed 2 250 "O4 (unlimited)"
show_order "$O1"
check_line "$J" PAIN-1KG confirmed 4 450 "O1 after other orders"
show_order "$O2"
check_line "$J" PAIN-1KG confirmed 4 450 "O2 after other orders"

step "changing an order releases its stock and takes it again"
show_order "$O1"
v1=$(jv "$J" .version)
ctlj "$N" order change "$O1" "$P1:PAIN-1KG:5" "$P2:CAROTTES-1KG:3"
check_line "$J" PAIN-1KG confirmed 4 450 "O1 changed to 5 (its own 4 retaken, none left)"
has_reason "$J" PAIN-1KG "O1 changed to 5"
assert_jq "$J" ".version > $v1" "O1 version grows on change"
ctlj "$N" order change "$O1" "$P1:PAIN-1KG:2" "$P2:CAROTTES-1KG:3"
check_line "$J" PAIN-1KG confirmed 2 450 "O1 changed to 2"
assert_json "$J" .total_cents $((2 * 450 + 3 * 250)) "O1 total_cents after change"
show_order "$O1"
check_line "$J" PAIN-1KG confirmed 2 450 "O1 shown after change"
ctlj "$N" order place "$D1" --basket "Panier 5" "$P1:PAIN-1KG:3"
O5=$(jv "$J" .id)
check_line "$J" PAIN-1KG confirmed 2 450 "O5 gets the 2 O1 released"
has_reason "$J" PAIN-1KG "O5"

step "cancelling an order releases its stock"
ctlj "$N" order cancel "$O2"
assert_json "$J" .cancelled true "O2 cancel"
show_order "$O2"
assert_json "$J" .cancelled true "O2 shown after cancel"
ctl_error "$N" order_cancelled order change "$O2" "$P1:PAIN-1KG:1"
ctlj "$N" order place "$D1" --basket "Panier 6" "$P1:PAIN-1KG:4"
O6=$(jv "$J" .id)
check_line "$J" PAIN-1KG confirmed 4 450 "O6 gets the 4 O2 released"
ctlj "$N" order place "$D2" --basket "Panier 7" "$P1:PAIN-1KG:1"
O7=$(jv "$J" .id)
check_line "$J" PAIN-1KG refused 0 450 "O7 (stock all taken again)"

step "catalogue v2: lines already ordered keep their price"
cat >"$cat_dir/p1-v2.json" <<'EOF'
{"version": 2,
 "products": [
  {"sku": "PAIN-1KG", "name": "Pain de campagne", "unit": "piece", "quantity": 1,
   "price_cents": 480, "vat_bp": 550, "organic": true, "stock_per_day": 10},
  {"sku": "BRIOCHE", "name": "Brioche", "price_cents": 650}
 ]}
EOF
ctlj "$N" catalogue publish "$P1" "$cat_dir/p1-v2.json"
assert_json "$J" .version 2 "P1 catalogue v2"
# Through stdin, without a version: the node takes the next one.
run ctl "$N" --json catalogue publish "$P2" - <<'EOF'
{"products": [
  {"sku": "CAROTTES-1KG", "name": "Carottes", "unit": "kg", "quantity": 1,
   "price_cents": 280, "vat_bp": 550}
 ]}
EOF
(( RC == 0 )) || fail "catalogue publish P2 - (stdin) exited $RC: $ERR"
assert_json "$OUT" .version 2 "P2 catalogue v2 from stdin"
ctlj "$N" producer show "$P2"
assert_json "$J" .catalogue_version 2 "producer show P2 after v2"
show_order "$O1"
check_line "$J" PAIN-1KG confirmed 2 450 "O1 keeps the v1 bread price"
check_line "$J" CAROTTES-1KG confirmed 3 250 "O1 keeps the v1 carrot price"
ctlj "$N" order change "$O1" "$P1:PAIN-1KG:2" "$P2:CAROTTES-1KG:4"
check_line "$J" CAROTTES-1KG confirmed 4 250 "O1 changed after v2 keeps the v1 price"
check_line "$J" PAIN-1KG confirmed 2 450 "O1 changed after v2 keeps the v1 price"
assert_json "$J" .total_cents $((2 * 450 + 4 * 250)) "O1 total_cents after change"
ctlj "$N" order place "$D1" --basket "Panier 8" "$P2:CAROTTES-1KG:1" "$P1:BRIOCHE:1"
O8=$(jv "$J" .id)
check_line "$J" CAROTTES-1KG confirmed 1 280 "O8 takes the v2 price"
check_line "$J" BRIOCHE confirmed 1 650 "O8 takes the v2 price"
show_order "$O6"
check_line "$J" PAIN-1KG confirmed 4 450 "O6 keeps the v1 price"

step "order sheets"
ctlj "$N" order list "$D1"
L1=$J
ctlj "$N" order list "$D2"
L2=$J
assert_json "$L1" "[.[].id] | sort | join(\",\")" \
    "$(printf '%s\n' "$O1" "$O2" "$O4" "$O5" "$O6" "$O8" | sort | paste -sd,)" "order list D1"
assert_json "$L2" "[.[].id] | sort | join(\",\")" \
    "$(printf '%s\n' "$O3" "$O7" | sort | paste -sd,)" "order list D2"

ctlj "$N" sheet "$P1" "$D"
S1=$J
assert_json "$S1" '[.producer, .date] | @csv' "\"$P1\",\"$D\"" "sheet P1"
assert_json "$S1" '[.markets[].distribution] | sort | join(",")' \
    "$(printf '%s\n' "$D1" "$D2" | sort | paste -sd,)" "sheet P1 lists both markets' distributions"
assert_json "$S1" "[.markets[] | select(.distribution == \"$D1\") | .id] | join(\",\")" "$M1" "sheet P1 market of D1"
assert_json "$S1" '[.markets[].final] | all(. == false)' true "sheet P1 not final while orders are open"
ORDERS=$(jq -cn --argjson a "$L1" --argjson b "$L2" '$a + $b')
want=$(sheet_from_orders "$P1" "$ORDERS")
got=$(normal_sheet "$S1")
assert_jq "$want" 'length == 2' "expected sheet P1 (computed from the order lists) has two distributions"
assert_eq "$want" "$got" "sheet P1 equals the confirmed lines"
assert_json "$S1" "[.markets[] | select(.distribution == \"$D1\") | .products[] | select(.sku == \"PAIN-1KG\") | .quantity] | add" \
    8 "sheet P1: bread at M1 (2 + 2 + 4)"
assert_json "$S1" "[.markets[] | select(.distribution == \"$D2\") | .products[] | select(.sku == \"PAIN-1KG\") | .quantity] | add" \
    2 "sheet P1: bread at M2"
assert_json "$S1" "[.markets[] | select(.distribution == \"$D1\") | .products[] | select(.sku == \"PAIN-1KG\") | .baskets[].label] | sort | join(\",\")" \
    "Panier 1,Panier 5,Panier 6" "sheet P1: bread baskets at M1"
ctlj "$N" sheet "Maraîcher Dupont" "$D"
S2=$J
want=$(sheet_from_orders "$P2" "$ORDERS")
got=$(normal_sheet "$S2")
assert_jq "$want" 'length == 1' "expected sheet P2 (computed from the order lists) has one distribution"
assert_eq "$want" "$got" "sheet P2 equals the confirmed lines"
assert_json "$S2" "[.markets[] | .products[] | select(.sku == \"CAROTTES-1KG\") | .quantity] | add" \
    7 "sheet P2: carrots (4 + 2 + 1)"
ctl_ok "$N" sheet "Ferme du Moulin" "$D"
assert_contains "Pain de campagne" "$OUT" "readable sheet"

step "the pick-up list and the sheet as CSV"
# csv_rows FILE SEP: the CSV in FILE as a JSON array of its lines (arrays
# of fields), read by python's csv module; fails unless it is UTF-8 with
# every line ended by CRLF (no field here holds a line break).
csv_rows() {
	python3 - "$1" "$2" <<'PY'
import csv, io, json, sys
data = open(sys.argv[1], encoding="utf-8", newline="").read()
rows = list(csv.reader(io.StringIO(data, newline=""), delimiter=sys.argv[2],
                       strict=True))
ends = data.count("\r\n")
if ends != len(rows) or data.count("\n") != ends or not data.endswith("\r\n"):
    sys.exit("not one CRLF per line: %r" % data[-80:])
print(json.dumps(rows, ensure_ascii=False))
PY
}
# A label a CSV must quote: a comma, double quotes, a semicolon, accents.
TRICKY='Panier "Lilas", 3; rue de l'"'"'Église'
export TRICKY_LABEL=$TRICKY
ctlj "$N" order place "$D1" --basket "$TRICKY" "$P1:BRIOCHE:2" "$P2:CAROTTES-1KG:1"
assert_json "$J" .basket "$TRICKY" "the label a CSV must quote, stored as it is"
ctlj "$N" order list "$D1"
# What the pick-up list must hand over, from the orders: per basket and
# producer's product, the confirmed quantities added up.
want=$(jq -c '[.[] | select(.cancelled | not) | .basket as $b | .lines[]
	| select(.confirmed > 0) | {b: $b, p: .producer_name, sku, name, q: .confirmed}]
	| group_by([.b, .p, .sku])
	| map([.[0].b, .[0].p, .[0].sku, .[0].name, (map(.q) | add | tostring), "no", ""])
	| sort' <<<"$J")
assert_jq "$want" 'length >= 6' "the pick-up list to expect has a line per basket and product"
ctlj "$N" distribution baskets "$D1"
LIST=$J
for sep in "" , ';'; do
	ctl "$N" distribution baskets "$D1" --csv ${sep:+--csv-sep "$sep"} \
	    >"$WORK/baskets.csv" 2>"$WORK/csv.err" ||
		fail "distribution baskets --csv (sep '$sep') failed: $(cat "$WORK/csv.err")"
	[[ ! -s $WORK/csv.err ]] || fail "distribution baskets --csv wrote on stderr: $(cat "$WORK/csv.err")"
	rows=$(csv_rows "$WORK/baskets.csv" "${sep:-,}") || fail "pick-up list CSV (sep '$sep') unreadable"
	assert_json "$rows" '.[0] | join("|")' "basket|producer|sku|product|quantity|pending|given" \
	    "pick-up list CSV (sep '$sep'): header"
	assert_eq "$want" "$(jq -c '.[1:] | sort' <<<"$rows")" \
	    "pick-up list CSV (sep '$sep'): the orders, line for line"
	assert_eq "$(jq -c '[.baskets[] | .label as $l | .items[] | [$l, .producer_name, .sku, .name,
	    (.quantity | tostring), "no", ""]]' <<<"$LIST")" "$(jq -c '.[1:]' <<<"$rows")" \
	    "pick-up list CSV (sep '$sep'): the lines of the list, in its order"
	assert_json "$rows" "[.[] | select(.[0] == \$ENV.TRICKY_LABEL)] | length" 2 \
	    "pick-up list CSV (sep '$sep'): the quoted label comes back whole"
done
grep -qF '"Panier ""Lilas"", 3; rue de l'"'"'Église"' "$WORK/baskets.csv" ||
	fail "pick-up list CSV: the label is not quoted with its quotes doubled: $(cat "$WORK/baskets.csv")"
ctl "$N" sheet "$P1" "$D" --csv --csv-sep ';' >"$WORK/sheet.csv"
rows=$(csv_rows "$WORK/sheet.csv" ';') || fail "sheet CSV unreadable"
ctlj "$N" sheet "$P1" "$D"
assert_json "$rows" '.[0] | join("|")' "market|town|distribution|state|sku|product|basket|quantity" \
    "sheet CSV: header"
assert_eq "$(jq -c '[.markets[] as $m | $m.products[] as $p | $p.baskets[]
    | [$m.name, $m.town, $m.distribution, (if $m.final then "final" else "provisional" end),
       $p.sku, $p.name, .label, (.quantity | tostring)]]' <<<"$J")" "$(jq -c '.[1:]' <<<"$rows")" \
    "sheet CSV: the lines of the sheet"
assert_json "$rows" "[.[] | select(.[6] == \$ENV.TRICKY_LABEL and .[4] == \"BRIOCHE\") | .[7]] | join(\",\")" 2 \
    "sheet CSV: the brioches of the quoted label"

step "--csv: usage errors"
# csv_usage WHAT ARGS...: hallectl ARGS is a usage error (2) saying WHAT.
csv_usage() {
	local what=$1; shift
	run ctl "$N" "$@"
	assert_eq 2 "$RC" "hallectl $*: exit status (stderr: $ERR)"
	assert_contains "$what" "$ERR" "hallectl $*: the message"
	[[ -z $OUT ]] || fail "hallectl $*: a usage error printed on stdout: $OUT"
}
csv_usage "--csv and --json exclude each other" distribution baskets "$D1" --csv --json
csv_usage "--csv and --json exclude each other" --json sheet "$P1" "$D" --csv
csv_usage "--csv-sep ';;'" distribution baskets "$D1" --csv --csv-sep ';;'
csv_usage "--csv-sep '\"'" distribution baskets "$D1" --csv --csv-sep '"'
csv_usage "--csv-sep ''" sheet "$P1" "$D" --csv --csv-sep ''
csv_usage "--csv-sep goes with --csv" sheet "$P1" "$D" --csv-sep ';'
csv_usage "'status' has no CSV form" status --csv

step "cancelling a distribution releases the stock its lines held"
ctlj "$N" distribution cancel "$D2"
assert_json "$J" '[.state, .cancelled] | @csv' '"cancelled",true' "distribution D2 cancel"
ctlj "$N" distribution show "$D2"
assert_json "$J" .state cancelled "distribution D2 shown after cancel"
ctl_error "$N" distribution_cancelled order place "$D2" --basket "Panier 12" "$P1:BRIOCHE:1"
ctlj "$N" order place "$D1" --basket "Panier 12" "$P1:PAIN-1KG:3"
check_line "$J" PAIN-1KG confirmed 2 480 "order after D2's cancel gets the 2 loaves O3 held, at the v2 price"

step "weekly schedule"
ctlj "$N" distribution schedule "$M1" --weeks 3
SCHED=$J
assert_jq "$SCHED" 'type == "array" and length >= 2 and length <= 3' \
    "schedule --weeks 3 creates 2 or 3 distributions (3 unless this week's window has closed)"
today=$(day_from_today 0)
for d in $(jv "$SCHED" '.[].date'); do
	assert_eq 6 "$(weekday_of "$d")" "scheduled date $d is a Saturday"
	[[ $d > $today ]] || fail "scheduled date $d is not after today $today"
done
assert_json "$SCHED" "[.[] | .market == \"$M1\" and .from == \"10:00\" and .to == \"12:00\"] | all" true \
    "scheduled distributions follow M1's schedule"
assert_json "$SCHED" '[.[].date] | length == (unique | length)' true "scheduled dates are distinct"
ctlj "$N" distribution schedule "$M1" --weeks 3
assert_json "$J" 'length' 0 "scheduling again skips the dates that have one"
ctlj "$N" distribution list "$M1"
for id in $D1 $(jv "$SCHED" '.[].id'); do
	assert_json "$J" "[.[].id] | index(\"$id\") != null" true "distribution list M1 has $id"
done
assert_json "$J" "[.[].market] | all(. == \"$M1\")" true "distribution list M1 has only M1's"

step "lists and status"
ctl_ok "$N" producer list
assert_contains "Ferme du Moulin" "$OUT" "producer list"
assert_contains "Maraîcher Dupont" "$OUT" "producer list"
ctl_ok "$N" market list
assert_contains "Marché du samedi" "$OUT" "market list"
assert_contains "Halle de Sainte-Marie" "$OUT" "market list"
ctlj "$N" producer list
assert_json "$J" '[.[].name] | join("|")' "Ferme du Moulin|Maraîcher Dupont" "producer list --json by name"
ctlj "$N" status
assert_match '^[0-9a-f]{64}$' "$(jv "$J" .node.id)" "status node.id"
assert_json "$J" .node.name "$N" "status node.name"
assert_json "$J" .node.timezone "Europe/Paris" "status node.timezone"
assert_jq "$J" '.store.records > 0' "status store.records"
assert_json "$J" '.groupings | tojson' '[]' "status groupings"
assert_json "$J" '.peers | tojson' '[]' "status peers"
ctl_ok "$N" status
[[ -n $OUT ]] || fail "readable status printed nothing"

step "an order window closing"
D3date=$(day_from_today 4)
[[ $(weekday_of "$D3date") != 6 ]] || D3date=$(day_from_today 5)
CLOSES3=$(iso_from_now 4)
closes3_epoch=$(epoch_of "$CLOSES3")
ctlj "$N" distribution open "$M1" "$D3date" --closes "$CLOSES3"
D3=$(jv "$J" .id)
run ctl "$N" --json order place "$D3" --basket "Panier 9" "$P2:CAROTTES-1KG:2"
if (( RC != 0 )); then
	if (( $(date +%s) >= closes3_epoch )); then
		fail "this machine was too slow: the 4 s order window closed before the first order ($ERR)"
	fi
	fail "order place in an open window exited $RC: $ERR $OUT"
fi
O9=$(jv "$OUT" .id)
check_line "$OUT" CAROTTES-1KG confirmed 2 280 "O9"
show_order "$O9"
O9_BEFORE=$(jq -S . <<<"$J")

clock_past_close() {
	(( $(date +%s) >= closes3_epoch ))
}
extra_orders=0
# Succeeds once an order placement is refused with order_window_closed.
placement_refused_closed() {
	run ctl "$N" --json order place "$D3" --basket "Panier 10" "$P2:CAROTTES-1KG:1"
	if (( RC == 0 )); then
		extra_orders=$((extra_orders + 1))
		return 1
	fi
	(( RC == 1 )) && [[ -n $ERR ]] && [[ $(error_code_of) == order_window_closed ]]
}
wait_until 20 clock_past_close
wait_until 10 placement_refused_closed
(( extra_orders == 0 )) || fail "$extra_orders order(s) placed after closes_at $CLOSES3"
ctl_error "$N" order_window_closed order place "$D3" --basket "Panier 11" "$P2:CAROTTES-1KG:1"
ctlj "$N" distribution show "$D3"
assert_json "$J" .state closed "distribution D3 after its close"
ctl_error "$N" order_window_closed order change "$O9" "$P2:CAROTTES-1KG:5"
ctl_error "$N" order_window_closed order cancel "$O9"
show_order "$O9"
assert_eq "$O9_BEFORE" "$(jq -S . <<<"$J")" "order O9 unchanged after refused change and cancel"
ctlj "$N" order list "$D3"
assert_json "$J" '[.[].id] | join(",")' "$O9" "order list D3 holds only O9"
# The other distribution is still open.
ctlj "$N" distribution show "$D1"
assert_json "$J" .state open "distribution D1 still open"

stop_node "$N"
pass
