/*
 * service_distributions: market days. See service.h.
 *
 * A distribution belongs to its market's node, which opens it (one at a
 * time or from the market's weekly schedule), cancels it, and marks it
 * closed once its order window is over (service_close_due): the producers'
 * homes then know they have heard every order of it. Cancelling or
 * closing gives the day's stock rights back (stock.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "stock.h"
#include "timeutil.h"

/* Distributions */

static int
market_owned_here(struct node_txn *nt, const char *market)
{
	char what[ID_MAX + 8];

	snprintf(what, sizeof(what), "market %s", market);
	return service_owned_here(nt, 'M', market, what);
}

int
service_distribution_owned_here(struct node_txn *nt, const char *id)
{
	char what[ID_MAX + 16];

	snprintf(what, sizeof(what), "distribution %s", id);
	return service_owned_here(nt, 'D', id, what);
}

/*
 * Fills d from a market and the day and times of r (those not given come
 * from the market); checks that the window makes sense, now and at this
 * market. from_schedule: orders open the market's opens_days before,
 * rather than now.
 */
static int
distribution_fill(struct node_txn *nt, const Halle__Market *m,
    const struct service_distribution_request *r, int from_schedule,
    Halle__Distribution *d)
{
	time_t starts, opens, closes;
	int64_t now = nt->now_ms / 1000;

	if (!m->scheduled && (!r->from_given || !r->to_given))
		return error_set(nt->err, HALLE_E_INVALID_FIELD, "market '%s' has no "
		    "weekly schedule: give 'from' and 'to'", m->name);
	d->from_min = r->from_given ? r->from_min : m->from_min;
	d->to_min = r->to_given ? r->to_min : m->to_min;
	if (d->from_min >= d->to_min)
		return error_set(nt->err, HALLE_E_BAD_DATES,
		    "the distribution must start before it ends");
	if (timeutil_local_instant(&r->day, d->from_min, &starts) == -1)
		return error_set(nt->err, HALLE_E_BAD_DATES, "no such local time");
	opens = from_schedule ? starts - (time_t)m->opens_days * 86400 : now;
	closes = starts - (time_t)m->closes_hours * 3600;
	if (r->opens_given)
		opens = r->opens;
	if (r->closes_given)
		closes = r->closes;
	if (closes > starts)
		return error_set(nt->err, HALLE_E_BAD_DATES,
		    "orders must close before the distribution starts");
	if (closes <= opens)
		return error_set(nt->err, HALLE_E_BAD_DATES,
		    "orders must close after they open");
	if (closes <= now)
		return error_set(nt->err, HALLE_E_BAD_DATES,
		    "orders would close in the past");
	d->market = m->id;
	d->date = (char *)r->date;
	d->opens_at = opens;
	d->closes_at = closes;
	d->starts_at = starts;
	d->version = 1;
	return 0;
}

struct distribution_open {
	const struct service_distribution_request	*req;
	char						 id[ID_MAX];
};

static int
distribution_open_op(struct node_txn *nt, void *arg)
{
	struct distribution_open *op = arg;
	Halle__Distribution d = HALLE__DISTRIBUTION__INIT;
	Halle__Market *m;
	char market[ID_MAX];
	int rc;

	if (service_resolve_market(nt->t, op->req->market, market,
	    nt->err) == -1 || market_owned_here(nt, market) == -1)
		return -1;
	if ((m = views_market(nt->t, market)) == NULL)
		return error_set(nt->err, HALLE_E_STORE, "market unreadable");
	rc = distribution_fill(nt, m, op->req, 0, &d);
	if (rc == 0)
		rc = service_id_for_next_record(nt, op->id, "ds");
	if (rc == 0) {
		d.id = op->id;
		rc = node_append(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION, &d.base);
	}
	view_free(m);
	return rc;
}

json_t *
service_distribution_open(struct node *n,
    const struct service_distribution_request *r, struct halle_error *err)
{
	struct distribution_open op = { r, "" };

	if (node_mutate(n, distribution_open_op, &op, err) == -1)
		return NULL;
	return service_distribution_show(n, op.id, err);
}

struct distribution_schedule {
	const char				*market_ref;
	const struct service_schedule_request	*req;
	json_t					*created;	/* ids */
};

static int
has_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	*(int *)arg = 1;
	return 1;	/* the first key is enough */
}

/*
 * The distribution of market m on the day of r, unless the day has one
 * already or its order window is over. 0, or -1 when the store failed.
 */
