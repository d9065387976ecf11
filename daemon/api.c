/*
 * api: the control API's route table. Each route is a method, a path
 * pattern ("*" matches one segment, passed to the handler in order), the
 * status of a successful answer, a handler that reads the JSON body into
 * its typed request (lib/service_json.h) and calls the service layer
 * (lib/service.h), and whether it takes a JSON-LD body (which may be an
 * array). Whether the node may write is lib's to say (node.h): a route
 * that writes while it may not is refused there. A handler may change the status and the
 * answer's media type. docs/control-api.md documents every route.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api_json.h"
#include "catalogue.h"
#include "control.h"
#include "dfc.h"
#include "events.h"
#include "events_http.h"
#include "service.h"
#include "service_json.h"
#include "status.h"

struct route_args {
	const struct api_context	*ctx;
	struct node			*node;
	const struct api_request	*req;
	const char			*param[3];
	struct halle_error		*err;
	int				 status;	/* of success */
	const char			*type;		/* NULL: JSON */
};

typedef json_t *(*route_fn)(struct route_args *);

struct route {
	int		 method;
	const char	*pattern;
	int		 status;
	route_fn	 fn;
	int		 flags;
};

#define ROUTE_TAKES_LD	1	/* its body may be JSON-LD, even an array */

#define ARGS struct route_args *a

static json_t *
status(ARGS)
{
	struct daemon_status st;
	json_t *o;

	if (a->ctx->status(a->ctx->arg, &st, a->err) == -1)
		return NULL;
	if ((o = api_json_status(&st)) == NULL)
		error_set(a->err, HALLE_E_INTERNAL, "out of memory");
	status_free(&st);
	return o;
}

static json_t *
feeds(ARGS)
{
	json_t *o = service_feeds(a->node, a->err);

	if (o != NULL)
		api_json_describe_feeds(o, a->node);
	return o;
}

/*
 * A query parameter that must be a whole number from 1 to max: absent
 * gives dflt; anything else ("abc", "1x", "-3", "") is invalid_field.
 */
static int
query_number(const char *name, const char *text, long long dflt,
    long long max, long long *out, struct halle_error *err)
{
	char *end;

	*out = dflt;
	if (text == NULL)
		return 0;
	errno = 0;
	if (text[0] < '0' || text[0] > '9' ||
	    (*out = strtoll(text, &end, 10), errno != 0) || *end != '\0' ||
	    *out < 1 || *out > max)
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be a whole "
		    "number from 1 to %lld", name, max);
	return 0;
}

static json_t *
feed_records(ARGS)
{
	long long from, count;

	if (query_number("from", a->req->query_from, 1, (long long)1 << 62,
	    &from, a->err) == -1 || query_number("count", a->req->query_count,
	    1000, 1000, &count, a->err) == -1)
		return NULL;
	return service_feed_records(a->node, a->param[0], from, count, a->err);
}

/* The cursor of GET /v1/events; the stream is events_http.c's. */
static json_t *
events(ARGS)
{
	uint64_t after;

	if (events_cursor(a->node, a->req->last_event_id,
	    a->req->query_since, &after, a->err) == -1)
		return NULL;
	a->type = EVENTS_MEDIA_TYPE;
	return json_pack("{s:I}", "after", (json_int_t)after);
}

static json_t *
reload(ARGS)
{
	char why[512];

	if (a->ctx->reload(a->ctx->arg, why, sizeof(why)) == -1) {
		error_set(a->err, HALLE_E_BAD_CONFIG, "%s", why);
		return NULL;
	}
	return status(a);
}

/* Plain text, as a JSON string: see api_dispatch in control.h. */
static json_t *
metrics(ARGS)
{
	char *text = a->ctx->metrics(a->ctx->arg, a->err);
	json_t *o;

	if (text == NULL)
		return NULL;
	if ((o = json_string(text)) == NULL)
		error_set(a->err, HALLE_E_INTERNAL, "the metrics are not UTF-8");
	free(text);
	return o;
}

static json_t *
backup(ARGS)
{
	struct service_backup_request r;

	if (service_json_read_backup(a->req->body, &r, a->err) == -1)
		return NULL;
	return service_backup(a->node, &r, a->err);
}

static json_t *
producer_add(ARGS)
{
	struct service_producer_request r;

	if (service_json_read_producer(a->req->body, &r, a->err) == -1)
		return NULL;
	return service_producer_add(a->node, &r, a->err);
}
static json_t *producer_list(ARGS)
{ return service_producer_list(a->node, a->err); }
static json_t *producer_show(ARGS)
{ return service_producer_show(a->node, a->param[0], a->err); }
/* "1", "true" or "yes" */
static int
query_flag(const char *value)
{
	return value != NULL && (strcmp(value, "1") == 0 ||
	    strcmp(value, "true") == 0 || strcmp(value, "yes") == 0);
}

