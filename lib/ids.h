/*
 * ids: entity ids made by the node that owns the entity: a two-letter
 * prefix naming the kind ("pr" producer, "mk" market, "ds" distribution,
 * "or" order), a dash and 12 random hex digits, such as "pr-3f9a2c1b04e7".
 */
#ifndef HALLE_IDS_H
#define HALLE_IDS_H

#include <stdint.h>

#define ID_MAX 64	/* longest id accepted from anyone, with its NUL */

/* Writes a new random id with the given prefix into out (16 bytes). */
void	ids_new(char *out, const char *prefix);

/*
 * The id of an entity that node origin (32-byte key) creates with the
 * record of sequence seq of its feed: the prefix, a dash and 12 hex
 * digits of BLAKE2b(prefix || origin || seq). Producers, markets and
 * distributions get such ids, so that an id names its owner: another node
 * cannot make a record that creates it, since its own records' hashes
 * would have to match 48 bits at the seq numbers it actually writes.
 */
void	ids_bound(char *out, const char *prefix, const unsigned char *origin,
	    uint64_t seq);
/* 1 when id is the one ids_bound gives for (prefix, origin, seq). */
int	ids_bound_check(const char *id, const char *prefix,
	    const unsigned char *origin, uint64_t seq);

/* 1 when s is a syntactically valid id with that prefix, else 0. */
int	ids_valid(const char *s, const char *prefix);

#endif
