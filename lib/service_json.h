/*
 * service_json: the control API's JSON bodies read into the typed requests
 * of service.h (docs/control-api.md gives their fields).
 *
 * Each reader checks every field of its body (types, lengths, characters
 * no field may hold, dates and times, numbers and their bounds) and fills
 * the request, normalising names: spaces (Unicode ones too) trimmed at
 * both ends and each inner run made one ' ', so that names differing only
 * there are one name. It fails on the first field it refuses, with
 * invalid_field (or bad_dates, bad_quantity, overflow) and a message that
 * names the field and the reason, and it touches no store: a request is
 * read in full before the rule that takes it opens a transaction, and a
 * refused one never reaches the write lock.
 *
 *   daemon/api.c:  service_json_read_market(body, &r, err)   syntax
 *                  service_market_add(node, &r, err)         rules, store
 *
 * Readers return 0, or -1 with err filled; the body is not changed.
 * Unknown fields are ignored, as the API always has.
 */
#ifndef HALLE_SERVICE_JSON_H
#define HALLE_SERVICE_JSON_H

#include <jansson.h>

#include "error.h"
#include "service.h"

/* POST /v1/producers: {"name", "farm", "town", "email", "phone"}. */
int	service_json_read_producer(json_t *body,
	    struct service_producer_request *r, struct halle_error *err);

/*
 * PUT /v1/producers/P/catalogue: {"version", "currency", "products":
 * [{"sku", "name", "unit", "quantity", "price_cents", "vat_bp",
 * "organic", "stock_per_day"}]} into d, an empty draft (catalogue.h),
 * each product checked as catalogue_draft_add does and named
 * "products[i]" in messages. On failure d may hold the products before
 * the one refused: the caller frees it either way.
 */
struct catalogue_draft;
int	service_json_read_catalogue(json_t *body, struct catalogue_draft *d,
	    struct halle_error *err);

/*
 * POST /v1/markets: {"name", "place", "town", "weekday", "from", "to",
 * "opens_days", "closes_hours"}; weekday, from and to go together.
 */
int	service_json_read_market(json_t *body,
	    struct service_market_request *r, struct halle_error *err);

/*
 * POST /v1/markets/M/invitations and .../acceptances: {"producer"}, an id
 * or a name, into *producer (pointing into body).
 */
int	service_json_read_membership(json_t *body, const char **producer,
	    struct halle_error *err);

/*
 * POST /v1/distributions: {"market", "date" (YYYY-MM-DD), "from", "to"
 * (HH:MM), "opens", "closes" (ISO 8601 instants, local time when they
 * carry no offset)}.
 */
int	service_json_read_distribution(json_t *body,
	    struct service_distribution_request *r, struct halle_error *err);

/* POST /v1/markets/M/schedule: {"weeks"}, 4 when not given. */
int	service_json_read_schedule(json_t *body,
	    struct service_schedule_request *r, struct halle_error *err);

/*
 * POST /v1/orders: {"distribution", "basket", "mediator", "lines":
 * [{"producer", "sku", "quantity"}]}, each line named "lines[i]" in
 * messages. The lines are allocated: free them with
 * service_json_lines_free(&r->lines), whether the reader succeeded or not.
 */
int	service_json_read_order(json_t *body,
	    struct service_order_request *r, struct halle_error *err);
/* PUT /v1/orders/O: {"lines": [...]}, as service_json_read_order. */
int	service_json_read_order_lines(json_t *body,
	    struct service_order_lines *l, struct halle_error *err);
/* Frees the lines a reader allocated; l is then empty. */
void	service_json_lines_free(struct service_order_lines *l);

/* POST /v1/backup: {"path"}, an absolute path. */
int	service_json_read_backup(json_t *body,
	    struct service_backup_request *r, struct halle_error *err);

#endif
