/*
 * chores: see chores.h.
 */
#include <event2/event.h>

#include "chores.h"
#include "events.h"
#include "log.h"
#include "service.h"

static struct event *chores_timer;

static void
chores_run(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct halle_error err;
	int marked;

	/* The event log is the node's own: pruned whether it writes or not. */
	if (events_prune(n, n->cfg->events_keep, &err) == -1)
		log_warnx("chores: cannot prune the event log: %s",
		    err.message);
	if (!node_may_write(n))
		return;		/* lib says why in the status */
	if (service_rule_pending(n, &err) == -1)
		log_warnx("chores: cannot rule on queued orders: %s",
		    err.message);
	if (service_stock_work(n, &err) == -1)
		log_warnx("chores: cannot grant or give back stock rights: %s",
		    err.message);
	if ((marked = service_close_due(n, &err)) == -1)
		log_warnx("chores: cannot mark closed distributions: %s",
		    err.message);
	else if (marked > 0)
		log_info("chores: %d distribution%s closed for orders", marked,
		    marked > 1 ? "s" : "");
}

int
chores_start(struct event_base *base, struct node *n)
{
	struct timeval every = { CHORES_INTERVAL_S, 0 };

	chores_timer = event_new(base, -1, EV_PERSIST, chores_run, n);
	if (chores_timer == NULL || event_add(chores_timer, &every) == -1)
		return -1;
	return 0;
}

void
chores_stop(void)
{
	if (chores_timer != NULL)
		event_free(chores_timer);
	chores_timer = NULL;
}
