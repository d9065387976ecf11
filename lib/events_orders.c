/*
 * events_orders: what applying a record changes for a website (events.h):
 * catalogues and distributions at once, orders and their lines once the
 * write transaction is done with them.
 *
 * An order changes in several steps of one transaction: its parts, then
 * the home's ruling on them (at the home, in the same transaction), a
 * re-ruling when stock moves. Its events are decided at the end, in
 * events_flush, by comparing the order as it now stands with what the log
 * last said of it, kept under l:<order>:
 *
 *   version (8, big-endian) | cancelled (1) |
 *     per line: producer NUL sku NUL state (1) confirmed (8, big-endian)
 *
 * so that an event says a change the log has not said yet, once: a
 * ruling that leaves a line as it was says nothing, and a line pending
 * and confirmed within one transaction is only confirmed.
 */
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "events.h"
#include "ids.h"
#include "log.h"
#include "views.h"

/* A peer's strings, as an event holds them (events.h). */
#define ID(s)		events_text((s), ID_MAX - 1)
#define LABEL(s)	events_text((s), EVENTS_LABEL_MAX)

static const char *const line_types[] = {
	[HALLE__LINE_STATE__LINE_STATE_PENDING] = "line.pending",
	[HALLE__LINE_STATE__LINE_STATE_CONFIRMED] = "line.confirmed",
	[HALLE__LINE_STATE__LINE_STATE_REFUSED] = "line.refused",
};

int
events_catalogue(struct node_txn *nt, const Halle__Catalogue *c)
{
	return events_append(nt, "catalogue.published", json_pack(
	    "{s:o, s:I, s:I}", "producer", ID(c->producer), "version",
	    (json_int_t)c->version, "products", (json_int_t)c->n_products));
}

static int
distribution_event(struct node_txn *nt, const char *type,
    const Halle__Distribution *d)
{
	return events_append(nt, type, json_pack("{s:o, s:o, s:o, s:I}",
	    "distribution", ID(d->id), "market", ID(d->market), "date",
	    ID(d->date), "version", (json_int_t)d->version));
}

int
events_distribution(struct node_txn *nt, const Halle__Distribution *held,
    const Halle__Distribution *d)
{
	if (held == NULL && distribution_event(nt, "distribution.opened",
	    d) == -1)
		return -1;
	if (d->cancelled && (held == NULL || !held->cancelled))
		return distribution_event(nt, "distribution.cancelled", d);
	if (d->closed && (held == NULL || !held->closed))
		return distribution_event(nt, "distribution.closed", d);
	return 0;
}

int
events_order_touched(struct node_txn *nt, const char *order)
{
	char key[DBKEY_MAX];
	size_t klen;

	/* Not an order's id: nothing is held under it (and no key says it). */
	if (!ids_valid(order, "or") ||
	    (klen = dbkey_order_touched(key, order)) == 0)
		return 0;
	return store_put(nt->t, STORE_INDEX, key, klen, "", 0) == -1 ?
	    error_set(nt->err, HALLE_E_STORE, "cannot write the log") : 0;
}

/* What the log last said of an order (see the top of the file). */
struct said {
	unsigned char	*data;		/* a copy of the value; NULL: nothing */
	size_t		 len;
	uint64_t	 version;
	int		 cancelled;
};

static int
said_load(struct store_txn *t, const char *order, struct said *s)
{
	char key[DBKEY_MAX];
	const void *v;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = store_get(t, STORE_INDEX, key, dbkey_order_said(key, order), &v,
	    &s->len);
	if (rc != 0 || s->len < 9)
		return rc == -1 ? -1 : 0;
	if ((s->data = malloc(s->len)) == NULL)
		return -1;
	memcpy(s->data, v, s->len);
	s->version = 0;
	for (rc = 0; rc < 8; rc++)
		s->version = s->version << 8 | s->data[rc];
	s->cancelled = s->data[8];
	return 0;
}

