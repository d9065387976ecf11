/*
 * test_record: the signed records of a feed and the chain that links them.
 *
 * Records are built, parsed and verified with real Ed25519 keys. Every
 * single-bit flip of a built envelope must be caught by parsing, by the
 * signature or by the hash that the next record names. Feeds are appended
 * and verified through a real LMDB store in a temporary directory, then
 * corrupted behind the feed's back: feed_verify must name the record.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include <sodium.h>

#include "feed.h"
#include "key.h"
#include "record.h"
#include "record.pb-c.h"
#include "store.h"

#define FEED_LENGTH	50
#define KIND_ORDER	7

static struct node_key	key_a, key_b;

/* An envelope built by record_build, with its hash. */
struct built {
	uint8_t		*buf;
	size_t		 len;
	unsigned char	 hash[RECORD_HASH_LEN];
};

static int
setup_keys(void **state)
{
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(key_a.public_key, key_a.secret_key);
	crypto_sign_keypair(key_b.public_key, key_b.secret_key);
	return 0;
}

static void
build(struct built *b, const struct node_key *key, uint64_t seq,
    const unsigned char *prev, int64_t time_ms, uint32_t kind,
    const void *body, size_t body_len)
{
	assert_int_equal(record_build(&b->buf, &b->len, b->hash, key, seq, prev,
	    time_ms, kind, body, body_len, NULL), 0);
	assert_non_null(b->buf);
	assert_true(b->len > 0);
}

