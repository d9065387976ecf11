/*
 * halled: what the daemon's parts share: the node, its configuration, its
 * links to peers and the event loop.
 */
#ifndef HALLE_HALLED_H
#define HALLE_HALLED_H

#include <event2/event.h>

#include "config.h"
#include "node.h"
#include "peers.h"

struct control;

struct halled {
	struct halle_config	 cfg;
	struct node		 node;
	struct peers		*peers;
	struct control		*control;
	struct event_base	*base;
};

/*
 * Reads the configuration file again and applies its peers and groupings
 * (the [node] section needs a restart). 0, or -1 with the reason in err;
 * on error the running configuration stays as it was.
 */
int	halled_reload(struct halled *d, char *err, size_t errlen);

#endif
