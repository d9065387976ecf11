/*
 * sim.h: what the parts of the simulator share (see sim.c for the idea).
 *
 *   sim.c        the plan of a seed, its steps, main
 *   sim_world.c  the PRNG, the clock, the nodes: setup, writes, crashes
 *   sim_net.c    the network: queue, faults, adversaries, delivery
 *   sim_check.c  what must hold once the faults are healed
 *
 * Orders (producers, markets, a distribution day, orders placed, changed
 * and cancelled during the faults) live in sim_world.c (setup and
 * operations) and sim_check.c (what must hold of them).
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

#include <sodium.h>

#include "bodies.pb-c.h"
#include "feed.h"
#include "ingest.h"
#include "log.h"
#include "node.h"
#include "peer.pb-c.h"
#include "record.h"
#include "service.h"
#include "sync.h"
#include "views.h"

#define MAX_NODES	7
#define MAX_EVENTS	256
#define STEP_MS		10
#define TICK_MS		100
#define CHORES_MS	2000	/* as halled's chores */
#define HEARTBEAT_MS	1000
#define ACTIVE_MS	60000
#define HEAL_LIMIT_MS	600000
#define QUIET_BEATS	5
#define EPOCH_MS	1764000000000LL	/* 2025-11-24T16:00:00Z */
#define SETTLE_LIMIT_MS	120000	/* one step of the orders' setup */

#define MAX_PRODUCERS	4
#define MAX_SKUS	3
#define MAX_MARKETS	4
#define MAX_ORDERS	96
#define ORDER_DATE	"2025-11-27"	/* orders close 36 h before, */
#define ORDER_FROM	"16:00"		/* long after the last step */
#define ORDER_TO	"19:00"

extern uint64_t	rng_state;	/* the seed's PRNG (splitmix64) */
extern int64_t	sim_now;	/* virtual milliseconds since start */
extern int64_t	sim_clock_skip;	/* how far the nodes' clock is ahead */

struct sim_node {
	char			 dir[PATH_MAX];
	char			 data_dir[PATH_MAX];
	char			 key_file[PATH_MAX];
	char			 name[16];
	struct halle_config	 cfg;
	struct config_peer	 cfg_peers[MAX_NODES];
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
	int			 wrong_keys;	/* misconfigured peer keys */
	int			 wiped;		/* lost its store at least once */
	int			 own_dirty;	/* appended while ingesting */
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
	EV_FORK, EV_FOREIGN, EV_GARBAGE, EV_ORDER };

/* What an EV_ORDER does (its count). */
enum order_op { ORDER_PLACE, ORDER_CHANGE, ORDER_CANCEL };

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

/* A producer of the orders' world: its home node and its catalogue. */
struct sim_producer {
	int		 home;
	char		 id[32];
	int		 nskus;
	char		 sku[MAX_SKUS][16];
	uint64_t	 stock[MAX_SKUS];	/* stock_per_day */
};

/* A market at node `node`, its distribution, the producers selling there. */
struct sim_market {
	int		 node;
	char		 id[32];
	char		 dist[32];
	int		 sells[MAX_PRODUCERS];	/* invited and accepted */
};

/* An order as the simulator placed it (what its market node answered). */
struct sim_order {
	int		 market;
	char		 id[32];
	uint64_t	 version;	/* of the last answer */
	int		 cancelled;
	int		 wiped_since;	/* its market node lost its store since */
	uint32_t	 readers;	/* nodes that may open it: market, homes */
};

struct sim_orders {
	int		 on;		/* the seed has an orders' world */
	int		 nproducers, nmarkets, norders;
	struct sim_producer producers[MAX_PRODUCERS];
	struct sim_market markets[MAX_MARKETS];
	struct sim_order orders[MAX_ORDERS];
	uint64_t	 placed, changed, cancelled, skipped;
	uint64_t	 confirmed, partial, refused;	/* lines, at the end */
	uint64_t	 local;		/* confirmed in part by their market */
	uint64_t	 unchecked;	/* lines behind a forked feed */
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
	int64_t		 t0;		/* start of the active phase */
	/* 0 none, 1 traffic only, 2 checked, 3 unless a store was lost */
	int		 orders_mode;
	struct sim_orders orders;
	char		 failure[512];
};

/*
 * Functions returning int give 0 on success and -1 on failure, with the
 * first failure of the seed noted in sim->failure by sim_fail().
 */

/* sim_world.c */
/* Feeds libsodium from the simulator's generator; before anything else. */
int	sim_entropy_init(void);
uint64_t rng_next(void);
int64_t	rng_range(int64_t lo, int64_t hi);	/* uniform in [lo, hi] */
int	rng_chance(double p);			/* 1 with probability p */
int64_t	sim_clock(void);			/* the engines' clock (ms) */
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
/* Node i's engine pushes what its node appended while ingesting. */
void	sim_own_appended(struct sim *sim, int i);
/*
 * Steps (no events) until every feed is where it belongs: 0, or -1 when
 * it takes longer than SETTLE_LIMIT_MS (failure noted).
 */
int	sim_settle(struct sim *sim, const char *what);
/*
 * The orders' world, after the initial sync: producers with limited stock,
 * markets, invitations, acceptances, one distribution per market on
 * ORDER_DATE. Leaves sim->orders.on 0 when no market reaches a producer.
 */
int	sim_orders_setup(struct sim *sim);
/* Places, changes or cancels an order at market m (op: enum order_op). */
int	sim_order_op(struct sim *sim, int m, int op);
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
/* reach[v]: the feed of x can reach node v (see sim_check.c). */
void	sim_reachable(struct sim *sim, int x, int *reach);
/* 0 converged, 1 not yet (why says where), -1 a violation. */
int	sim_converged(struct sim *sim, char *why, size_t whylen);
/* Feeds verify, no poison stored, forks frozen with their proof. */
int	sim_final_checks(struct sim *sim);
/* Once all links are up: a few small messages per link and heartbeat. */
int	sim_quiet_traffic(struct sim *sim);
/* No lag anywhere, and a new record is everywhere within a heartbeat. */
int	sim_live_push(struct sim *sim);
/*
 * Once converged: no stock oversold (home's sheet and counter, markets'
 * orders), no line pending, market and home agree on every ruling, no
 * third node reads an order.
 */
int	sim_orders_check(struct sim *sim);
/*
 * Then the nodes' clock passes the order windows' close: each market's
 * node marks its distribution closed (service_close_due), orders are refused,
 * and once settled every home's sheet is final.
 */
int	sim_orders_close(struct sim *sim);

/* sim.c */
/* One STEP_MS of virtual time: restarts, events, deliveries, ticks. */
int	sim_step(struct sim *sim, int active);

#endif