static void
built_free(struct built *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* A record of a chain: body "record <seq>", time from seq. */
static void
build_link(struct built *b, const struct node_key *key, uint64_t seq,
    const struct built *prev)
{
	char body[32];

	snprintf(body, sizeof(body), "record %llu", (unsigned long long)seq);
	build(b, key, seq, prev ? prev->hash : NULL,
	    1764000000000LL + (int64_t)seq * 1000, KIND_ORDER, body,
	    strlen(body));
}

static void
parse_ok(struct record *r, const struct built *b)
{
	char err[128] = "";

	if (record_parse(r, b->buf, b->len, err, sizeof(err)) != 0)
		fail_msg("record_parse: %s", err);
}

static void
parse_fails(const uint8_t *buf, size_t len, const char *why)
{
	struct record r;
	char err[128] = "";

	assert_int_equal(record_parse(&r, buf, len, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	if (why != NULL)
		assert_string_equal(err, why);
	/* A failed parse leaves nothing to free; freeing again is harmless. */
	assert_null(r.envelope);
	assert_null(r.content);
	record_free(&r);
}

/* BLAKE2b-256 over (record bytes || signature), computed here. */
static const unsigned char *
expected_hash(const struct built *b)
{
	static unsigned char hash[RECORD_HASH_LEN];
	crypto_generichash_state st;
	Halle__Envelope *env;

	env = halle__envelope__unpack(NULL, b->len, b->buf);
	assert_non_null(env);
	assert_int_equal(env->signature.len, RECORD_SIG_LEN);
	crypto_generichash_init(&st, NULL, 0, RECORD_HASH_LEN);
	crypto_generichash_update(&st, env->record.data, env->record.len);
	crypto_generichash_update(&st, env->signature.data,
	    env->signature.len);
	crypto_generichash_final(&st, hash, RECORD_HASH_LEN);
	halle__envelope__free_unpacked(env, NULL);
	return hash;
}

static void
test_round_trip(void **state)
{
	static const uint8_t body[] = { 0x00, 0x01, 0xfe, 0xff, 'b', 'o', 'd',
	    'y', 0x00 };
	struct built b1, b2;
	struct record r;
	unsigned char zero[RECORD_HASH_LEN];

	memset(zero, 0, sizeof(zero));
	build(&b1, &key_a, 1, NULL, 1764000000123LL, KIND_ORDER, body,
	    sizeof(body));
	parse_ok(&r, &b1);
	assert_memory_equal(r.origin, key_a.public_key, KEY_PUBLIC_LEN);
	assert_int_equal(r.seq, 1);
	assert_memory_equal(r.prev, zero, RECORD_HASH_LEN);
	assert_int_equal(r.time_ms, 1764000000123LL);
	assert_int_equal(r.kind, KIND_ORDER);
	assert_int_equal(r.body_len, sizeof(body));
	assert_memory_equal(r.body, body, sizeof(body));
	assert_int_equal(r.has_recipient, 0);
	assert_memory_equal(r.hash, b1.hash, RECORD_HASH_LEN);
	assert_int_equal(record_verify_signature(&r), 0);
	record_free(&r);
	record_free(&r);

	/* Large values, a negative time, an empty body, a previous hash. */
	build(&b2, &key_b, UINT64_MAX, b1.hash, -42, UINT32_MAX, NULL, 0);
	parse_ok(&r, &b2);
	assert_memory_equal(r.origin, key_b.public_key, KEY_PUBLIC_LEN);
	assert_true(r.seq == UINT64_MAX);
	assert_memory_equal(r.prev, b1.hash, RECORD_HASH_LEN);
	assert_int_equal(r.time_ms, -42);
	assert_true(r.kind == UINT32_MAX);
	assert_int_equal(r.body_len, 0);
	assert_memory_equal(r.hash, b2.hash, RECORD_HASH_LEN);
	assert_memory_not_equal(b1.hash, b2.hash, RECORD_HASH_LEN);
	assert_int_equal(record_verify_signature(&r), 0);
	record_free(&r);

	assert_memory_equal(b2.hash, expected_hash(&b2), RECORD_HASH_LEN);
	assert_memory_equal(b1.hash, expected_hash(&b1), RECORD_HASH_LEN);
	built_free(&b1);
	built_free(&b2);
}

static void
test_chain(void **state)
{
	struct built b[3];
	struct record r[3];
	int i;

	for (i = 0; i < 3; i++) {
		build_link(&b[i], &key_a, (uint64_t)i + 1,
		    i ? &b[i - 1] : NULL);
		parse_ok(&r[i], &b[i]);
		assert_int_equal(record_verify_signature(&r[i]), 0);
	}
	assert_memory_equal(r[1].prev, r[0].hash, RECORD_HASH_LEN);
	assert_memory_equal(r[2].prev, r[1].hash, RECORD_HASH_LEN);

	assert_true(record_follows(&r[0], 0, NULL));
	assert_true(record_follows(&r[1], 1, r[0].hash));
	assert_true(record_follows(&r[2], 2, r[1].hash));

	/* Wrong sequence numbers, wrong or missing previous hashes. */
	assert_false(record_follows(&r[0], 1, r[0].hash));
	assert_false(record_follows(&r[1], 0, NULL));
	assert_false(record_follows(&r[1], 1, NULL));
	assert_false(record_follows(&r[1], 1, r[1].hash));
	assert_false(record_follows(&r[2], 2, r[0].hash));
	assert_false(record_follows(&r[2], 1, r[0].hash));
	assert_false(record_follows(&r[2], 3, r[1].hash));

	for (i = 0; i < 3; i++) {
		record_free(&r[i]);
		built_free(&b[i]);
	}
}

/*
 * Flips every bit of the middle record of a chain of three. Each flip must
 * make the envelope unparsable, its signature invalid, or its hash differ
 * from what the third record names.
 */
static void
test_bit_flips(void **state)
{
	struct built b[3];
	struct record r3, flipped;
	uint8_t *copy;
	size_t i, by_parse = 0, by_signature = 0, by_chain = 0;
	char err[128];
	int bit;

	for (i = 0; i < 3; i++)
		build_link(&b[i], &key_a, i + 1, i ? &b[i - 1] : NULL);
	parse_ok(&r3, &b[2]);
	copy = malloc(b[1].len);
	assert_non_null(copy);
	for (i = 0; i < b[1].len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, b[1].buf, b[1].len);
			copy[i] ^= (uint8_t)(1u << bit);
			if (record_parse(&flipped, copy, b[1].len, err,
			    sizeof(err)) == -1) {
				by_parse++;
				continue;
			}
			if (record_verify_signature(&flipped) != 0)
				by_signature++;
			else if (!record_follows(&r3, flipped.seq,
			    flipped.hash))
				by_chain++;
			else
				fail_msg("flipping bit %d of byte %zu of %zu "
				    "goes unnoticed", bit, i, b[1].len);
			record_free(&flipped);
		}
	}
	assert_int_equal(by_parse + by_signature + by_chain, b[1].len * 8);
	assert_true(by_parse > 0);
	assert_true(by_signature > 0);
	print_message("%zu flips: %zu unparsable, %zu bad signature, "
	    "%zu break the chain\n", b[1].len * 8, by_parse, by_signature,
	    by_chain);
	free(copy);
	record_free(&r3);
	for (i = 0; i < 3; i++)
		built_free(&b[i]);
}

/* Signed by key b, claiming to come from key a. */
static void
test_wrong_key(void **state)
{
	struct node_key forger;
	struct built honest, forged;
	struct record r;

	memcpy(forger.public_key, key_a.public_key, KEY_PUBLIC_LEN);
	memcpy(forger.secret_key, key_b.secret_key, KEY_SECRET_LEN);
	build(&forged, &forger, 1, NULL, 1000, KIND_ORDER, "same", 4);
	build(&honest, &key_a, 1, NULL, 1000, KIND_ORDER, "same", 4);

	parse_ok(&r, &forged);
	assert_memory_equal(r.origin, key_a.public_key, KEY_PUBLIC_LEN);
	assert_int_equal(record_verify_signature(&r), -1);
	record_free(&r);

	parse_ok(&r, &honest);
	assert_int_equal(record_verify_signature(&r), 0);
	record_free(&r);

	/* Ed25519 is deterministic: the same content, another signature. */
	assert_int_equal(forged.len, honest.len);
	assert_memory_not_equal(forged.hash, honest.hash, RECORD_HASH_LEN);
	built_free(&forged);
	built_free(&honest);
}

static void
test_bad_shapes(void **state)
{
	struct built b, prev;

	build(&b, &key_a, 0, NULL, 1000, KIND_ORDER, "x", 1);
	parse_fails(b.buf, b.len, "sequence number 0");
	built_free(&b);

	build_link(&prev, &key_a, 1, NULL);
	build(&b, &key_a, 1, prev.hash, 1000, KIND_ORDER, "x", 1);
	parse_fails(b.buf, b.len, "first record names a previous one");
	built_free(&b);

	build(&b, &key_a, 2, NULL, 1000, KIND_ORDER, "x", 1);
	parse_fails(b.buf, b.len, "previous hash is not 32 bytes");
	built_free(&b);
	built_free(&prev);

	parse_fails((const uint8_t *)"", 0, "signature is not 64 bytes");
	parse_fails((const uint8_t *)"\xff\xff\xff", 3,
	    "envelope does not decode");
}

static void
test_truncated(void **state)
{
	struct built b;
	size_t len;

	build_link(&b, &key_a, 1, NULL);
	for (len = 0; len < b.len; len++)
		parse_fails(b.buf, len, NULL);
	built_free(&b);
}

/* An envelope of exactly RECORD_MAX_BYTES parses; one byte more does not. */
static void
test_oversize(void **state)
{
	struct built b;
	struct record r;
	uint8_t *body;
	size_t body_len = RECORD_MAX_BYTES - 200;

	body = calloc(1, RECORD_MAX_BYTES + 64);
	assert_non_null(body);
	build(&b, &key_a, 1, NULL, 1000, KIND_ORDER, body, body_len);
	body_len += RECORD_MAX_BYTES - b.len;
	built_free(&b);
	build(&b, &key_a, 1, NULL, 1000, KIND_ORDER, body, body_len);
	assert_int_equal(b.len, RECORD_MAX_BYTES);
	parse_ok(&r, &b);
	assert_int_equal(record_verify_signature(&r), 0);
	record_free(&r);
	built_free(&b);

	build(&b, &key_a, 1, NULL, 1000, KIND_ORDER, body, body_len + 1);
	assert_int_equal(b.len, RECORD_MAX_BYTES + 1);
	parse_fails(b.buf, b.len, "record larger than 256 KiB");
	built_free(&b);

	build(&b, &key_a, 1, NULL, 1000, KIND_ORDER, body,
	    RECORD_MAX_BYTES + 64);
	parse_fails(b.buf, b.len, "record larger than 256 KiB");
	built_free(&b);
	free(body);
}

/* Feeds in a real store */

struct feed_fixture {
	char		 dir[PATH_MAX];
	struct store	*store;
	struct built	 records[FEED_LENGTH + 1];	/* 1..FEED_LENGTH */
};

static void
temp_dir(char *dir, size_t len, const char *name)
{
	assert_int_equal(make_temp_dir(dir, len, name), 0);
}

/* Parses buf and appends it; the callback of store_write. */
struct append_arg {
	const struct built	*b;
	int			 appended;
};

static int
append_cb(struct store_txn *t, void *arg)
{
	struct append_arg *a = arg;
	struct record r;
	char err[128];
	int rc;

	if (record_parse(&r, a->b->buf, a->b->len, err, sizeof(err)) == -1)
		return -1;
	rc = feed_append(t, &r, a->b->buf, a->b->len);
	record_free(&r);
	a->appended = rc == 0;
	return rc;
}

static int
append(struct store *s, const struct built *b)
{
	struct append_arg a = { b, 0 };
	char err[256] = "";
	int rc;

	rc = store_write(s, append_cb, &a, err, sizeof(err));
	if (rc == -2)
		fail_msg("store_write: %s", err);
	return rc;
}

struct replace_arg {
	uint64_t	 seq;
	const void	*buf;	/* NULL: delete */
	size_t		 len;
};

static int
replace_cb(struct store_txn *t, void *arg)
{
	struct replace_arg *a = arg;
	unsigned char key[KEY_PUBLIC_LEN + 8];
	int i;

	memcpy(key, key_a.public_key, KEY_PUBLIC_LEN);
	for (i = 0; i < 8; i++)
		key[KEY_PUBLIC_LEN + i] =
		    (unsigned char)(a->seq >> (56 - 8 * i));
	if (a->buf == NULL)
		return store_del(t, STORE_RECORDS, key, sizeof(key));
	return store_put(t, STORE_RECORDS, key, sizeof(key), a->buf, a->len);
}

/* Writes bytes behind the feed's back, as a disk or an intruder would. */
static void
replace_record(struct store *s, uint64_t seq, const void *buf, size_t len)
{
	struct replace_arg a = { seq, buf, len };
	char err[256] = "";

	if (store_write(s, replace_cb, &a, err, sizeof(err)) != 0)
		fail_msg("store_write: %s", err);
}

/* 0, or -1 with feed_verify's message in err. */
static int
verify(struct store *s, char *err, size_t errlen)
{
	struct store_txn t;
	int rc;

	err[0] = '\0';
	assert_int_equal(store_read_begin(s, &t), 0);
	rc = feed_verify(&t, key_a.public_key, err, errlen);
	store_read_end(&t);
	return rc;
}

static void
verify_ok(struct store *s)
{
	char err[256];

	if (verify(s, err, sizeof(err)) != 0)
		fail_msg("feed_verify: %s", err);
}

static void
verify_fails(struct store *s, const char *want)
{
	char err[256];

	assert_int_equal(verify(s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

/* A copy of the stored bytes of record seq. */
static uint8_t *
stored_copy(struct store *s, uint64_t seq, size_t *len)
{
	struct store_txn t;
	const void *v;
	uint8_t *copy;

	assert_int_equal(store_read_begin(s, &t), 0);
	assert_int_equal(feed_get(&t, key_a.public_key, seq, &v, len), 0);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, v, *len);
	store_read_end(&t);
	return copy;
}

static int
feed_setup(void **state)
{
	struct feed_fixture *f;
	char err[256];
	int i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	temp_dir(f->dir, sizeof(f->dir), "halle-test-record");
	if (store_open(&f->store, f->dir, 1 << 20, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (i = 1; i <= FEED_LENGTH; i++)
		build_link(&f->records[i], &key_a, (uint64_t)i,
		    i > 1 ? &f->records[i - 1] : NULL);
	*state = f;
	return 0;
}

static int
feed_teardown(void **state)
{
	struct feed_fixture *f = *state;
	int i;

	store_close(&f->store);
	assert_null(f->store);
	remove_tree(f->dir);
	for (i = 1; i <= FEED_LENGTH; i++)
		built_free(&f->records[i]);
	free(f);
	return 0;
}

static void
test_feed_append(void **state)
{
	struct feed_fixture *f = *state;
	struct feed_head head;
	struct store_txn t;
	struct built other;
	const void *v;
	size_t len;
	int i;

	verify_ok(f->store);	/* an empty feed */
	/* The first record must be seq 1. */
	assert_int_equal(append(f->store, &f->records[2]), -1);
	for (i = 1; i <= FEED_LENGTH; i++) {
		assert_int_equal(append(f->store, &f->records[i]), 0);
		/* The same record again, or one skipping ahead, is refused. */
		assert_int_equal(append(f->store, &f->records[i]), -1);
		if (i + 2 <= FEED_LENGTH)
			assert_int_equal(append(f->store,
			    &f->records[i + 2]), -1);
	}
	/* A record 51 that names another record 50 is refused. */
	build_link(&other, &key_a, FEED_LENGTH + 1, &f->records[1]);
	assert_int_equal(append(f->store, &other), -1);
	built_free(&other);

	assert_int_equal(store_read_begin(f->store, &t), 0);
	assert_int_equal(feed_head(&t, key_a.public_key, &head), 0);
	assert_int_equal(head.seq, FEED_LENGTH);
	assert_memory_equal(head.hash, f->records[FEED_LENGTH].hash,
	    RECORD_HASH_LEN);
	assert_int_equal(head.time_ms, 1764000000000LL + FEED_LENGTH * 1000);
	assert_int_equal(head.flags, 0);
	for (i = 1; i <= FEED_LENGTH; i++) {
		assert_int_equal(feed_get(&t, key_a.public_key, (uint64_t)i,
		    &v, &len), 0);
		assert_int_equal(len, f->records[i].len);
		assert_memory_equal(v, f->records[i].buf, len);
	}
	assert_int_equal(feed_get(&t, key_a.public_key, FEED_LENGTH + 1, &v,
	    &len), 1);
	assert_int_equal(feed_get(&t, key_b.public_key, 1, &v, &len), 1);
	assert_int_equal(feed_head(&t, key_b.public_key, &head), 0);
	assert_int_equal(head.seq, 0);
	store_read_end(&t);
	verify_ok(f->store);
}

/* Flips one byte of record seq in the store; feed_verify names it. */
static void
corrupt_and_check(struct feed_fixture *f, uint64_t seq, size_t at,
    const char *want)
{
	uint8_t *copy;
	size_t len;

	copy = stored_copy(f->store, seq, &len);
	assert_true(at < len);
	copy[at] ^= 0x01;
	replace_record(f->store, seq, copy, len);
	verify_fails(f->store, want);
	copy[at] ^= 0x01;
	replace_record(f->store, seq, copy, len);
	verify_ok(f->store);
	free(copy);
}

static void
test_feed_corrupt(void **state)
{
	struct feed_fixture *f = *state;
	struct built fork;
	uint8_t *copy;
	size_t len;
	int i;

	for (i = 1; i <= FEED_LENGTH; i++)
		assert_int_equal(append(f->store, &f->records[i]), 0);
	verify_ok(f->store);

	/* A byte of the signature (the envelope ends with it). */
	corrupt_and_check(f, 17, f->records[17].len - 1,
	    "record 17: bad signature");
	/* A byte of the body, near the end of the signed record. */
	corrupt_and_check(f, 23, f->records[23].len - RECORD_SIG_LEN - 3,
	    "record 23: bad signature");
	/* The first record, the last record. */
	corrupt_and_check(f, 1, f->records[1].len - 10,
	    "record 1: bad signature");
	corrupt_and_check(f, FEED_LENGTH, f->records[FEED_LENGTH].len - 10,
	    "record 50: bad signature");

	/* Truncated: it no longer parses. */
	copy = stored_copy(f->store, 30, &len);
	replace_record(f->store, 30, copy, len - 1);
	verify_fails(f->store, "record 30: envelope does not decode");
	replace_record(f->store, 30, copy, len);
	free(copy);
	verify_ok(f->store);

	/* Missing. */
	copy = stored_copy(f->store, 40, &len);
	replace_record(f->store, 40, NULL, 0);
	verify_fails(f->store, "record 40 missing");
	replace_record(f->store, 40, copy, len);
	free(copy);
	verify_ok(f->store);

	/* A validly signed other record 17: record 18 breaks the chain. */
	copy = stored_copy(f->store, 17, &len);
	build(&fork, &key_a, 17, f->records[16].hash, 5, KIND_ORDER, "fork", 4);
	replace_record(f->store, 17, fork.buf, fork.len);
	verify_fails(f->store, "record 18: breaks the chain");
	replace_record(f->store, 17, copy, len);
	free(copy);
	built_free(&fork);
	verify_ok(f->store);

	/* A validly signed other record 50: the head no longer matches. */
	copy = stored_copy(f->store, FEED_LENGTH, &len);
	build(&fork, &key_a, FEED_LENGTH, f->records[FEED_LENGTH - 1].hash, 5,
	    KIND_ORDER, "fork", 4);
	replace_record(f->store, FEED_LENGTH, fork.buf, fork.len);
	verify_fails(f->store, "head hash does not match record 50");
	replace_record(f->store, FEED_LENGTH, copy, len);
	free(copy);
	built_free(&fork);

	/* Record 12 signed by another key under the same origin. */
	{
		struct node_key forger;

		memcpy(forger.public_key, key_a.public_key, KEY_PUBLIC_LEN);
		memcpy(forger.secret_key, key_b.secret_key, KEY_SECRET_LEN);
		copy = stored_copy(f->store, 12, &len);
		build_link(&fork, &forger, 12, &f->records[11]);
		replace_record(f->store, 12, fork.buf, fork.len);
		verify_fails(f->store, "record 12: bad signature");
		replace_record(f->store, 12, copy, len);
		free(copy);
		built_free(&fork);
	}
	/* Another origin's record stored under ours. */
	copy = stored_copy(f->store, 1, &len);
	build_link(&fork, &key_b, 1, NULL);
	replace_record(f->store, 1, fork.buf, fork.len);
	verify_fails(f->store, "record 1: breaks the chain");
	replace_record(f->store, 1, copy, len);
	free(copy);
	built_free(&fork);
	verify_ok(f->store);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_bad_shapes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test_setup_teardown(test_feed_append, feed_setup,
		    feed_teardown),
		cmocka_unit_test_setup_teardown(test_feed_corrupt, feed_setup,
		    feed_teardown),
	};

	return cmocka_run_group_tests(tests, setup_keys, NULL);
}
