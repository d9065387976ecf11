/*
 * ingest: see ingest.h.
 *
 * The work is done in two passes so that nothing is written unless the
 * whole run is good: first parse and check every envelope (shape, origin,
 * sequence, chain, overlap with what is held, the last signature), then
 * append and apply the new part.
 *
 * A fork proof is kept in the index database under its dbkey_fork() key
 * as len(held) (4 bytes, big-endian) || held || other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "feed.h"
#include "ingest.h"
#include "views.h"

static int __attribute__((format(printf, 3, 4)))
report(struct ingest_report *rep, enum ingest_result result, const char *fmt,
    ...)
{
	va_list ap;

	rep->result = result;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* report() for the checks of a run, which answer 1 when they refused it. */
#define refused(...)	(report(__VA_ARGS__) + 1)

/* Freezes the feed of origin (the node's own: node.h). 0 or -1. */
static int
freeze(struct node_txn *nt, const unsigned char *origin)
{
	if (feed_freeze(nt->t, origin) == -1)
		return -1;
	if (memcmp(origin, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0)
		node_note_own_fork(nt);
	return 0;
}

/* Keeps the proof of a fork at (origin, seq). 0 or -1. */
static int
keep_proof(struct store_txn *t, const unsigned char *origin, uint64_t seq,
    const void *held, size_t held_len, const struct ingest_bytes *other)
{
	unsigned char *proof;
	char key[DBKEY_MAX], hex[KEY_HEX_LEN + 1];
	size_t len = 4 + held_len + other->len, klen;
	int rc;

	if ((proof = malloc(len)) == NULL)
		return -1;
	proof[0] = (unsigned char)(held_len >> 24);
	proof[1] = (unsigned char)(held_len >> 16);
	proof[2] = (unsigned char)(held_len >> 8);
	proof[3] = (unsigned char)held_len;
	memcpy(proof + 4, held, held_len);
	memcpy(proof + 4 + held_len, other->data, other->len);
	hex_encode(hex, origin, KEY_PUBLIC_LEN);
	klen = dbkey_fork(key, hex, seq);
	rc = store_put(t, STORE_INDEX, key, klen, proof, len);
	free(proof);
	return rc;
}

static int
first_proof(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	unsigned long long seq;

	(void)val;
	(void)vlen;
	if (dbkey_fork_parse(key, klen, NULL, &seq) == -1)
		return 0;
	*(uint64_t *)arg = seq;
	return 1;
}

/*
 * The lowest seq of a fork proof held for origin (0: none): a feed is
 * taken in up to the record before it, then frozen (ingest.h). 0 or -1.
 */
static int
fork_seq(struct store_txn *t, const unsigned char *origin, uint64_t *seq)
{
	char prefix[DBKEY_MAX], hex[KEY_HEX_LEN + 1];

	*seq = 0;
	hex_encode(hex, origin, KEY_PUBLIC_LEN);
	return store_scan(t, STORE_INDEX, prefix, dbkey_fork_origin(prefix, hex),
	    first_proof, seq);
}

/*
 * A record the node already holds at that seq: identical is fine; a
 * different one that the origin really signed is a fork; a different one
 * with a bad signature is simply a bad run.
 */
static int
check_held(struct node_txn *nt, const unsigned char *origin,
    const struct record *r, const struct ingest_bytes *b,
    struct ingest_report *rep, int *fork)
{
	struct record mine;
	const void *held;
	size_t held_len;
	char why[128];
	int same;

	*fork = 0;
	if (feed_get(nt->t, origin, r->seq, &held, &held_len) != 0)
		return -1;
	if (held_len == b->len && memcmp(held, b->data, b->len) == 0)
		return 0;
	/* Same content and signature in other envelope bytes: the same record. */
	if (record_parse(&mine, held, held_len, why, sizeof(why)) == -1)
		return -1;
	same = memcmp(mine.hash, r->hash, RECORD_HASH_LEN) == 0;
	record_free(&mine);
	if (same)
		return 0;
	if (record_verify_signature(r) == -1) {
		report(rep, INGEST_BAD, "record %llu differs from the one held "
		    "and its signature is invalid", (unsigned long long)r->seq);
		return 1;
	}
	if (keep_proof(nt->t, origin, r->seq, held, held_len, b) == -1 ||
	    freeze(nt, origin) == -1)
		return -1;
	*fork = 1;
	report(rep, INGEST_FORK, "record %llu: two different signed records "
	    "for one sequence number; feed frozen", (unsigned long long)r->seq);
	return 1;
}

/*
 * Pass 1, the envelopes: each parses, belongs to origin's feed and follows
 * the one before in the run. A run that reaches a fork proof held (at
 * fork_at) is cut before it (*n shrinks). 0 when good, 1 when reported.
 */
static int
parse_run(const unsigned char *origin, const struct ingest_bytes *run,
    size_t *n, struct record *recs, uint64_t fork_at,
    struct ingest_report *rep)
{
	size_t i;
	char why[128];

	for (i = 0; i < *n; i++) {
		if (record_parse(&recs[i], run[i].data, run[i].len, why,
		    sizeof(why)) == -1)
			return refused(rep, INGEST_BAD, "record %zu of the run: "
			    "%s", i, why);
		if (memcmp(recs[i].origin, origin, KEY_PUBLIC_LEN) != 0)
			return refused(rep, INGEST_BAD, "record %llu belongs to "
			    "another feed", (unsigned long long)recs[i].seq);
		if (i > 0 && recs[i].seq != recs[i - 1].seq + 1)
			return refused(rep, INGEST_BAD, "record %llu does not "
			    "follow the one before in the run",
			    (unsigned long long)recs[i].seq);
		if (i > 0 && fork_at > 0 && recs[i].seq >= fork_at) {
			/* A proof from a peer: up to the fork, no further. */
			record_free(&recs[i]);
			*n = i;
			break;
		}
	}
	return 0;
}

/*
 * Pass 1, the chain: the part of the run the node holds is what it holds
 * (else a fork, proved and frozen, or a bad run), the new part chains on
 * from the head. *first_new is the seq of the first new record, 0 when
 * none. 0 when good, 1 when reported, -1 on a store failure.
 */
static int
check_chain(struct node_txn *nt, const unsigned char *origin,
    const struct feed_head *head, const struct record *recs,
    const struct ingest_bytes *run, size_t n, uint64_t *first_new,
    struct ingest_report *rep)
{
	unsigned char prev[RECORD_HASH_LEN];
	size_t i;
	int rc, fork;

	*first_new = 0;
	if (recs[0].seq > head->seq + 1)
		return refused(rep, INGEST_GAP, "run starts at %llu, after the "
		    "head %llu", (unsigned long long)recs[0].seq,
		    (unsigned long long)head->seq);
	for (i = 0; i < n; i++) {
		const struct record *r = &recs[i];

		if (r->seq <= head->seq) {
			if ((rc = check_held(nt, origin, r, &run[i], rep,
			    &fork)) != 0)
				return rc;
			memcpy(prev, r->hash, RECORD_HASH_LEN);
			continue;
		}
		if (*first_new == 0) {
			*first_new = r->seq;
			if (head->seq > 0)
				memcpy(prev, head->hash, RECORD_HASH_LEN);
		}
		if (!record_follows(r, r->seq - 1, r->seq > 1 ? prev : NULL))
			return refused(rep, INGEST_BAD, "record %llu: previous "
			    "hash does not match the chain",
			    (unsigned long long)r->seq);
		memcpy(prev, r->hash, RECORD_HASH_LEN);
	}
	return 0;
}

/*
 * Pass 2: stores the new records, moves the head once, then applies them
 * in order (applying may append to this node's own feed, never to this
 * one). 0 or -1 (nt->err).
 */
static int
take_in(struct node_txn *nt, const struct record *recs,
    const struct ingest_bytes *run, size_t n, uint64_t first_new,
    struct ingest_report *rep)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (recs[i].seq >= first_new && feed_put_record(nt->t, &recs[i],
		    run[i].data, run[i].len) == -1)
			break;
	if (i < n || feed_set_head(nt->t, &recs[n - 1]) == -1)
		return error_set(nt->err, HALLE_E_STORE,
		    "cannot append to feed");
	for (i = 0; i < n; i++) {
		if (recs[i].seq < first_new)
			continue;
		if (views_apply(nt, &recs[i]) == -1)
			return -1;
		rep->accepted++;
	}
	rep->head_seq = recs[n - 1].seq;
	rep->result = INGEST_OK;
	return 0;
}

