/*
 * seal: see seal.h.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "seal.h"

static int
pair_keys(unsigned char *shared, const unsigned char *peer,
    const struct node_key *me)
{
	unsigned char peer_x[crypto_box_PUBLICKEYBYTES];
	unsigned char my_x[crypto_box_SECRETKEYBYTES];
	int rc;

	if (crypto_sign_ed25519_pk_to_curve25519(peer_x, peer) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(my_x, me->secret_key) != 0)
		return -1;
	rc = crypto_box_beforenm(shared, peer_x, my_x);
	sodium_memzero(my_x, sizeof(my_x));
	return rc == 0 ? 0 : -1;
}

int
seal_body(uint8_t **out, size_t *out_len, const uint8_t *body, size_t len,
    const unsigned char *peer, const struct node_key *me)
{
	unsigned char shared[crypto_box_BEFORENMBYTES];
	uint8_t *buf;

	if (pair_keys(shared, peer, me) == -1)
		return -1;
	*out_len = crypto_box_NONCEBYTES + crypto_box_MACBYTES + len;
	if ((buf = malloc(*out_len)) == NULL) {
		sodium_memzero(shared, sizeof(shared));
		return -1;
	}
	randombytes_buf(buf, crypto_box_NONCEBYTES);
	crypto_box_easy_afternm(buf + crypto_box_NONCEBYTES, body, len, buf,
	    shared);
	sodium_memzero(shared, sizeof(shared));
	*out = buf;
	return 0;
}

int
seal_open(uint8_t **out, size_t *out_len, const uint8_t *sealed, size_t len,
    const unsigned char *peer, const struct node_key *me)
{
	unsigned char shared[crypto_box_BEFORENMBYTES];
	uint8_t *buf;
	int rc;

	if (len < crypto_box_NONCEBYTES + crypto_box_MACBYTES ||
	    pair_keys(shared, peer, me) == -1)
		return -1;
	*out_len = len - crypto_box_NONCEBYTES - crypto_box_MACBYTES;
	if ((buf = malloc(*out_len ? *out_len : 1)) == NULL) {
		sodium_memzero(shared, sizeof(shared));
		return -1;
	}
	rc = crypto_box_open_easy_afternm(buf, sealed + crypto_box_NONCEBYTES,
	    len - crypto_box_NONCEBYTES, sealed, shared);
	sodium_memzero(shared, sizeof(shared));
	if (rc != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}
