/*
 * service: the node itself (status, feeds, backup) and what the rules of
 * the service files share. See service.h; producers and catalogues are in
 * service_producers.c, markets in service_markets.c, distributions,
 * orders and order sheets in the service_*.c of their name.
 *
 * A writing operation is a struct holding the request and what the
 * operation learns, and a function run by node_mutate() inside the write
 * transaction: it resolves and validates everything, then appends records.
 * After the commit, the answer is rendered from a fresh read snapshot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <sodium.h>

#include "feed.h"
#include "record.h"
#include "dbkey.h"
#include "service_int.h"
#include "stock.h"
#include "timeutil.h"

/* Status and feeds */

struct count_ctx {
	json_int_t	 records, feeds;
};

static int
count_feed(const unsigned char *origin, const struct feed_head *h, void *arg)
{
	struct count_ctx *ctx = arg;

	ctx->records += (json_int_t)h->seq;
	ctx->feeds++;
	return 0;
}

static int	order_counts(struct node *, struct store_txn *,
		    struct service_order_counts *);

int
service_status_get(struct node *n, struct service_status *st, struct halle_error *err)
{
	struct count_ctx ctx = { 0, 0 };
	struct halle_error refusal;
	struct store_txn t;
	int rc;

	memset(st, 0, sizeof(*st));
	st->id = n->id_hex;
	st->name = n->cfg->name;
	st->version = HALLE_VERSION;
	st->timezone = n->cfg->timezone;
	st->uptime_s = (int64_t)(time(NULL) - n->started);
	if (service_read_begin(n, &t, err) == -1)
		return -1;
	feed_each(&t, count_feed, &ctx);
	rc = order_counts(n, &t, &st->orders);
	store_read_end(&t);
	if (rc == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the orders");
	st->records = (uint64_t)ctx.records;
	st->feeds = (uint64_t)ctx.feeds;
	store_usage(n->store, &st->bytes, &st->map_bytes);
	st->writable = node_may_write(n);
	st->write_state = node_write_state(n);
	refusal.message[0] = '\0';
	if (!st->writable) {
		node_write_refusal(n, &refusal);
		snprintf(st->write_reason, sizeof(st->write_reason), "%s",
		    refusal.message);
	}
	return 0;
}

json_t *
service_status_json(const struct service_status *st)
{
	const struct service_order_counts *oc = &st->orders;

	return json_pack("{s:{s:s, s:s, s:s, s:I, s:s}, "
	    "s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:I, "
	    "s:[], s:[], s:b, s:s, s:s?, s:[]}",
	    "node", "id", st->id, "name", st->name, "version", st->version,
	    "uptime_s", (json_int_t)st->uptime_s, "timezone", st->timezone,
	    "store", "records", (json_int_t)st->records,
	    "feeds", (json_int_t)st->feeds, "bytes", (json_int_t)st->bytes,
	    "map_bytes", (json_int_t)st->map_bytes,
	    "stock", "lines_confirmed_locally",
	    (json_int_t)oc->lines_confirmed_locally,
	    "lines_pending", (json_int_t)oc->lines_pending,
	    "rights_held", (json_int_t)oc->rights_held,
	    "rights_free", (json_int_t)oc->rights_free,
	    "overusers", (json_int_t)oc->overusers,
	    "ids_claimed", (json_int_t)oc->ids_claimed,
	    "groupings", "peers", "writable", st->writable,
	    "write_state", node_write_state_name(st->write_state),
	    "write_reason", st->writable ? NULL : st->write_reason,
	    "waiting_for");
}

json_t *
service_status(struct node *n, struct halle_error *err)
{
	struct service_status st;

	if (service_status_get(n, &st, err) == -1)
		return NULL;
	return service_status_json(&st);
}

struct feeds_ctx {
	struct node	*node;
	json_t		*list;
};

static int
list_feed(const unsigned char *origin, const struct feed_head *h, void *arg)
{
	struct feeds_ctx *ctx = arg;
	char hex[KEY_HEX_LEN + 1], when[40];
	int own;

	hex_encode(hex, origin, KEY_PUBLIC_LEN);
	own = memcmp(origin, ctx->node->key.public_key, KEY_PUBLIC_LEN) == 0;
	timeutil_format_instant((time_t)(h->time_ms / 1000), when, sizeof(when));
	json_array_append_new(ctx->list, json_pack(
	    "{s:s, s:s, s:I, s:s, s:b}", "origin", hex,
	    "name", own ? ctx->node->cfg->name : "",
	    "head_seq", (json_int_t)h->seq, "head_time", when,
	    "frozen", (h->flags & FEED_FROZEN) != 0));
	return 0;
}

json_t *
service_feeds(struct node *n, struct halle_error *err)
{
	struct feeds_ctx ctx = { n, json_array() };
	struct store_txn t;

	if (service_read_begin(n, &t, err) == -1) {
		json_decref(ctx.list);
		return NULL;
	}
	feed_each(&t, list_feed, &ctx);
	store_read_end(&t);
	return ctx.list;
}

json_t *
service_feed_records(struct node *n, const char *origin_hex, long long from,
    long long count, struct halle_error *err)
{
	unsigned char origin[KEY_PUBLIC_LEN];
	char hex[RECORD_HASH_LEN * 2 + 1], *b64;
	struct feed_head head;
	struct store_txn t;
	struct record r;
	const void *buf;
	size_t len, b64len;
	json_t *list;
	uint64_t seq;
	char why[128];

	if (strlen(origin_hex) != KEY_HEX_LEN ||
	    hex_decode(origin, KEY_PUBLIC_LEN, origin_hex) == -1) {
		error_set(err, HALLE_E_INVALID_FIELD, "'%s' is not a node key (64 hex "
		    "digits)", origin_hex);
		return NULL;
	}
	if (from < 1)
		from = 1;
	if (from > (long long)1 << 62)
		from = (long long)1 << 62;
	if (count < 1 || count > 1000)
		count = 1000;
	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if (feed_head(&t, origin, &head) == -1 || head.seq == 0) {
		store_read_end(&t);
		error_set(err, HALLE_E_UNKNOWN_FEED, "no feed of origin %s is held",
		    origin_hex);
		return NULL;
	}
	list = json_array();
	for (seq = (uint64_t)from; seq <= head.seq &&
	    seq < (uint64_t)(from + count); seq++) {
		if (feed_get(&t, origin, seq, &buf, &len) != 0 ||
		    record_parse(&r, buf, len, why, sizeof(why)) == -1)
			break;
		hex_encode(hex, r.hash, RECORD_HASH_LEN);
		record_free(&r);
		b64len = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_ORIGINAL);
		if ((b64 = malloc(b64len)) == NULL)
			break;
		sodium_bin2base64(b64, b64len, buf, len,
		    sodium_base64_VARIANT_ORIGINAL);
		json_array_append_new(list, json_pack("{s:I, s:s, s:s}",
		    "seq", (json_int_t)seq, "hash", hex, "envelope", b64));
		free(b64);
	}
	store_read_end(&t);
	return list;
}

