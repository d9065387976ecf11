/*
 * ids: entity ids made by the node that owns the entity: a two-letter
 * prefix naming the kind ("pr" producer, "mk" market, "ds" distribution,
 * "or" order), a dash and 12 random hex digits, such as "pr-3f9a2c1b04e7".
 */
#ifndef HALLE_IDS_H
#define HALLE_IDS_H

#define ID_MAX 64	/* longest id accepted from anyone, with its NUL */

/* Writes a new id with the given prefix into out (at least 16 bytes). */
void	ids_new(char *out, const char *prefix);

/* 1 when s is a syntactically valid id with that prefix, else 0. */
int	ids_valid(const char *s, const char *prefix);

#endif
