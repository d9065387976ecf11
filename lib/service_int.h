/*
 * service_int: what the service files share: the helpers of the rules
 * (service.c) and the entities rendered as JSON (service_json_render.c).
 * Requests come typed (service.h), read by service_json.h. Not for use
 * outside lib/service*.c.
 */
#ifndef HALLE_SERVICE_INT_H
#define HALLE_SERVICE_INT_H

#include <jansson.h>

#include "dbkey.h"
#include "error.h"
#include "ids.h"
#include "node.h"
#include "service.h"
#include "store.h"
#include "views.h"

/* service.c: what the rules share */

/* Opens a read snapshot or fills err. */
int	service_read_begin(struct node *n, struct store_txn *t,
	    struct halle_error *err);

/*
 * The version that follows held (0: nothing held) into *next; at
 * SERVICE_MAX_VERSION, -1 and invalid_field naming what ("order or-...").
 */
int	service_version_next(uint64_t held, uint64_t *next, const char *what,
	    struct halle_error *err);

/* Resolves a producer or market reference, or fills err (404/409). */
int	service_resolve_producer(struct store_txn *t, const char *ref,
	    char *id, struct halle_error *err);
int	service_resolve_market(struct store_txn *t, const char *ref,
	    char *id, struct halle_error *err);

/*
 * 0 when the entity of that kind and id ('P', 'M', 'D'... as dbkey.h) was
 * written by this node, or is not held; otherwise not_owner naming what
 * (e.g. "market mk-...") and -1. Only an entity's own node changes it: a
 * record about it from another node would be ignored everywhere.
 */
int	service_owned_here(struct node_txn *nt, char kind, const char *id,
	    const char *what);
/* service_owned_here for a distribution (service_distributions.c). */
int	service_distribution_owned_here(struct node_txn *nt, const char *id);

/*
 * The id of an entity this node creates with the next record it appends
 * (ids_bound): into out (ID_MAX). 0, or -1 with nt->err filled.
 */
int	service_id_for_next_record(struct node_txn *nt, char *out,
	    const char *prefix);

/*
 * For a route about a producer's day: checks date (YYYY-MM-DD), opens a
 * read snapshot t and resolves producer_ref into producer (ID_MAX). 0 with
 * t open, or -1 with err filled and nothing open.
 */
int	service_producer_day_begin(struct node *n, const char *producer_ref,
	    const char *date, struct store_txn *t, char *producer,
	    struct halle_error *err);

/*
 * 0 when no producer ('P') or market ('M') is named name yet; otherwise
 * name_taken and -1.
 */
int	service_name_taken(struct store_txn *t, char kind, const char *name,
	    struct halle_error *err);
/* The ids of producers ('P') or markets ('M'), ordered by name. */
json_t	*service_ids_by_name(struct store_txn *t, char kind);

/* A list being built from an index scan. */
struct list_ctx {
	struct node		*node;
	struct store_txn	*t;
	json_t			*list;
};

/* service_json_render.c: entities as the API answers them */

json_t	*service_json_render_producer(struct store_txn *t,
	    const Halle__Producer *p);
json_t	*service_json_render_catalogue(struct store_txn *t,
	    const Halle__Catalogue *c);
json_t	*service_json_render_market(struct store_txn *t,
	    const Halle__Market *m);
json_t	*service_json_render_distribution(struct store_txn *t,
	    const Halle__Distribution *d, int64_t now_ms);
json_t	*service_json_render_order(struct store_txn *t,
	    const Halle__Order *o);

#endif
