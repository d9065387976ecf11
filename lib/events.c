/*
 * events: see events.h. This file holds the log itself (its bounds,
 * appending, reading, pruning, cursors) and the events of the node's own
 * state (write state, peers); events_orders.c decides what the records
 * applied change for a website.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbkey.h"
#include "events.h"
#include "log.h"
#include "sync.h"
#include "timeutil.h"

/*
 * The meta database's names: BOUNDS holds the last id given and the
 * floor (8 bytes each, big-endian); WRITE_STATE what the log last said of
 * the write state (one byte).
 */
#define BOUNDS_KEY	"events"
#define WRITE_STATE_KEY	"events_write_state"

struct bounds {
	uint64_t	 last;
	uint64_t	 floor;
};

static void
put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* 0 (all zero for a log never written), or -1 on a store failure. */
static int
bounds_get(struct store_txn *t, struct bounds *b)
{
	const void *v;
	size_t vlen;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = store_get(t, STORE_META, BOUNDS_KEY, strlen(BOUNDS_KEY), &v,
	    &vlen);
	if (rc == 0 && vlen == 16) {
		b->last = get_u64(v);
		b->floor = get_u64((const unsigned char *)v + 8);
	}
	return rc == -1 ? -1 : 0;
}

static int
bounds_put(struct store_txn *t, const struct bounds *b)
{
	unsigned char v[16];

	put_u64(v, b->last);
	put_u64(v + 8, b->floor);
	return store_put(t, STORE_META, BOUNDS_KEY, strlen(BOUNDS_KEY), v,
	    sizeof(v));
}

int
events_last(struct store_txn *t, uint64_t *last)
{
	struct bounds b;

	if (bounds_get(t, &b) == -1)
		return -1;
	*last = b.last;
	return 0;
}

void
events_restart(struct store_txn *t, int64_t now_ms)
{
	struct bounds b;
	uint64_t now_us = now_ms > 0 ? (uint64_t)now_ms * 1000 : 0;

	if (bounds_get(t, &b) == -1)
		return;
	if (b.last < now_us)
		b.last = now_us;
	b.floor = b.last;
	bounds_put(t, &b);
}

/* Strings from peers */

/* The length of the valid UTF-8 sequence at s (1 to 4), 0 if invalid. */
static size_t
utf8_valid(const unsigned char *s)
{
	uint32_t c;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;	/* a continuation, an overlong lead, past U+10FFFF */
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* the NUL too */
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

json_t *
events_text(const char *s, size_t max)
{
	static const char replacement[] = "\xef\xbf\xbd", ellipsis[] =
	    "\xe2\x80\xa6";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char out[EVENTS_TEXT_MAX];
	size_t len = 0, keep = 0, n;

	assert(max >= 3 && max <= sizeof(out));
	for (; *p != '\0'; p += n ? n : 1) {
		n = utf8_valid(p);
		if (len + (n ? n : 3) > max) {
			/* Cut: back to a character that leaves room for "…". */
			memcpy(out + keep, ellipsis, 3);
			len = keep + 3;
			break;
		}
		memcpy(out + len, n ? (const char *)p : replacement, n ? n : 3);
		len += n ? n : 3;
		if (len + 3 <= max)
			keep = len;
	}
	return json_stringn(out, len);
}

/* "type\0json" under the event's key. */
static int
event_put(struct store_txn *t, uint64_t id, const char *type,
    const char *json)
{
	char key[DBKEY_MAX], *value;
	size_t tlen = strlen(type), jlen = strlen(json);
	int rc;

	if ((value = malloc(tlen + 1 + jlen)) == NULL)
		return -1;
	memcpy(value, type, tlen + 1);
	memcpy(value + tlen + 1, json, jlen);
	rc = store_put(t, STORE_INDEX, key, dbkey_event(key, id), value,
	    tlen + 1 + jlen);
	free(value);
	return rc;
}

/*
 * The event o's JSON, cut down when it passes EVENTS_MAX_BYTES: first to
 * its numbers, booleans and short strings, then to id, type and time
 * alone. To free(); NULL when out of memory.
 */
static char *
event_text(json_t *o)
{
	const char *k;
	char *text;
	json_t *v;
	void *next;
	int pass;

	for (pass = 0; (text = json_dumps(o, JSON_COMPACT)) != NULL &&
	    strlen(text) > EVENTS_MAX_BYTES && pass < 2; pass++) {
		free(text);
		json_object_foreach_safe(o, next, k, v)
			if (strcmp(k, "id") != 0 && strcmp(k, "type") != 0 &&
			    strcmp(k, "at") != 0 && (pass == 1 ||
			    !(json_is_number(v) || json_is_boolean(v) ||
			    (json_is_string(v) && json_string_length(v) <=
			    EVENTS_LABEL_MAX))))
				json_object_del(o, k);
		if (json_object_set_new(o, "truncated", json_true()) == -1)
			return NULL;
	}
	return text;
}

int
events_append(struct node_txn *nt, const char *type, json_t *fields)
{
	struct bounds b;
	char at[64], *text = NULL;
	json_t *o = NULL;
	int rc = -1;

	if (fields == NULL)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	if (bounds_get(nt->t, &b) == -1)
		goto store;
	b.last++;
	timeutil_format_instant((time_t)(nt->now_ms / 1000), at, sizeof(at));
	if ((o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)b.last,
	    "type", type, "at", at)) == NULL ||
	    json_object_update(o, fields) == -1 ||
	    (text = event_text(o)) == NULL) {
		error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
		goto done;
	}
	if (event_put(nt->t, b.last, type, text) == -1 ||
	    bounds_put(nt->t, &b) == -1)
		goto store;
	nt->node->events_added = 1;
	rc = 0;
	goto done;