/* A JSON-LD body is a DFC catalogue to import (docs/dfc.md). */
static json_t *
catalogue_publish(ARGS)
{
	struct catalogue_draft draft;
	int dry_run = query_flag(a->req->query_dry_run);
	json_t *o = NULL;

	if (!a->req->body_ld && (dry_run || a->req->query_skip_invalid)) {
		/* Publishing when asked for a dry run would be a surprise. */
		error_set(a->err, HALLE_E_INVALID_FIELD, "dry_run and skip_invalid "
		    "are for DFC imports (Content-Type: application/ld+json)");
		return NULL;
	}
	if (a->req->body_ld) {
		if (dry_run)
			a->status = 200;
		return service_catalogue_import(a->node, a->param[0],
		    a->req->body, query_flag(a->req->query_skip_invalid),
		    dry_run, a->err);
	}
	catalogue_draft_init(&draft);
	if (service_json_read_catalogue(a->req->body, &draft, a->err) == 0)
		o = service_catalogue_publish(a->node, a->param[0], &draft, 0,
		    a->err);
	catalogue_draft_free(&draft);
	return o;
}

/* Accept: application/ld+json asks for the DFC document. */
static json_t *
catalogue_show(ARGS)
{
	if (!a->req->accept_ld)
		return service_catalogue_show(a->node, a->param[0], a->err);
	a->type = DFC_MEDIA_TYPE;
	return service_catalogue_export(a->node, a->param[0], a->err);
}

/* Always a DFC document, whatever the Accept header. */
static json_t *
orders_export(ARGS)
{
	a->type = DFC_MEDIA_TYPE;
	return service_orders_export(a->node, a->param[0], a->param[1], a->err);
}

static json_t *
market_add(ARGS)
{
	struct service_market_request r;

	if (service_json_read_market(a->req->body, &r, a->err) == -1)
		return NULL;
	return service_market_add(a->node, &r, a->err);
}
static json_t *market_list(ARGS)
{ return service_market_list(a->node, a->err); }
static json_t *market_show(ARGS)
{ return service_market_show(a->node, a->param[0], a->err); }

static json_t *
membership(ARGS, char which, int active)
{
	const char *producer = a->param[1];

	/* POST names the producer in the body, DELETE in the path. */
	if (producer == NULL && service_json_read_membership(a->req->body,
	    &producer, a->err) == -1)
		return NULL;
	return service_market_membership(a->node, a->param[0], which, producer,
	    active, a->err);
}

static json_t *market_invite(ARGS) { return membership(a, 'I', 1); }
static json_t *market_uninvite(ARGS) { return membership(a, 'I', 0); }
static json_t *market_accept(ARGS) { return membership(a, 'A', 1); }
static json_t *market_withdraw(ARGS) { return membership(a, 'A', 0); }

static json_t *
schedule(ARGS)
{
	struct service_schedule_request r;

	if (service_json_read_schedule(a->req->body, &r, a->err) == -1)
		return NULL;
	return service_distribution_schedule(a->node, a->param[0], &r, a->err);
}

static json_t *
distribution_open(ARGS)
{
	struct service_distribution_request r;

	if (service_json_read_distribution(a->req->body, &r, a->err) == -1)
		return NULL;
	return service_distribution_open(a->node, &r, a->err);
}

static json_t *distribution_list(ARGS)
{ return service_distribution_list(a->node, a->req->query_market, a->err); }
static json_t *distribution_show(ARGS)
{ return service_distribution_show(a->node, a->param[0], a->err); }
static json_t *distribution_cancel(ARGS)
{ return service_distribution_cancel(a->node, a->param[0], a->err); }
static json_t *distribution_baskets(ARGS)
{ return service_distribution_baskets(a->node, a->param[0], a->err); }

static json_t *
order_place(ARGS)
{
	struct service_order_request r;
	json_t *o = NULL;

	if (service_json_read_order(a->req->body, &r, a->err) == 0)
		o = service_order_place(a->node, &r, a->err);
	service_json_lines_free(&r.lines);
	return o;
}

static json_t *
order_change(ARGS)
{
	struct service_order_lines lines;
	json_t *o = NULL;

	if (service_json_read_order_lines(a->req->body, &lines, a->err) == 0)
		o = service_order_change(a->node, a->param[0], &lines, a->err);
	service_json_lines_free(&lines);
	return o;
}

static json_t *order_cancel(ARGS)
{ return service_order_cancel(a->node, a->param[0], a->err); }
static json_t *order_show(ARGS)
{ return service_order_show(a->node, a->param[0], a->err); }

static json_t *
order_list(ARGS)
{
	if (a->req->query_distribution == NULL) {
		error_set(a->err, HALLE_E_INVALID_FIELD,
		    "give ?distribution=ID to list orders");
		return NULL;
	}
	return service_order_list(a->node, a->req->query_distribution, a->err);
}

