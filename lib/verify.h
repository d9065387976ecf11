/*
 * verify: checks a node's views against its feeds, for `halled --verify`.
 *
 * The feeds are the truth and the views what applying them gives
 * (views.h). verify_views rebuilds the views from the feeds into a scratch
 * store and compares them, key by key, with the views and index the node
 * holds:
 *
 *     the node's store                      the scratch store (temp dir)
 *   +-----------------+   every record of    +-----------------+
 *   | records, feeds  |-- every feed, by --->| views, index    |
 *   | views, index    |   time, views_apply  +-----------------+
 *   +-----------------+                               |
 *            |                                        |
 *            +---------- compared key by key ---------+
 *
 * The scratch node has the node's key, so that it opens the sealed records
 * the node could open, and rules as the node did on the orders of its
 * producers; those rulings go to the scratch store's feed only. The node's
 * own feed holds the rulings it really made, and replaying them after
 * gives the views it holds. The stock counters (index "s:") depend on the
 * order in which orders came to be ruled; they are checked against the
 * rulings instead: each counter must be the sum of what this node's latest
 * confirmation of each order, as the feeds give it, grants for that
 * producer, date and product.
 */
#ifndef HALLE_VERIFY_H
#define HALLE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* Called once per difference, with a line that names the key and what. */
typedef void (*verify_report_fn)(const char *what, void *arg);

/* The steps of verify_views, in their order. */
enum verify_step {
	VERIFY_REPLAY,		/* records replayed into the scratch store */
	VERIFY_COMPARE		/* keys of both stores compared */
};

/*
 * How far a step is: DONE of TOTAL units. Called with 0 when the step
 * starts, every VERIFY_PROGRESS_STEP units or so, and with DONE == TOTAL
 * when it ends; for a progress bar (the library prints nothing).
 */
#define VERIFY_PROGRESS_STEP	1024
typedef void (*verify_progress_fn)(enum verify_step step, uint64_t done,
	    uint64_t total, void *arg);

/*
 * Rebuilds n's views from its feeds in a scratch store made (and removed)
 * under tmp_dir, and compares. Calls report for each difference, and
 * progress (unless NULL) as it goes; both get arg. Returns the number of
 * differences (0: the views are what the feeds give), or -1 with the
 * reason in err when the check itself could not run.
 */
int	verify_views(struct node *n, const char *tmp_dir,
	    verify_report_fn report, verify_progress_fn progress, void *arg,
	    char *err, size_t errlen);

#endif
