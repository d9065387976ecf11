/*
 * test_dfc: Data Food Consortium documents in and out of a real node.
 *
 * The fixtures in data/dfc/ are written in the shapes real platforms send
 * (Open Food Network's exports, the DFC connectors' examples): string
 * numbers, blank nodes, {"@id"} references, embedded nodes, full IRIs, an
 * inline context, the 1.16 and 2.0 contexts. Each import goes through the
 * same publish as the JSON route (testnode.h: one real node); every
 * refused document must name the product's @id and the field, and leave
 * the feed as it was. Export then import must give the same catalogue.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalogue.h"
#include "dfc.h"
#include "testapi.h"
#include "testnode.h"

#define OFN	"https://shop.example.org/api/dfc/Enterprises/ferme-du-moulin/" \
		"SuppliedProducts/"
#define HILL	"https://api.example.co.uk/dfc/enterprises/7c1e/products/"

static json_t *
fixture(const char *name)
{
	const char *dir = getenv("HALLE_TEST_DATA");
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *doc;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/dfc/%s", dir, name);
	if ((doc = json_load_file(path, JSON_DECODE_ANY, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	return doc;
}

static json_t *
try_import(const char *producer, const char *name, int skip, int dry)
{
	json_t *doc = fixture(name), *answer;

	answer = service_catalogue_import(&node, producer, doc, skip, dry, &E);
	json_decref(doc);
	return answer;
}

/* The element of array whose member field is value. */
static json_t *
element_with(json_t *array, const char *field, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(array, i, e)
		if (strcmp(str(e, field), value) == 0)
			return e;
	fail_msg("no element with %s %s", field, value);
	return NULL;
}

/* The product of a catalogue (an answer's or a show's) with that sku. */
static json_t *
sku_of(json_t *catalogue, const char *sku)
{
	return element_with(json_object_get(catalogue, "products"), "sku",
	    sku);
}

static void
assert_product(json_t *p, const char *name, const char *unit,
    double quantity, json_int_t price, json_int_t vat, json_int_t stock,
    int organic)
{
	json_t *s = json_object_get(p, "stock_per_day");

	assert_string_equal(str(p, "name"), name);
	assert_string_equal(str(p, "unit"), unit);
	assert_float_equal(json_number_value(json_object_get(p, "quantity")),
	    quantity, 1e-9);
	assert_int_equal(num(p, "price_cents"), price);
	assert_int_equal(num(p, "vat_bp"), vat);
	if (stock < 0)
		assert_true(json_is_null(s));
	else
		assert_int_equal(num(p, "stock_per_day"), stock);
	assert_int_equal(json_is_true(json_object_get(p, "organic")), organic);
}

/* E's message names what the problem is about. */
static void
assert_names(const char *what)
{
	if (strstr(E.message, what) == NULL)
		fail_msg("'%s' does not name '%s'", E.message, what);
}

/* Open Food Network's own export: blank nodes, strings, flows to ignore. */
static void
test_import_ofn(void **state)
{
	char producer[ID_MAX];
	json_int_t before;
	json_t *a, *c;

	add_producer("Ferme du Moulin", producer);
	before = records();
	a = OK(try_import(producer, "ofn-shop.json", 0, 0));
	assert_int_equal(records(), before + 1);
	assert_true(json_is_true(json_object_get(a, "published")));
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 0);
	c = json_object_get(a, "catalogue");
	assert_string_equal(str(c, "currency"), "EUR");
	assert_int_equal(json_array_size(json_object_get(c, "products")), 3);
	assert_product(sku_of(c, "FARINE-400"), "Farine T80, sachet 400 g",
	    "kg", 0.4, 209, 550, 55, 0);
	/* stockLimitation -1: unlimited, as OFN reads it */
	assert_product(sku_of(c, "OEUFS-12"), "Oeufs frais, boîte de 12",
	    "piece", 12, 1885, 0, -1, 0);
	/* 0 kg, as the FDC's shops send it: one piece, as OFN reads it */
	assert_product(sku_of(c, "FAUX-FILET"), "Faux-filet, 200 g environ",
	    "piece", 1, 1206, 550, 11, 0);
	json_decref(a);
	/* What the node now shows is what the import answered. */
	c = OK(service_catalogue_show(&node, producer, &E));
	assert_int_equal(num(c, "version"), 1);
	assert_product(sku_of(c, "FARINE-400"), "Farine T80, sachet 400 g",
	    "kg", 0.4, 209, 550, 55, 0);
	json_decref(c);
}

