/*
 * api_json: see api_json.h.
 */
#include "api_json.h"
#include "hex.h"

/* Seconds or milliseconds, or null for -1 (never, none). */
static json_t *
maybe(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *
peer_json(const struct peer_status *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:f, s:o}", "name", p->name,
	    "id", p->id, "endpoint", p->endpoint ? p->endpoint : "",
	    "state", status_peer_state(p),
	    "since_s", maybe(p->since_s),
	    "last_seen_s", maybe(p->last_seen_s),
	    "rtt_ms", maybe(p->rtt_ms),
	    "records_in", (json_int_t)p->records_in,
	    "records_out", (json_int_t)p->records_out,
	    "rejected", (json_int_t)p->rejected,
	    "forks", (json_int_t)p->forks,
	    "lag_in", (json_int_t)p->lag_in,
	    "lag_out", (json_int_t)p->lag_out,
	    "last_error", p->last_error,
	    "bytes_in", (json_int_t)p->bytes_in,
	    "bytes_out", (json_int_t)p->bytes_out,
	    "bytes_in_flight", (json_int_t)p->bytes_in_flight,
	    "to_go", (json_int_t)p->to_go,
	    "rate", (double)(int64_t)(p->rate * 10 + 0.5) / 10,
	    "time_left_s", maybe(p->time_left_s));
}

static json_t *
grouping_json(const struct grouping_status *g)
{
	json_t *members = json_array();
	size_t i;

	for (i = 0; i < g->nmembers; i++)
		json_array_append_new(members, json_string(g->members[i]));
	return json_pack("{s:s, s:o, s:I, s:b}", "name", g->name,
	    "members", members, "feeds", (json_int_t)g->feeds,
	    "in_sync", g->in_sync);
}

json_t *
api_json_status(const struct daemon_status *st)
{
	json_t *o, *peers, *groupings, *waiting;
	size_t i;

	if ((o = service_status_json(&st->node)) == NULL)
		return NULL;
	peers = json_array();
	groupings = json_array();
	waiting = json_array();
	for (i = 0; i < st->npeers; i++) {
		json_array_append_new(peers, peer_json(&st->peers[i]));
		if (st->peers[i].awaited)
			json_array_append_new(waiting,
			    json_string(st->peers[i].name));
	}
	for (i = 0; i < st->ngroupings; i++)
		json_array_append_new(groupings,
		    grouping_json(&st->groupings[i]));
	json_object_set_new(o, "peers", peers);
	json_object_set_new(o, "groupings", groupings);
	json_object_set_new(o, "waiting_for", waiting);
	if (st->linked)
		json_object_set_new(o, "handshakes_refused",
		    json_integer((json_int_t)st->handshakes_refused));
	return o;
}

void
api_json_describe_feeds(json_t *feeds, const struct node *n)
{
	const struct halle_config *cfg = n->cfg;
	const unsigned char *self = n->key.public_key;
	unsigned char origin[KEY_PUBLIC_LEN];
	const char *hex, *name;
	json_t *feed, *names;
	size_t i, g;

	json_array_foreach(feeds, i, feed) {
		hex = json_string_value(json_object_get(feed, "origin"));
		names = json_array();
		if (cfg->npeers > 0 && hex != NULL &&
		    hex_decode(origin, KEY_PUBLIC_LEN, hex) == 0) {
			if ((name = status_node_name(cfg, self,
			    origin)) != NULL)
				json_object_set_new(feed, "name",
				    json_string(name));
			for (g = 0; g < cfg->ngroupings; g++)
				if (status_in_grouping(cfg, g, self, origin))
					json_array_append_new(names,
					    json_string(cfg->groupings[g].name));
		}
		json_object_set_new(feed, "groupings", names);
	}
}
