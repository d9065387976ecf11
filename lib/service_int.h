/*
 * service_int: what the service files share: reading fields of a JSON
 * request and rendering entities as JSON. Not for use outside lib/service*.c.
 */
#ifndef HALLE_SERVICE_INT_H
#define HALLE_SERVICE_INT_H

#include <jansson.h>

#include "error.h"
#include "ids.h"
#include "node.h"
#include "service.h"
#include "store.h"
#include "views.h"

/*
 * A string field: absent or null gives "" unless required. Refuses other
 * types, an empty required value, more than maxlen bytes and control
 * characters, naming the field.
 */
int	req_string(json_t *req, const char *field, int required,
	    size_t maxlen, const char **out, struct halle_error *err);
/* An integer field; *present says whether it was given (not null). */
int	req_integer(json_t *req, const char *field, int *present,
	    long long *out, struct halle_error *err);

/* Resolves a producer or market reference, or fills err (404/409). */
int	resolve_producer(struct store_txn *t, const char *ref, char *id,
	    struct halle_error *err);
int	resolve_market(struct store_txn *t, const char *ref, char *id,
	    struct halle_error *err);

json_t	*render_producer(struct store_txn *t, const Halle__Producer *p);
json_t	*render_catalogue(struct store_txn *t, const Halle__Catalogue *c);
json_t	*render_market(struct store_txn *t, const Halle__Market *m);
json_t	*render_distribution(struct store_txn *t,
	    const Halle__Distribution *d, int64_t now_ms);
json_t	*render_order(struct store_txn *t, const Halle__Order *o);

/*
 * 0 when the entity stored under view_key ("M:<id>", "D:<id>"...) was
 * written by this node, or is not held; otherwise 403 not_owner naming
 * what (e.g. "market mk-...") and -1. Only an entity's own node changes
 * it: a record about it from another node would be ignored everywhere.
 */
int	owned_here(struct node_txn *nt, const char *view_key, const char *what);

/*
 * The ruling on the (producer, sku) line of this version of order o, or
 * NULL while it is pending: a ruling on an older version says nothing of
 * this one. *conf_out, set either way, is freed with view_free.
 */
const Halle__LineDecision *current_decision(struct store_txn *t,
	    const Halle__Order *o, const char *producer, const char *sku,
	    void **conf_out);

/* The id that ends an index key ("o:<d>:<id>") into out, or NULL. */
const char *key_tail(const char *key, size_t klen, char *out);

/* Opens a read snapshot or fills err. */
int	read_begin(struct node *n, struct store_txn *t,
	    struct halle_error *err);

#endif
