/*
 * node: see node.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "feed.h"
#include "log.h"
#include "node.h"
#include "record.h"
#include "seal.h"
#include "timeutil.h"
#include "views.h"

/*
 * The meta database's marks (node.h): GENESIS holds the key whose whole
 * feed the store is known to hold; RESTORED and RECOVERING say that it may
 * not be whole. EVENTS_RESTART: a backup copy not started yet, whose event
 * log starts again when it is.
 */
#define GENESIS_KEY		"genesis"
#define RESTORED_KEY		"restored"
#define RECOVERING_KEY		"recovering"
#define EVENTS_RESTART_KEY	"events_restart"

static int
meta_has(struct store_txn *t, const char *name)
{
	const void *v;
	size_t vlen;

	return store_get(t, STORE_META, name, strlen(name), &v, &vlen) == 0;
}

static int
meta_put(struct store_txn *t, const char *name, const void *v, size_t vlen)
{
	return store_put(t, STORE_META, name, strlen(name), v, vlen);
}

static int
meta_del(struct store_txn *t, const char *name)
{
	return store_del(t, STORE_META, name, strlen(name));
}

/* The store holds the whole feed of key: the genesis mark, no other. */
static int
mark_whole(struct store_txn *t, const unsigned char *key)
{
	meta_del(t, RESTORED_KEY);
	meta_del(t, RECOVERING_KEY);
	return meta_put(t, GENESIS_KEY, key, KEY_PUBLIC_LEN);
}

static int
genesis_op(struct store_txn *t, void *arg)
{
	return mark_whole(t, arg);
}

struct state_ctx {
	struct node		*node;
	enum node_write_state	 state;
	int			 changed;
};

/* Reads the write state from the store, noting a new wait in it. */
static int
state_op(struct store_txn *t, void *arg)
{
	struct state_ctx *c = arg;
	const unsigned char *key = c->node->key.public_key;
	struct feed_head own;
	const void *v;
	size_t vlen;
	int genesis, restarted = 0;

	c->changed = 0;
	if (feed_head(t, key, &own) == -1)
		return -1;
	/* A backup's first start: its ids start past this start's time. */
	if (meta_has(t, EVENTS_RESTART_KEY)) {
		events_restart(t, node_now_ms(c->node));
		restarted = meta_del(t, EVENTS_RESTART_KEY) == 0;
	}
	genesis = store_get(t, STORE_META, GENESIS_KEY, strlen(GENESIS_KEY),
	    &v, &vlen) == 0 && vlen == KEY_PUBLIC_LEN &&
	    memcmp(v, key, KEY_PUBLIC_LEN) == 0;
	if (own.flags & FEED_FROZEN)
		c->state = NODE_OWN_FEED_FORKED;
	else if (meta_has(t, RECOVERING_KEY))
		c->state = NODE_RECOVERING;
	else if (meta_has(t, RESTORED_KEY))
		c->state = NODE_RESTORED;
	else if (genesis || own.seq > 0)
		c->state = NODE_WRITABLE;
	else {
		/* A lost store: its event log starts again (events.h). */
		c->state = NODE_RECOVERING;
		c->changed = meta_put(t, RECOVERING_KEY, "1", 1) == 0;
		events_restart(t, node_now_ms(c->node));
	}
	if ((c->state == NODE_RECOVERING || c->state == NODE_RESTORED) &&
	    c->node->cfg != NULL && c->node->cfg->npeers == 0) {
		log_info("node: no peer configured, nobody to wait for: this "
		    "node writes its own feed from its head (%llu)",
		    (unsigned long long)own.seq);
		c->state = NODE_WRITABLE;
		c->changed = mark_whole(t, key) == 0;
	}
	return c->changed || restarted ? 0 : -1; /* commit what changed */
}