/*
 * Full IRIs, embedded Offer and Price without @id, links written only in
 * the reverse direction (CatalogItem references, Offer offers), organic by
 * a facet, units that convert (500 g, 75 cl, a dozen), @value literals.
 */
static void
test_import_full_iris(void **state)
{
	char producer[ID_MAX];
	json_t *a, *c;

	add_producer("Les Jardins de la Vallée", producer);
	a = OK(try_import(producer, "context-1.16-full-iris.json", 0, 0));
	c = json_object_get(a, "catalogue");
	assert_string_equal(str(c, "currency"), "EUR");
	assert_product(sku_of(c, "CAROTTES-500G"), "Carottes des sables", "g",
	    500, 180, 550, 30, 1);
	assert_product(sku_of(c, "JUS-POMME-75CL"), "Jus de pomme", "ml", 750,
	    320, 550, -1, 0);
	/* A sku written as a number, a language-tagged name, a dozen. */
	assert_product(sku_of(c, "4006"), "Oeufs plein air", "piece", 12, 390,
	    550, 20, 0);
	json_decref(a);
}

/* An inline context with its own prefixes and terms; a bare price. */
static void
test_import_inline_context(void **state)
{
	char producer[ID_MAX];
	json_t *a, *p;

	add_producer("Rucher des Combes", producer);
	a = OK(try_import(producer, "inline-context.json", 0, 0));
	p = json_array_get(json_object_get(json_object_get(a, "catalogue"),
	    "products"), 0);
	assert_product(p, "Miel de châtaignier", "g", 250, 750, 0, 8, 0);
	/* No sku: one made from the IRI, its last segment and a digest. */
	assert_true(strncmp(str(p, "sku"), "honey-", 6) == 0);
	json_decref(a);
}

/*
 * The 2.0 context, pounds sterling, a product with no CatalogItem: refused
 * by name, imported without it on request, and a made sku that stays.
 */
static void
test_import_skip_invalid(void **state)
{
	char producer[ID_MAX], sku[SERVICE_MAX_LABEL + 1];
	json_t *a, *c, *p, *problem;

	add_producer("Hill Top Dairy", producer);
	FAILS(try_import(producer, "context-2.0-gbp.json", 0, 0), 400,
	    "dfc_invalid");
	assert_names(HILL "butter");
	assert_names("dfc-b:referencedBy");
	FAILS(service_catalogue_show(&node, producer, &E), 404, "no_catalogue");

	a = OK(try_import(producer, "context-2.0-gbp.json", 1, 0));
	assert_true(json_is_true(json_object_get(a, "published")));
	problem = json_array_get(json_object_get(a, "problems"), 0);
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 1);
	assert_string_equal(str(problem, "id"), HILL "butter");
	assert_string_equal(str(problem, "field"), "dfc-b:referencedBy");
	c = json_object_get(a, "catalogue");
	assert_string_equal(str(c, "currency"), "GBP");
	assert_int_equal(json_array_size(json_object_get(c, "products")), 2);
	/* The Jar is a piece; the Offer's stock 12.7 is 12 whole ones. */
	assert_product(sku_of(c, "YOG-NAT"), "Natural yoghurt", "piece", 1,
	    160, 0, -1, 0);
	p = json_array_get(json_object_get(c, "products"), 0);
	assert_product(p, "Mature cheddar", "kg", 0.25, 495, 0, 12, 0);
	snprintf(sku, sizeof(sku), "%s", str(p, "sku"));
	assert_true(strncmp(sku, "cheddar-", 8) == 0);
	json_decref(a);

	/* Imported again: a new version, the same made sku. */
	a = OK(try_import(producer, "context-2.0-gbp.json", 1, 0));
	c = json_object_get(a, "catalogue");
	assert_int_equal(num(c, "version"), 2);
	(void)sku_of(c, sku);
	json_decref(a);
}

