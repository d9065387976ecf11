/*
 * testnode: one real node for a test program of the service layer, and
 * the checks such a test makes.
 *
 * The node (key, LMDB store, feed) lives in a temporary directory for the
 * whole program; its clock is a variable the tests move (fake_ms), NOW
 * until they do. Requests are the JSON objects the control API receives,
 * answers the JSON it sends (docs/control-api.md). OK(expr) fails the test
 * unless expr answers; FAILS(expr, status, code) unless it fails with that
 * status and code and leaves the feed as it was.
 */
#ifndef HALLE_TESTNODE_H
#define HALLE_TESTNODE_H

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "feed.h"
#include "ids.h"
#include "node.h"
#include "service.h"

#define NOW	"2026-11-20T12:00:00+01:00"	/* a Friday */
#define DATE	"2026-11-28"			/* the Saturday after */
#define DATE2	"2026-12-05"			/* the one after that */
#define PLACE	"Place de l'église"

struct head_snap {
	json_int_t		records;
	struct feed_head	head;
};

/* expr must fail with status and code, and write nothing. */
#define FAILS(expr, status, code) do {					\
	struct head_snap before_, after_;				\
									\
	head_snapshot(&before_);					\
	memset(&E, 0, sizeof(E));					\
	fails_check((expr), (status), (code), #expr, __LINE__);		\
	head_snapshot(&after_);						\
	assert_int_equal(after_.records, before_.records);		\
	assert_memory_equal(&after_.head, &before_.head,		\
	    sizeof(before_.head));					\
} while (0)

#define OK(expr)	ok_((memset(&E, 0, sizeof(E)), (expr)), #expr, __LINE__)

extern struct node		node;
extern int64_t			now_ms;		/* NOW */
extern int64_t			fake_ms;	/* what the node's clock says */
extern struct halle_error	E;

/* Opens the node in a new directory named after program; 0 or -1. */
int		 testnode_open(const char *program);
/* Closes the node and removes its directory. */
void		 testnode_close(void);
/* The same, as a cmocka group teardown. */
int		 testnode_group_teardown(void **state);
/* Opens the node again on the same directory (after node_close). */
int		 open_node(void);
/* A setup for cmocka: the test starts at NOW. */
int		 reset_clock(void **state);

int64_t		 instant_ms(const char *iso);
json_t		*ok_(json_t *j, const char *what, int line);
void		 head_snapshot(struct head_snap *s);
/* How many records the node's own feed holds. */
json_int_t	 records(void);
void		 fails_check(json_t *got, int status, const char *code,
		    const char *what, int line);
/* A string or integer member of o, failing the test when it is not one. */
const char	*str(json_t *o, const char *field);
json_int_t	 num(json_t *o, const char *field);
void		 assert_json_equal(json_t *a, json_t *b);

/* Requests, each failing the test unless it answers. */
void		 copy_id(char *id, json_t *j);	/* j's "id"; j freed */
void		 add_producer(const char *name, char *id);
/* A product; stock -1 is unlimited. */
json_t		*product(const char *sku, const char *name, json_int_t price,
		    json_int_t vat, json_int_t stock);
/* Publishes products (stolen); version 0: the next one. */
json_t		*try_publish(const char *producer, json_t *products,
		    json_int_t version);
/* A market with a weekly schedule (Saturday 10:00-12:00). */
void		 add_market(const char *name, char *id);
void		 membership(const char *market, char which,
		    const char *producer, int active);
/* Invited and accepted: the producer sells at the market. */
void		 sell(const char *market, const char *producer);
/* opens and closes may be NULL: the defaults. */
json_t		*try_open(const char *market, const char *date,
		    const char *from, const char *to, const char *opens,
		    const char *closes);
void		 open_distribution(const char *market, const char *date,
		    char *id);
json_t		*line(const char *producer, const char *sku,
		    json_int_t quantity);
json_t		*one_line(const char *producer, const char *sku,
		    json_int_t quantity);
/* Places an order of lines (stolen). */
json_t		*try_place(const char *dist, const char *basket,
		    json_t *lines);

#endif
