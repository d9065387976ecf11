/*
 * fillfeed: gives a stopped node a backlog, for the tests of a catch-up
 * between real daemons (tests/integration/catchup.sh).
 *
 *   fillfeed CONF COUNT     appends COUNT Producer records of about 300
 *                           bytes to the own feed of the node CONF names
 *
 * The records are signed and committed through libhalle as the node's own
 * writes are (bench_fill in tests/bench/bench_util.c, the source feed of
 * bench_federation), in transactions of many records, far faster than the
 * control API's one durable commit per write. Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "config.h"
#include "node.h"

int
main(int argc, char *argv[])
{
	struct halle_config cfg;
	struct node node;
	char err[512], *end;
	long count;
	int rc;

	if (argc != 3 || (count = strtol(argv[2], &end, 10)) < 1 ||
	    *end != '\0') {
		fprintf(stderr, "usage: fillfeed CONF COUNT\n");
		return 2;
	}
	if (config_load(&cfg, argv[1], err, sizeof(err)) == -1 ||
	    node_open(&node, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "fillfeed: %s\n", err);
		return 1;
	}
	rc = bench_fill(&node, count, NULL);
	node_close(&node);
	config_free(&cfg);
	if (rc == -1) {
		fprintf(stderr, "fillfeed: cannot append the records\n");
		return 1;
	}
	printf("%ld records appended\n", count);
	return 0;
}