static json_t *sheet(ARGS)
{ return service_sheet(a->node, a->param[0], a->param[1], a->err); }
static json_t *stock(ARGS)
{ return service_stock(a->node, a->param[0], a->param[1], a->err); }

#define GET	EVHTTP_REQ_GET
#define POST	EVHTTP_REQ_POST
#define PUT	EVHTTP_REQ_PUT
#define DELETE	EVHTTP_REQ_DELETE

static const struct route routes[] = {
	{ GET,    "/v1/status",				200, status, 0 },
	{ GET,    "/v1/feeds",				200, feeds, 0 },
	{ GET,    "/v1/feeds/*/records",		200, feed_records, 0 },
	{ GET,    "/v1/events",				200, events, 0 },
	{ POST,   "/v1/reload",				200, reload, 0 },
	{ POST,   "/v1/backup",				200, backup, 0 },
	{ GET,    "/metrics",				200, metrics, 0 },
	{ POST,   "/v1/producers",			201, producer_add, 0 },
	{ GET,    "/v1/producers",			200, producer_list, 0 },
	{ GET,    "/v1/producers/*",			200, producer_show, 0 },
	{ PUT,    "/v1/producers/*/catalogue",		201, catalogue_publish,
	  ROUTE_TAKES_LD },
	{ GET,    "/v1/producers/*/catalogue",		200, catalogue_show, 0 },
	{ POST,   "/v1/markets",			201, market_add, 0 },
	{ GET,    "/v1/markets",			200, market_list, 0 },
	{ GET,    "/v1/markets/*",			200, market_show, 0 },
	{ POST,   "/v1/markets/*/invitations",		201, market_invite, 0 },
	{ DELETE, "/v1/markets/*/invitations/*",	200, market_uninvite, 0 },
	{ POST,   "/v1/markets/*/acceptances",		201, market_accept, 0 },
	{ DELETE, "/v1/markets/*/acceptances/*",	200, market_withdraw, 0 },
	{ POST,   "/v1/markets/*/schedule",		201, schedule, 0 },
	{ POST,   "/v1/distributions",			201, distribution_open, 0 },
	{ GET,    "/v1/distributions",			200, distribution_list, 0 },
	{ GET,    "/v1/distributions/*",		200, distribution_show, 0 },
	{ POST,   "/v1/distributions/*/cancel",		200, distribution_cancel, 0 },
	{ GET,    "/v1/distributions/*/baskets",	200, distribution_baskets, 0 },
	{ GET,    "/v1/distributions/*/orders/*",	200, orders_export, 0 },
	{ POST,   "/v1/orders",				201, order_place, 0 },
	{ GET,    "/v1/orders",				200, order_list, 0 },
	{ GET,    "/v1/orders/*",			200, order_show, 0 },
	{ PUT,    "/v1/orders/*",			200, order_change, 0 },
	{ POST,   "/v1/orders/*/cancel",		200, order_cancel, 0 },
	{ GET,    "/v1/sheets/*/*",			200, sheet, 0 },
	{ GET,    "/v1/stock/*/*",			200, stock, 0 },
};

/* 1 when the request's path fits the pattern; wildcards go to params. */
static int
route_match(const char *pattern, const struct api_request *req,
    const char **params)
{
	char copy[128], *seg, *save = NULL;
	int i = 0, p = 0;

	snprintf(copy, sizeof(copy), "%s", pattern);
	for (seg = strtok_r(copy, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save), i++) {
		if (i >= req->nsegments || req->segments[i] == NULL)
			return 0;
		if (strcmp(seg, "*") == 0)
			params[p++] = req->segments[i];
		else if (strcmp(seg, req->segments[i]) != 0)
			return 0;
	}
	return i == req->nsegments;
}

json_t *
api_dispatch(const struct api_context *ctx, const struct api_request *req,
    int *status, const char **type, struct halle_error *err)
{
	struct route_args args;
	json_t *answer;
	size_t i;
	int path_known = 0;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		memset(&args, 0, sizeof(args));
		if (!route_match(routes[i].pattern, req, args.param))
			continue;
		path_known = 1;
		if (routes[i].method != req->method)
			continue;
		if (!json_is_object(req->body) && !(routes[i].flags & ROUTE_TAKES_LD)) {
			error_set(err, HALLE_E_MALFORMED_JSON,
			    "the body must be a JSON object");
			return NULL;
		}
		args.ctx = ctx;
		args.node = ctx->node;
		args.req = req;
		args.err = err;
		args.status = routes[i].status;
		answer = routes[i].fn(&args);
		*status = args.status;
		*type = args.type;
		return answer;
	}
	if (path_known)
		error_set(err, HALLE_E_METHOD_NOT_ALLOWED,
		    "this route does not take that method");
	else
		error_set(err, HALLE_E_NOT_FOUND, "no such route");
	return NULL;
}
