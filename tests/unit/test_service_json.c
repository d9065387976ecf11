/*
 * test_service_json: the control API's JSON bodies read into typed
 * requests (lib/service_json.h), and the rules taking requests that C code
 * filled without any JSON.
 *
 * A reader is checked bare: it needs no node and no store, and it refuses
 * a body for its first bad field with the code and the message the API
 * has always answered. The node (testnode.h) serves only the tests of the
 * rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testnode.h"

#include "catalogue.h"
#include "error.h"
#include "service.h"
#include "service_json.h"
#include "timeutil.h"

/* text, a JSON object; the test fails when it does not parse. */
static json_t *
body(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	if (j == NULL)
		fail_msg("not JSON: %s", text);
	return j;
}

/*
 * expr, a reader, must refuse with want_code and exactly want_message;
 * the body b it read must be as it was.
 */
#define REFUSED(b, expr, want_code, want_message) do {			\
	char *before_ = json_dumps((b), JSON_SORT_KEYS);		\
	char *after_;							\
									\
	memset(&E, 0, sizeof(E));					\
	assert_int_equal((expr), -1);					\
	assert_string_equal(halle_strerror(E.code), (want_code));	\
	assert_string_equal(E.message, (want_message));		\
	after_ = json_dumps((b), JSON_SORT_KEYS);			\
	assert_string_equal(before_, after_);				\
	free(before_);							\
	free(after_);							\
} while (0)