/* The state and quantity said of a line; 0, or -1 when none was. */
static int
said_line(const struct said *s, const char *producer, const char *sku,
    int *state, uint64_t *confirmed)
{
	const unsigned char *p, *end, *pnul, *snul;
	int i;

	if (s->data == NULL)
		return -1;
	for (p = s->data + 9, end = s->data + s->len; p < end; ) {
		if ((pnul = memchr(p, '\0', (size_t)(end - p))) == NULL ||
		    (snul = memchr(pnul + 1, '\0', (size_t)(end - pnul - 1))) ==
		    NULL || end - snul < 10)
			return -1;	/* cut short: say it all again */
		if (strcmp((const char *)p, producer) == 0 &&
		    strcmp((const char *)pnul + 1, sku) == 0) {
			*state = snul[1];
			for (*confirmed = 0, i = 0; i < 8; i++)
				*confirmed = *confirmed << 8 | snul[2 + i];
			return 0;
		}
		p = snul + 10;
	}
	return -1;
}

/* What is said now, built as the lines are read. */
struct saying {
	unsigned char	*data;
	size_t		 len, cap;
};

static int
saying_add(struct saying *w, const void *p, size_t n)
{
	unsigned char *bigger;
	size_t cap;

	if (w->len + n > w->cap) {
		for (cap = w->cap ? w->cap : 256; cap < w->len + n; cap *= 2)
			;
		if ((bigger = realloc(w->data, cap)) == NULL)
			return -1;
		w->data = bigger;
		w->cap = cap;
	}
	memcpy(w->data + w->len, p, n);
	w->len += n;
	return 0;
}

static int
saying_u64(struct saying *w, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	return saying_add(w, b, 8);
}

static int
order_event(struct node_txn *nt, const char *type, const Halle__Order *o)
{
	return events_append(nt, type, json_pack("{s:o, s:o, s:o, s:I, s:I}",
	    "order", ID(o->id), "distribution", ID(o->distribution), "basket",
	    LABEL(o->basket), "version", (json_int_t)o->version, "lines",
	    (json_int_t)o->n_lines));
}

/* The order's own events, from what was said of it. */
static int
order_events(struct node_txn *nt, const Halle__Order *o,
    const struct said *s)
{
	if (s->data == NULL && order_event(nt, "order.placed", o) == -1)
		return -1;
	if (o->cancelled && (s->data == NULL || !s->cancelled))
		return order_event(nt, "order.cancelled", o);
	if (s->data != NULL && o->version > s->version && !o->cancelled)
		return order_event(nt, "order.changed", o);
	return 0;
}

static int
line_event(struct node_txn *nt, const Halle__Order *o,
    const Halle__OrderLine *l, const struct views_line *vl)
{
	json_t *f;

	f = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I}",
	    "order", ID(o->id), "distribution", ID(o->distribution), "basket",
	    LABEL(o->basket), "producer", ID(l->producer), "sku",
	    LABEL(l->sku), "quantity", (json_int_t)l->quantity, "confirmed",
	    (json_int_t)vl->confirmed, "confirmed_locally",
	    (json_int_t)vl->confirmed_locally);
	if (f != NULL && vl->reason[0] != '\0' && json_object_set_new(f,
	    "reason", events_text(vl->reason, EVENTS_TEXT_MAX)) == -1) {
		json_decref(f);
		f = NULL;
	}
	return events_append(nt, line_types[vl->state <= 2 ? vl->state : 0],
	    f);
}

/*
 * One line: its event when it is not what was said (quiet is 1 for a
 * cancelled order or day), and what is said of it now.
 */
static int
line_step(struct node_txn *nt, const Halle__Order *o,
    const Halle__OrderLine *l, const struct said *s, int quiet,
    struct saying *w)
{
	struct views_line vl;
	uint64_t was_confirmed;
	unsigned char state;
	int was, rc = 0;

