/*
 * views_read: reading the views (views.h): an entity by its id, a
 * producer's home, the markets a producer sells at, names resolved to ids
 * and scans of the index. Nothing here writes; views.c applies records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "ids.h"
#include "views.h"

#define KEY_MAX	DBKEY_MAX

void *
view_load(struct store_txn *t, const ProtobufCMessageDescriptor *desc,
    const char *key, unsigned char *origin)
{
	const void *v;
	size_t vlen;

	if (store_get(t, STORE_VIEWS, key, strlen(key), &v, &vlen) != 0 ||
	    vlen < KEY_PUBLIC_LEN)
		return NULL;
	if (origin != NULL)
		memcpy(origin, v, KEY_PUBLIC_LEN);
	return protobuf_c_message_unpack(desc, NULL, vlen - KEY_PUBLIC_LEN,
	    (const uint8_t *)v + KEY_PUBLIC_LEN);
}

void
view_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

Halle__Producer *
views_producer(struct store_txn *t, const char *id, unsigned char *origin)
{
	char key[KEY_MAX];

	dbkey_entity(key, 'P', id);
	return VIEW_LOAD(t, Producer, producer, key, origin);
}

Halle__Catalogue *
views_catalogue(struct store_txn *t, const char *producer)
{
	char key[KEY_MAX];

	dbkey_entity(key, 'K', producer);
	return VIEW_LOAD(t, Catalogue, catalogue, key, NULL);
}

Halle__Market *
views_market(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	dbkey_entity(key, 'M', id);
	return VIEW_LOAD(t, Market, market, key, NULL);
}

Halle__Distribution *
views_distribution(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	dbkey_entity(key, 'D', id);
	return VIEW_LOAD(t, Distribution, distribution, key, NULL);
}

Halle__Order *
views_order(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	dbkey_entity(key, 'O', id);
	return VIEW_LOAD(t, Order, order, key, NULL);
}

Halle__Membership *
views_membership(struct store_txn *t, char which, const char *market,
    const char *producer)
{
	char key[KEY_MAX];

	dbkey_membership(key, which, market, producer);
	return VIEW_LOAD(t, Membership, membership, key, NULL);
}

int
views_sells_at(struct store_txn *t, const char *market, const char *producer)
{
	Halle__Membership *inv, *acc;
	int yes;

	inv = views_membership(t, 'I', market, producer);
	acc = views_membership(t, 'A', market, producer);
	yes = inv != NULL && inv->active && acc != NULL && acc->active;
	view_free(inv);
	view_free(acc);
	return yes;
}

Halle__Product *
catalogue_product(const Halle__Catalogue *c, const char *sku)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n_products; i++)
		if (strcmp(c->products[i]->sku, sku) == 0)
			return c->products[i];
	return NULL;
}

int
views_producer_home(struct store_txn *t, const char *producer,
    unsigned char *home)
{
	Halle__Producer *p = views_producer(t, producer, home);

	if (p == NULL)
		return -1;
	view_free(p);
	return 0;
}

struct resolve_ctx {
	char	*id;
	int	 matches;
};

static int
resolve_name(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct resolve_ctx *ctx = arg;
	const char *k = key;
	size_t nul;

	if (++ctx->matches > 1)
		return 1;
	for (nul = klen; nul > 0 && k[nul - 1] != '\0'; nul--)
		;
	if (nul == 0 || klen - nul >= ID_MAX)
		return -1;
	memcpy(ctx->id, k + nul, klen - nul);
	ctx->id[klen - nul] = '\0';
	return 0;
}

int
views_resolve(struct store_txn *t, char kind, const char *ref, char *id)
{
	struct resolve_ctx ctx = { id, 0 };
	char key[KEY_MAX], lower[KEY_MAX - 8];
	const void *v;
	size_t vlen, klen;
	int rc;

	if (strlen(ref) < ID_MAX) {
		klen = dbkey_entity(key, kind, ref);
		rc = store_get(t, STORE_VIEWS, key, klen, &v, &vlen);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			snprintf(id, ID_MAX, "%s", ref);
			return 0;
		}
	}
	views_lower(lower, sizeof(lower), ref);
	if ((klen = dbkey_name(key, kind, lower, NULL)) == 0)
		return 1;
	if (store_scan(t, STORE_INDEX, key, klen, resolve_name, &ctx) == -1)
		return -1;
	return ctx.matches == 0 ? 1 : ctx.matches == 1 ? 0 : 2;
}

int
views_index_scan(struct store_txn *t, const char *prefix, store_scan_fn fn,
    void *arg)
{
	return store_scan(t, STORE_INDEX, prefix, strlen(prefix), fn, arg);
}

int
views_market_owner(struct store_txn *t, const char *market,
    unsigned char *owner)
{
	char key[KEY_MAX];
	Halle__Market *m;

	dbkey_entity(key, 'M', market);
	if ((m = VIEW_LOAD(t, Market, market, key, owner)) == NULL)
		return -1;
	view_free(m);
	return 0;
}