/* Names are normalised into the request; the body keeps what it said. */
static void
test_producer(void **state)
{
	struct service_producer_request r;
	json_t *b;

	b = body("{\"name\": \"  Ferme \\u00a0 du   Lac \", \"farm\": \" \", "
	    "\"town\": \"Saint  Jean\", \"email\": \"a@b\", \"x\": 1}");
	assert_int_equal(service_json_read_producer(b, &r, &E), 0);
	assert_string_equal(r.name, "Ferme du Lac");
	assert_string_equal(r.farm, "");
	assert_string_equal(r.town, "Saint Jean");
	assert_string_equal(r.email, "a@b");
	assert_string_equal(r.phone, "");
	assert_string_equal(json_string_value(json_object_get(b, "name")),
	    "  Ferme \xc2\xa0 du   Lac ");
	json_decref(b);

	b = body("{\"farm\": \"x\"}");
	REFUSED(b, service_json_read_producer(b, &r, &E), "invalid_field",
	    "missing 'name'");
	json_decref(b);
	b = body("{\"name\": \"\\u3000 \"}");
	REFUSED(b, service_json_read_producer(b, &r, &E), "invalid_field",
	    "'name' holds only spaces");
	json_decref(b);
	b = body("{\"name\": 3}");
	REFUSED(b, service_json_read_producer(b, &r, &E), "invalid_field",
	    "'name' must be a string");
	json_decref(b);
	b = body("{\"name\": \"OK\", \"email\": \"a\\u202e@b\"}");
	REFUSED(b, service_json_read_producer(b, &r, &E), "invalid_field",
	    "'email' holds the bidirectional formatting character U+202E, "
	    "which no field may hold");
	json_decref(b);
	b = json_pack("{s:s, s:s}", "name", "OK", "phone",
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4");
	REFUSED(b, service_json_read_producer(b, &r, &E), "invalid_field",
	    "'phone' is longer than 64 bytes");
	json_decref(b);
}

static void
test_catalogue(void **state)
{
	struct catalogue_draft d;
	json_t *b;

	b = body("{\"version\": 3, \"currency\": \"CHF\", \"products\": ["
	    "{\"sku\": \"PAIN\", \"name\": \" Pain  de campagne\", "
	    "\"unit\": \"kg\", \"quantity\": 0.5, \"price_cents\": 450, "
	    "\"vat_bp\": 550, \"organic\": true, \"stock_per_day\": 40}, "
	    "{\"sku\": \"MIEL\", \"name\": \"Miel\", \"price_cents\": 900}]}");
	catalogue_draft_init(&d);
	assert_int_equal(service_json_read_catalogue(b, &d, &E), 0);
	assert_int_equal(d.version_given, 1);
	assert_int_equal(d.version, 3);
	assert_string_equal(d.currency, "CHF");
	assert_int_equal(d.n, 2);
	assert_string_equal(d.products[0].name, "Pain de campagne");
	assert_int_equal(d.products[0].unit, HALLE__UNIT__UNIT_KG);
	assert_true(d.products[0].quantity == 0.5);
	assert_int_equal(d.products[0].limited, 1);
	assert_int_equal(d.products[0].stock_per_day, 40);
	assert_int_equal(d.products[1].unit, HALLE__UNIT__UNIT_PIECE);
	assert_int_equal(d.products[1].limited, 0);
	assert_string_equal(d.labels[1], "products[1]");
	catalogue_draft_free(&d);
	json_decref(b);

	b = body("{\"products\": [{\"sku\": \"A\", \"name\": \"A\", "
	    "\"price_cents\": 1}, {\"sku\": \"B\", \"name\": \"  \", "
	    "\"price_cents\": 1}]}");
	catalogue_draft_init(&d);
	REFUSED(b, service_json_read_catalogue(b, &d, &E), "invalid_field",
	    "products[1]: 'name' holds only spaces");
	catalogue_draft_free(&d);
	json_decref(b);
	b = body("{\"products\": [{\"sku\": \"A\", \"name\": \"A\", "
	    "\"price_cents\": 1, \"unit\": \"t\"}]}");
	catalogue_draft_init(&d);
	REFUSED(b, service_json_read_catalogue(b, &d, &E), "invalid_field",
	    "products[0]: unit 't' is not one of piece, kg, g, l, ml");
	catalogue_draft_free(&d);
	json_decref(b);
	b = body("{\"products\": [{\"sku\": \"A\", \"name\": \"A\", "
	    "\"price_cents\": 1}, {\"sku\": \"A\", \"name\": \"B\", "
	    "\"price_cents\": 2}]}");
	catalogue_draft_init(&d);
	REFUSED(b, service_json_read_catalogue(b, &d, &E), "invalid_field",
	    "products[1]: sku 'A' appears twice");
	catalogue_draft_free(&d);
	json_decref(b);
	b = body("{\"currency\": \"eur\", \"products\": []}");
	catalogue_draft_init(&d);
	REFUSED(b, service_json_read_catalogue(b, &d, &E), "invalid_field",
	    "currency 'eur' is not an ISO 4217 code such as EUR");
	catalogue_draft_free(&d);
	json_decref(b);
}

static void
test_market(void **state)
{
	struct service_market_request r;
	json_t *b;

	b = body("{\"name\": \" Marché \", \"place\": \"Place\", \"town\": "
	    "\"Bourg\"}");
	assert_int_equal(service_json_read_market(b, &r, &E), 0);
	assert_string_equal(r.name, "Marché");
	assert_int_equal(r.scheduled, 0);
	assert_int_equal(r.opens_days, 7);
	assert_int_equal(r.closes_hours, 36);
	json_decref(b);
	b = body("{\"name\": \"M\", \"place\": \"P\", \"town\": \"T\", "
	    "\"weekday\": \"SAT\", \"from\": \"08:30\", \"to\": \"12:00\", "
	    "\"opens_days\": 60, \"closes_hours\": 0}");
	assert_int_equal(service_json_read_market(b, &r, &E), 0);
	assert_int_equal(r.scheduled, 1);
	assert_int_equal(r.weekday, 6);
	assert_int_equal(r.from_min, 510);
	assert_int_equal(r.to_min, 720);
	assert_int_equal(r.opens_days, 60);
	assert_int_equal(r.closes_hours, 0);
	json_decref(b);

	b = body("{\"name\": \"M\", \"place\": \"P\", \"town\": \"T\", "
	    "\"weekday\": \"sat\"}");
	REFUSED(b, service_json_read_market(b, &r, &E), "invalid_field",
	    "'weekday', 'from' and 'to' go together");
	json_decref(b);
	b = body("{\"name\": \"M\", \"place\": \"P\", \"town\": \"T\", "
	    "\"weekday\": \"sat\", \"from\": \"12:00\", \"to\": \"10:00\"}");
	REFUSED(b, service_json_read_market(b, &r, &E), "bad_dates",
	    "the market starts at 12:00, not before it ends at 10:00");
	json_decref(b);
	b = body("{\"name\": \"M\", \"place\": \"P\", \"town\": \"T\", "
	    "\"opens_days\": 61}");
	REFUSED(b, service_json_read_market(b, &r, &E), "invalid_field",
	    "'opens_days' must be from 1 to 60");
	json_decref(b);
	b = body("{\"name\": \"M\", \"place\": \"P\", \"town\": \"T\", "
	    "\"closes_hours\": 1.5}");
	REFUSED(b, service_json_read_market(b, &r, &E), "invalid_field",
	    "'closes_hours' must be a whole number");
	json_decref(b);
}

static void
test_distribution(void **state)
{
	struct service_distribution_request r;
	struct service_schedule_request w;
	json_t *b;

	b = body("{\"market\": \"Marché\", \"date\": \"2026-11-28\", "
	    "\"from\": \"09:00\", \"closes\": \"2026-11-27T20:00:00Z\"}");
	assert_int_equal(service_json_read_distribution(b, &r, &E), 0);
	assert_string_equal(r.market, "Marché");
	assert_string_equal(r.date, "2026-11-28");
	assert_int_equal(r.day.year, 2026);
	assert_int_equal(r.day.month, 11);
	assert_int_equal(r.day.day, 28);
	assert_int_equal(r.from_given, 1);
	assert_int_equal(r.from_min, 540);
	assert_int_equal(r.to_given, 0);
	assert_int_equal(r.opens_given, 0);
	assert_int_equal(r.closes_given, 1);
	assert_int_equal(r.closes, 1795809600);
	json_decref(b);

	b = body("{\"date\": \"2026-11-28\"}");
	REFUSED(b, service_json_read_distribution(b, &r, &E), "invalid_field",
	    "missing 'market'");
	json_decref(b);
	b = body("{\"market\": \"M\", \"date\": \"2026-11-5\"}");
	REFUSED(b, service_json_read_distribution(b, &r, &E), "bad_dates",
	    "'2026-11-5' is not a date as YYYY-MM-DD");
	json_decref(b);
	b = body("{\"market\": \"M\", \"date\": \"2026-11-28\", "
	    "\"to\": \"9h\"}");
	REFUSED(b, service_json_read_distribution(b, &r, &E), "invalid_field",
	    "'from' and 'to' must be times as HH:MM");
	json_decref(b);
	b = body("{\"market\": \"M\", \"date\": \"2026-11-28\", "
	    "\"opens\": \"tomorrow\"}");
	REFUSED(b, service_json_read_distribution(b, &r, &E), "invalid_field",
	    "'opens' must be an ISO 8601 instant such as "
	    "2026-12-03T20:00:00+01:00");
	json_decref(b);

	b = body("{}");
	assert_int_equal(service_json_read_schedule(b, &w, &E), 0);
	assert_int_equal(w.weeks, 4);
	json_decref(b);
	b = body("{\"weeks\": 53}");
	REFUSED(b, service_json_read_schedule(b, &w, &E), "invalid_field",
	    "'weeks' must be from 1 to 52");
	json_decref(b);
}

static void
test_order(void **state)
{
	struct service_order_request r;
	struct service_order_lines l;
	json_t *b;

	b = body("{\"distribution\": \"ds-1\", \"basket\": \" Panier  7 \", "
	    "\"lines\": [{\"producer\": \"Ferme\", \"sku\": \"PAIN\", "
	    "\"quantity\": 2}, {\"producer\": \"pr-2\", \"sku\": \"MIEL\", "
	    "\"quantity\": 1000000}]}");
	assert_int_equal(service_json_read_order(b, &r, &E), 0);
	assert_string_equal(r.distribution, "ds-1");
	assert_string_equal(r.basket, "Panier 7");
	assert_string_equal(r.mediator, "");
	assert_int_equal(r.lines.n, 2);
	assert_string_equal(r.lines.line[0].producer, "Ferme");
	assert_string_equal(r.lines.line[0].sku, "PAIN");
	assert_int_equal(r.lines.line[0].quantity, 2);
	assert_int_equal(r.lines.line[1].quantity, 1000000);
	service_json_lines_free(&r.lines);
	assert_null(r.lines.line);
	json_decref(b);

	b = body("{\"distribution\": \"ds-1\", \"lines\": []}");
	REFUSED(b, service_json_read_order(b, &r, &E), "invalid_field",
	    "missing 'basket'");
	service_json_lines_free(&r.lines);
	json_decref(b);
	b = body("{\"distribution\": \"ds-1\", \"basket\": \"P\", "
	    "\"lines\": []}");
	REFUSED(b, service_json_read_order(b, &r, &E), "invalid_field",
	    "'lines' must be a non-empty array");
	service_json_lines_free(&r.lines);
	json_decref(b);
	b = body("{\"lines\": [{\"producer\": \"F\", \"sku\": \"A\", "
	    "\"quantity\": 1}, {\"producer\": \"F\", \"sku\": \"B\", "
	    "\"quantity\": 0}]}");
	REFUSED(b, service_json_read_order_lines(b, &l, &E), "bad_quantity",
	    "lines[1]: quantity 0 of B must be at least 1");
	assert_null(l.line);
	json_decref(b);
	b = body("{\"lines\": [{\"producer\": \"F\", \"sku\": \"A\", "
	    "\"quantity\": 1000001}]}");
	REFUSED(b, service_json_read_order_lines(b, &l, &E), "overflow",
	    "lines[0]: quantity 1000001 of A is over 1000000");
	json_decref(b);
	b = body("{\"lines\": [{\"producer\": \"F\", \"sku\": \"A\"}]}");
	REFUSED(b, service_json_read_order_lines(b, &l, &E), "invalid_field",
	    "lines[0]: missing 'quantity'");
	json_decref(b);
	b = body("{\"lines\": [\"F\"]}");
	REFUSED(b, service_json_read_order_lines(b, &l, &E), "invalid_field",
	    "lines[0] must be an object");
	json_decref(b);
}

static void
test_membership_and_backup(void **state)
{
	struct service_backup_request r;
	const char *producer;
	json_t *b;

	b = body("{\"producer\": \"Ferme\"}");
	assert_int_equal(service_json_read_membership(b, &producer, &E), 0);
	assert_string_equal(producer, "Ferme");
	json_decref(b);
	b = body("{\"producer\": 7}");
	REFUSED(b, service_json_read_membership(b, &producer, &E),
	    "invalid_field", "missing 'producer'");
	json_decref(b);

	b = body("{\"path\": \"/var/backups/halle\"}");
	assert_int_equal(service_json_read_backup(b, &r, &E), 0);
	assert_string_equal(r.path, "/var/backups/halle");
	json_decref(b);
	b = body("{\"path\": \"backups\"}");
	REFUSED(b, service_json_read_backup(b, &r, &E), "invalid_field",
	    "'path' must be an absolute path, got 'backups'");
	json_decref(b);
}

/*
 * The rules take requests filled in C: what needs the store (a name
 * taken, the market's hours) is theirs, and a refusal writes nothing.
 */
static void
test_typed_rules(void **state)
{
	struct service_distribution_request d;
	struct service_producer_request p;
	struct service_schedule_request w;
	struct service_market_request m;
	json_t *a;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "Ferme typée");
	snprintf(p.town, sizeof(p.town), "Bourg");
	a = OK(service_producer_add(&node, &p, &E));
	assert_string_equal(str(a, "name"), "Ferme typée");
	assert_string_equal(str(a, "town"), "Bourg");
	json_decref(a);
	FAILS(service_producer_add(&node, &p, &E), 409, "name_taken");

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "Marché typé");
	snprintf(m.place, sizeof(m.place), PLACE);
	snprintf(m.town, sizeof(m.town), "Bourg");
	m.scheduled = 1;
	m.weekday = 6;
	m.from_min = 600;
	m.to_min = 720;
	m.opens_days = 7;
	m.closes_hours = 36;
	a = OK(service_market_add(&node, &m, &E));
	assert_string_equal(str(json_object_get(a, "schedule"), "from"),
	    "10:00");
	json_decref(a);
	FAILS(service_market_add(&node, &m, &E), 409, "name_taken");

	/* A distribution at the market's hours, then the weeks after it. */
	memset(&d, 0, sizeof(d));
	snprintf(d.market, sizeof(d.market), "Marché typé");
	snprintf(d.date, sizeof(d.date), DATE);
	assert_int_equal(timeutil_parse_date(DATE, &d.day), 0);
	a = OK(service_distribution_open(&node, &d, &E));
	assert_string_equal(str(a, "date"), DATE);
	assert_string_equal(str(a, "from"), "10:00");
	json_decref(a);
	d.from_given = d.to_given = 1;
	d.from_min = 720;
	d.to_min = 600;
	FAILS(service_distribution_open(&node, &d, &E), 400, "bad_dates");
	w.weeks = 3;
	a = OK(service_distribution_schedule(&node, "Marché typé", &w, &E));
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(str(json_array_get(a, 0), "date"), DATE2);
	json_decref(a);
}

