/*
 * record: see record.h.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <sodium.h>

#include "record.h"
#include "record.pb-c.h"

static void
record_hash(unsigned char out[RECORD_HASH_LEN], const uint8_t *content,
    size_t content_len, const uint8_t *sig)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, RECORD_HASH_LEN);
	crypto_generichash_update(&st, content, content_len);
	crypto_generichash_update(&st, sig, RECORD_SIG_LEN);
	crypto_generichash_final(&st, out, RECORD_HASH_LEN);
}

int
record_build(uint8_t **out, size_t *out_len,
    unsigned char hash[RECORD_HASH_LEN], const struct node_key *key,
    uint64_t seq, const unsigned char *prev, int64_t time_ms, uint32_t kind,
    const uint8_t *body, size_t body_len, const unsigned char *recipient)
{
	Halle__Record rec = HALLE__RECORD__INIT;
	Halle__Envelope env = HALLE__ENVELOPE__INIT;
	uint8_t *content, sig[RECORD_SIG_LEN];
	size_t content_len;

	rec.origin.data = (uint8_t *)key->public_key;
	rec.origin.len = KEY_PUBLIC_LEN;
	rec.seq = seq;
	if (prev != NULL) {
		rec.prev.data = (uint8_t *)prev;
		rec.prev.len = RECORD_HASH_LEN;
	}
	rec.time_ms = time_ms;
	rec.kind = kind;
	rec.body.data = (uint8_t *)body;
	rec.body.len = body_len;
	if (recipient != NULL) {
		rec.recipient.data = (uint8_t *)recipient;
		rec.recipient.len = KEY_PUBLIC_LEN;
	}

	content_len = halle__record__get_packed_size(&rec);
	if ((content = malloc(content_len)) == NULL)
		return -1;
	halle__record__pack(&rec, content);
	crypto_sign_detached(sig, NULL, content, content_len, key->secret_key);

	env.record.data = content;
	env.record.len = content_len;
	env.signature.data = sig;
	env.signature.len = RECORD_SIG_LEN;
	*out_len = halle__envelope__get_packed_size(&env);
	if ((*out = malloc(*out_len)) == NULL) {
		free(content);
		return -1;
	}
	halle__envelope__pack(&env, *out);
	record_hash(hash, content, content_len, sig);
	free(content);
	return 0;
}

static int
parse_fail(struct record *r, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	record_free(r);
	return -1;
}

int
record_parse(struct record *r, const uint8_t *buf, size_t len, char *err,
    size_t errlen)
{
	Halle__Envelope *env;
	Halle__Record *rec;

	memset(r, 0, sizeof(*r));
	if (len > RECORD_MAX_BYTES)
		return parse_fail(r, err, errlen, "record larger than 256 KiB");
	if ((env = halle__envelope__unpack(NULL, len, buf)) == NULL)
		return parse_fail(r, err, errlen, "envelope does not decode");
	r->envelope = env;
	if (env->base.n_unknown_fields != 0)
		return parse_fail(r, err, errlen, "envelope has unknown fields");
	if (env->signature.len != RECORD_SIG_LEN)
		return parse_fail(r, err, errlen, "signature is not 64 bytes");
	rec = halle__record__unpack(NULL, env->record.len, env->record.data);
	if (rec == NULL)
		return parse_fail(r, err, errlen, "record does not decode");
	r->content = rec;
	if (rec->origin.len != KEY_PUBLIC_LEN)
		return parse_fail(r, err, errlen, "origin is not 32 bytes");
	if (rec->seq == 0)
		return parse_fail(r, err, errlen, "sequence number 0");
	if (rec->seq == 1 && rec->prev.len != 0)
		return parse_fail(r, err, errlen, "first record names a previous one");
	if (rec->seq > 1 && rec->prev.len != RECORD_HASH_LEN)
		return parse_fail(r, err, errlen, "previous hash is not 32 bytes");
	if (rec->recipient.len != 0 && rec->recipient.len != KEY_PUBLIC_LEN)
		return parse_fail(r, err, errlen, "recipient is not 32 bytes");

	memcpy(r->origin, rec->origin.data, KEY_PUBLIC_LEN);
	r->seq = rec->seq;
	if (rec->prev.len)
		memcpy(r->prev, rec->prev.data, RECORD_HASH_LEN);
	r->time_ms = rec->time_ms;
	r->kind = rec->kind;
	r->body = rec->body.data;
	r->body_len = rec->body.len;
	if (rec->recipient.len) {
		r->has_recipient = 1;
		memcpy(r->recipient, rec->recipient.data, KEY_PUBLIC_LEN);
	}
	record_hash(r->hash, env->record.data, env->record.len,
	    env->signature.data);
	return 0;
}

void
record_free(struct record *r)
{
	if (r->content != NULL)
		halle__record__free_unpacked(r->content, NULL);
	if (r->envelope != NULL)
		halle__envelope__free_unpacked(r->envelope, NULL);
	r->content = r->envelope = NULL;
}

int
record_verify_signature(const struct record *r)
{
	const Halle__Envelope *env = r->envelope;

	return crypto_sign_verify_detached(env->signature.data,
	    env->record.data, env->record.len, r->origin);
}

int
record_follows(const struct record *r, uint64_t seq,
    const unsigned char *prev_hash)
{
	if (r->seq != seq + 1)
		return 0;
	if (seq == 0)
		return 1;
	return prev_hash != NULL &&
	    sodium_memcmp(r->prev, prev_hash, RECORD_HASH_LEN) == 0;
}