static int
schedule_day(struct node_txn *nt, const Halle__Market *m,
    struct service_distribution_request *r, json_t *created)
{
	Halle__Distribution d = HALLE__DISTRIBUTION__INIT;
	char prefix[DBKEY_MAX], id[ID_MAX];
	int found = 0, rc;

	timeutil_format_date(&r->day, r->date);
	dbkey_market_day(prefix, m->id, r->date, NULL);
	views_index_scan(nt->t, prefix, has_key, &found);
	if (found || distribution_fill(nt, m, r, 1, &d) == -1)
		return 0;
	if (service_id_for_next_record(nt, id, "ds") == -1)
		return -1;
	d.id = id;
	rc = node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION,
	    &d.base);
	json_array_append_new(created, json_string(id));
	return rc;
}

static int
schedule_op(struct node_txn *nt, void *arg)
{
	struct distribution_schedule *op = arg;
	struct service_distribution_request day;
	Halle__Market *m;
	char market[ID_MAX];
	uint32_t i;
	int rc = 0;

	json_array_clear(op->created);
	if (service_resolve_market(nt->t, op->market_ref, market,
	    nt->err) == -1 || market_owned_here(nt, market) == -1)
		return -1;
	if ((m = views_market(nt->t, market)) == NULL)
		return error_set(nt->err, HALLE_E_STORE, "market unreadable");
	if (!m->scheduled) {
		error_set(nt->err, HALLE_E_INVALID_FIELD,
		    "market '%s' has no weekly schedule", m->name);
		view_free(m);
		return -1;
	}
	/* Each week's day, at the market's hours and windows. */
	memset(&day, 0, sizeof(day));
	timeutil_local_date((time_t)(nt->now_ms / 1000), &day.day);
	while (timeutil_weekday(&day.day) != (int)m->weekday)
		timeutil_add_days(&day.day, 1);
	for (i = 0; i < op->req->weeks && rc == 0; i++) {
		rc = schedule_day(nt, m, &day, op->created);
		timeutil_add_days(&day.day, 7);
	}
	view_free(m);
	return rc;
}

json_t *
service_distribution_schedule(struct node *n, const char *market,
    const struct service_schedule_request *r, struct halle_error *err)
{
	struct distribution_schedule op = { market, r, json_array() };
	struct store_txn t;
	Halle__Distribution *d;
	json_t *list, *v;
	size_t i;

	if (node_mutate(n, schedule_op, &op, err) == -1 ||
	    service_read_begin(n, &t, err) == -1) {
		json_decref(op.created);
		return NULL;
	}
	list = json_array();
	json_array_foreach(op.created, i, v) {
		if ((d = views_distribution(&t, json_string_value(v))) == NULL)
			continue;
		json_array_append_new(list,
		    service_json_render_distribution(&t, d, node_now_ms(n)));
		view_free(d);
	}
	store_read_end(&t);
	json_decref(op.created);
	return list;
}

static int
list_distribution(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct list_ctx *ctx = arg;
	Halle__Distribution *d;
	char id[ID_MAX];

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (d = views_distribution(ctx->t, id)) == NULL)
		return 0;
	json_array_append_new(ctx->list, service_json_render_distribution(
	    ctx->t, d, node_now_ms(ctx->node)));
	view_free(d);
	return 0;
}

static int
by_date(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	const char *dx = json_string_value(json_object_get(*x, "starts_at"));
	const char *dy = json_string_value(json_object_get(*y, "starts_at"));

	return strcmp(dx ? dx : "", dy ? dy : "");
}

json_t *
service_distribution_list(struct node *n, const char *market_ref,
    struct halle_error *err)
{
	struct store_txn t;
	struct list_ctx ctx = { n, &t, json_array() };
	char market[ID_MAX], prefix[DBKEY_MAX];
	json_t **items, *sorted;
	size_t i, count;