/*
 * A draft is checked whole before the store is looked at: a version past
 * the last there is, even for a producer this node does not know.
 */
static void
test_draft_checked_first(void **state)
{
	struct catalogue_draft d;
	Halle__Product p = HALLE__PRODUCT__INIT;

	catalogue_draft_init(&d);
	p.sku = "PAIN";
	p.name = "Pain";
	p.quantity = 1;
	p.price_cents = 450;
	assert_int_equal(catalogue_draft_add(&d, &p, "product PAIN", &E), 0);
	d.version_given = 1;
	d.version = (uint64_t)SERVICE_MAX_VERSION + 1;
	FAILS(service_catalogue_publish(&node, "Ferme Nulle Part", &d, 0, &E),
	    400, "invalid_field");
	assert_string_equal(E.message, "'version' 9007199254740992 is over "
	    "the last version there is (9007199254740991)");
	FAILS(service_catalogue_publish(&node, "Ferme Nulle Part", &d, 1, &E),
	    400, "invalid_field");
	d.version = 1;
	FAILS(service_catalogue_publish(&node, "Ferme Nulle Part", &d, 0, &E),
	    404, "unknown_producer");
	catalogue_draft_free(&d);
}

/*
 * An order filled in C: the rules resolve its producers (by name or by
 * id: one producer twice is refused), its prices and its window.
 */