/* A dry run lists every problem and what would be published; writes none. */
static void
test_dry_run(void **state)
{
	char producer[ID_MAX];
	json_int_t before;
	json_t *a;

	add_producer("Laiterie à l'essai", producer);
	before = records();
	a = OK(try_import(producer, "context-2.0-gbp.json", 0, 1));
	assert_int_equal(records(), before);
	assert_true(json_is_false(json_object_get(a, "published")));
	assert_true(json_is_true(json_object_get(a, "dry_run")));
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(a,
	    "catalogue"), "products")), 2);
	assert_int_equal(num(json_object_get(a, "catalogue"), "version"), 1);
	json_decref(a);
	FAILS(service_catalogue_show(&node, producer, &E), 404, "no_catalogue");
	/* The store's rules hold in a dry run too. */
	FAILS(try_import("Ferme Inconnue", "ofn-shop.json", 0, 1), 404,
	    "unknown_producer");
}

/* Every bad document is refused, naming the product and the field. */
static void
test_bad_documents(void **state)
{
	static const struct {
		const char *file, *code, *names[2];
	} bad[] = {
		{ "bad-no-offer.json", "dfc_invalid",
		  { "https://bad.example/p/salade", "dfc-b:offeredThrough" } },
		{ "bad-no-price.json", "dfc_invalid",
		  { "https://bad.example/p/radis", "dfc-b:hasPrice" } },
		{ "bad-unit.json", "dfc_invalid",
		  { "https://bad.example/p/ficelle", "dfc-m:Metre" } },
		{ "bad-blank-no-sku.json", "dfc_invalid",
		  { "_:b9", "dfc-b:sku" } },
		{ "bad-mixed-currency.json", "dfc_invalid",
		  { "https://bad.example/p/cafe", "GBP" } },
		{ "bad-no-products.json", "dfc_invalid",
		  { "SuppliedProduct", NULL } },
		{ "bad-sku.json", "invalid_field",
		  { "https://bad.example/p/pommes", "sku" } },
		{ "bad-stock.json", "overflow",
		  { "https://bad.example/p/noix", "stockLimitation" } },
		{ "bad-not-jsonld.json", "dfc_invalid",
		  { "object or an array", NULL } },
	};
	char producer[ID_MAX];
	size_t i;

	add_producer("Ferme des Essais", producer);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FAILS(try_import(producer, bad[i].file, 0, 0), 400,
		    bad[i].code);
		assert_names(bad[i].names[0]);
		if (bad[i].names[1] != NULL)
			assert_names(bad[i].names[1]);
	}
	/* Skipping every product leaves nothing to publish: refused too. */
	FAILS(try_import(producer, "bad-no-offer.json", 1, 0), 400,
	    "dfc_invalid");
	assert_names("no product to publish");
	assert_names("dfc-b:offeredThrough");
	FAILS(service_catalogue_show(&node, producer, &E), 404, "no_catalogue");
}

