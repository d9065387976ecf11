/*
 * fuzz_api: libFuzzer target for the control API's requests as the
 * domain takes them: a JSON body, as daemon/control.c parses it, read
 * into its typed request (lib/service_json.h) and handed to the rule a
 * route calls (lib/service*.c), on a real node, as daemon/api.c does
 * (tests/unit/testapi.h does both for the routes with a body).
 *
 * An input is a route selector byte followed by the JSON text of the body:
 *
 *   selector & 0x0f   the route (routes[] below, as daemon/api.c routes)
 *   selector >> 4     the id in the route's path, from the node's week:
 *                     its producer, market, distribution, order, or a
 *                     string field of the body ("id", "producer",
 *                     "date"), or a bad id
 *
 * Like the daemon, the target refuses text that is not a JSON object
 * before any route sees it. The strings "@producer", "@market",
 * "@distribution" and "@order" anywhere in the body stand for the ids of
 * the week's entities (random ids the fuzzer could not guess).
 *
 * Each input runs on the node as the inputs before it left it (the
 * service functions commit), from a week set up
 * when the node is opened: a producer with a limited product, a market
 * selling it, a distribution and an order. Every RESET_EVERY inputs the
 * node is thrown away and a fresh one set up, so the store stays small;
 * a crash found after a few inputs replays from its input alone in most
 * cases, against the fresh week.
 *
 * The target aborts when a service function answers neither a JSON value
 * nor an error with a code and a message, or when the store fails.
 *
 * Run: fuzz_api CORPUS_DIR (seeds in tests/fuzz/corpus/api); see
 * tests/fuzz/CMakeLists.txt for the flags CI uses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "ids.h"
#include "node.h"
#include "service.h"
#include "service_json.h"
#include "testapi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESET_EVERY	512
#define NOW_MS		INT64_C(1894017600000)	/* 2030-01-07 12:00 UTC */
#define DATE		"2030-01-12"		/* the Saturday after */

static struct node		 fuzz_node;
static struct halle_config	 fuzz_cfg;
static char			 producer[ID_MAX], market[ID_MAX],
				 distribution[ID_MAX], order[ID_MAX];

static void __attribute__((noreturn))
bug(const char *what, const char *reason)
{
	fprintf(stderr, "fuzz_api: BUG: %s (%s)\n", what, reason);
	abort();
}

static int64_t
fixed_clock(void)
{
	return NOW_MS;
}

/* The string field name of body, or "" when it has none. */
static const char *
body_string(json_t *body, const char *name)
{
	json_t *v = json_object_get(body, name);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* The id in the route's path, chosen by the selector's high bits. */
static const char *
path_id(uint8_t selector, json_t *body)
{
	switch (selector >> 4) {
	case 0:
	case 1:
		return producer;
	case 2:
	case 3:
		return market;
	case 4:
	case 5:
		return distribution;
	case 6:
	case 7:
		return order;
	case 8:
		return body_string(body, "id");
	case 9:
		return body_string(body, "producer");
	case 10:
		return body_string(body, "market");
	case 11:
		return "pr-000000000000";
	case 12:
		return "";
	default:
		return "../x";
	}
}

/* Which of the 4 names v is; 4 when none. */
static size_t
id_index(json_t *v, const char *const names[4])
{
	size_t k;

	for (k = 0; json_is_string(v) && k < 4; k++)
		if (strcmp(json_string_value(v), names[k]) == 0)
			break;
	return json_is_string(v) ? k : 4;
}

/* Puts the week's ids where the body names them by "@kind". */
static void
put_ids(json_t *j, int depth)
{
	const char *const names[] = { "@producer", "@market",
	    "@distribution", "@order" };
	const char *const ids[] = { producer, market, distribution, order };
	const char *key;
	json_t *v;
	size_t i, k;

	if (depth > 8)
		return;
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
			if ((k = id_index(v, names)) < 4)
				json_object_set_new(j, key,
				    json_string(ids[k]));
			else
				put_ids(v, depth + 1);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if ((k = id_index(v, names)) < 4)
				json_array_set_new(j, i, json_string(ids[k]));
			else
				put_ids(v, depth + 1);
	}
}

/*
 * An invitation or acceptance as daemon/api.c routes it: POST names the
 * producer in the body, DELETE (not active) in the path; the body's
 * "producer" stands for the path's.
 */
static json_t *
membership(struct node *n, const char *market_ref, char which, int active,
    json_t *body, struct halle_error *e)
{
	const char *producer_ref = body_string(body, "producer");

	if (active && service_json_read_membership(body, &producer_ref,
	    e) == -1)
		return NULL;
	return service_market_membership(n, market_ref, which, producer_ref,
	    active, e);
}

static json_t *
route(struct node *n, uint8_t selector, json_t *body, struct halle_error *e)
{
	const char *id = path_id(selector, body);
	json_t *active = json_object_get(body, "active");
	int on = active == NULL || json_is_true(active);

	switch (selector & 0x0f) {
	case 0:
		return testapi_producer_add(n, body, e);
	case 1:
		return testapi_catalogue_publish(n, id, body, e);
	case 2:
		return testapi_market_add(n, body, e);
	case 3:
		return membership(n, id, 'I', on, body, e);
	case 4:
		return membership(n, id, 'A', on, body, e);
	case 5:
		return testapi_distribution_open(n, body, e);
	case 6:
		return testapi_distribution_schedule(n, id, body, e);
	case 7:
		return testapi_order_place(n, body, e);
	case 8:
		return testapi_order_change(n, id, body, e);
	case 9:
		return service_order_cancel(n, id, e);
	case 10:
		return service_distribution_cancel(n, id, e);
	case 11:
		return service_sheet(n, id, body_string(body, "date"), e);
	case 12:
		return service_stock(n, id, body_string(body, "date"), e);
	case 13:
		return service_order_show(n, id, e);
	case 14:
		return service_distribution_list(n, id, e);
	default:
		return service_order_list(n, id, e);
	}
}

static void
setup(void)
{
	struct node *n = &fuzz_node;
	struct halle_error err;
	json_t *req;

	fuzz_node_open(n, &fuzz_cfg, "fuzz-node");
	n->clock_ms = fixed_clock;
	fuzz_week_start(n, producer, market);
	req = json_pack("{s:s, s:s}", "market", market, "date", DATE);
	fuzz_must(testapi_distribution_open(n, req, &err), req, distribution,
	    &err);
	req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}]}", "distribution",
	    distribution, "basket", "B1", "lines", "producer", producer, "sku",
	    "PAIN", "quantity", 3);
	fuzz_must(testapi_order_place(n, req, &err), req, order, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned inputs;
	struct halle_error err;
	json_t *body, *answer;

	if (inputs++ % RESET_EVERY == 0)
		setup();
	if (size < 1)
		return 0;
	body = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES, NULL);
	if (body == NULL)
		return 0;
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	put_ids(body, 0);
	memset(&err, 0, sizeof(err));
	err.code = HALLE_E_INTERNAL;
	answer = route(&fuzz_node, data[0], body, &err);
	if (answer == NULL) {
		if (err.code == HALLE_E_STORE)
			bug("the store failed", err.message);
		if (err.message[0] == '\0')
			bug("an error without a message", "");
	}
	json_decref(answer);
	json_decref(body);
	return 0;
}