int
ingest_run(struct node_txn *nt, const unsigned char *origin,
    const struct ingest_bytes *run, size_t n, struct ingest_report *rep)
{
	struct feed_head head;
	struct record *recs;
	uint64_t first_new, fork_at;
	size_t i, parsed = n;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (feed_head(nt->t, origin, &head) == -1 ||
	    fork_seq(nt->t, origin, &fork_at) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read feed head");
	rep->head_seq = head.seq;
	if (head.flags & FEED_FROZEN)
		return report(rep, INGEST_FROZEN, "feed frozen by a fork");
	if (n == 0)
		return report(rep, INGEST_OK, "empty run");
	if ((recs = calloc(n, sizeof(*recs))) == NULL)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");

	if ((rc = parse_run(origin, run, &parsed, recs, fork_at, rep)) != 0 ||
	    (rc = check_chain(nt, origin, &head, recs, run, parsed, &first_new,
	    rep)) != 0) {
		if (rc == -1)
			error_set(nt->err, HALLE_E_STORE, "cannot keep fork "
			    "proof");
		rc = rc == -1 ? -1 : 0;
	} else if (first_new == 0)
		report(rep, INGEST_OK, "all records held already");
	/* One signature, the last, authenticates the new part. */
	else if (record_verify_signature(&recs[parsed - 1]) == -1)
		report(rep, INGEST_BAD, "record %llu: the signature is not the "
		    "origin's", (unsigned long long)recs[parsed - 1].seq);
	else if ((rc = take_in(nt, recs, run, parsed, first_new, rep)) == 0 &&
	    fork_at > 0 && rep->head_seq + 1 >= fork_at &&
	    freeze(nt, origin) == -1)
		rc = error_set(nt->err, HALLE_E_STORE, "cannot freeze the feed");
	for (i = 0; i < parsed; i++)
		record_free(&recs[i]);	/* harmless on unparsed entries */
	free(recs);
	return rc;
}

/* Parses a proof's envelope and checks its signature; 0 or -1 (rep). */
static int
proof_record(struct record *r, const struct ingest_bytes *b,
    struct ingest_report *rep)
{
	char why[128];

	if (record_parse(r, b->data, b->len, why, sizeof(why)) == -1) {
		report(rep, INGEST_BAD, "fork proof: %s", why);
		return -1;
	}
	if (record_verify_signature(r) == -1) {
		record_free(r);
		report(rep, INGEST_BAD, "fork proof: a record whose signature "
		    "is invalid");
		return -1;
	}
	return 0;
}

int
ingest_fork_proof(struct node_txn *nt, const struct ingest_bytes *first,
    const struct ingest_bytes *second, struct ingest_report *rep)
{
	struct record a, b;
	struct feed_head head;
	uint64_t fork_at;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (proof_record(&a, first, rep) == -1)
		return 0;
	if (proof_record(&b, second, rep) == -1) {
		record_free(&a);
		return 0;
	}
	if (memcmp(a.origin, b.origin, KEY_PUBLIC_LEN) != 0 || a.seq != b.seq)
		report(rep, INGEST_BAD, "fork proof: two records of different "
		    "feeds or sequence numbers");
	else if (memcmp(a.hash, b.hash, RECORD_HASH_LEN) == 0)
		report(rep, INGEST_BAD, "fork proof: the same record twice");
	else if (feed_head(nt->t, a.origin, &head) == -1)
		rc = error_set(nt->err, HALLE_E_STORE, "cannot read feed head");
	else if (fork_seq(nt->t, a.origin, &fork_at) == -1)
		rc = error_set(nt->err, HALLE_E_STORE, "cannot read fork proofs");
	else if ((head.flags & FEED_FROZEN) || (fork_at > 0 &&
	    fork_at <= a.seq))
		report(rep, INGEST_FROZEN, "a fork of the feed is known");
	else if (keep_proof(nt->t, a.origin, a.seq, first->data, first->len,
	    second) == -1 || (head.seq + 1 >= a.seq &&
	    freeze(nt, a.origin) == -1))
		rc = error_set(nt->err, HALLE_E_STORE, "cannot keep fork proof");
	else if (head.seq + 1 >= a.seq)
		report(rep, INGEST_FORK, "record %llu: two different signed "
		    "records for one sequence number; feed frozen",
		    (unsigned long long)a.seq);
	else
		report(rep, INGEST_FORK, "record %llu: two different signed "
		    "records for one sequence number; the feed is taken in up "
		    "to the record before, then frozen",
		    (unsigned long long)a.seq);
	record_free(&a);
	record_free(&b);
	return rc;
}

struct forks_ctx {
	ingest_fork_fn	 fn;
	void		*arg;
};

static int
each_fork(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct forks_ctx *ctx = arg;
	const unsigned char *p = val;
	struct ingest_bytes held, other;
	unsigned char origin[KEY_PUBLIC_LEN];
	char hex[KEY_HEX_LEN + 1];
	unsigned long long seq;
	size_t held_len;

	if (vlen < 4 || dbkey_fork_parse(key, klen, hex, &seq) == -1 ||
	    hex_decode(origin, KEY_PUBLIC_LEN, hex) == -1)
		return 0;
	held_len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
	    (size_t)p[2] << 8 | p[3];
	if (held_len > vlen - 4)
		return 0;
	held.data = p + 4;
	held.len = held_len;
	other.data = p + 4 + held_len;
	other.len = vlen - 4 - held_len;
	return ctx->fn(origin, seq, &held, &other, ctx->arg);
}

int
ingest_forks(struct store_txn *t, ingest_fork_fn fn, void *arg)
{
	struct forks_ctx ctx = { fn, arg };
	char prefix[DBKEY_MAX];

	return store_scan(t, STORE_INDEX, prefix, dbkey_fork(prefix, NULL, 0),
	    each_fork, &ctx);
}