	views_line_state(nt->t, o, l, &vl);
	state = (unsigned char)vl.state;
	if (said_line(s, l->producer, l->sku, &was, &was_confirmed) == -1 ?
	    vl.state != HALLE__LINE_STATE__LINE_STATE_PENDING :
	    was != (int)vl.state || was_confirmed != vl.confirmed)
		rc = quiet ? 0 : line_event(nt, o, l, &vl);
	if (rc == 0 && (saying_add(w, l->producer, strlen(l->producer) + 1) ==
	    -1 || saying_add(w, l->sku, strlen(l->sku) + 1) == -1 ||
	    saying_add(w, &state, 1) == -1 || saying_u64(w, vl.confirmed) ==
	    -1))
		rc = error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	view_free(vl.conf);
	return rc;
}

/* The events of one order touched in the transaction. */
static int
order_flush(struct node_txn *nt, const char *id)
{
	struct saying w = { NULL, 0, 0 };
	Halle__Distribution *d = NULL;
	Halle__Order *o;
	unsigned char cancelled;
	struct said s;
	char key[DBKEY_MAX];
	size_t i;
	int quiet, rc;

	if ((o = views_order(nt->t, id)) == NULL)
		return 0;
	if (said_load(nt->t, id, &s) == -1) {
		view_free(o);
		return error_set(nt->err, HALLE_E_STORE, "cannot read the log");
	}
	d = views_distribution(nt->t, o->distribution);
	quiet = o->cancelled || (d != NULL && d->cancelled);
	cancelled = (unsigned char)o->cancelled;
	rc = order_events(nt, o, &s);
	if (rc == 0 && (saying_u64(&w, o->version) == -1 ||
	    saying_add(&w, &cancelled, 1) == -1))
		rc = error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	for (i = 0; rc == 0 && i < o->n_lines; i++)
		rc = line_step(nt, o, o->lines[i], &s, quiet, &w);
	if (rc == 0 && store_put(nt->t, STORE_INDEX, key,
	    dbkey_order_said(key, id), w.data, w.len) == -1)
		rc = error_set(nt->err, HALLE_E_STORE, "cannot write the log");
	free(w.data);
	free(s.data);
	view_free(d);
	view_free(o);
	return rc;
}

/* A t: key as it was scanned, and the order it names (when it does). */
struct touched_key {
	char	 key[DBKEY_MAX];
	size_t	 klen;
	char	 id[ID_MAX];
	int	 valid;
};

struct touched {
	struct touched_key	*keys;
	size_t			 n, cap;
};

static int
touched_collect(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct touched *tc = arg;
	struct touched_key *bigger, *k;

	if (tc->n == tc->cap) {
		tc->cap = tc->cap ? 2 * tc->cap : 16;
		if ((bigger = realloc(tc->keys, tc->cap * sizeof(*bigger))) ==
		    NULL)
			return -1;
		tc->keys = bigger;
	}
	if (klen > DBKEY_MAX)
		return -1;	/* no builder makes one */
	k = &tc->keys[tc->n++];
	memcpy(k->key, key, klen);
	k->klen = klen;
	k->valid = dbkey_last_id(key, klen, k->id) != NULL &&
	    klen == 2 + strlen(k->id) && ids_valid(k->id, "or");
	return 0;
}

/*
 * Each t: key goes, as it was scanned, whether or not it names an order
 * (one written before ids were checked): none is left to scan again.
 */
int
events_flush(struct node_txn *nt)
{
	struct touched tc = { NULL, 0, 0 };
	struct touched_key *k;
	char key[DBKEY_MAX];
	size_t i, klen;
	int rc;

	klen = dbkey_order_touched(key, NULL);
	if ((rc = store_scan(nt->t, STORE_INDEX, key, klen, touched_collect,
	    &tc)) == -1)
		rc = error_set(nt->err, nt->t->ret ? HALLE_E_STORE :
		    HALLE_E_INTERNAL, "cannot read the orders changed");
	for (i = 0; rc == 0 && i < tc.n; i++) {
		k = &tc.keys[i];
		if (store_del(nt->t, STORE_INDEX, k->key, k->klen) == -1)
			rc = error_set(nt->err, HALLE_E_STORE, "cannot write "
			    "the log");
		else if (k->valid)
			rc = order_flush(nt, k->id);
	}
	free(tc.keys);
	return rc;
}