/* What the rules share */

int
service_version_next(uint64_t held, uint64_t *next, const char *what,
    struct halle_error *err)
{
	if (held >= (uint64_t)SERVICE_MAX_VERSION)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s is at version %llu, "
		    "the last there is (%lld): it cannot change again", what,
		    (unsigned long long)held, SERVICE_MAX_VERSION);
	*next = held + 1;
	return 0;
}

static int
resolve(struct store_txn *t, char kind, const char *what, const char *ref,
    char *id, struct halle_error *err)
{
	enum halle_errcode code = kind == 'P' ?
	    HALLE_E_UNKNOWN_PRODUCER : HALLE_E_UNKNOWN_MARKET;

	switch (views_resolve(t, kind, ref, id)) {
	case 0:
		return 0;
	case 1:
		return error_set(err, code, "no %s with id or name '%s'", what,
		    ref);
	case 2:
		return error_set(err, HALLE_E_AMBIGUOUS_NAME,
		    "several %ss are named '%s': use the id", what, ref);
	default:
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	}
}

int
service_resolve_producer(struct store_txn *t, const char *ref, char *id,
    struct halle_error *err)
{
	return resolve(t, 'P', "producer", ref, id, err);
}

int
service_resolve_market(struct store_txn *t, const char *ref, char *id,
    struct halle_error *err)
{
	return resolve(t, 'M', "market", ref, id, err);
}

