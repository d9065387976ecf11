/*
 * record: building, parsing and verifying the signed records of a feed.
 *
 * A record is stored and exchanged as the exact bytes of an Envelope
 * (proto/record.proto): the encoded Record as its origin produced it, and
 * the origin's Ed25519 signature over those bytes. Nothing ever re-encodes a
 * received record. The hash of a record, BLAKE2b-256 over
 * (record bytes || signature), is what the next record's `prev` names:
 *
 *   seq 1            seq 2               seq 3
 *   [prev=""]  <--  [prev=H(1)]  <--   [prev=H(2)]   sig(3) authenticates all
 *
 * so checking the signature of the last record of a contiguous run
 * authenticates the run.
 */
#ifndef HALLE_RECORD_H
#define HALLE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define RECORD_HASH_LEN		32
#define RECORD_SIG_LEN		64
#define RECORD_MAX_BYTES	(256 * 1024)	/* a whole envelope */

struct record {
	unsigned char	 origin[KEY_PUBLIC_LEN];
	uint64_t	 seq;
	unsigned char	 prev[RECORD_HASH_LEN];	/* zero when seq is 1 */
	int64_t		 time_ms;
	uint32_t	 kind;
	const uint8_t	*body;		/* points into the parsed envelope */
	size_t		 body_len;
	int		 has_recipient;
	unsigned char	 recipient[KEY_PUBLIC_LEN];
	unsigned char	 hash[RECORD_HASH_LEN];	/* of this record */

	/* private: what body and the signature point into */
	void		*envelope;
	void		*content;
};

/*
 * Builds and signs a record of the node's own feed. prev is NULL for seq 1;
 * recipient (32 bytes) seals nothing itself but names the one node the
 * body was sealed to, NULL for a public record. On success returns 0 and a
 * malloc'd envelope in *out / *out_len (the bytes to store and send) and
 * its hash in hash; -1 on allocation failure.
 */
int	record_build(uint8_t **out, size_t *out_len,
	    unsigned char hash[RECORD_HASH_LEN], const struct node_key *key,
	    uint64_t seq, const unsigned char *prev, int64_t time_ms,
	    uint32_t kind, const uint8_t *body, size_t body_len,
	    const unsigned char *recipient);

/*
 * Parses envelope bytes and checks their shape: sizes of keys, hashes and
 * signature, seq >= 1, prev empty exactly when seq is 1, size limit. It does
 * not check the signature. Returns 0, or -1 with the reason in err. Release
 * with record_free() after success.
 */
int	record_parse(struct record *r, const uint8_t *buf, size_t len,
	    char *err, size_t errlen);
void	record_free(struct record *r);

/* 0 when the origin's signature over the record is valid, else -1. */
int	record_verify_signature(const struct record *r);

/*
 * 1 when r directly follows a record of the same feed with sequence seq and
 * hash prev_hash (seq 0 and prev_hash NULL: r must be the first record),
 * else 0.
 */
int	record_follows(const struct record *r, uint64_t seq,
	    const unsigned char *prev_hash);

#endif