	if (service_read_begin(n, &t, err) == -1)
		goto fail;
	if (market_ref != NULL && market_ref[0] != '\0') {
		if (service_resolve_market(&t, market_ref, market, err) == -1) {
			store_read_end(&t);
			goto fail;
		}
		dbkey_market_day(prefix, market, NULL, NULL);
	} else
		dbkey_market_day(prefix, NULL, NULL, NULL);
	views_index_scan(&t, prefix, list_distribution, &ctx);
	store_read_end(&t);
	/* The index orders by market then date; a list reads by date. */
	count = json_array_size(ctx.list);
	if ((items = calloc(count + 1, sizeof(*items))) == NULL)
		return ctx.list;
	for (i = 0; i < count; i++)
		items[i] = json_array_get(ctx.list, i);
	qsort(items, count, sizeof(*items), by_date);
	sorted = json_array();
	for (i = 0; i < count; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(ctx.list);
	return sorted;
fail:
	json_decref(ctx.list);
	return NULL;
}

json_t *
service_distribution_show(struct node *n, const char *id, struct halle_error *err)
{
	Halle__Distribution *d;
	struct store_txn t;
	json_t *o = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, id)) == NULL)
		error_set(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'", id);
	else
		o = service_json_render_distribution(&t, d, node_now_ms(n));
	view_free(d);
	store_read_end(&t);
	return o;
}

struct distribution_cancel {
	const char	*id;
};

/* Appends d, which this node changed, as its next version. 0 or -1. */
static int
distribution_append_next(struct node_txn *nt, Halle__Distribution *d)
{
	if (service_version_next(d->version, &d->version, "the distribution",
	    nt->err) == -1)
		return -1;
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION,
	    &d->base);
}

static int
distribution_cancel_op(struct node_txn *nt, void *arg)
{
	struct distribution_cancel *op = arg;
	Halle__Distribution *d;
	int rc = 0;

	if ((d = views_distribution(nt->t, op->id)) == NULL)
		return error_set(nt->err, HALLE_E_UNKNOWN_DISTRIBUTION,
		    "no distribution '%s'", op->id);
	if (service_distribution_owned_here(nt, op->id) == -1) {
		view_free(d);
		return -1;
	}
	if (!d->cancelled) {
		d->cancelled = 1;
		rc = distribution_append_next(nt, d);
		/* Its stock rights go back to the producers' homes. */
		if (rc == 0)
			rc = stock_release_market(nt, d->market, d->date);
	}
	view_free(d);
	return rc;
}

json_t *
service_distribution_cancel(struct node *n, const char *id,
    struct halle_error *err)
{
	struct distribution_cancel op = { id };

	if (node_mutate(n, distribution_cancel_op, &op, err) == -1)
		return NULL;
	return service_distribution_show(n, id, err);
}


/* Closing order windows */

struct close_due {
	struct node_txn	*nt;
	int		 marked;
};

static int
close_one(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct close_due *ctx = arg;
	struct node_txn *nt = ctx->nt;
	unsigned char owner[KEY_PUBLIC_LEN];
	Halle__Distribution *d;
	char id[ID_MAX], dkey[DBKEY_MAX];
	int rc = 0;

	if (dbkey_last_id(key, klen, id) == NULL)
		return 0;
	dbkey_entity(dkey, 'D', id);
	d = VIEW_LOAD(nt->t, Distribution, distribution, dkey, owner);
	if (d == NULL)
		return 0;
	if (memcmp(owner, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0 &&
	    !d->closed && !d->cancelled && nt->now_ms / 1000 >= d->closes_at) {
		d->closed = 1;
		rc = distribution_append_next(nt, d);
		/* What no order used goes back, to be sold elsewhere. */
		if (rc == 0)
			rc = stock_release_market(nt, d->market, d->date);
		ctx->marked++;
	}
	view_free(d);
	return rc;
}

static int
close_due_op(struct node_txn *nt, void *arg)
{
	struct close_due *ctx = arg;

	char prefix[DBKEY_MAX];

	ctx->nt = nt;
	ctx->marked = 0;
	dbkey_all(prefix, 'm');
	return views_index_scan(nt->t, prefix, close_one, ctx);
}

int
service_close_due(struct node *n, struct halle_error *err)
{
	struct close_due ctx = { NULL, 0 };

	if (node_mutate(n, close_due_op, &ctx, err) == -1)
		return -1;
	return ctx.marked;
}

static int
rule_pending_op(struct node_txn *nt, void *arg)
{
	return stock_rule_queued(nt);
}

int
service_rule_pending(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	char prefix[DBKEY_MAX];
	int queued = 0;

	if (!node_may_write(n))
		return 0;
	/* Most of the time there is nothing queued: look before writing. */
	if (service_read_begin(n, &t, err) == -1)
		return -1;
	dbkey_all(prefix, 'q');
	views_index_scan(&t, prefix, has_key, &queued);
	store_read_end(&t);
	if (!queued)
		return 0;
	return node_mutate(n, rule_pending_op, NULL, err);
}

