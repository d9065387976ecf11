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
