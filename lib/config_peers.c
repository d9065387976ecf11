/*
 * config_peers: the [peer NAME] and [grouping NAME] sections of the
 * configuration (see config.h for the keys and config_int.h for how a
 * section is read), what can be checked only once the whole file is read
 * (config_resolve: every peer has a key, every member is a peer), and the
 * lookups halled makes at run time: a peer by name or key, and whether two
 * nodes share a grouping.
 *
 * Each header opens a new peer or grouping, appended to its array in cfg;
 * the parse functions of its keys fill the last one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

static int
peer_open(struct halle_config *cfg, const char *name, int line, char *msg,
    size_t msglen)
{
	struct config_peer	*peers;

	if (config_name_check("peer name", name, msg, msglen) == -1)
		return -1;
	if (config_peer_by_name(cfg, name) != NULL) {
		snprintf(msg, msglen, "duplicate section [peer %s]", name);
		return -1;
	}
	peers = reallocarray(cfg->peers, cfg->npeers + 1, sizeof(*peers));
	if (peers == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	cfg->peers = peers;
	memset(&peers[cfg->npeers], 0, sizeof(*peers));
	if (config_strdup(&peers[cfg->npeers].name, name, msg, msglen) == -1)
		return -1;
	peers[cfg->npeers++].line = line;
	return 0;
}

static int
peer_key(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	struct config_peer		*peer = &cfg->peers[cfg->npeers - 1];
	const struct config_peer	*other;
	unsigned char			 key[KEY_PUBLIC_LEN];

	if (hex_decode(key, sizeof(key), value) == -1) {
		snprintf(msg, msglen, "bad key for peer '%s': want the %d hex "
		    "digits that halled --show-id prints", peer->name,
		    KEY_HEX_LEN);
		return -1;
	}
	if ((other = config_peer_by_key(cfg, key)) != NULL) {
		snprintf(msg, msglen, "key of peer '%s' is already the key of "
		    "peer '%s'", peer->name, other->name);
		return -1;
	}
	memcpy(peer->key, key, sizeof(key));
	hex_encode(peer->key_hex, key, sizeof(key));
	return 0;
}

static int
peer_endpoint(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	struct config_peer	*peer = &cfg->peers[cfg->npeers - 1];

	if (config_endpoint_check("endpoint", true, value, msg, msglen) == -1)
		return -1;
	return config_strdup(&peer->endpoint, value, msg, msglen);
}

static int
grouping_open(struct halle_config *cfg, const char *name, int line, char *msg,
    size_t msglen)
{
	struct config_grouping	*groupings;
	size_t			 i;

	if (config_name_check("grouping name", name, msg, msglen) == -1)
		return -1;
	for (i = 0; i < cfg->ngroupings; i++)
		if (strcmp(cfg->groupings[i].name, name) == 0) {
			snprintf(msg, msglen, "duplicate section [grouping %s]",
			    name);
			return -1;
		}
	groupings = reallocarray(cfg->groupings, cfg->ngroupings + 1,
	    sizeof(*groupings));
	if (groupings == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	cfg->groupings = groupings;
	memset(&groupings[cfg->ngroupings], 0, sizeof(*groupings));
	if (config_strdup(&groupings[cfg->ngroupings].name, name, msg,
	    msglen) == -1)
		return -1;
	groupings[cfg->ngroupings++].line = line;
	return 0;
}

/* Appends the member s[0..len), spaces around it trimmed, to g. */
static int
grouping_add_member(struct config_grouping *g, const char *s, size_t len,
    const char *value, char *msg, size_t msglen)
{
	size_t	i;

	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0) {
		snprintf(msg, msglen, "grouping '%s': empty member name in "
		    "'%s'", g->name, value);
		return -1;
	}
	for (i = 0; i < g->nmembers; i++)
		if (strlen(g->members[i]) == len &&
		    memcmp(g->members[i], s, len) == 0) {
			snprintf(msg, msglen, "grouping '%s': member '%s' is "
			    "listed twice", g->name, g->members[i]);
			return -1;
		}
	if ((g->members[g->nmembers] = strndup(s, len)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	g->nmembers++;
	return 0;
}

/* "a, b,c": names separated by commas, with or without spaces. */
static int
grouping_members(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	struct config_grouping	*g = &cfg->groupings[cfg->ngroupings - 1];
	const char		*s;
	size_t			 n, max = 1;

	for (s = value; (s = strchr(s, ',')) != NULL; s++)
		max++;
	if ((g->members = calloc(max, sizeof(*g->members))) == NULL ||
	    (g->member_peers = calloc(max, sizeof(*g->member_peers))) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	for (s = value;; s += n + 1) {
		n = strcspn(s, ",");
		if (grouping_add_member(g, s, n, value, msg, msglen) == -1)
			return -1;
		if (s[n] == '\0')
			return 0;
	}
}

/*
 * What needs the whole file: every peer has a key and is not this node, and
 * every member of a grouping is a peer, whose index it records. Returns 0,
 * or the line of the first problem with msg.
 */
int
config_resolve(struct halle_config *cfg, char *msg, size_t msglen)
{
	const struct config_peer	*peer;
	struct config_grouping		*g;
	size_t				 i, j;

	for (i = 0; i < cfg->npeers; i++) {
		peer = &cfg->peers[i];
		if (peer->key_hex[0] == '\0') {
			snprintf(msg, msglen, "peer '%s' has no key",
			    peer->name);
			return peer->line;
		}
		if (strcmp(peer->name, cfg->name) == 0) {
			snprintf(msg, msglen, "peer '%s' has the name of this "
			    "node", peer->name);
			return peer->line;
		}
	}
	for (i = 0; i < cfg->ngroupings; i++) {
		g = &cfg->groupings[i];
		if (g->nmembers == 0) {
			snprintf(msg, msglen, "grouping '%s' has no members",
			    g->name);
			return g->line;
		}
		for (j = 0; j < g->nmembers; j++) {
			if (strcmp(g->members[j], cfg->name) == 0) {
				snprintf(msg, msglen, "grouping '%s': '%s' is "
				    "this node; it is a member of every "
				    "grouping it declares", g->name,
				    g->members[j]);
				return g->line;
			}
			if ((peer = config_peer_by_name(cfg,
			    g->members[j])) == NULL) {
				snprintf(msg, msglen, "grouping '%s': member "
				    "'%s' has no [peer %s] section", g->name,
				    g->members[j], g->members[j]);
				return g->line;
			}
			g->member_peers[j] = (size_t)(peer - cfg->peers);
		}
	}
	return 0;
}

const struct config_peer *
config_peer_by_name(const struct halle_config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->npeers; i++)
		if (strcmp(cfg->peers[i].name, name) == 0)
			return &cfg->peers[i];
	return NULL;
}

/* A peer whose key is not parsed yet has key_hex "" and matches nothing. */
const struct config_peer *
config_peer_by_key(const struct halle_config *cfg,
    const unsigned char key[KEY_PUBLIC_LEN])
{
	size_t	i;

	for (i = 0; i < cfg->npeers; i++)
		if (cfg->peers[i].key_hex[0] != '\0' &&
		    memcmp(cfg->peers[i].key, key, KEY_PUBLIC_LEN) == 0)
			return &cfg->peers[i];
	return NULL;
}

/* Whether the peer at index peer (SIZE_MAX: this node) is a member of g. */
static bool
grouping_has(const struct config_grouping *g, size_t peer)
{
	size_t	i;

	if (peer == SIZE_MAX)
		return true;
	for (i = 0; i < g->nmembers; i++)
		if (g->member_peers[i] == peer)
			return true;
	return false;
}

int
config_shares_grouping(const struct halle_config *cfg,
    const unsigned char key_a[KEY_PUBLIC_LEN],
    const unsigned char key_b[KEY_PUBLIC_LEN])
{
	const struct config_peer	*a = NULL, *b = NULL;
	size_t				 ia = SIZE_MAX, ib = SIZE_MAX, i;

	if (key_a != NULL) {
		if ((a = config_peer_by_key(cfg, key_a)) == NULL)
			return 0;
		ia = (size_t)(a - cfg->peers);
	}
	if (key_b != NULL) {
		if ((b = config_peer_by_key(cfg, key_b)) == NULL)
			return 0;
		ib = (size_t)(b - cfg->peers);
	}
	for (i = 0; i < cfg->ngroupings; i++)
		if (grouping_has(&cfg->groupings[i], ia) &&
		    grouping_has(&cfg->groupings[i], ib))
			return 1;
	return 0;
}

/* A peer without a key and a grouping without members fail config_resolve. */
static const struct config_key peer_keys[] = {
	{ "key",		true,	peer_key },
	{ "endpoint",		false,	peer_endpoint },
};

static const struct config_key grouping_keys[] = {
	{ "members",		true,	grouping_members },
};

_Static_assert(nitems(peer_keys) <= CONFIG_KEYS_MAX,
    "config_parse.seen is 32 bits");
_Static_assert(nitems(grouping_keys) <= CONFIG_KEYS_MAX,
    "config_parse.seen is 32 bits");

const struct config_section config_section_peer = {
	"peer", peer_keys, nitems(peer_keys), peer_open
};

const struct config_section config_section_grouping = {
	"grouping", grouping_keys, nitems(grouping_keys), grouping_open
};
