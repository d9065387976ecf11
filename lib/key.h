/*
 * key: the node's Ed25519 identity.
 *
 * The secret key lives in a small text file holding the 32-byte seed in hex.
 * It is created with mode 0600 on first start; like ssh, halled refuses a
 * key file that group or others can read. The public key, printed as 64 hex
 * digits, is the node's id: another commune's admin pastes it into its
 * configuration.
 */
#ifndef HALLE_KEY_H
#define HALLE_KEY_H

#include <stddef.h>

#include "hex.h"

#define KEY_PUBLIC_LEN	32
#define KEY_SECRET_LEN	64
#define KEY_HEX_LEN	64

struct node_key {
	unsigned char	public_key[KEY_PUBLIC_LEN];
	unsigned char	secret_key[KEY_SECRET_LEN];
};

/*
 * Loads the key at path, creating it (mode 0600, O_EXCL) when the file does
 * not exist; *created (when not NULL) says whether it did. Returns 0, or -1
 * with a message naming the file in err.
 */
int	key_load_or_create(struct node_key *key, const char *path,
	    int *created, char *err, size_t errlen);

#endif
