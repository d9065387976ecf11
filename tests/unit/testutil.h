/*
 * testutil: what the unit tests share: temporary directories for the real
 * stores they open, removed when done.
 */
#ifndef HALLE_TESTUTIL_H
#define HALLE_TESTUTIL_H

#include <stddef.h>

#include "config.h"
#include "ingest.h"

/* Removes path and everything under it; missing paths are fine. */
void	remove_tree(const char *path);

/*
 * Makes a new directory named name.XXXXXX under $TMPDIR (or /tmp) and
 * writes its path into dir; 0, or -1 when it cannot.
 */
int	make_temp_dir(char *dir, size_t len, const char *name);

/*
 * Fills cfg for a node called name whose data, key and control socket
 * live in dir, with a map of map_size bytes; the strings are allocated
 * (release with config_free). 0, or -1 when out of memory.
 */
int	test_node_config(struct halle_config *cfg, const char *dir,
	    const char *name, size_t map_size);

/*
 * Offers n, in one node_mutate, the one envelope env of origin's feed
 * (ingest_run); returns the outcome, or -1 when node_mutate failed.
 */
int	test_offer_one(struct node *n, const unsigned char *origin,
	    const uint8_t *env, size_t len);

#endif