static int
state_load(struct node *n, char *err, size_t errlen)
{
	struct state_ctx c = { n, NODE_WRITABLE, 0 };

	if (store_write(n->store, state_op, &c, err, errlen) == -2)
		return -1;
	n->write_state = c.state;
	if (c.state != NODE_WRITABLE)
		log_info("node: %s: %s", node_write_state_name(c.state),
		    c.state == NODE_OWN_FEED_FORKED ? "its own feed is frozen "
		    "by a fork" : "no write until its peers have told it how "
		    "far its own feed goes");
	return 0;
}

/* Key and store, created together when the key is new (node.h). */
static int
open_key_and_store(struct node *n, const struct halle_config *cfg,
    char *err, size_t errlen)
{
	int created;

	if (key_load_or_create(&n->key, cfg->key_file, &created, err,
	    errlen) == -1)
		return -1;
	hex_encode(n->id_hex, n->key.public_key, KEY_PUBLIC_LEN);
	if (store_open(&n->store, cfg->data_dir, cfg->map_size, err,
	    errlen) == 0 && (!created || store_write(n->store, genesis_op,
	    n->key.public_key, err, errlen) == 0))
		return 0;
	store_close(&n->store);
	if (created)
		unlink(cfg->key_file);	/* no key without its store */
	return -1;
}

/* The write state, in the event log when it is not what the log said. */
static int
state_said_op(struct node_txn *nt, void *arg)
{
	if (events_write_state(nt, nt->node->write_state) == -1)
		return -1;
	return nt->node->events_added ? 0 : error_set(nt->err,
	    HALLE_E_NOTHING_TO_COMMIT, "the log says it already");
}

/* What node_open and node_open_to_verify start with. 0 or -1 (err). */
static int
node_init(struct node *n, const struct halle_config *cfg, char *err,
    size_t errlen)
{
	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->clock_ms = timeutil_now_ms;
	if (timeutil_set_timezone(cfg->timezone) == -1) {
		snprintf(err, errlen, "unknown time zone '%s'", cfg->timezone);
		return -1;
	}
	return 0;
}