/* A document nested deeper than anyone writes is refused, not recursed. */
static void
test_deep_document(void **state)
{
	char producer[ID_MAX];
	json_t *doc, *inner;
	int i;

	add_producer("Ferme Profonde", producer);
	doc = json_pack("{s:s}", "@type", "dfc-b:SuppliedProduct");
	for (i = 0; i < 100; i++) {
		inner = doc;
		doc = json_pack("{s:s, s:o}", "@type", "dfc-b:Enterprise",
		    "dfc-b:supplies", inner);
	}
	FAILS(service_catalogue_import(&node, producer, doc, 0, 0, &E), 400,
	    "dfc_invalid");
	assert_names("deeper");
	json_decref(doc);
}

/*
 * A product with a long @id of non-ASCII characters: its refusal is
 * listed with its whole @id, and its message shows the end of it and the
 * field, never a cut character.
 */
static void
test_long_id(void **state)
{
	char producer[ID_MAX], id[1200];
	json_t *doc, *a;
	size_t n;

	add_producer("Ferme Très Longue", producer);
	n = (size_t)snprintf(id, sizeof(id), "https://bad.example/p/");
	while (n + 3 < sizeof(id))
		n += (size_t)snprintf(id + n, sizeof(id) - n, "é");
	doc = json_pack("{s:[{s:s, s:s, s:s}]}", "@graph", "@id", id,
	    "@type", "dfc-b:SuppliedProduct", "dfc-b:name", "Ail");
	assert_non_null(doc);
	FAILS(service_catalogue_import(&node, producer, doc, 0, 0, &E), 400,
	    "dfc_invalid");
	assert_names("...éé");		/* a long @id is shown by its end */
	assert_names("dfc-b:referencedBy");
	a = OK(service_catalogue_import(&node, producer, doc, 0, 1, &E));
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 1);
	assert_string_equal(str(json_array_get(json_object_get(a, "problems"),
	    0), "id"), id);
	json_decref(a);
	json_decref(doc);

	/* A unit name that fills the message: cut before a character. */
	n = (size_t)snprintf(id, sizeof(id), "dfc-m:x");
	while (n + 3 < sizeof(id))
		n += (size_t)snprintf(id + n, sizeof(id) - n, "é");
	doc = json_pack("{s:[{s:s, s:s, s:s, s:{s:s}, s:{s:{s:{s:s}}}}]}",
	    "@graph", "@id", "https://bad.example/p/ail", "@type",
	    "dfc-b:SuppliedProduct", "dfc-b:name", "Ail", "dfc-b:hasQuantity",
	    "dfc-b:hasUnit", id, "dfc-b:referencedBy", "dfc-b:offeredThrough",
	    "dfc-b:hasPrice", "dfc-b:value", "2");
	assert_non_null(doc);
	FAILS(service_catalogue_import(&node, producer, doc, 0, 0, &E), 400,
	    "dfc_invalid");
	assert_names("https://bad.example/p/ail: dfc-b:hasUnit");
	a = OK(service_catalogue_import(&node, producer, doc, 0, 1, &E));
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 1);
	json_decref(a);
	/* Any error message cut short stays a string the API can answer. */
	error_set(&E, HALLE_E_DFC_INVALID, "x%s", id);
	assert_true(strlen(E.message) < sizeof(E.message) - 1);
	a = json_string(E.message);
	assert_non_null(a);
	json_decref(a);
	json_decref(doc);
}

static json_t *
catalogue_of_every_kind(void)
{
	json_t *products = json_array(), *p;

	json_array_append_new(products, product("PAIN-1KG", "Pain de campagne",
	    450, 550, 40));
	p = product("MIEL/500", "Miel, pot de 500 g", 1250, 550, -1);
	json_object_set_new(p, "unit", json_string("g"));
	json_object_set_new(p, "quantity", json_real(500));
	json_object_set_new(p, "organic", json_true());
	json_array_append_new(products, p);
	p = product("CIDRE", "Cidre brut", 395, 2000, 0);
	json_object_set_new(p, "unit", json_string("l"));
	json_object_set_new(p, "quantity", json_real(0.75));
	json_array_append_new(products, p);
	p = product("LAIT", "Lait cru", 110, 0, 12);
	json_object_set_new(p, "unit", json_string("ml"));
	json_object_set_new(p, "quantity", json_real(1000));
	json_array_append_new(products, p);
	p = product("POMMES", "Pommes", 1, 1, 1000000000);
	json_object_set_new(p, "unit", json_string("kg"));
	json_object_set_new(p, "quantity", json_real(2.5));
	json_array_append_new(products, p);
	return products;
}

