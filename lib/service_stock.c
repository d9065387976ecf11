/*
 * service_stock: a producer's stock on a day and the rights its markets
 * hold (service_stock), and the stock work of the chores (service_stock_work). The
 * rules themselves are in stock.c; this renders what they keep.
 */
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "service_int.h"
#include "stock.h"
#include "timeutil.h"

/* One market's line of the answer, as it is being added up. */
struct stock_market {
	char		 id[ID_MAX];
	char		 sku[DBKEY_SKU_MAX];
	struct stock_rights rights;
	uint64_t	 confirmed;
	int		 readable;	/* this node can read its orders */
};

struct stock_view {
	struct node		*node;
	struct store_txn	*t;
	const char		*producer, *date;
	int			 home;		/* this node is the home */
	struct stock_market	*m;
	size_t			 n, cap;
};

static struct stock_market *
market_of(struct stock_view *sv, const char *market, const char *sku)
{
	struct stock_market *bigger, *m;
	unsigned char owner[KEY_PUBLIC_LEN];
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->m[i].id, market) == 0 &&
		    strcmp(sv->m[i].sku, sku) == 0)
			return &sv->m[i];
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? 2 * sv->cap : 8;
		if ((bigger = realloc(sv->m, sv->cap * sizeof(*bigger))) ==
		    NULL)
			return NULL;
		sv->m = bigger;
	}
	m = &sv->m[sv->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", market);
	snprintf(m->sku, sizeof(m->sku), "%s", sku);
	stock_rights_get(sv->t, sv->producer, sv->date, sku, market,
	    &m->rights);
	m->readable = sv->home || (views_market_owner(sv->t, market,
	    owner) == 0 && memcmp(owner, sv->node->key.public_key,
	    KEY_PUBLIC_LEN) == 0);
	return m;
}

static int
add_row(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	char sku[DBKEY_SKU_MAX], market[ID_MAX];

	if (dbkey_rights_parse(key, klen, NULL, sku, market) == 0)
		market_of(arg, market, sku);
	return 0;
}

/* Every order of the producer's day this node can read, by market. */
static int
add_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct stock_view *sv = arg;
	Halle__Distribution *d = NULL;
	struct stock_market *m;
	struct views_line vl;
	Halle__Order *o;
	char id[ID_MAX];
	size_t j;

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(sv->t, id)) == NULL)
		return 0;
	if ((d = views_distribution(sv->t, o->distribution)) != NULL)
		for (j = 0; j < o->n_lines; j++) {
			if (strcmp(o->lines[j]->producer, sv->producer) != 0 ||
			    (m = market_of(sv, d->market,
			    o->lines[j]->sku)) == NULL)
				continue;
			views_line_state(sv->t, o, o->lines[j], &vl);
			m->confirmed += vl.confirmed;
			view_free(vl.conf);
		}
	view_free(d);
	view_free(o);
	return 0;
}

static json_t *
render_product(struct stock_view *sv, const Halle__Product *p)
{
	unsigned char owner[KEY_PUBLIC_LEN];
	char hex[KEY_HEX_LEN + 1];
	json_t *markets = json_array(), *j;
	uint64_t committed;
	size_t i;

	for (i = 0; i < sv->n; i++) {
		struct stock_market *m = &sv->m[i];

		if (strcmp(m->sku, p->sku) != 0)
			continue;
		hex[0] = '\0';
		if (views_market_owner(sv->t, m->id, owner) == 0)
			hex_encode(hex, owner, KEY_PUBLIC_LEN);
		j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "market", m->id,
		    "node", hex, "granted", (json_int_t)m->rights.granted,
		    "released", (json_int_t)m->rights.released,
		    "wanted", (json_int_t)m->rights.wanted,
		    "free", (json_int_t)stock_rights_free(&m->rights));
		json_object_set_new(j, "confirmed", m->readable ?
		    json_integer((json_int_t)m->confirmed) : json_null());
		json_array_append_new(markets, j);
	}
	j = json_pack("{s:s, s:I, s:o}", "sku", p->sku,
	    "stock", (json_int_t)p->stock_per_day, "markets", markets);
	/* Only the home knows its own rulings, hence the reserve. */
	committed = stock_taken(sv->t, sv->producer, sv->date, p->sku) +
	    stock_held_by_markets(sv->t, sv->producer, sv->date, p->sku);
	json_object_set_new(j, "reserve", sv->home ? json_integer((json_int_t)
	    (p->stock_per_day > committed ? p->stock_per_day - committed :
	    0)) : json_null());
	return j;
}

json_t *
service_stock(struct node *n, const char *producer_ref, const char *date,
    struct halle_error *err)
{
	struct stock_view sv = { n, NULL, NULL, date, 0, NULL, 0, 0 };
	unsigned char home[KEY_PUBLIC_LEN];
	char producer[ID_MAX], prefix[DBKEY_MAX];
	struct store_txn t;
	Halle__Catalogue *c;
	json_t *products, *answer;
	size_t i, plen;

	if (service_producer_day_begin(n, producer_ref, date, &t, producer,
	    err) == -1)
		return NULL;
	sv.t = &t;
	sv.producer = producer;
	sv.home = views_producer_home(&t, producer, home) == 0 &&
	    memcmp(home, n->key.public_key, KEY_PUBLIC_LEN) == 0;
	if ((plen = dbkey_rights_day(prefix, producer, date)) > 0)
		store_scan(&t, STORE_INDEX, prefix, plen, add_row, &sv);
	dbkey_producer_day(prefix, producer, date, NULL);
	views_index_scan(&t, prefix, add_order, &sv);
	products = json_array();
	c = views_catalogue(&t, producer);
	for (i = 0; c != NULL && i < c->n_products; i++)
		if (c->products[i]->limited)
			json_array_append_new(products,
			    render_product(&sv, c->products[i]));
	view_free(c);
	answer = json_pack("{s:s, s:s, s:b, s:o}", "producer", producer,
	    "date", date, "home", sv.home, "products", products);
	store_read_end(&t);
	free(sv.m);
	return answer;
}

static int
stock_work_op(struct node_txn *nt, void *arg)
{
	int rc = stock_work(nt);

	if (rc >= 0)
		*(int *)arg = rc;
	return rc < 0 ? -1 : 0;
}

int
service_stock_work(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	int due, written = 0;

	if (!node_may_write(n))
		return 0;
	/* Most of the time there is nothing to do: look before writing. */
	if (service_read_begin(n, &t, err) == -1)
		return -1;
	due = stock_work_due(n, &t);
	store_read_end(&t);
	if (!due)
		return 0;
	if (node_mutate(n, stock_work_op, &written, err) == -1)
		return -1;
	return written;
}
