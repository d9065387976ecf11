/*
 * hex: bytes as lower-case hexadecimal digits, as keys, hashes and ids are
 * shown and written in files.
 */
#ifndef HALLE_HEX_H
#define HALLE_HEX_H

#include <stddef.h>

/* Writes 2*len hex digits and a NUL into out. */
void	hex_encode(char *out, const unsigned char *in, size_t len);
/* Decodes exactly 2*len hex digits from in; returns 0 or -1. */
int	hex_decode(unsigned char *out, size_t len, const char *in);

#endif