store:
	error_set(nt->err, HALLE_E_STORE, "cannot append to the event log");
done:
	free(text);
	json_decref(o);
	json_decref(fields);
	return rc;
}

/* Reading */

struct read_ctx {
	events_fn	 fn;
	void		*arg;
	int		 bad;
};

static int
read_one(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct read_ctx *ctx = arg;
	const char *v = val, *nul;
	uint64_t id;

	if (dbkey_event_parse(key, klen, &id) == -1 ||
	    (nul = memchr(v, '\0', vlen)) == NULL) {
		ctx->bad = 1;
		return 0;	/* not an event: skipped */
	}
	return ctx->fn(id, v, nul + 1, vlen - (size_t)(nul + 1 - v),
	    ctx->arg);
}

/* The "gap" a reader gets first when its cursor is below the floor. */
static int
read_gap(const struct bounds *b, uint64_t after, events_fn fn, void *arg)
{
	char *text;
	json_t *o;
	int rc;

	o = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)b->floor,
	    "type", "gap", "after", (json_int_t)after, "reason", "the events "
	    "after this cursor up to this id are not held: pruned beyond "
	    "events_keep, or written by a store since restored or rebuilt; "
	    "read the current state again");
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return -1;
	}
	rc = fn(b->floor, "gap", text, strlen(text), arg);
	free(text);
	json_decref(o);
	return rc;
}

int
events_read(struct store_txn *t, uint64_t after, events_fn fn, void *arg)
{
	struct read_ctx ctx = { fn, arg, 0 };
	char prefix[DBKEY_MAX], from[DBKEY_MAX];
	struct bounds b;
	size_t plen;
	int rc;

	if (bounds_get(t, &b) == -1)
		return -1;
	if (after < b.floor) {
		if ((rc = read_gap(&b, after, fn, arg)) != 0)
			return rc == 1 ? 0 : -1;
		after = b.floor;
	}
	if (after >= b.last)
		return 0;
	plen = dbkey_all(prefix, 'e');
	rc = store_scan_from(t, STORE_INDEX, prefix, plen, from,
	    dbkey_event(from, after + 1), read_one, &ctx);
	if (ctx.bad)
		log_warnx("events: a key of the log is not an event: skipped");
	return rc;
}

