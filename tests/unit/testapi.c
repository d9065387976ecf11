/* testapi: see testapi.h. */
#include "catalogue.h"
#include "service.h"
#include "service_json.h"
#include "testapi.h"

json_t *
testapi_producer_add(struct node *n, json_t *body, struct halle_error *err)
{
	struct service_producer_request r;

	if (service_json_read_producer(body, &r, err) == -1)
		return NULL;
	return service_producer_add(n, &r, err);
}

json_t *
testapi_catalogue_publish(struct node *n, const char *producer, json_t *body,
    struct halle_error *err)
{
	struct catalogue_draft d;
	json_t *o = NULL;

	catalogue_draft_init(&d);
	if (service_json_read_catalogue(body, &d, err) == 0)
		o = service_catalogue_publish(n, producer, &d, 0, err);
	catalogue_draft_free(&d);
	return o;
}

json_t *
testapi_market_add(struct node *n, json_t *body, struct halle_error *err)
{
	struct service_market_request r;

	if (service_json_read_market(body, &r, err) == -1)
		return NULL;
	return service_market_add(n, &r, err);
}

json_t *
testapi_distribution_open(struct node *n, json_t *body,
    struct halle_error *err)
{
	struct service_distribution_request r;

	if (service_json_read_distribution(body, &r, err) == -1)
		return NULL;
	return service_distribution_open(n, &r, err);
}

json_t *
testapi_distribution_schedule(struct node *n, const char *market,
    json_t *body, struct halle_error *err)
{
	struct service_schedule_request r;

	if (service_json_read_schedule(body, &r, err) == -1)
		return NULL;
	return service_distribution_schedule(n, market, &r, err);
}

json_t *
testapi_order_place(struct node *n, json_t *body, struct halle_error *err)
{
	struct service_order_request r;
	json_t *o = NULL;

	if (service_json_read_order(body, &r, err) == 0)
		o = service_order_place(n, &r, err);
	service_json_lines_free(&r.lines);
	return o;
}

json_t *
testapi_order_change(struct node *n, const char *id, json_t *body,
    struct halle_error *err)
{
	struct service_order_lines lines;
	json_t *o = NULL;

	if (service_json_read_order_lines(body, &lines, err) == 0)
		o = service_order_change(n, id, &lines, err);
	service_json_lines_free(&lines);
	return o;
}

json_t *
testapi_backup(struct node *n, json_t *body, struct halle_error *err)
{
	struct service_backup_request r;

	if (service_json_read_backup(body, &r, err) == -1)
		return NULL;
	return service_backup(n, &r, err);
}
