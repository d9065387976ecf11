/*
 * bench_util: what the benchmarks share: this machine's limits, measured in
 * the same run as the figures beside them, and a source feed to catch up.
 */
#ifndef HALLE_BENCH_UTIL_H
#define HALLE_BENCH_UTIL_H

#include "config.h"
#include "node.h"

double	bench_now_s(void);

/* Ed25519 verifications/s, LMDB puts/s in one transaction (a store made
 * in dir), ZeroMQ PUSH->PULL messages/s over TCP loopback; 512-byte items. */
double	bench_limit_verify(void);
double	bench_limit_lmdb(const char *dir);
double	bench_limit_zmq(void);
/* LMDB durable commits/s, one 512-byte put each (a store made in dir). */
double	bench_limit_commits(const char *dir);
/* Measures and prints the three. */
void	bench_print_limits(const char *dir, double *verify, double *puts,
	    double *zmq);

/* Fills cfg for a node named name whose files live under dir. */
void	bench_node_config(struct halle_config *cfg, const char *dir,
	    const char *name, const char *listen);

/*
 * Appends count records of about 300 bytes to n's own feed: Producer
 * records, which every node of the grouping applies to its views, or,
 * when sealed_to is not NULL, order parts sealed to that node, which the
 * other nodes store and relay without reading.
 */
int	bench_fill(struct node *n, long count, const unsigned char *sealed_to);
/* The same with each Producer body padded to about pad bytes. */
int	bench_fill_padded(struct node *n, long count,
	    const unsigned char *sealed_to, size_t pad);

#endif
