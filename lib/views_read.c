/*
 * views_read: the loaders of views.h: an entity of the views by its id,
 * a catalogue's product by its sku, whether a producer sells at a market.
 */
#include <string.h>

#include "dbkey.h"
#include "views.h"

#define KEY_MAX	DBKEY_MAX

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
