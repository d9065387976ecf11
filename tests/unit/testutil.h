/*
 * testutil: what the unit tests share: temporary directories for the real
 * stores they open, removed when done.
 */
#ifndef HALLE_TESTUTIL_H
#define HALLE_TESTUTIL_H

#include <stddef.h>

#include "config.h"
#include "ingest.h"
#include "node.h"

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
 * A node of its own in a temporary directory, for the tests and
 * benchmarks that run several (test_stock, bench_autonomy). clock, when
 * not NULL, replaces the node's clock. 0, or -1 with a message on stderr.
 */
struct scratch_node {
	char			 dir[512];
	struct halle_config	 cfg;
	struct node		 node;
};
int	scratch_node_open(struct scratch_node *tn, const char *name,
	    int64_t (*clock)(void));
void	scratch_node_close(struct scratch_node *tn);

/*
 * Carries the records of from's own feed that `to` lacks into to's store,
 * as the sync engine would (ingest, views applied): one link, one way.
 * The number of records carried, or -1 with a message on stderr.
 */
long	scratch_node_carry(struct scratch_node *from, struct scratch_node *to);

/*
 * Offers n, in one node_mutate, the one envelope env of origin's feed
 * (ingest_run); returns the outcome, or -1 when node_mutate failed.
 */
int	test_offer_one(struct node *n, const unsigned char *origin,
	    const uint8_t *env, size_t len);

#endif
