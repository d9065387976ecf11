/*
 * chores: what the node does by itself on a timer: ruling on orders that
 * waited while it recovered its feed (service_rule_pending); granting stock
 * rights, topping them up and giving them back (service_stock_work, stock.h);
 * and marking closed the distributions of its markets whose order window
 * has closed (service_close_due), so that the producers' home nodes know they
 * have heard every order; and deleting the events beyond events_keep from
 * the event log (events_prune).
 */
#ifndef HALLE_CHORES_H
#define HALLE_CHORES_H

#include <event2/event.h>

#include "node.h"

#define CHORES_INTERVAL_S	2

/* Starts the timer of node n's chores on base; 0 or -1. */
int	chores_start(struct event_base *base, struct node *n);
void	chores_stop(void);

#endif
