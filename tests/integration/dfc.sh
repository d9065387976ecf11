#!/usr/bin/env bash
# dfc.sh: Data Food Consortium documents through real halled and hallectl.
#
# Two communes in one grouping: a is the home of a producer whose
# catalogue comes from other platforms' DFC documents (tests/unit/data/dfc:
# OFN's own export, the 2.0 context in pounds with a product that has no
# CatalogItem); b holds a market where that producer sells.
#
#   - catalogue import publishes, refuses by @id and field, --dry-run
#     writes nothing, --skip-invalid leaves out what it must;
#   - catalogue export is a DFC document under a's dfc_base, the same
#     twice, and imported back gives the same catalogue;
#   - b, which is not the producer's home, may not import for it;
#   - order export at a and at b: the confirmed lines, Held, then Complete
#     once b has marked the distribution closed; the cancelled order
#     Cancelled; no basket label anywhere.
. "$(dirname "$0")/lib.sh"

A=commune-a
B=commune-b
G=pays-dfc
DATA=$_lib_dir/../unit/data/dfc
BASE=https://halle.example-commune.fr/dfc/
HILL=https://api.example.co.uk/dfc/enterprises/7c1e/products

# json_ok NAME FILTER ARGS...: hallectl --json ARGS succeeds at NAME and jq
# -e FILTER holds on its answer.
json_ok() {
	local name=$1 filter=$2 out; shift 2
	out=$(ctl "$name" --json "$@" 2>/dev/null) || return 1
	jq -e "$filter" <<<"$out" >/dev/null 2>&1
}

peer_up() {
	json_ok "$1" ".peers[] | select(.name == \"$2\") | .state == \"up\"" status
}

version_is() {
	json_ok "$1" ".version == $3" catalogue show "$2"
}

products_of() {
	ctlj "$1" catalogue show "$2"
	jq -c '.products | sort_by(.sku)' <<<"$J"
}

step "setting up a and b"
make_node_id $A
make_node_id $B
write_config $A "dfc_base = $BASE"
printf '\n%s\n' "$(peer_section $B)" "$(grouping_section $G $B)" >>"$(conf_of $A)"
write_config_text $B "$(peer_section $A dial)" "$(grouping_section $G $A)"
start_node $A
start_node $B
wait_until 20 peer_up $A $B
wait_until 20 peer_up $B $A
wait_until 10 node_writable $A
wait_until 10 node_writable $B
ctlj $A producer add "Ferme du Moulin" --town Saint-Jean
P=$(jv "$J" .id)
pass "set up"

step "import OFN's export"
ctlj $A catalogue import "$P" "$DATA/ofn-shop.json"
assert_json "$J" .published true "import: published"
assert_json "$J" '.problems | length' 0 "import: no problem"
assert_json "$J" .catalogue.version 1 "import: version"
ctlj $A catalogue show "$P"
assert_json "$J" '.products[] | select(.sku == "FARINE-400") | [.unit, .quantity, .price_cents, .vat_bp, .stock_per_day] | @csv' \
    '"kg",0.4,209,550,55' "FARINE-400 from OFN"
assert_json "$J" '.products[] | select(.sku == "OEUFS-12") | [.unit, .quantity, .price_cents, .stock_per_day] | @csv' \
    '"piece",12,1885,' "OEUFS-12: stockLimitation -1 is unlimited"
ctl_ok $A catalogue import "$P" "$DATA/ofn-shop.json"
assert_match '^imported catalogue version 2 of Ferme du Moulin' "$OUT" "import, readable"
pass "OFN's export imported"

