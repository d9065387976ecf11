/*
 * api_json: the control API's JSON renderings of the daemon's own structs
 * (status.h): the answer of GET /v1/status, and the names and groupings
 * GET /v1/feeds adds to lib's list of feeds. docs/control-api.md documents
 * every field; metrics.c renders the same structs as Prometheus text.
 */
#ifndef HALLE_API_JSON_H
#define HALLE_API_JSON_H

#include <jansson.h>

#include "node.h"
#include "status.h"

/* The status document (a new reference), or NULL when out of memory. */
json_t	*api_json_status(const struct daemon_status *st);

/*
 * Names each feed of feeds (service_feeds) after its node when it is a
 * configured peer, and lists the groupings of n's configuration it
 * belongs to (none without peers).
 */
void	api_json_describe_feeds(json_t *feeds, const struct node *n);

#endif
