/*
 * testapi: the control API's routes that take a JSON body, as
 * daemon/api.c calls them: the body read into its typed request
 * (service_json.h), then the rule (service.h). For the tests, the
 * simulator and the benchmarks, which speak the API's JSON; each answers
 * as the route would, NULL with err filled on a refusal.
 */
#ifndef HALLE_TESTAPI_H
#define HALLE_TESTAPI_H

#include <jansson.h>

#include "error.h"
#include "node.h"

json_t	*testapi_producer_add(struct node *n, json_t *body,
	    struct halle_error *err);
/* PUT /v1/producers/P/catalogue with a JSON body. */
json_t	*testapi_catalogue_publish(struct node *n, const char *producer,
	    json_t *body, struct halle_error *err);
json_t	*testapi_market_add(struct node *n, json_t *body,
	    struct halle_error *err);
json_t	*testapi_distribution_open(struct node *n, json_t *body,
	    struct halle_error *err);
json_t	*testapi_distribution_schedule(struct node *n, const char *market,
	    json_t *body, struct halle_error *err);
json_t	*testapi_order_place(struct node *n, json_t *body,
	    struct halle_error *err);
json_t	*testapi_order_change(struct node *n, const char *id,
	    json_t *body, struct halle_error *err);
json_t	*testapi_backup(struct node *n, json_t *body,
	    struct halle_error *err);

#endif
