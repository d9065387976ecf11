/*
 * views: the current state of markets, producers, catalogues and orders,
 * derived from the feeds.
 *
 * The feeds are the truth; the views are what applying them gives. Every
 * record, the node's own or (later) a peer's, goes through views_apply(),
 * so a view can always be rebuilt and checked against its feed. An entity
 * is stored as the origin's key (32 bytes) followed by the encoded body of
 * its latest version; secondary keys (names, a market's days, a
 * distribution's orders, a producer's days) live in the index database.
 * dbkey.h is the one place that lays the keys out; the stock's rows are
 * stock.c's (stock.h).
 *
 * The node that is home to a producer (the origin of its Producer record)
 * is the authority for its stock: when an order reaches it, it rules on the
 * lines of its producers and appends a Confirmation.
 */
#ifndef HALLE_VIEWS_H
#define HALLE_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "bodies.pb-c.h"

/*
 * The most lines an order's part or a home's ruling may have: what the
 * control API lets an order have (SERVICE_MAX_LINES). A record with more
 * was written by no honest node, and is ignored by the views.
 */
#define VIEWS_MAX_LINES	200
#include "key.h"
#include "node.h"
#include "record.h"
#include "store.h"

/* Applies one record, already appended to its feed. 0 or -1 (nt->err). */
int	views_apply(struct node_txn *nt, const struct record *r);

/*
 * Loads the latest version of an entity: the unpacked message (free with
 * protobuf_c_message_free_unpacked) or NULL when absent or unreadable.
 * origin, when not NULL, receives the owner's key.
 */
void	*view_load(struct store_txn *t, const ProtobufCMessageDescriptor *desc,
	    const char *key, unsigned char *origin);
#define VIEW_LOAD(t, type, lower, key, origin) \
	((Halle__##type *)view_load(t, &halle__##lower##__descriptor, key, origin))
void	 view_free(void *msg);

/* Loaders by id; NULL when absent. */
Halle__Producer		*views_producer(struct store_txn *t, const char *id,
			    unsigned char *origin);
Halle__Catalogue	*views_catalogue(struct store_txn *t, const char *producer);
Halle__Market		*views_market(struct store_txn *t, const char *id);
Halle__Distribution	*views_distribution(struct store_txn *t, const char *id);
Halle__Order		*views_order(struct store_txn *t, const char *id);
Halle__Membership	*views_membership(struct store_txn *t, char which,
			    const char *market, const char *producer);

/* 1 when the producer sells at the market (invited and accepted). */
int	views_sells_at(struct store_txn *t, const char *market,
	    const char *producer);

/* The product of a catalogue with that sku, or NULL. */
Halle__Product *catalogue_product(const Halle__Catalogue *c, const char *sku);

/*
 * The decision on one (producer, sku) line of an order, from the
 * confirmations held; NULL while none (the line is pending). The returned
 * decision belongs to *conf_out, which the caller frees with view_free.
 */
const Halle__LineDecision *views_decision(struct store_txn *t,
	    const char *order, const char *producer, const char *sku,
	    void **conf_out);

/*
 * Where a line of an order stands: confirmed by the market's node from its
 * stock rights (all of it: ruled_locally), ruled by the producer's home
 * for the rest, or pending while the home has not ruled on this version
 * of the order. confirmed counts both. reason points into conf, which the
 * caller frees with view_free.
 */
struct views_line {
	Halle__LineState	 state;
	uint64_t		 confirmed;
	uint64_t		 confirmed_locally;
	int			 ruled_locally;
	const char		*reason;	/* "" when none */
	void			*conf;
};
void	views_line_state(struct store_txn *t, const Halle__Order *o,
	    const Halle__OrderLine *l, struct views_line *vl);

/* s in lower case into out (outlen bytes, truncated): how names are indexed. */
void	views_lower(char *out, size_t outlen, const char *s);
/*
 * Resolves a reference to a producer ('P') or market ('M'): an id, or an
 * exact name (case-insensitive) held by one. Fills id (ID_MAX bytes) and
 * returns 0; 1 when nothing matches; 2 when several names match; -1 on a
 * store error.
 */
int	views_resolve(struct store_txn *t, char kind, const char *ref,
	    char *id);

/*
 * The home node of a producer (the origin of its Producer record) or the
 * node of a market (of its Market record), into a 32-byte key: 0, or -1
 * when the entity is not held.
 */
int	views_producer_home(struct store_txn *t, const char *producer,
	    unsigned char *home);
int	views_market_owner(struct store_txn *t, const char *market,
	    unsigned char *owner);


/* Calls fn for each key (with its value) of the index under prefix. */
int	views_index_scan(struct store_txn *t, const char *prefix,
	    store_scan_fn fn, void *arg);

#endif
