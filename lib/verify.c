/*
 * verify: see verify.h.
 *
 * The replay reads the node's store in one read snapshot and writes the
 * scratch store in batches of VERIFY_BATCH records, each one write
 * transaction. store_write may run a batch again from its start (when the
 * scratch map grows), so a batch starts from the positions saved before
 * it and keeps nothing else in memory. Progress is told after each batch
 * is committed (records replayed of the sum of the heads), then while the
 * keys of both stores are compared (of the keys the two hold in all).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "dbkey.h"
#include "feed.h"
#include "log.h"
#include "verify.h"
#include "views.h"

#define VERIFY_BATCH	1000
#define VERIFY_KEY_MAX	512

struct replay_feed {
	unsigned char	 origin[KEY_PUBLIC_LEN];
	uint64_t	 head;		/* the last seq to replay */
	uint64_t	 next, start;	/* next seq; next at the batch start */
	struct record	 rec;		/* the next record, when loaded */
	int		 loaded;
};

struct verify {
	struct node		*node;		/* the node checked */
	struct node		 scratch;	/* same key, scratch store */
	struct store_txn	 src;		/* the node's snapshot */
	struct store_txn	*dst;		/* the scratch, while comparing */
	struct replay_feed	*feeds;
	size_t			 nfeeds, cap;
	int			 done;
	int			 differences;
	verify_report_fn	 report;
	verify_progress_fn	 progress;	/* or NULL */
	void			*arg;
	uint64_t		 replay_total;	/* records in all feeds */
	uint64_t		 compared;	/* keys compared so far */
	uint64_t		 compare_total;	/* keys of both stores */
};

static void __attribute__((format(printf, 2, 3)))
differ(struct verify *v, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->differences++;
	v->report(line, v->arg);
}

/* A key as text: printable bytes as they are, others as \xNN (\0 for 0). */
static const char *
key_text(char *out, size_t outlen, const void *key, size_t klen)
{
	const unsigned char *k = key;
	size_t i, o = 0;

	for (i = 0; i < klen && o + 5 < outlen; i++) {
		if (k[i] == 0)
			o += (size_t)snprintf(out + o, outlen - o, "\\0");
		else if (isprint(k[i]) && k[i] != '\\')
			out[o++] = (char)k[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    k[i]);
	}
	out[o] = '\0';
	return out;
}

static void
progress(struct verify *v, enum verify_step step, uint64_t done,
    uint64_t total)
{
	if (v->progress != NULL)
		v->progress(step, done, total, v->arg);
}

/* Replay */

static int
collect_feed(const unsigned char *origin, const struct feed_head *h,
    void *arg)
{
	struct verify *v = arg;
	struct replay_feed *f;

	if (v->nfeeds == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;

		if ((f = realloc(v->feeds, cap * sizeof(*f))) == NULL)
			return -1;
		v->feeds = f;
		v->cap = cap;
	}
	f = &v->feeds[v->nfeeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->origin, origin, KEY_PUBLIC_LEN);
	f->head = h->seq;
	f->next = f->start = 1;
	v->replay_total += h->seq;
	return 0;
}

static void
unload(struct replay_feed *f)
{
	if (f->loaded)
		record_free(&f->rec);
	f->loaded = 0;
}

/* Loads the next record of f; 0, or 1 when the feed is done. */
static int
load_next(struct verify *v, struct replay_feed *f)
{
	char hex[KEY_HEX_LEN + 1], why[128];
	const void *buf;
	size_t len;

	if (f->loaded)
		return 0;
	if (f->next > f->head)
		return 1;
	if (feed_get(&v->src, f->origin, f->next, &buf, &len) != 0 ||
	    record_parse(&f->rec, buf, len, why, sizeof(why)) == -1) {
		hex_encode(hex, f->origin, KEY_PUBLIC_LEN);
		differ(v, "feed %s: record %llu unreadable: its views are "
		    "rebuilt up to the record before", hex,
		    (unsigned long long)f->next);
		f->head = f->next - 1;
		return 1;
	}
	f->loaded = 1;
	return 0;
}