static void
test_typed_order(void **state)
{
	struct service_order_line line[2];
	struct service_order_request r;
	char producer[ID_MAX], market[ID_MAX], dist[ID_MAX];
	json_t *o;

	add_producer("Ferme des commandes", producer);
	json_decref(OK(try_publish(producer, json_pack("[o]", product("PAIN",
	    "Pain", 450, 550, -1)), 0)));
	add_market("Marché des commandes", market);
	sell(market, producer);
	open_distribution(market, DATE, dist);

	memset(&r, 0, sizeof(r));
	memset(line, 0, sizeof(line));
	snprintf(r.distribution, sizeof(r.distribution), "%s", dist);
	snprintf(r.basket, sizeof(r.basket), "Panier C");
	snprintf(line[0].producer, sizeof(line[0].producer),
	    "Ferme des commandes");
	snprintf(line[0].sku, sizeof(line[0].sku), "PAIN");
	line[0].quantity = 3;
	r.lines.line = line;
	r.lines.n = 1;
	o = OK(service_order_place(&node, &r, &E));
	assert_string_equal(str(o, "basket"), "Panier C");
	assert_int_equal(num(o, "total_cents"), 1350);
	json_decref(o);

	line[1] = line[0];
	snprintf(line[1].producer, sizeof(line[1].producer), "%s", producer);
	r.lines.n = 2;
	FAILS(service_order_place(&node, &r, &E), 400, "invalid_field");
	assert_non_null(strstr(E.message, "ordered twice"));
	snprintf(r.distribution, sizeof(r.distribution), "ds-000000000000");
	r.lines.n = 1;
	FAILS(service_order_place(&node, &r, &E), 404, "unknown_distribution");
}

static int
group_setup(void **state)
{
	return testnode_open("halle-test-service-json");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_producer),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_market),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_membership_and_backup),
		cmocka_unit_test_setup(test_typed_rules, reset_clock),
		cmocka_unit_test_setup(test_draft_checked_first, reset_clock),
		cmocka_unit_test_setup(test_typed_order, reset_clock),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    testnode_group_teardown);
}