step "refused, dry run, skip invalid"
ctl_error $A dfc_invalid catalogue import "$P" "$DATA/context-2.0-gbp.json"
assert_contains "$HILL/butter" "$ERR" "the refusal names the product"
assert_contains "dfc-b:referencedBy" "$ERR" "the refusal names the field"
version_is $A "$P" 2 || fail "a refused import published something"
ctlj $A catalogue import "$P" "$DATA/context-2.0-gbp.json" --dry-run
assert_json "$J" .published false "dry run: not published"
assert_json "$J" '.problems[0].id' "$HILL/butter" "dry run: the problem"
assert_json "$J" '.catalogue.products | length' 2 "dry run: what would be"
version_is $A "$P" 2 || fail "a dry run published something"
ctl_ok $A catalogue import "$P" "$DATA/context-2.0-gbp.json" --dry-run
assert_contains "dry run, nothing published" "$OUT" "dry run, readable"
assert_contains "products refused (1):" "$OUT" "dry run lists the problem"
ctlj $A catalogue import "$P" --skip-invalid "$DATA/context-2.0-gbp.json"
assert_json "$J" .catalogue.version 3 "skip invalid: published"
assert_json "$J" .catalogue.currency GBP "skip invalid: pounds"
assert_json "$J" '[.problems[].field] | join(",")' "dfc-b:referencedBy" "skip invalid: left out"
# The raw route: Content-Type decides, the query carries the flags.
http $A PUT "/v1/producers/$P/catalogue?dry_run=1" \
    -H 'Content-Type: application/ld+json' --data-binary "@$DATA/ofn-shop.json"
assert_eq 200 "$HTTP_STATUS" "PUT ld+json dry run: status"
assert_json "$HTTP_BODY" .dry_run true "PUT ld+json dry run"
http_error $A PUT "/v1/producers/$P/catalogue" 400 dfc_invalid \
    -H 'Content-Type: application/ld+json' --data-binary "@$DATA/bad-unit.json"
http_error $A PUT "/v1/producers/$P/catalogue" 400 malformed_json \
    -H 'Content-Type: application/json' --data-binary "@$DATA/context-2.0-gbp.json"
http_error $A PUT "/v1/producers/$P/catalogue?dry_run=1" 400 invalid_field \
    -H 'Content-Type: application/json' -d '{"products": []}'
version_is $A "$P" 3 || fail "a refused request published something"
pass "refusals name the product and field; nothing written"

step "export, and back"
ctl_ok $A catalogue export "$P"
EXPORT=$OUT
assert_json "$EXPORT" '."@context"' "https://w3id.org/dfc/ontology/context/context_1.16.0.json" "export: context"
assert_json "$EXPORT" '[."@graph"[]."@id" | startswith("'"$BASE"'")] | all' true "export: @ids under dfc_base"
assert_json "$EXPORT" '[."@graph"[] | select(."@type" == "dfc-b:SuppliedProduct")] | length' 2 "export: products"
assert_json "$EXPORT" '."@graph"[] | select(."@type" == "dfc-b:Price") | ."dfc-b:hasUnit"' \
    $'dfc-m:PoundSterling\ndfc-m:PoundSterling' "export: currency"
run curl -s -D "$WORK/headers" --unix-socket "$(sock_of $A)" \
    -H 'Accept: application/ld+json' "http://halle/v1/producers/$P/catalogue"
assert_contains "application/ld+json" "$(cat "$WORK/headers")" "export: Content-Type"
assert_eq "$(jq -cS . <<<"$EXPORT")" "$(jq -cS . <<<"$OUT")" "export: the same twice"
BEFORE=$(products_of $A "$P")
ctl $A catalogue import "$P" - <<<"$EXPORT" >/dev/null || fail "import of the export failed"
version_is $A "$P" 4 || fail "the export imported back is not version 4"
assert_eq "$BEFORE" "$(products_of $A "$P")" "export then import: the same catalogue"
pass "export is stable and imports back"

step "only the home imports"
wait_until 20 version_is $B "$P" 4
ctl_error $B not_owner catalogue import "$P" "$DATA/ofn-shop.json"
ctl_error $B not_owner catalogue import "$P" "$DATA/ofn-shop.json" --dry-run
version_is $A "$P" 4 || fail "b's refused import changed the catalogue"
pass "not_owner at b"