int
service_owned_here(struct node_txn *nt, char kind, const char *id,
    const char *what)
{
	char key[DBKEY_MAX];
	const void *v;
	size_t vlen;

	if (store_get(nt->t, STORE_VIEWS, key, dbkey_entity(key, kind, id), &v,
	    &vlen) != 0 || vlen < KEY_PUBLIC_LEN ||
	    memcmp(v, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0)
		return 0;
	return error_set(nt->err, HALLE_E_NOT_OWNER, "%s belongs to another "
	    "commune: only its node can change it", what);
}

int
service_id_for_next_record(struct node_txn *nt, char *out, const char *prefix)
{
	struct feed_head head;

	if (feed_head(nt->t, nt->node->key.public_key, &head) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the feed head");
	ids_bound(out, prefix, nt->node->key.public_key, head.seq + 1);
	return 0;
}

int
service_producer_day_begin(struct node *n, const char *producer_ref,
    const char *date, struct store_txn *t, char *producer,
    struct halle_error *err)
{
	struct civil_date cd;

	if (timeutil_parse_date(date, &cd) == -1)
		return error_set(err, HALLE_E_BAD_DATES, "'%s' is not a date "
		    "as YYYY-MM-DD", date);
	if (service_read_begin(n, t, err) == -1)
		return -1;
	if (service_resolve_producer(t, producer_ref, producer, err) == -1) {
		store_read_end(t);
		return -1;
	}
	return 0;
}

int
service_read_begin(struct node *n, struct store_txn *t, struct halle_error *err)
{
	if (store_read_begin(n->store, t) == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	return 0;
}

/* Names */

int
service_name_taken(struct store_txn *t, char kind, const char *name,
    struct halle_error *err)
{
	char id[ID_MAX];

	if (views_resolve(t, kind, name, id) == 1)
		return 0;
	return error_set(err, HALLE_E_NAME_TAKEN, "a %s named '%s' exists already",
	    kind == 'P' ? "producer" : "market", name);
}

static int
list_by_name(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	json_t *ids = arg;
	const char *k = key;
	size_t nul;

	for (nul = klen; nul > 0 && k[nul - 1] != '\0'; nul--)
		;
	json_array_append_new(ids, json_stringn(k + nul, klen - nul));
	return 0;
}

/* The ids of producers ('P') or markets ('M'), ordered by name. */
json_t *
service_ids_by_name(struct store_txn *t, char kind)
{
	char prefix[5] = { 'n', ':', kind, ':', '\0' };
	json_t *ids = json_array();

	views_index_scan(t, prefix, list_by_name, ids);
	return ids;
}

/* Counting orders, for the metrics */

struct order_count_ctx {
	struct store_txn	*t;
	struct service_order_counts	*c;
	const unsigned char	*me;
};

static int
count_rights(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct order_count_ctx *ctx = arg;
	unsigned char owner[KEY_PUBLIC_LEN];
	char sku[DBKEY_SKU_MAX], market[ID_MAX];
	struct stock_rights r;

	if (stock_rights_decode(val, vlen, &r) == -1 ||
	    dbkey_rights_parse(key, klen, NULL, sku, market) == -1 ||
	    views_market_owner(ctx->t, market, owner) == -1 ||
	    memcmp(owner, ctx->me, KEY_PUBLIC_LEN) != 0)
		return 0;
	ctx->c->rights_held += r.granted > r.released ?
	    r.granted - r.released : 0;
	ctx->c->rights_free += stock_rights_free(&r);
	return 0;
}

static int
count_overuser(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	((struct order_count_ctx *)arg)->c->overusers++;
	return 0;
}

static int
count_claimed(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	uint64_t n;

	if (vlen == sizeof(n)) {
		memcpy(&n, val, sizeof(n));
		((struct order_count_ctx *)arg)->c->ids_claimed += n;
	}
	return 0;
}

static int
count_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct order_count_ctx *ctx = arg;
	struct views_line vl;
	Halle__Order *o;
	size_t i;

	if (vlen < KEY_PUBLIC_LEN || (o = halle__order__unpack(NULL,
	    vlen - KEY_PUBLIC_LEN, (const uint8_t *)val + KEY_PUBLIC_LEN)) ==
	    NULL)
		return 0;
	if (o->cancelled) {
		ctx->c->cancelled++;
		view_free(o);
		return 0;
	}
	ctx->c->orders++;
	for (i = 0; i < o->n_lines; i++) {
		views_line_state(ctx->t, o, o->lines[i], &vl);
		if (vl.state == HALLE__LINE_STATE__LINE_STATE_PENDING)
			ctx->c->lines_pending++;
		else if (vl.state == HALLE__LINE_STATE__LINE_STATE_CONFIRMED)
			ctx->c->lines_confirmed++;
		else
			ctx->c->lines_refused++;
		if (vl.ruled_locally)
			ctx->c->lines_confirmed_locally++;
		view_free(vl.conf);
	}
	view_free(o);
	return 0;
}

/* The counts of struct service_order_counts, in the snapshot t. 0 or -1. */
static int
order_counts(struct node *n, struct store_txn *t, struct service_order_counts *c)
{
	struct order_count_ctx ctx = { t, c, n->key.public_key };
	char key[DBKEY_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	rc = store_scan(t, STORE_VIEWS, key, dbkey_all(key, 'O'), count_order,
	    &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'r'),
		    count_rights, &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'x'),
		    count_overuser, &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'z'),
		    count_claimed, &ctx);
	return rc;
}

/* Backup */

/* 0 when dir does not exist or is an empty directory; -1 with err. */
static int
backup_target_free(const char *dir, struct halle_error *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int empty = 1;

	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, HALLE_E_INVALID_FIELD, "'path': %s: %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return error_set(err, HALLE_E_BACKUP_TARGET_EXISTS, "'path': %s "
		    "exists and is not a directory", dir);
	if ((d = opendir(dir)) == NULL)
		return error_set(err, HALLE_E_INVALID_FIELD, "'path': %s: %s", dir,
		    strerror(errno));
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return error_set(err, HALLE_E_BACKUP_TARGET_EXISTS, "'path': %s is "
		    "not empty: a backup goes into a new or empty directory",
		    dir);
	return 0;
}

json_t *
service_backup(struct node *n, const struct service_backup_request *r,
    struct halle_error *err)
{
	const char *dir = r->path;
	char file[SERVICE_MAX_PATH + 16], why[512];
	struct stat st;

	if (backup_target_free(dir, err) == -1)
		return NULL;
	if (node_backup(n, dir, why, sizeof(why)) == -1) {
		error_set(err, HALLE_E_STORE, "%s", why);
		return NULL;
	}
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (stat(file, &st) == -1) {
		error_set(err, HALLE_E_STORE, "%s: %s", file, strerror(errno));
		return NULL;
	}
	return json_pack("{s:s, s:I}", "path", dir, "bytes",
	    (json_int_t)st.st_size);
}