int
node_open_to_verify(struct node *n, const struct halle_config *cfg,
    char *err, size_t errlen)
{
	char path[4096];
	const char *missing = NULL;

	if (node_init(n, cfg, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/data.mdb", cfg->data_dir);
	if (access(cfg->key_file, F_OK) == -1)
		missing = cfg->key_file;
	else if (access(path, F_OK) == -1)
		missing = path;
	if (missing != NULL) {
		snprintf(err, errlen, "%s: %s: nothing to verify", missing,
		    strerror(errno));
		return -1;
	}
	if (key_load_or_create(&n->key, cfg->key_file, NULL, err,
	    errlen) == -1)
		return -1;
	hex_encode(n->id_hex, n->key.public_key, KEY_PUBLIC_LEN);
	if (store_open(&n->store, cfg->data_dir, cfg->map_size, err,
	    errlen) == -1)
		return -1;
	n->started = time(NULL);
	return 0;
}

int
node_open(struct node *n, const struct halle_config *cfg, char *err,
    size_t errlen)
{
	struct halle_error why;

	if (node_init(n, cfg, err, errlen) == -1)
		return -1;
	if (open_key_and_store(n, cfg, err, errlen) == -1)
		return -1;
	if (state_load(n, err, errlen) == -1) {
		store_close(&n->store);
		return -1;
	}
	if (node_mutate(n, state_said_op, NULL, &why) == -1 &&
	    why.code != HALLE_E_NOTHING_TO_COMMIT)
		log_warnx("node: %s", why.message);
	n->started = time(NULL);
	return 0;
}

int
node_identity(struct node *n, const struct halle_config *cfg, char *err,
    size_t errlen)
{
	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	if (access(cfg->key_file, F_OK) == -1 && errno == ENOENT) {
		if (open_key_and_store(n, cfg, err, errlen) == -1)
			return -1;
		store_close(&n->store);
		return 0;
	}
	if (key_load_or_create(&n->key, cfg->key_file, NULL, err,
	    errlen) == -1)
		return -1;
	hex_encode(n->id_hex, n->key.public_key, KEY_PUBLIC_LEN);
	return 0;
}

void
node_close(struct node *n)
{
	store_close(&n->store);
}

int64_t
node_now_ms(const struct node *n)
{
	return n->clock_ms();
}

struct mutate_ctx {
	struct node		*node;
	node_op_fn		 fn;
	void			*arg;
	struct halle_error	*err;
	int64_t			 now_ms;
};

static int
mutate_run(struct store_txn *t, void *arg)
{
	struct mutate_ctx *ctx = arg;
	struct node_txn nt = { ctx->node, t, ctx->now_ms, ctx->err };

	if (ctx->fn(&nt, ctx->arg) == -1)
		return -1;
	return events_flush(&nt);
}

int
node_mutate(struct node *n, node_op_fn fn, void *arg, struct halle_error *err)
{
	struct mutate_ctx ctx = { n, fn, arg, err, node_now_ms(n) };
	char why[256];
	int rc;

	n->appended = n->own_fork = n->events_added = 0;
	rc = store_write(n->store, mutate_run, &ctx, why, sizeof(why));
	if (rc == -2)
		return error_set(err, HALLE_E_STORE, "%s", why);
	if (rc == 0 && n->own_fork && n->write_state != NODE_OWN_FEED_FORKED) {
		n->write_state = NODE_OWN_FEED_FORKED;
		log_warnx("node: a fork of this node's own feed is proven: the "
		    "feed is frozen and the node takes no more writes");
	}
	if (rc == 0 && n->appended && n->on_own_append != NULL)
		n->on_own_append(n->on_own_append_arg);
	if (rc == 0 && n->events_added && n->on_events != NULL)
		n->on_events(n->on_events_arg);
	return rc;
}

/* The write gate */

int
node_may_write(const struct node *n)
{
	return n->write_state == NODE_WRITABLE;
}

enum node_write_state
node_write_state(const struct node *n)
{
	return n->write_state;
}

const char *
node_write_state_name(enum node_write_state state)
{
	static const char *const names[] = {
		"writable", "recovering", "restored", "own_feed_forked"
	};

	if ((unsigned)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

int
node_write_refusal(const struct node *n, struct halle_error *err)
{
	const char *who = n->awaited[0] ? n->awaited : "its peers";

	switch (n->write_state) {
	case NODE_WRITABLE:
		return 0;
	case NODE_RECOVERING:
		return error_set(err, HALLE_E_RECOVERING, "this node lost its store "
		    "and is recovering its own feed: it takes no writes until "
		    "its peers have told it how far that feed goes (waiting "
		    "for %s)", who);
	case NODE_RESTORED:
		return error_set(err, HALLE_E_RECOVERING, "this node was started "
		    "from a backup: it takes no writes until a peer has told "
		    "it how far its own feed went, and it holds that much "
		    "(waiting for %s)", who);
	case NODE_OWN_FEED_FORKED:
		break;
	}
	return error_set(err, HALLE_E_OWN_FEED_FORKED, "this node's own feed is "
	    "forked: two different records were signed for one of its "
	    "sequence numbers, and the feed is frozen; it takes no more "
	    "writes (see the fork proof in the log and docs/security.md)");
}

void
node_set_awaited(struct node *n, const char *peers)
{
	snprintf(n->awaited, sizeof(n->awaited), "%s", peers);
}

static int
whole_op(struct node_txn *nt, void *arg)
{
	if (mark_whole(nt->t, nt->node->key.public_key) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot mark the store");
	return events_write_state(nt, NODE_WRITABLE);
}

int
node_own_feed_whole(struct node *n)
{
	struct halle_error why;

	if (n->write_state != NODE_RECOVERING &&
	    n->write_state != NODE_RESTORED)
		return 0;
	if (node_mutate(n, whole_op, NULL, &why) != 0)
		return -1;
	log_info("node: %s: its peers have told how far its own feed goes and "
	    "it holds that much: writes are open",
	    node_write_state_name(n->write_state));
	n->write_state = NODE_WRITABLE;
	n->awaited[0] = '\0';
	return 0;
}

void
node_note_own_fork(struct node_txn *nt)
{
	nt->node->own_fork = 1;
	/* A store failure is sticky; out of memory, the state says it. */
	(void)events_write_state(nt, NODE_OWN_FEED_FORKED);
}

/*
 * The copy waits for a peer's word, and its event log starts again when
 * it first starts (state_op): a backup restored twice gives no id twice.
 */
static int
restored_op(struct store_txn *t, void *arg)
{
	meta_del(t, GENESIS_KEY);
	meta_put(t, EVENTS_RESTART_KEY, "1", 1);
	return meta_put(t, RESTORED_KEY, "1", 1);
}

int
node_backup(struct node *n, const char *dir, char *err, size_t errlen)
{
	struct store *copy;
	size_t used, map;
	int rc;

	if (store_backup(n->store, dir, err, errlen) == -1)
		return -1;
	store_usage(n->store, &used, &map);
	if (store_open(&copy, dir, map, err, errlen) == -1)
		return -1;
	rc = store_write(copy, restored_op, NULL, err, errlen);
	store_close(&copy);
	return rc == 0 ? 0 : -1;
}

int
node_append(struct node_txn *nt, uint32_t kind, const ProtobufCMessage *msg)
{
	return node_append_sealed(nt, kind, msg, NULL);
}

int
node_append_sealed(struct node_txn *nt, uint32_t kind,
    const ProtobufCMessage *msg, const unsigned char *recipient)
{
	struct node *n = nt->node;
	struct feed_head head;
	struct record r;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *body, *buf;
	size_t body_len, len;
	char why[128];
	int rc;

	if (node_write_refusal(n, nt->err) == -1)
		return -1;
	if (feed_head(nt->t, n->key.public_key, &head) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read feed head");
	if (head.flags & FEED_FROZEN) {
		/* Frozen by a fork proven since the state was read. */
		n->write_state = NODE_OWN_FEED_FORKED;
		return node_write_refusal(n, nt->err);
	}
	body_len = protobuf_c_message_get_packed_size(msg);
	if ((body = malloc(body_len ? body_len : 1)) == NULL)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	protobuf_c_message_pack(msg, body);
	if (recipient != NULL) {
		uint8_t *sealed;
		size_t sealed_len;

		rc = seal_body(&sealed, &sealed_len, body, body_len, recipient,
		    &n->key);
		free(body);
		if (rc == -1)
			return error_set(nt->err, HALLE_E_INTERNAL, "cannot seal a "
			    "record for that node's key");
		body = sealed;
		body_len = sealed_len;
	}
	rc = record_build(&buf, &len, hash, &n->key, head.seq + 1,
	    head.seq ? head.hash : NULL, nt->now_ms, kind, body, body_len,
	    recipient);
	free(body);
	if (rc == -1)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	if (len > RECORD_MAX_BYTES) {
		free(buf);
		return error_set(nt->err, HALLE_E_BODY_TOO_LARGE,
		    "the record would be larger than 256 KiB");
	}
	if (record_parse(&r, buf, len, why, sizeof(why)) == -1) {
		free(buf);
		return error_set(nt->err, HALLE_E_INTERNAL, "own record: %s", why);
	}
	rc = feed_append(nt->t, &r, buf, len);
	free(buf);
	if (rc == -1) {
		record_free(&r);
		return error_set(nt->err, HALLE_E_STORE, "cannot append to feed");
	}
	n->appended = 1;
	rc = views_apply(nt, &r);
	record_free(&r);
	return rc;
}
