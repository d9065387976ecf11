/*
 * sim.h: what the parts of the simulator share (see sim.c for the idea).
 *
 *   sim.c        the plan of a seed, its steps, main
 *   sim_world.c  the PRNG, the clock, the nodes: setup, writes, crashes
 *   sim_net.c    the network: queue, faults, adversaries, delivery
 *   sim_check.c  what must hold once the faults are healed
 */
#ifndef HALLE_SIM_H
#define HALLE_SIM_H

#define _XOPEN_SOURCE 700	/* nftw */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bodies.pb-c.h"
#include "feed.h"
#include "ingest.h"
#include "log.h"
#include "node.h"
#include "peer.pb-c.h"
#include "record.h"
#include "sync.h"

#define MAX_NODES	7
#define MAX_EVENTS	256
#define STEP_MS		10
#define TICK_MS		100
#define HEARTBEAT_MS	1000
#define ACTIVE_MS	60000
#define HEAL_LIMIT_MS	600000
#define QUIET_BEATS	5
#define EPOCH_MS	1764000000000LL

extern uint64_t	rng_state;	/* the seed's PRNG (splitmix64) */
extern int64_t	sim_now;	/* virtual milliseconds since start */

struct sim_node {
	char			 dir[PATH_MAX];
	char			 data_dir[PATH_MAX];
	char			 key_file[PATH_MAX];
	char			 name[16];
	struct halle_config	 cfg;
	struct node		 node;
	struct sync		*sync;
	unsigned char		 key[KEY_PUBLIC_LEN];
	uint64_t		 groups;	/* bitmask of its groupings */
	int			 npeers;
	int			 peer_node[MAX_NODES];	/* peer index -> node */
	int			 peer_index[MAX_NODES];	/* node -> peer index */
	int64_t			 dead_until;	/* > sim_now: crashed */
	int			 versions;	/* producers written */
	uint32_t		 version;	/* protocol; 0: the default */
	int			 wipe;		/* lose the store at restart */
	int			 recovering;	/* no writes until safe */
	int			 wrong_keys;	/* misconfigured peer keys */
};

struct sim_msg {
	struct sim_msg	*next;
	int64_t		 at;
	uint64_t	 order;
	int		 from, to;
	uint8_t		*buf;
	size_t		 len;
};

enum event_kind { EV_WRITE, EV_CUT, EV_CRASH, EV_DISK_LOSS, EV_TAMPER,
	EV_FORK, EV_FOREIGN, EV_GARBAGE };

struct event {
	enum event_kind	 kind;
	int64_t		 at;
	int64_t		 duration;
	int		 a, b, c;	/* nodes involved */
	int		 count;
	int		 done;
};

/* A record that must never be stored: tampered on the wire, or forged. */
struct poison {
	unsigned char	 origin[KEY_PUBLIC_LEN];
	uint64_t	 seq;
	uint8_t		*bytes;
	size_t		 len;
};

struct sim {
	uint64_t	 seed;
	int		 verbose;
	char		 root[256];
	int		 n;
	struct sim_node	 nodes[MAX_NODES];
	int		 link[MAX_NODES][MAX_NODES];
	int64_t		 cut_until[MAX_NODES][MAX_NODES];
	int		 ngroupings;
	double		 loss, dup;
	int64_t		 latency_max;
	struct sim_msg	*queue;
	uint64_t	 order;
	struct event	 events[MAX_EVENTS];
	int		 nevents;
	int		 pending_tamper[MAX_NODES][MAX_NODES];
	int		 pending_garbage[MAX_NODES][MAX_NODES];
	struct event	*pending_inject[MAX_NODES][MAX_NODES];
	struct poison	 poison[MAX_EVENTS];
	int		 npoison;
	int		 fork_origin;	/* -1: no fork took effect */
	int		 fork_target;
	uint64_t	 delivered;
	uint64_t	 delivered_bytes;
	uint64_t	 tampered, forks, foreign;	/* effective ones */
	uint64_t	 tamper_tries;
	const char	*topology;
	char		 failure[512];
};

/*
 * Functions returning int give 0 on success and -1 on failure, with the
 * first failure of the seed noted in sim->failure by sim_fail().
 */

/* sim_world.c */
uint64_t rng_next(void);
int64_t	rng_range(int64_t lo, int64_t hi);	/* uniform in [lo, hi] */
int	rng_chance(double p);			/* 1 with probability p */
int64_t	sim_clock(void);			/* the nodes' clock (ms) */
/* Notes the seed's first failure; returns -1. */
int	sim_fail(struct sim *sim, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* 1 when node v may hold the feed of node x (they share a grouping). */
int	sim_may_hold(const struct sim *sim, int v, int x);
/* A random federation: size, topology, groupings, faults; then nodes. */
int	sim_setup(struct sim *sim);
/* Opens the nodes and starts their engines once n, links, groups are set. */
int	sim_setup_nodes(struct sim *sim);
/* Node i appends count records of its own feed, in one transaction. */
int	sim_write(struct sim *sim, int i, int count);
/* Kills node i for downtime ms; with wipe its store is lost too. */
int	sim_crash(struct sim *sim, int i, int64_t downtime, int wipe);
/* Reopens node i from its store and starts a new engine. */
int	sim_restart(struct sim *sim, int i);
/* Node v's head of the feed of node x. */
int	sim_head(struct sim *sim, int v, int x, struct feed_head *h);
/* 1 when node v holds the feed of node x frozen. */
int	sim_feed_frozen(struct sim *sim, int v, int x);
/* The rejected count of node to's engine for its peer from. */
uint64_t sim_rejected(struct sim *sim, int to, int from);
/* Closes everything; removes the stores unless keep. */
void	sim_teardown(struct sim *sim, int keep);

/* sim_net.c */
/* Puts what node i's engine queued on the wire, through the faults. */
void	sim_drain(struct sim *sim, int i);
/* Hands m to its receiver, with whatever an adversary adds. */
void	sim_deliver(struct sim *sim, struct sim_msg *m);
/* Cuts the link a-b (every link of a when b is -1) for duration ms. */
void	sim_cut(struct sim *sim, int a, int b, int64_t duration);
/* Ends every fault: cuts, loss, duplication, adversaries, downtime. */
void	sim_heal(struct sim *sim);

/* sim_check.c */
/* 0 converged, 1 not yet (why says where), -1 a violation. */
int	sim_converged(struct sim *sim, char *why, size_t whylen);
/* Feeds verify, no poison stored, forks frozen with their proof. */
int	sim_final_checks(struct sim *sim);
/* Once all links are up: a few small messages per link and heartbeat. */
int	sim_quiet_traffic(struct sim *sim);
/* No lag anywhere, and a new record is everywhere within a heartbeat. */
int	sim_live_push(struct sim *sim);

/* sim.c */
/* One STEP_MS of virtual time: restarts, events, deliveries, ticks. */
int	sim_step(struct sim *sim, int active);

#endif