/* Export then import gives back the same catalogue, under stable @ids. */
static void
test_round_trip(void **state)
{
	char producer[ID_MAX];
	json_t *req, *before, *doc, *again, *a, *after;

	add_producer("Ferme Aller-Retour", producer);
	req = json_pack("{s:s, s:o}", "currency", "USD", "products",
	    catalogue_of_every_kind());
	before = OK(testapi_catalogue_publish(&node, producer, req, &E));
	json_decref(req);
	doc = OK(service_catalogue_export(&node, producer, &E));
	assert_string_equal(str(doc, "@context"), DFC_CONTEXT);
	again = OK(service_catalogue_export(&node, producer, &E));
	assert_json_equal(doc, again);
	json_decref(again);

	a = OK(service_catalogue_import(&node, producer, doc, 0, 0, &E));
	assert_int_equal(json_array_size(json_object_get(a, "problems")), 0);
	after = json_object_get(a, "catalogue");
	assert_int_equal(num(after, "version"), 2);
	assert_string_equal(str(after, "currency"), "USD");
	assert_json_equal(json_object_get(before, "products"),
	    json_object_get(after, "products"));
	/* And its export names everything as the first one did. */
	again = OK(service_catalogue_export(&node, producer, &E));
	assert_json_equal(doc, again);
	json_decref(again);
	json_decref(a);
	json_decref(doc);
	json_decref(before);
}

/* A currency with no DFC unit cannot be exported; one that is no code
 * cannot be published. */
static void
test_export_currency(void **state)
{
	char producer[ID_MAX];
	json_t *req;

	add_producer("Fromagerie Suisse", producer);
	req = json_pack("{s:s, s:[o]}", "currency", "CHF", "products",
	    product("TOMME", "Tomme", 900, 250, -1));
	json_decref(OK(testapi_catalogue_publish(&node, producer, req, &E)));
	json_decref(req);
	memset(&E, 0, sizeof(E));
	assert_null(service_catalogue_export(&node, producer, &E));
	assert_int_equal(E.code, HALLE_E_DFC_INVALID);
	assert_names("CHF");
	FAILS(service_catalogue_export(&node, "Ferme Inconnue", &E), 404,
	    "unknown_producer");
	/* The JSON route takes ISO 4217 codes only. */
	req = json_pack("{s:s, s:[o]}", "currency", "euro", "products",
	    product("TOMME", "Tomme", 900, 250, -1));
	FAILS(testapi_catalogue_publish(&node, producer, req, &E), 400,
	    "invalid_field");
	assert_names("euro");
	json_decref(req);
}

/* The node of the graph with that @id. */
static json_t *
node_of(json_t *doc, const char *id)
{
	return element_with(json_object_get(doc, "@graph"), "@id", id);
}

static const char *
status_of(json_t *doc, const char *order, const char *producer)
{
	char id[512];

	snprintf(id, sizeof(id), "%sorders/%s/producers/%s",
	    node.cfg->dfc_base, order, producer);
	return str(json_object_get(node_of(doc, id), "dfc-b:hasOrderStatus"),
	    "@id");
}