/* The feed whose next record comes first (by time, then origin), or NULL. */
static struct replay_feed *
next_feed(struct verify *v)
{
	struct replay_feed *best = NULL, *f;
	size_t i;

	for (i = 0; i < v->nfeeds; i++) {
		f = &v->feeds[i];
		if (load_next(v, f) == 1)
			continue;
		if (best == NULL || f->rec.time_ms < best->rec.time_ms ||
		    (f->rec.time_ms == best->rec.time_ms &&
		    memcmp(f->origin, best->origin, KEY_PUBLIC_LEN) < 0))
			best = f;
	}
	return best;
}

static int
replay_batch(struct store_txn *t, void *arg)
{
	struct verify *v = arg;
	struct halle_error err = { HALLE_OK, "" };
	struct node_txn nt = { &v->scratch, t, 0, &err };
	struct replay_feed *f;
	size_t i, n;

	for (i = 0; i < v->nfeeds; i++) {
		unload(&v->feeds[i]);
		v->feeds[i].next = v->feeds[i].start;
	}
	v->done = 0;
	for (n = 0; n < VERIFY_BATCH; n++) {
		if ((f = next_feed(v)) == NULL) {
			v->done = 1;
			break;
		}
		nt.now_ms = f->rec.time_ms;
		if (views_apply(&nt, &f->rec) == -1) {
			log_warnx("verify: replay: %s", err.message);
			return -1;
		}
		unload(f);
		f->next++;
	}
	for (i = 0; i < v->nfeeds; i++)
		unload(&v->feeds[i]);
	return 0;
}

static int
replay(struct verify *v, char *err, size_t errlen)
{
	uint64_t replayed;
	size_t i;
	int rc;

	if (feed_each(&v->src, collect_feed, v) == -1) {
		snprintf(err, errlen, "cannot read the feeds");
		return -1;
	}
	progress(v, VERIFY_REPLAY, 0, v->replay_total);
	do {
		rc = store_write(v->scratch.store, replay_batch, v, err, errlen);
		if (rc == -1)
			snprintf(err, errlen, "the replay failed (see the log)");
		if (rc != 0)
			return -1;
		replayed = 0;
		for (i = 0; i < v->nfeeds; i++) {
			v->feeds[i].start = v->feeds[i].next;
			replayed += v->feeds[i].start - 1;
		}
		if (!v->done)
			progress(v, VERIFY_REPLAY, replayed, v->replay_total);
	} while (!v->done);
	/* Done, though a feed cut short at an unreadable record is less. */
	progress(v, VERIFY_REPLAY, v->replay_total, v->replay_total);
	return 0;
}

/* Comparing */

struct compare {
	struct verify		*v;
	struct store_txn	*other;
	enum store_db		 db;
	int			 held;	/* scanning the node's side */
};

static const char *
db_name(enum store_db db)
{
	return db == STORE_VIEWS ? "view" : "index";
}

static int
compare_key(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct compare *c = arg;
	char text[VERIFY_KEY_MAX * 4 + 8], taken[DBKEY_MAX];
	const void *other;
	size_t olen;
	int rc;

	if (++c->v->compared % VERIFY_PROGRESS_STEP == 0)
		progress(c->v, VERIFY_COMPARE, c->v->compared,
		    c->v->compare_total);
	if (c->db == STORE_INDEX && klen >= 2 && memcmp(key, taken,
	    dbkey_all(taken, 's')) == 0)
		return 0;	/* stock: compared with the rulings */
	if (c->db == STORE_INDEX && dbkey_is_work(key, klen))
		return 0;
	rc = store_get(c->other, c->db, key, klen, &other, &olen);
	if (rc == -1)
		return -1;
	key_text(text, sizeof(text), key, klen);
	if (rc == 1)
		differ(c->v, c->held ? "%s %s: held, but no record gives it" :
		    "%s %s: missing, the feeds give it", db_name(c->db), text);
	else if (c->held && (olen != vlen || memcmp(other, val, vlen) != 0))
		differ(c->v, "%s %s: not what the feeds give", db_name(c->db),
		    text);
	return 0;
}

