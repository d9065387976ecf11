/*
 * fuzz_common: what the fuzz targets (fuzz_record.c, fuzz_peer.c) and the
 * seed corpus writer (make_corpus.c) must agree on.
 *
 * Keys are derived from fixed labels, so make_corpus can sign records of
 * exactly the feeds the targets take in, and write PeerMessages carrying
 * exactly the sessions the sync engine under test expects:
 *
 *   label "fuzz-node"    the key of the node under test (fuzz_peer)
 *   label "fuzz-peer"    the key of its one configured peer (fuzz_peer)
 *   label "fuzz-origin"  the origin of every run offered by fuzz_record;
 *                        nothing ever signs with its secret key, so no run
 *                        of it can be accepted
 *
 * A run of envelopes is written as a length-prefixed sequence:
 *
 *   len (2 bytes, big-endian) || envelope || len || envelope ...
 *
 * at most FUZZ_RUN_MAX of them; a length beyond the bytes left takes what
 * is left, and the bytes after the last envelope are ignored.
 */
#ifndef HALLE_FUZZ_COMMON_H
#define HALLE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "ingest.h"
#include "key.h"
#include "node.h"

#define FUZZ_RUN_MAX		4
#define FUZZ_ENGINE_SESSION	UINT64_C(0x48616c6c65456e67)	/* node's */
#define FUZZ_PEER_SESSION	UINT64_C(0x48616c6c65506572)	/* peer's */
#define FUZZ_MAP_SIZE		(64u << 20)

/* The key derived from label (BLAKE2b-256 of it as the Ed25519 seed). */
void	fuzz_key(struct node_key *key, const char *label);

/*
 * Splits data into at most FUZZ_RUN_MAX envelopes (scheme above), pointing
 * into data. Returns how many.
 */
size_t	fuzz_split_run(const uint8_t *data, size_t size,
	    struct ingest_bytes run[FUZZ_RUN_MAX]);

/*
 * Writes the n envelopes of run into a malloc'd buffer in the format
 * fuzz_split_run reads. 0, or -1 when out of memory or an envelope is
 * longer than 65535 bytes.
 */
int	fuzz_join_run(uint8_t **out, size_t *out_len,
	    const struct ingest_bytes *run, size_t n);

/*
 * Opens a real node in a fresh directory of TMPDIR (map of FUZZ_MAP_SIZE)
 * whose key is the one derived from key_label; the directory is removed
 * at exit. Exits the process on failure: a fuzz target cannot run
 * without it. Logging is set to errors only (HALLE_FUZZ_LOG=1 in the
 * environment: everything), since refused input is logged. Called again,
 * it first closes the node it opened before and removes its directory
 * (fuzz_api starts afresh that way).
 */
void	fuzz_node_open(struct node *n, struct halle_config *cfg,
	    const char *key_label);

/*
 * The peer's HELLO to the node under test, naming the engine's session:
 * it takes the peer to UP. A malloc'd encoded PeerMessage.
 */
int	fuzz_peer_hello(uint8_t **out, size_t *out_len);

/*
 * For setting up a fuzz target's state: answer is what a service call
 * (service.h) answered to req, and must not be NULL (else the process
 * aborts with err's message). Copies the answer's "id" into id (ID_MAX
 * bytes) unless id is NULL; releases req (may be NULL) and answer.
 */
void	fuzz_must(json_t *answer, json_t *req, char *id,
	    const struct halle_error *err);

/*
 * The start of the week fuzz_member and fuzz_api set up on node n: a
 * producer (its id into producer) whose catalogue has a limited PAIN (40
 * a day) and unlimited OEUFS, and a market on Saturdays 10:00-12:00 (its
 * id into market), which invites the producer, who accepts.
 */
void	fuzz_week_start(struct node *n, char *producer, char *market);

#endif