/* Orders: Held, then Complete once the sheet is final; Cancelled stays. */
static void
test_orders_export(void **state)
{
	char producer[ID_MAX], market[ID_MAX], dist[ID_MAX], o1[ID_MAX],
	    o2[ID_MAX], id[512], *text;
	json_t *doc, *order, *l;

	add_producer("Ferme des Commandes", producer);
	json_decref(OK(try_publish(producer, json_pack("[o, o]",
	    product("PAIN", "Pain", 450, 550, 10), product("BRIOCHE",
	    "Brioche", 600, 550, -1)), 0)));
	add_market("Marché des Commandes", market);
	sell(market, producer);
	open_distribution(market, DATE, dist);
	copy_id(o1, OK(try_place(dist, "Panier Dupont", json_pack("[o, o]",
	    line(producer, "PAIN", 4), line(producer, "BRIOCHE", 2)))));
	copy_id(o2, OK(try_place(dist, "Panier Martin", one_line(producer,
	    "PAIN", 3))));
	json_decref(OK(service_order_cancel(&node, o2, &E)));

	doc = OK(service_orders_export(&node, dist, producer, &E));
	assert_string_equal(status_of(doc, o1, producer), "dfc-v:Held");
	assert_string_equal(status_of(doc, o2, producer), "dfc-v:Cancelled");
	snprintf(id, sizeof(id), "%sorders/%s/producers/%s",
	    node.cfg->dfc_base, o1, producer);
	order = node_of(doc, id);
	assert_string_equal(str(order, "dfc-b:orderNumber"), o1);
	assert_int_equal(json_array_size(json_object_get(order,
	    "dfc-b:hasPart")), 2);
	snprintf(id, sizeof(id), "%sorders/%s/producers/%s/lines/PAIN",
	    node.cfg->dfc_base, o1, producer);
	l = node_of(doc, id);
	assert_int_equal(num(l, "dfc-b:quantity"), 4);
	snprintf(id, sizeof(id), "%sproducers/%s/products/PAIN/offer",
	    node.cfg->dfc_base, producer);
	assert_string_equal(str(json_object_get(l, "dfc-b:concerns"), "@id"),
	    id);
	snprintf(id, sizeof(id), "%sdistributions/%s", node.cfg->dfc_base,
	    dist);
	assert_string_equal(str(node_of(doc, id), "@type"),
	    "dfc-b:SaleSession");
	assert_string_equal(str(json_object_get(order, "dfc-b:belongsTo"),
	    "@id"), id);
	/* Basket labels stay home. */
	text = json_dumps(doc, JSON_COMPACT);
	assert_null(strstr(text, "Panier"));
	free(text);
	json_decref(doc);

	/* Orders closed and the close marked: the sheet is final. */
	fake_ms = instant_ms(DATE "T09:00:00+01:00");
	assert_true(service_close_due(&node, &E) >= 1);
	doc = OK(service_orders_export(&node, dist, producer, &E));
	assert_string_equal(status_of(doc, o1, producer), "dfc-v:Complete");
	assert_string_equal(status_of(doc, o2, producer), "dfc-v:Cancelled");
	json_decref(doc);

	FAILS(service_orders_export(&node, "ds-000000000000", producer, &E), 404,
	    "unknown_distribution");
	FAILS(service_orders_export(&node, dist, "Ferme Inconnue", &E), 404,
	    "unknown_producer");
}

static int
group_setup(void **state)
{
	return testnode_open("halle-test-dfc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_import_ofn, reset_clock),
		cmocka_unit_test_setup(test_import_full_iris, reset_clock),
		cmocka_unit_test_setup(test_import_inline_context, reset_clock),
		cmocka_unit_test_setup(test_import_skip_invalid, reset_clock),
		cmocka_unit_test_setup(test_dry_run, reset_clock),
		cmocka_unit_test_setup(test_bad_documents, reset_clock),
		cmocka_unit_test_setup(test_deep_document, reset_clock),
		cmocka_unit_test_setup(test_long_id, reset_clock),
		cmocka_unit_test_setup(test_round_trip, reset_clock),
		cmocka_unit_test_setup(test_export_currency, reset_clock),
		cmocka_unit_test_setup(test_orders_export, reset_clock),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    testnode_group_teardown);
}