static int
compare_db(struct verify *v, enum store_db db)
{
	struct compare held = { v, v->dst, db, 1 };
	struct compare given = { v, &v->src, db, 0 };

	if (store_scan(&v->src, db, NULL, 0, compare_key, &held) == -1 ||
	    store_scan(v->dst, db, NULL, 0, compare_key, &given) == -1)
		return -1;
	return 0;
}

/*
 * Stock: adds what each of this node's latest rulings, as rebuilt from the
 * feeds, grants into the scratch store's meta database under the counters'
 * keys, then compares them with the counters held.
 */
struct stock {
	struct verify		*v;
	struct store_txn	*t;	/* the scratch, writable */
	size_t			 suffix;	/* strlen(":<own hex>") */
};

static int
add_ruling(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct stock *s = arg;
	const char *k = key;
	char order[VERIFY_KEY_MAX], ckey[VERIFY_KEY_MAX];
	Halle__Confirmation *c;
	Halle__Distribution *d;
	Halle__Order *o;
	char tkey[DBKEY_MAX];
	const void *held;
	size_t i, hlen, tklen;
	uint64_t sum;

	if (klen <= 2 + s->suffix || klen >= sizeof(order) ||
	    k[klen - s->suffix] != ':' || memcmp(k + klen - s->suffix + 1,
	    s->v->node->id_hex, KEY_HEX_LEN) != 0)
		return 0;	/* another node's ruling */
	snprintf(order, sizeof(order), "%.*s", (int)(klen - 2 - s->suffix),
	    k + 2);
	snprintf(ckey, sizeof(ckey), "%.*s", (int)klen, k);
	c = VIEW_LOAD(s->t, Confirmation, confirmation, ckey, NULL);
	o = c ? views_order(s->t, order) : NULL;
	d = o ? views_distribution(s->t, o->distribution) : NULL;
	for (i = 0; d != NULL && i < c->n_lines; i++) {
		if (c->lines[i]->confirmed == 0)
			continue;
		if ((tklen = dbkey_stock_taken(tkey, c->lines[i]->producer,
		    d->date, c->lines[i]->sku)) == 0)
			continue;
		sum = 0;
		if (store_get(s->t, STORE_META, tkey, tklen, &held,
		    &hlen) == 0 && hlen == sizeof(sum))
			memcpy(&sum, held, sizeof(sum));
		sum += c->lines[i]->confirmed;
		store_put(s->t, STORE_META, tkey, tklen, &sum, sizeof(sum));
	}
	view_free(d);
	view_free(o);
	view_free(c);
	return s->t->ret == 0 ? 0 : -1;
}

static int
expected_stock(struct store_txn *t, void *arg)
{
	struct verify *v = arg;
	struct stock s = { v, t, 1 + KEY_HEX_LEN };

	char prefix[DBKEY_MAX];

	return store_scan(t, STORE_VIEWS, prefix, dbkey_all(prefix, 'C'),
	    add_ruling, &s);
}

static int
compare_stock_key(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct compare *c = arg;
	char text[VERIFY_KEY_MAX * 4 + 8];
	const void *other;
	size_t olen;
	uint64_t held = 0, given = 0;
	int rc;

	rc = store_get(c->other, c->held ? STORE_META : STORE_INDEX, key, klen,
	    &other, &olen);
	if (rc == -1)
		return -1;
	if (rc == 1 && !c->held) {
		key_text(text, sizeof(text), key, klen);
		differ(c->v, "index %s: missing, the rulings take stock",
		    text);
		return 0;
	}
	if (!c->held)
		return 0;
	if (vlen == sizeof(held))
		memcpy(&held, val, sizeof(held));
	if (rc == 0 && olen == sizeof(given))
		memcpy(&given, other, sizeof(given));
	if (held != given || vlen != sizeof(held)) {
		key_text(text, sizeof(text), key, klen);
		differ(c->v, "index %s: holds %llu taken, the rulings take "
		    "%llu", text, (unsigned long long)held,
		    (unsigned long long)given);
	}
	return 0;
}

