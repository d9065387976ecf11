/*
 * seal: bodies readable only by the two nodes concerned.
 *
 * An order travels from the market's node to the producer's home node, and
 * its confirmation back, through whatever members relay them. The body is
 * sealed with crypto_box between the two nodes' keys (their Ed25519 keys in
 * X25519 form): the writer and the recipient derive the same shared key, so
 * both can open it; a relay stores and passes the record without reading
 * it. Sealed bytes are a 24-byte nonce followed by the box.
 */
#ifndef HALLE_SEAL_H
#define HALLE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

/*
 * Seals body for the pair (me, peer), peer being the other node's Ed25519
 * public key (or me own). 0 and a malloc'd *out, or -1 (a key with no
 * X25519 form, or no memory).
 */
int	seal_body(uint8_t **out, size_t *out_len, const uint8_t *body,
	    size_t len, const unsigned char *peer, const struct node_key *me);

/* Opens what seal_body made for the same pair; 0 and *out, or -1. */
int	seal_open(uint8_t **out, size_t *out_len, const uint8_t *sealed,
	    size_t len, const unsigned char *peer, const struct node_key *me);

#endif
