/*
 * feed: see feed.h. Heads are stored as a fixed 52-byte big-endian layout:
 * seq(8) hash(32) time_ms(8) flags(4).
 */
#include <stdio.h>
#include <string.h>

#include "feed.h"

#define HEAD_BYTES	52

static void
put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
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

static void
record_key(unsigned char key[KEY_PUBLIC_LEN + 8], const unsigned char *origin,
    uint64_t seq)
{
	memcpy(key, origin, KEY_PUBLIC_LEN);
	put_u64(key + KEY_PUBLIC_LEN, seq);
}

static void
head_decode(struct feed_head *h, const unsigned char *p)
{
	h->seq = get_u64(p);
	memcpy(h->hash, p + 8, RECORD_HASH_LEN);
	h->time_ms = (int64_t)get_u64(p + 40);
	h->flags = (uint32_t)p[48] << 24 | (uint32_t)p[49] << 16 |
	    (uint32_t)p[50] << 8 | p[51];
}

int
feed_head(struct store_txn *t, const unsigned char *origin,
    struct feed_head *head)
{
	const void *v;
	size_t vlen;
	int rc;

	memset(head, 0, sizeof(*head));
	rc = store_get(t, STORE_FEEDS, origin, KEY_PUBLIC_LEN, &v, &vlen);
	if (rc == 1)
		return 0;
	if (rc == -1 || vlen != HEAD_BYTES)
		return -1;
	head_decode(head, v);
	return 0;
}

int
feed_put_record(struct store_txn *t, const struct record *r,
    const uint8_t *buf, size_t len)
{
	unsigned char key[KEY_PUBLIC_LEN + 8];

	record_key(key, r->origin, r->seq);
	return store_put(t, STORE_RECORDS, key, sizeof(key), buf, len);
}

int
feed_set_head(struct store_txn *t, const struct record *last)
{
	unsigned char hv[HEAD_BYTES];

	put_u64(hv, last->seq);
	memcpy(hv + 8, last->hash, RECORD_HASH_LEN);
	put_u64(hv + 40, (uint64_t)last->time_ms);
	memset(hv + 48, 0, 4);	/* flags: a feed that grows is not frozen */
	return store_put(t, STORE_FEEDS, last->origin, KEY_PUBLIC_LEN, hv,
	    sizeof(hv));
}

int
feed_append(struct store_txn *t, const struct record *r, const uint8_t *buf,
    size_t len)
{
	struct feed_head head;

	if (feed_head(t, r->origin, &head) == -1)
		return -1;
	if ((head.flags & FEED_FROZEN) ||
	    !record_follows(r, head.seq, head.seq ? head.hash : NULL))
		return -1;
	if (feed_put_record(t, r, buf, len) == -1 || feed_set_head(t, r) == -1)
		return -1;
	return 0;
}

int
feed_freeze(struct store_txn *t, const unsigned char *origin)
{
	const void *v;
	unsigned char hv[HEAD_BYTES];
	size_t vlen;

	switch (store_get(t, STORE_FEEDS, origin, KEY_PUBLIC_LEN, &v, &vlen)) {
	case 0:
		if (vlen != HEAD_BYTES)
			return -1;
		memcpy(hv, v, HEAD_BYTES);
		break;
	case 1:
		memset(hv, 0, HEAD_BYTES);	/* nothing held: seq 0 */
		break;
	default:
		return -1;
	}
	hv[51] |= FEED_FROZEN;
	return store_put(t, STORE_FEEDS, origin, KEY_PUBLIC_LEN, hv,
	    HEAD_BYTES);
}

int
feed_get(struct store_txn *t, const unsigned char *origin, uint64_t seq,
    const void **buf, size_t *len)
{
	unsigned char key[KEY_PUBLIC_LEN + 8];

	record_key(key, origin, seq);
	return store_get(t, STORE_RECORDS, key, sizeof(key), buf, len);
}

struct each_ctx {
	feed_each_fn	 fn;
	void		*arg;
};

static int
each_head(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct each_ctx *ctx = arg;
	struct feed_head head;

	if (klen != KEY_PUBLIC_LEN || vlen != HEAD_BYTES)
		return -1;
	head_decode(&head, val);
	return ctx->fn(key, &head, ctx->arg);
}

int
feed_each(struct store_txn *t, feed_each_fn fn, void *arg)
{
	struct each_ctx ctx = { fn, arg };

	return store_scan(t, STORE_FEEDS, NULL, 0, each_head, &ctx);
}

int
feed_verify(struct store_txn *t, const unsigned char *origin, char *err,
    size_t errlen)
{
	return feed_verify_progress(t, origin, NULL, NULL, err, errlen);
}

int
feed_verify_progress(struct store_txn *t, const unsigned char *origin,
    feed_progress_fn progress, void *arg, char *err, size_t errlen)
{
	unsigned char prev[RECORD_HASH_LEN];
	struct feed_head head;
	struct record r;
	const void *buf;
	size_t len;
	uint64_t seq;
	char why[128];

	if (feed_head(t, origin, &head) == -1) {
		snprintf(err, errlen, "feed head unreadable");
		return -1;
	}
	for (seq = 1; seq <= head.seq; seq++) {
		if (feed_get(t, origin, seq, &buf, &len) != 0) {
			snprintf(err, errlen, "record %llu missing",
			    (unsigned long long)seq);
			return -1;
		}
		if (record_parse(&r, buf, len, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "record %llu: %s",
			    (unsigned long long)seq, why);
			return -1;
		}
		if (memcmp(r.origin, origin, KEY_PUBLIC_LEN) != 0 ||
		    !record_follows(&r, seq - 1, seq > 1 ? prev : NULL) ||
		    record_verify_signature(&r) == -1) {
			snprintf(err, errlen, "record %llu: %s",
			    (unsigned long long)seq,
			    record_verify_signature(&r) == -1 ?
			    "bad signature" : "breaks the chain");
			record_free(&r);
			return -1;
		}
		memcpy(prev, r.hash, RECORD_HASH_LEN);
		record_free(&r);
		if (progress != NULL && seq % FEED_VERIFY_STEP == 0)
			progress(seq, arg);
	}
	if (head.seq > 0 && memcmp(prev, head.hash, RECORD_HASH_LEN) != 0) {
		snprintf(err, errlen, "head hash does not match record %llu",
		    (unsigned long long)head.seq);
		return -1;
	}
	if (progress != NULL)
		progress(head.seq, arg);
	return 0;
}
