/*
 * status: see status.h.
 */
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "hex.h"
#include "status.h"
#include "store.h"

const char *
status_peer_state(const struct peer_status *p)
{
	if (p->key_refused)
		return "refused";
	switch (p->state) {
	case SYNC_UP:
		return "up";
	case SYNC_REFUSED:
		return "refused";
	case SYNC_DOWN:
		return "down";
	default:
		return "connecting";
	}
}

int
status_peer_up(const struct peer_status *p)
{
	return p->state == SYNC_UP && !p->key_refused;
}

const char *
status_node_name(const struct halle_config *cfg, const unsigned char *self,
    const unsigned char *origin)
{
	const struct config_peer *peer;

	if (memcmp(origin, self, KEY_PUBLIC_LEN) == 0)
		return cfg->name;
	peer = config_peer_by_key(cfg, origin);
	return peer != NULL ? peer->name : NULL;
}

int
status_in_grouping(const struct halle_config *cfg, size_t g,
    const unsigned char *self, const unsigned char *origin)
{
	const struct config_grouping *cg = &cfg->groupings[g];
	size_t i;

	if (memcmp(origin, self, KEY_PUBLIC_LEN) == 0)
		return 1;
	for (i = 0; i < cg->nmembers; i++)
		if (memcmp(cfg->peers[cg->member_peers[i]].key, origin,
		    KEY_PUBLIC_LEN) == 0)
			return 1;
	return 0;
}

struct feeds_ctx {
	struct daemon_status		*st;
	const struct halle_config	*cfg;
	const unsigned char		*self;
	size_t				 cap;
};

static int
collect_feed(const unsigned char *origin, const struct feed_head *h,
    void *arg)
{
	struct feeds_ctx *c = arg;
	struct feed_status *f;
	size_t cap;

	if (c->st->nfeeds == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		if ((f = reallocarray(c->st->feeds, cap, sizeof(*f))) == NULL)
			return -1;
		c->st->feeds = f;
		c->cap = cap;
	}
	f = &c->st->feeds[c->st->nfeeds++];
	memcpy(f->origin, origin, KEY_PUBLIC_LEN);
	hex_encode(f->origin_hex, origin, KEY_PUBLIC_LEN);
	f->name = status_node_name(c->cfg, c->self, origin);
	f->head_seq = h->seq;
	return 0;
}

static const struct peer_status *
peer_find(const struct daemon_status *st, const unsigned char *key)
{
	size_t i;

	for (i = 0; i < st->npeers; i++)
		if (memcmp(st->peers[i].key, key, KEY_PUBLIC_LEN) == 0)
			return &st->peers[i];
	return NULL;
}

/*
 * In sync: every linked member agrees with this node. A member this node
 * does not dial and that has not dialled it is reached through relays: it
 * does not count.
 */
static int
grouping_fill(struct grouping_status *gs, const struct daemon_status *st,
    const struct halle_config *cfg, size_t g, const unsigned char *self)
{
	const struct config_grouping *cg = &cfg->groupings[g];
	const struct config_peer *member;
	const struct peer_status *p;
	size_t i;

	gs->name = cg->name;
	gs->in_sync = 1;
	if ((gs->members = calloc(cg->nmembers + 1,
	    sizeof(*gs->members))) == NULL)
		return -1;
	for (i = 0; i < cg->nmembers; i++) {
		member = &cfg->peers[cg->member_peers[i]];
		gs->members[gs->nmembers++] = member->name;
		if ((p = peer_find(st, member->key)) == NULL)
			continue;
		if (p->state == SYNC_UP ? p->lag_in || p->lag_out :
		    p->endpoint != NULL || p->state != SYNC_DOWN)
			gs->in_sync = 0;
	}
	gs->members[gs->nmembers++] = cfg->name;
	for (i = 0; i < st->nfeeds; i++)
		if (status_in_grouping(cfg, g, self, st->feeds[i].origin))
			gs->feeds++;
	return 0;
}

int
status_fill(struct daemon_status *st, struct node *n,
    const struct halle_config *cfg, struct halle_error *err)
{
	struct feeds_ctx c = { st, cfg, n->key.public_key, 0 };
	struct store_txn t;
	size_t g;
	int rc;

	if (store_read_begin(n->store, &t) == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	rc = feed_each(&t, collect_feed, &c);
	store_read_end(&t);
	if (rc == -1)
		return error_set(err, HALLE_E_INTERNAL, "cannot list the feeds");
	if (!st->linked || cfg->ngroupings == 0)
		return 0;
	if ((st->groupings = calloc(cfg->ngroupings,
	    sizeof(*st->groupings))) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	for (g = 0; g < cfg->ngroupings; g++, st->ngroupings++)
		if (grouping_fill(&st->groupings[g], st, cfg, g,
		    n->key.public_key) == -1)
			return error_set(err, HALLE_E_INTERNAL,
			    "out of memory");
	return 0;
}

void
status_free(struct daemon_status *st)
{
	size_t i;

	for (i = 0; i < st->ngroupings; i++)
		free(st->groupings[i].members);
	free(st->groupings);
	free(st->peers);
	free(st->feeds);
	st->groupings = NULL;
	st->peers = NULL;
	st->feeds = NULL;
	st->ngroupings = st->npeers = st->nfeeds = 0;
}
