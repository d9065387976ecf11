/*
 * views_lines: where a line of an order stands (views.h): the home's
 * ruling on it, read from the rulings held, and what it confirmed in all
 * with what its market's node confirmed itself.
 */
#include <string.h>

#include "dbkey.h"
#include "views.h"

struct decision_find {
	const char		*producer, *sku;
	Halle__Confirmation	*found;
	const Halle__LineDecision *decision;
};

static int
find_decision(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct decision_find *f = arg;
	Halle__Confirmation *c;
	size_t i;

	if (vlen < KEY_PUBLIC_LEN)
		return 0;
	c = halle__confirmation__unpack(NULL, vlen - KEY_PUBLIC_LEN,
	    (const uint8_t *)val + KEY_PUBLIC_LEN);
	if (c == NULL)
		return 0;
	for (i = 0; i < c->n_lines; i++) {
		if (strcmp(c->lines[i]->producer, f->producer) == 0 &&
		    strcmp(c->lines[i]->sku, f->sku) == 0) {
			f->found = c;
			f->decision = c->lines[i];
			return 1;
		}
	}
	view_free(c);
	return 0;
}

const Halle__LineDecision *
views_decision(struct store_txn *t, const char *order, const char *producer,
    const char *sku, void **conf_out)
{
	struct decision_find f = { producer, sku, NULL, NULL };
	char prefix[DBKEY_MAX];
	size_t plen;

	plen = dbkey_ruling(prefix, order, NULL);
	store_scan(t, STORE_VIEWS, prefix, plen, find_decision, &f);
	*conf_out = f.found;
	return f.decision;
}

void
views_line_state(struct store_txn *t, const Halle__Order *o,
    const Halle__OrderLine *l, struct views_line *vl)
{
	const Halle__LineDecision *ld;
	Halle__Distribution *d;
	int cancelled;

	memset(vl, 0, sizeof(*vl));
	vl->reason = "";
	/* Nothing of a cancelled order or day is to be handed over. */
	d = views_distribution(t, o->distribution);
	cancelled = d != NULL && d->cancelled;
	view_free(d);
	if (o->cancelled || cancelled) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_REFUSED;
		vl->reason = o->cancelled ? "order cancelled" :
		    "distribution cancelled";
		vl->ruled_locally = l->confirmed_locally > 0;
		return;
	}
	vl->confirmed_locally = l->confirmed_locally < l->quantity ?
	    l->confirmed_locally : l->quantity;
	vl->confirmed = vl->confirmed_locally;
	if (vl->confirmed_locally == l->quantity) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_CONFIRMED;
		vl->ruled_locally = 1;
		return;
	}
	ld = views_decision(t, o->id, l->producer, l->sku, &vl->conf);
	/* A ruling on an older version of the order says nothing of this one. */
	if (ld == NULL || ((Halle__Confirmation *)vl->conf)->order_version !=
	    o->version) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_PENDING;
		return;
	}
	vl->confirmed += ld->confirmed;
	vl->state = vl->confirmed > 0 ? HALLE__LINE_STATE__LINE_STATE_CONFIRMED :
	    HALLE__LINE_STATE__LINE_STATE_REFUSED;
	vl->reason = ld->reason;
}
