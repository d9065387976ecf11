/*
 * ids: see ids.h. 48 random bits make a collision between the few thousand
 * entities of a grouping negligible; the store refuses one anyway.
 */
#include <string.h>

#include <sodium.h>

#include "ids.h"
#include "key.h"

void
ids_new(char *out, const char *prefix)
{
	unsigned char raw[6];

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, 2);
	out[2] = '-';
	hex_encode(out + 3, raw, sizeof(raw));
}

void
ids_bound(char *out, const char *prefix, const unsigned char *origin,
    uint64_t seq)
{
	crypto_generichash_state h;
	unsigned char digest[6], be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(seq >> (56 - 8 * i));
	crypto_generichash_init(&h, NULL, 0, sizeof(digest));
	crypto_generichash_update(&h, (const unsigned char *)prefix, 2);
	crypto_generichash_update(&h, origin, KEY_PUBLIC_LEN);
	crypto_generichash_update(&h, be, sizeof(be));
	crypto_generichash_final(&h, digest, sizeof(digest));
	memcpy(out, prefix, 2);
	out[2] = '-';
	hex_encode(out + 3, digest, sizeof(digest));
}

int
ids_bound_check(const char *id, const char *prefix,
    const unsigned char *origin, uint64_t seq)
{
	char want[16];

	ids_bound(want, prefix, origin, seq);
	return strcmp(id, want) == 0;
}

int
ids_valid(const char *s, const char *prefix)
{
	size_t i;

	if (strncmp(s, prefix, 2) != 0 || s[2] != '-' || strlen(s) != 15)
		return 0;
	for (i = 3; i < 15; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