step "orders at b for a's producer"
CHEDDAR=$(jq -r '."@graph"[] | select(."@type" == "dfc-b:CatalogItem") | ."dfc-b:sku"' <<<"$EXPORT" | grep '^cheddar-')
ctlj $B market add "Marché de b" --place Place --town B --weekday sat --from 10:00 --to 12:00
M=$(jv "$J" .id)
ctlj $B market invite "$M" "$P"
wait_until 20 json_ok $A '.id' market show "$M"
ctlj $A market accept "$M" "$P"
wait_until 20 json_ok $B "any(.producers[]; .id == \"$P\" and .accepted)" market show "$M"
D=$(day_from_today 3)
ctlj $B distribution open "$M" "$D" --from 10:00 --to 12:00 --closes "$(iso_from_now 15)"
DS=$(jv "$J" .id)
ctlj $B order place "$DS" --basket "Panier Dupont" "$P:YOG-NAT:2" "$P:$CHEDDAR:3"
O1=$(jv "$J" .id)
ctlj $B order place "$DS" --basket "Panier Martin" "$P:YOG-NAT:1"
O2=$(jv "$J" .id)
ctlj $B order cancel "$O2"

# order_status NAME ORDER STATUS: NAME's export says ORDER has STATUS.
order_status() {
	json_ok "$1" "any(.\"@graph\"[]; .\"dfc-b:orderNumber\" == \"$2\" and .\"dfc-b:hasOrderStatus\".\"@id\" == \"$3\")" \
	    order export "$DS" "$P"
}
# confirmed_at NAME: NAME's export holds both confirmed lines of O1.
confirmed_at() {
	json_ok "$1" '[."@graph"[] | select(."@type" == "dfc-b:OrderLine")] | length == 2' \
	    order export "$DS" "$P"
}
wait_until 20 confirmed_at $A
wait_until 20 confirmed_at $B
# Each node names things under its own dfc_base, in every export: a
# platform finds the Offers of b's order export in b's catalogue export.
declare -A BASE_OF=([$A]=$BASE [$B]=https://$B.halle.invalid/dfc/)
for n in $A $B; do
	ctl_ok $n catalogue export "$P"
	OFFERS=$(jq -c '[."@graph"[] | select(."@type" == "dfc-b:Offer") | ."@id"]' <<<"$OUT")
	ctl_ok $n order export "$DS" "$P"
	assert_json "$OUT" "[.\"@graph\"[] | select(.\"@type\" == \"dfc-b:OrderLine\") | .\"dfc-b:quantity\"] | sort | join(\",\")" \
	    "2,3" "order export at $n: confirmed quantities"
	assert_json "$OUT" "[.\"@graph\"[] | select(.\"@type\" == \"dfc-b:OrderLine\") | .\"dfc-b:concerns\".\"@id\" | IN($OFFERS[])] | all" \
	    true "order export at $n: lines concern the Offers of its catalogue export"
	assert_json "$OUT" ".\"@graph\"[] | select(.\"@type\" == \"dfc-b:SaleSession\") | .\"@id\"" \
	    "${BASE_OF[$n]}distributions/$DS" "order export at $n: the sale session"
	[[ $OUT != *Panier* ]] || fail "order export at $n holds a basket label"
	order_status $n "$O1" dfc-v:Held || fail "order export at $n: $O1 not Held: $OUT"
	order_status $n "$O2" dfc-v:Cancelled || fail "order export at $n: $O2 not Cancelled"
done
pass "Held and Cancelled, at both ends"

step "the sheet is final: Complete"
# b marks the distribution closed once its window is over; a hears it.
wait_until 60 order_status $B "$O1" dfc-v:Complete
wait_until 30 order_status $A "$O1" dfc-v:Complete
order_status $A "$O2" dfc-v:Cancelled || fail "$O2 is no longer Cancelled"
ctl_error $A unknown_distribution order export ds-000000000000 "$P"
pass "Complete once final"