static int
compare_stock(struct verify *v, char *err, size_t errlen)
{
	struct compare held = { v, NULL, STORE_INDEX, 1 };
	struct compare given = { v, &v->src, STORE_META, 0 };
	char taken[DBKEY_MAX];
	struct store_txn t;
	int rc;

	if ((rc = store_write(v->scratch.store, expected_stock, v, err,
	    errlen)) != 0) {
		if (rc == -1)
			snprintf(err, errlen, "cannot add up the rulings");
		return -1;
	}
	if (store_read_begin(v->scratch.store, &t) == -1) {
		snprintf(err, errlen, "cannot read the scratch store");
		return -1;
	}
	held.other = &t;
	if (store_scan(&v->src, STORE_INDEX, taken, dbkey_all(taken, 's'),
	    compare_stock_key, &held) == -1 || store_scan(&t, STORE_META,
	    taken, dbkey_all(taken, 's'),
	    compare_stock_key, &given) == -1) {
		store_read_end(&t);
		snprintf(err, errlen, "cannot compare the stock counters");
		return -1;
	}
	store_read_end(&t);
	return 0;
}

static int
compare(struct verify *v, char *err, size_t errlen)
{
	struct store_txn t;
	int rc;

	if (store_read_begin(v->scratch.store, &t) == -1) {
		snprintf(err, errlen, "cannot read the scratch store");
		return -1;
	}
	v->dst = &t;
	v->compare_total = store_entries(&v->src, STORE_VIEWS) +
	    store_entries(&t, STORE_VIEWS) + store_entries(&v->src,
	    STORE_INDEX) + store_entries(&t, STORE_INDEX);
	progress(v, VERIFY_COMPARE, 0, v->compare_total);
	rc = compare_db(v, STORE_VIEWS);
	if (rc == 0)
		rc = compare_db(v, STORE_INDEX);
	store_read_end(&t);
	v->dst = NULL;
	if (rc == -1) {
		snprintf(err, errlen, "cannot compare the stores");
		return -1;
	}
	if ((rc = compare_stock(v, err, errlen)) == 0)
		progress(v, VERIFY_COMPARE, v->compare_total,
		    v->compare_total);
	return rc;
}

/* The scratch store */

static void
scratch_remove(const char *dir)
{
	char path[4096 + 16];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

int
verify_views(struct node *n, const char *tmp_dir, verify_report_fn report,
    verify_progress_fn progress_fn, void *arg, char *err, size_t errlen)
{
	struct verify v;
	char dir[4096];
	size_t used, map, i;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	v.node = n;
	v.report = report;
	v.progress = progress_fn;
	v.arg = arg;
	snprintf(dir, sizeof(dir), "%s/halle-verify.XXXXXX", tmp_dir);
	if (mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "%s: cannot make a scratch directory: %s",
		    tmp_dir, strerror(errno));
		return -1;
	}
	store_usage(n->store, &used, &map);
	v.scratch.cfg = n->cfg;
	v.scratch.key = n->key;
	memcpy(v.scratch.id_hex, n->id_hex, sizeof(v.scratch.id_hex));
	v.scratch.clock_ms = n->clock_ms;
	if (store_open(&v.scratch.store, dir, map, err, errlen) == -1)
		goto out;
	if (store_read_begin(n->store, &v.src) == -1) {
		snprintf(err, errlen, "cannot read the store");
		goto out;
	}
	if (replay(&v, err, errlen) == 0 && compare(&v, err, errlen) == 0)
		rc = v.differences;
	store_read_end(&v.src);
out:
	for (i = 0; i < v.nfeeds; i++)
		unload(&v.feeds[i]);
	free(v.feeds);
	store_close(&v.scratch.store);
	sodium_memzero(&v.scratch.key, sizeof(v.scratch.key));
	scratch_remove(dir);
	return rc;
}