char *
events_dropped_json(uint64_t after, const char *why)
{
	json_t *o = json_pack("{s:s, s:I, s:s}", "type", "dropped",
	    "resume_after", (json_int_t)after, "reason", why);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

/* Cursors */

/* A cursor's text: a whole number, digits only. 0, or -1 (err). */
static int
cursor_parse(const char *text, const char *field, uint64_t *out,
    struct halle_error *err)
{
	unsigned long long v;
	char *end;
	size_t i;

	for (i = 0; text[i] >= '0' && text[i] <= '9'; i++)
		;
	errno = 0;
	if (i == 0 || text[i] != '\0' || i > 20 ||
	    (v = strtoull(text, &end, 10), errno != 0) || *end != '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be an "
		    "event id, a whole number (0: from the first event held)",
		    field);
	*out = v;
	return 0;
}

int
events_cursor(struct node *n, const char *last_event_id, const char *since,
    uint64_t *after, struct halle_error *err)
{
	const char *field = last_event_id ? "Last-Event-ID" : "since";
	struct store_txn t;
	uint64_t header = 0, query = 0, last;
	int rc;

	/* The header wins: ?since= is not read when it is given. */
	if (last_event_id != NULL ? cursor_parse(last_event_id,
	    "Last-Event-ID", &header, err) == -1 : since != NULL &&
	    cursor_parse(since, "since", &query, err) == -1)
		return -1;
	if (store_read_begin(n->store, &t) == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	rc = events_last(&t, &last);
	store_read_end(&t);
	if (rc == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the event log");
	*after = last_event_id ? header : since ? query : last;
	if (*after > last)
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' is %llu, past "
		    "this node's last event (%llu): a cursor of another node, "
		    "or of a store since replaced", field,
		    (unsigned long long)*after, (unsigned long long)last);
	return 0;
}

/* Pruning */

struct prune_ctx {
	uint64_t	 keep;
	uint64_t	 upto;		/* delete ids up to here */
	uint64_t	*ids;
	size_t		 n;
};

static int
prune_collect(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct prune_ctx *ctx = arg;
	uint64_t id;

	if (dbkey_event_parse(key, klen, &id) == -1 || id > ctx->upto ||
	    ctx->n == EVENTS_PRUNE_BATCH)
		return 1;
	ctx->ids[ctx->n++] = id;
	return 0;
}

static int
prune_op(struct node_txn *nt, void *arg)
{
	struct prune_ctx *ctx = arg;
	char key[DBKEY_MAX];
	struct bounds b;
	size_t i, plen;

	ctx->n = 0;
	if (bounds_get(nt->t, &b) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the log");
	ctx->upto = b.last > ctx->keep ? b.last - ctx->keep : 0;
	if (ctx->upto < b.floor)
		ctx->upto = b.floor;
	plen = dbkey_all(key, 'e');
	if (store_scan(nt->t, STORE_INDEX, key, plen, prune_collect,
	    ctx) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the log");
	if (ctx->n == 0)
		return error_set(nt->err, HALLE_E_NOTHING_TO_COMMIT,
		    "nothing to prune");
	for (i = 0; i < ctx->n; i++)
		store_del(nt->t, STORE_INDEX, key, dbkey_event(key,
		    ctx->ids[i]));
	if (b.floor < ctx->ids[ctx->n - 1])
		b.floor = ctx->ids[ctx->n - 1];
	return bounds_put(nt->t, &b) == -1 ? error_set(nt->err, HALLE_E_STORE,
	    "cannot prune the log") : 0;
}

long
events_prune(struct node *n, uint64_t keep, struct halle_error *err)
{
	struct prune_ctx ctx = { keep, 0, NULL, 0 };
	int rc;

	if ((ctx.ids = malloc(EVENTS_PRUNE_BATCH * sizeof(*ctx.ids))) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	rc = node_mutate(n, prune_op, &ctx, err);
	free(ctx.ids);
	if (rc == -1)
		return err->code == HALLE_E_NOTHING_TO_COMMIT ? 0 : -1;
	return (long)ctx.n;
}

/* The node's own state */

int
events_write_state(struct node_txn *nt, enum node_write_state state)
{
	unsigned char said = (unsigned char)state + 1;
	const void *v;
	size_t vlen;

	if (store_get(nt->t, STORE_META, WRITE_STATE_KEY,
	    strlen(WRITE_STATE_KEY), &v, &vlen) == 0 && vlen == 1 &&
	    *(const unsigned char *)v == said)
		return 0;
	if (store_put(nt->t, STORE_META, WRITE_STATE_KEY,
	    strlen(WRITE_STATE_KEY), &said, 1) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot write the log");
	return events_append(nt, "node.write_state", json_pack("{s:b, s:s}",
	    "writable", state == NODE_WRITABLE, "write_state",
	    node_write_state_name(state)));
}

struct link_change {
	struct sync_peer_config	 peer;
	int			 up;
};

struct links {
	struct link_change	*list;
	size_t			 n, cap;
	int			 failed;
};

static void
link_collect(const struct sync_peer_config *peer, int up, void *arg)
{
	struct links *l = arg;
	struct link_change *bigger;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		if ((bigger = realloc(l->list, l->cap * sizeof(*bigger))) ==
		    NULL) {
			l->failed = 1;
			return;
		}
		l->list = bigger;
	}
	l->list[l->n].peer = *peer;
	l->list[l->n++].up = up;
}

/* One peer: an event when the log last said otherwise (or nothing, up). */
static int
link_event(struct node_txn *nt, const struct link_change *c)
{
	char hex[KEY_HEX_LEN + 1], key[DBKEY_MAX];
	unsigned char said = (unsigned char)c->up;
	const void *v;
	size_t klen, vlen;
	int rc;

	hex_encode(hex, c->peer.key, KEY_PUBLIC_LEN);
	klen = dbkey_peer_said(key, hex);
	rc = store_get(nt->t, STORE_INDEX, key, klen, &v, &vlen);
	if (rc == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the log");
	if (rc == 0 ? vlen == 1 && *(const unsigned char *)v == said : !c->up)
		return 0;
	if (store_put(nt->t, STORE_INDEX, key, klen, &said, 1) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot write the log");
	return events_append(nt, c->up ? "peer.up" : "peer.down",
	    json_pack("{s:o, s:s}", "peer", events_text(c->peer.name,
	    EVENTS_TEXT_MAX), "node", hex));
}

static int
links_op(struct node_txn *nt, void *arg)
{
	struct links *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (link_event(nt, &l->list[i]) == -1)
			return -1;
	return 0;
}

void
events_peers(struct node *n, struct sync *s)
{
	struct links l = { NULL, 0, 0, 0 };
	struct halle_error err;

	sync_links_changed(s, link_collect, &l);
	if (l.failed)
		log_warnx("events: out of memory: a peer's link change is not "
		    "in the event log");
	if (l.n > 0 && node_mutate(n, links_op, &l, &err) == -1)
		log_warnx("events: peers: %s", err.message);
	free(l.list);
}
