/*
 * config: reads and checks the node's INI file (the format is in config.h).
 *
 * libinih calls config_handler once for each "key = value" line. Every known
 * section has a table of its keys, each with a parse function that checks
 * the value and stores it into struct halle_config. Adding a section means
 * writing a table and adding a row to config_sections.
 *
 * [node] is a single section. [peer NAME] and [grouping NAME] are named:
 * each header opens a new peer or grouping, appended to its array in cfg,
 * and the parse functions of their keys fill the last one. What needs the
 * whole file (every peer has a key, every member is a peer) is checked by
 * config_resolve once inih is done.
 *
 * This build of inih does not tell the handler its line number, nor when a
 * section starts, and it keeps only the first 49 bytes of a section name.
 * Instead ini_parse_stream returns the number of the first line that
 * failed, because the handler returned 0 or because the line is not INI
 * syntax. We ask inih to stop at the first error, so the line it returns is
 * the one our handler rejected if the handler left a message, and a syntax
 * error otherwise. The rest we learn from our own reader, config_read: it
 * counts lines, so that a peer or grouping can remember its line for the
 * checks made after parsing, and it notes each section header, its line and
 * its whole name, so that two headers of the same name are told apart and a
 * 63-character peer name is not cut.
 *
 * inih is set up the same way before every parse, through the global knobs
 * of the Debian build: stop at the first error; no multi-line values, so an
 * indented "key = value" is an ordinary line and not a continuation of the
 * previous value; and a line buffer on the heap that may grow to
 * CONFIG_LINE_MAX, so a long path is read whole rather than cut at 200 bytes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define CONFIG_LINE_MAX		8192
#define CONFIG_MSG_MAX		256
#define NODE_NAME_MAX		63
#define SECTION_NAME_MAX	127	/* kept whole by config_read */
#define SOCKET_PATH_SIZE	sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define ZONEINFO_DIR		"/usr/share/zoneinfo"
#define DEFAULT_TIMEZONE	"Europe/Paris"
#define DEFAULT_MAP_SIZE_MB	64
#define DEFAULT_STOCK_RESERVE_PERCENT	20
#define DEFAULT_DFC_BASE	"https://%s.halle.invalid/dfc/"
#define MAP_SIZE_MB_MAX		1048576
#define DEFAULT_EVENTS_KEEP	100000	/* events.h: EVENTS_KEEP_DEFAULT */
#define EVENTS_KEEP_MAX		100000000

/* Checks a non-empty value and stores it; on error writes msg, returns -1. */
typedef int	(*config_parse_fn)(struct halle_config *, const char *value,
		    char *msg, size_t msglen);

/* A required key of [node] is reported missing after parsing. */
struct config_key {
	const char	*name;
	bool		 required;
	config_parse_fn	 parse;
};

/* Adds a peer or grouping called name, declared at line; -1 and msg if not. */
typedef int	(*config_open_fn)(struct halle_config *, const char *name,
		    int line, char *msg, size_t msglen);

/*
 * A single section ("node") has no open function. A named one ("peer")
 * does: "[peer NAME]" opens a new peer, whose keys the parse functions then
 * store into the last element of cfg->peers.
 */
struct config_section {
	const char		*name;
	const struct config_key	*keys;
	size_t			 nkeys;
	config_open_fn		 open;
};

static int	node_name(struct halle_config *, const char *, char *, size_t);
static int	node_data_dir(struct halle_config *, const char *, char *,
		    size_t);
static int	node_key_file(struct halle_config *, const char *, char *,
		    size_t);
static int	node_control(struct halle_config *, const char *, char *,
		    size_t);
static int	node_listen(struct halle_config *, const char *, char *,
		    size_t);
static int	node_timezone(struct halle_config *, const char *, char *,
		    size_t);
static int	node_log_level(struct halle_config *, const char *, char *,
		    size_t);
static int	node_map_size(struct halle_config *, const char *, char *,
		    size_t);
static int	node_metrics_listen(struct halle_config *, const char *,
		    char *, size_t);
static int	node_stock_reserve(struct halle_config *, const char *,
		    char *, size_t);
static int	node_dfc_base(struct halle_config *, const char *, char *,
		    size_t);
static int	node_events_keep(struct halle_config *, const char *, char *,
		    size_t);
static int	peer_open(struct halle_config *, const char *, int, char *,
		    size_t);
static int	peer_key(struct halle_config *, const char *, char *, size_t);
static int	peer_endpoint(struct halle_config *, const char *, char *,
		    size_t);
static int	grouping_open(struct halle_config *, const char *, int, char *,
		    size_t);
static int	grouping_members(struct halle_config *, const char *, char *,
		    size_t);

/* Required keys are reported missing in this order. */
static const struct config_key node_keys[] = {
	{ "name",		true,	node_name },
	{ "data_dir",		true,	node_data_dir },
	{ "key_file",		true,	node_key_file },
	{ "control",		true,	node_control },
	{ "listen",		true,	node_listen },
	{ "timezone",		false,	node_timezone },
	{ "log_level",		false,	node_log_level },
	{ "map_size_mb",	false,	node_map_size },
	{ "metrics_listen",	false,	node_metrics_listen },
	{ "stock_reserve_percent", false, node_stock_reserve },
	{ "dfc_base",		false,	node_dfc_base },
	{ "events_keep",	false,	node_events_keep },
};

/* A peer without a key and a grouping without members fail config_resolve. */
static const struct config_key peer_keys[] = {
	{ "key",		true,	peer_key },
	{ "endpoint",		false,	peer_endpoint },
};

static const struct config_key grouping_keys[] = {
	{ "members",		true,	grouping_members },
};

static const struct config_section config_sections[] = {
	{ "node",	node_keys,	nitems(node_keys),	NULL },
	{ "peer",	peer_keys,	nitems(peer_keys),	peer_open },
	{ "grouping",	grouping_keys,	nitems(grouping_keys),	grouping_open },
};

/* What the reader and the handler carry from one line to the next. */
struct config_parse {
	struct halle_config	*cfg;
	FILE			*fp;
	int			 line;		/* being parsed, from 1 */
	bool			 line_ended;	/* the last read ended a line */
	int			 header_line;	/* of the last section header */
	char			 header[SECTION_NAME_MAX + 1];	/* its name */
	int			 opened_line;	/* header_line, once opened */
	/* Keys seen, one bit each; of the last peer for [peer NAME]. */
	uint32_t		 seen[nitems(config_sections)];
	char			 msg[CONFIG_MSG_MAX];	/* first error, or "" */
};

_Static_assert(nitems(node_keys) <= 32, "config_parse.seen is 32 bits");
_Static_assert(nitems(peer_keys) <= 32, "config_parse.seen is 32 bits");
_Static_assert(nitems(grouping_keys) <= 32, "config_parse.seen is 32 bits");

static void __attribute__((format(printf, 3, 4)))
config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
config_strdup(char **field, const char *value, char *msg, size_t msglen)
{
	if ((*field = strdup(value)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	return 0;
}

/* Checks a node, peer or grouping name; what names it in the message. */
static int
name_check(const char *what, const char *value, char *msg, size_t msglen)
{
	size_t	n;

	n = strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0 || value[n] != '\0' || n > NODE_NAME_MAX ||
	    value[0] == '-') {
		snprintf(msg, msglen, "bad %s '%s': want 1 to %d characters "
		    "of a-z, 0-9 and '-', not starting with '-'", what, value,
		    NODE_NAME_MAX);
		return -1;
	}
	return 0;
}

static int
node_name(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	if (name_check("name", value, msg, msglen) == -1)
		return -1;
	return config_strdup(&cfg->name, value, msg, msglen);
}

static int
node_data_dir(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	return config_strdup(&cfg->data_dir, value, msg, msglen);
}

static int
node_key_file(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	return config_strdup(&cfg->key_file, value, msg, msglen);
}

static int
node_control(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	if (strlen(value) >= SOCKET_PATH_SIZE) {
		snprintf(msg, msglen, "control socket path too long "
		    "(%zu bytes, at most %zu)", strlen(value),
		    SOCKET_PATH_SIZE - 1);
		return -1;
	}
	return config_strdup(&cfg->control, value, msg, msglen);
}

/* Accepts "1" to "65535" and nothing else: no sign, no spaces. */
static int
port_parse(const char *s)
{
	long	port = 0;
	size_t	i;

	if (s[0] == '\0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		port = port * 10 + (s[i] - '0');
	}
	return (port >= 1 && port <= 65535) ? (int)port : -1;
}

/*
 * Checks the ZeroMQ endpoint in value, the key called what: tcp://HOST:PORT,
 * where HOST is a name, an address, '*' (to listen on every address) or a
 * bracketed IPv6 address, or ipc://PATH with PATH short enough for a unix
 * socket. An endpoint to dial cannot have '*' for its host.
 */
static int
endpoint_check(const char *what, bool dial, const char *value, char *msg,
    size_t msglen)
{
	const char	*host, *colon;
	size_t		 hostlen;

	if (strncmp(value, "ipc://", 6) == 0) {
		if (value[6] == '\0')
			goto bad;
		if (strlen(value + 6) >= SOCKET_PATH_SIZE) {
			snprintf(msg, msglen, "bad %s '%s': ipc path too "
			    "long (at most %zu bytes)", what, value,
			    SOCKET_PATH_SIZE - 1);
			return -1;
		}
		return 0;
	}
	if (strncmp(value, "tcp://", 6) != 0)
		goto bad;
	host = value + 6;
	if ((colon = strrchr(host, ':')) == NULL || colon == host)
		goto bad;
	hostlen = colon - host;
	if (memchr(host, ':', hostlen) != NULL &&
	    (host[0] != '[' || host[hostlen - 1] != ']' || hostlen < 3))
		goto bad;
	if (port_parse(colon + 1) == -1) {
		snprintf(msg, msglen, "bad %s '%s': port must be a number "
		    "from 1 to 65535", what, value);
		return -1;
	}
	if (dial && hostlen == 1 && host[0] == '*') {
		snprintf(msg, msglen, "bad %s '%s': '*' is for listening; "
		    "give the peer's host", what, value);
		return -1;
	}
	return 0;
 bad:
	snprintf(msg, msglen, "bad %s '%s': want tcp://HOST:PORT or "
	    "ipc://PATH", what, value);
	return -1;
}

static int
node_listen(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	if (endpoint_check("listen", false, value, msg, msglen) == -1)
		return -1;
	return config_strdup(&cfg->listen, value, msg, msglen);
}

/*
 * metrics_listen: HOST:PORT, HOST an address or a name, or a bracketed
 * IPv6 address; the metrics are served over plain HTTP there.
 */
static int
node_metrics_listen(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	const char	*colon = strrchr(value, ':');
	size_t		 hostlen = colon ? (size_t)(colon - value) : 0;

	if (colon == NULL || hostlen == 0 ||
	    strcspn(value, " \t/") != strlen(value) ||
	    (memchr(value, ':', hostlen) != NULL && (value[0] != '[' ||
	    value[hostlen - 1] != ']' || hostlen < 3))) {
		snprintf(msg, msglen, "bad metrics_listen '%s': want HOST:PORT, "
		    "such as 127.0.0.1:9742", value);
		return -1;
	}
	if (port_parse(colon + 1) == -1) {
		snprintf(msg, msglen, "bad metrics_listen '%s': port must be a "
		    "number from 1 to 65535", value);
		return -1;
	}
	return config_strdup(&cfg->metrics_listen, value, msg, msglen);
}

/*
 * dfc_base: an http or https IRI under which the DFC documents name what
 * this node exports (docs/dfc.md); a final "/" is added when missing.
 */
static int
node_dfc_base(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	size_t	len = strlen(value), i;
	bool	slash = len > 0 && value[len - 1] == '/';

	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] <= 0x20 || value[i] == 0x7f ||
		    strchr("\"<>\\^`{|}#?", value[i]) != NULL)
			break;
	if ((strncmp(value, "https://", 8) != 0 &&
	    strncmp(value, "http://", 7) != 0) || i < len ||
	    len == (value[4] == 's' ? 8u : 7u) || len > 400) {
		snprintf(msg, msglen, "bad dfc_base '%s': want an http or "
		    "https IRI such as https://halle.example.fr/dfc/", value);
		return -1;
	}
	if ((cfg->dfc_base = malloc(len + 2)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	snprintf(cfg->dfc_base, len + 2, "%s%s", value, slash ? "" : "/");
	return 0;
}

/* Without dfc_base: DEFAULT_DFC_BASE, named after the node. */
static int
config_default_dfc_base(struct halle_config *cfg)
{
	size_t	len = sizeof(DEFAULT_DFC_BASE) + strlen(cfg->name);

	if ((cfg->dfc_base = malloc(len)) == NULL)
		return -1;
	snprintf(cfg->dfc_base, len, DEFAULT_DFC_BASE, cfg->name);
	return 0;
}

static bool
path_has_dotdot(const char *s)
{
	size_t	n;

	for (;;) {
		n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (s[n] == '\0')
			return false;
		s += n + 1;
	}
}

/*
 * A zone is a name under ZONEINFO_DIR, such as Europe/Paris, whose file is
 * a compiled zone ("TZif" magic): this rules out directories and the tables
 * that live beside the zones, such as zone.tab.
 */
static bool
timezone_exists(const char *name)
{
	char	path[PATH_MAX], magic[4];
	int	fd, n;
	ssize_t	got;

	if (name[0] == '/' || path_has_dotdot(name))
		return false;
	n = snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	got = read(fd, magic, sizeof(magic));
	close(fd);
	return got == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", sizeof(magic)) == 0;
}

static int
node_timezone(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	if (!timezone_exists(value)) {
		snprintf(msg, msglen, "unknown time zone '%s'", value);
		return -1;
	}
	return config_strdup(&cfg->timezone, value, msg, msglen);
}

static int
node_log_level(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	int	level;

	if ((level = log_level_parse(value)) == -1) {
		snprintf(msg, msglen, "unknown log level '%s': want debug, "
		    "info, warn or error", value);
		return -1;
	}
	cfg->log_level = level;
	return 0;
}

static int
node_map_size(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	unsigned long	 mb;
	char		*end;

	if (value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	mb = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || mb < 1 || mb > MAP_SIZE_MB_MAX ||
	    mb > SIZE_MAX >> 20)
		goto bad;
	cfg->map_size = (size_t)mb << 20;
	return 0;
 bad:
	snprintf(msg, msglen, "bad map_size_mb '%s': want a whole number "
	    "from 1 to %d", value, MAP_SIZE_MB_MAX);
	return -1;
}

static int
node_events_keep(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	unsigned long	 n;
	char		*end;

	if (value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > EVENTS_KEEP_MAX)
		goto bad;
	cfg->events_keep = n;
	return 0;
 bad:
	snprintf(msg, msglen, "bad events_keep '%s': want a whole number "
	    "from 1 to %d", value, EVENTS_KEEP_MAX);
	return -1;
}

static int
node_stock_reserve(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	unsigned long	 pct;
	char		*end;

	if (value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	pct = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || pct > 100)
		goto bad;
	cfg->stock_reserve_percent = (unsigned)pct;
	return 0;
 bad:
	snprintf(msg, msglen, "bad stock_reserve_percent '%s': want a whole "
	    "number from 0 to 100", value);
	return -1;
}

static int
peer_open(struct halle_config *cfg, const char *name, int line, char *msg,
    size_t msglen)
{
	struct config_peer	*peers;

	if (name_check("peer name", name, msg, msglen) == -1)
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

	if (endpoint_check("endpoint", true, value, msg, msglen) == -1)
		return -1;
	return config_strdup(&peer->endpoint, value, msg, msglen);
}

static int
grouping_open(struct halle_config *cfg, const char *name, int line, char *msg,
    size_t msglen)
{
	struct config_grouping	*groupings;
	size_t			 i;

	if (name_check("grouping name", name, msg, msglen) == -1)
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
 * The section "name" or "name INSTANCE" in config_sections, or NULL; sets
 * *si to its index and *instance to INSTANCE ("" for "[peer]"), or to NULL
 * for a single section.
 */
static const struct config_section *
config_section_find(const char *section, size_t *si, const char **instance)
{
	const struct config_section	*s;
	size_t				 len;

	for (*si = 0; *si < nitems(config_sections); (*si)++) {
		s = &config_sections[*si];
		len = strlen(s->name);
		if (strncmp(section, s->name, len) != 0)
			continue;
		if (section[len] == '\0') {
			*instance = s->open != NULL ? "" : NULL;
			return s;
		}
		if (section[len] == ' ' && s->open != NULL) {
			*instance = section + len + 1;
			return s;
		}
	}
	return NULL;
}

/* Called by inih for each key; returns 0 to make ini_parse stop. */
static int
config_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_parse		*p = user;
	const struct config_section	*s = NULL;
	const struct config_key		*k = NULL;
	const char			*instance;
	size_t				 si, ki;

	if (p->msg[0] != '\0')
		return 0;
	if (section[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "key '%s' is outside any "
		    "section", key);
		return 0;
	}
	/* inih's copy is cut at 49 bytes; config_read kept the whole name. */
	if (strncmp(p->header, section, strlen(section)) == 0)
		section = p->header;
	if ((s = config_section_find(section, &si, &instance)) == NULL) {
		snprintf(p->msg, sizeof(p->msg), "unknown section [%s]",
		    section);
		return 0;
	}
	/* The first key after a [peer NAME] header opens that peer. */
	if (instance != NULL && p->opened_line != p->header_line) {
		p->opened_line = p->header_line;
		p->seen[si] = 0;
		if (s->open(p->cfg, instance, p->line, p->msg,
		    sizeof(p->msg)) == -1)
			return 0;
	}
	for (ki = 0; ki < s->nkeys; ki++)
		if (strcmp(key, s->keys[ki].name) == 0) {
			k = &s->keys[ki];
			break;
		}
	if (k == NULL) {
		snprintf(p->msg, sizeof(p->msg), "unknown key '%s' in [%s]",
		    key, section);
		return 0;
	}
	if (p->seen[si] & (UINT32_C(1) << ki)) {
		snprintf(p->msg, sizeof(p->msg), "duplicate key '%s' in [%s]",
		    key, section);
		return 0;
	}
	p->seen[si] |= UINT32_C(1) << ki;
	/* The packaged configuration ships the name empty: say what to do. */
	if (value[0] == '\0' && k->parse == node_name) {
		snprintf(p->msg, sizeof(p->msg), "name is empty: set the node's "
		    "name on this line (1 to %d characters of a-z, 0-9 and "
		    "'-'), the name its peers will know it by", NODE_NAME_MAX);
		return 0;
	}
	if (value[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "'%s' must not be empty", key);
		return 0;
	}
	return k->parse(p->cfg, value, p->msg, sizeof(p->msg)) == 0;
}

/*
 * inih's reader: fgets on p->fp, which also counts lines and notes each
 * section header the way inih reads it: after an optional UTF-8 byte order
 * mark on line 1 and any spaces, '[' then the name up to the first ']'. A
 * line longer than inih's buffer arrives in several reads. A NUL byte in a
 * line stops the reading with an error in p->msg (text files have none).
 */
static char *
config_read(char *buf, int size, void *stream)
{
	struct config_parse	*p = stream;
	const unsigned char	*s = (const unsigned char *)buf;
	bool			 line_start = p->line_ended;
	const char		*newline;
	size_t			 n;

	memset(buf, 0, (size_t)size);
	if (fgets(buf, size, p->fp) == NULL)
		return NULL;
	/* fgets stops after a newline: a NUL before it is in the line. */
	newline = memchr(buf, '\n', (size_t)size);
	n = newline != NULL ? (size_t)(newline - buf) + 1 :
	    feof(p->fp) ? strlen(buf) : (size_t)size - 1;
	p->line_ended = newline != NULL;
	if (line_start)
		p->line++;
	if (strlen(buf) < n) {
		if (p->msg[0] == '\0')
			snprintf(p->msg, sizeof(p->msg), "a NUL byte in the "
			    "line");
		return NULL;
	}
	if (!line_start)
		return buf;
	if (p->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace(*s))
		s++;
	if (*s++ != '[')
		return buf;
	n = strcspn((const char *)s, "]");
	if (n > SECTION_NAME_MAX)
		n = SECTION_NAME_MAX;
	memcpy(p->header, s, n);
	p->header[n] = '\0';
	p->header_line = p->line;
	return buf;
}

/* The first required key of [node] not seen, in table order; NULL if none. */
static const char *
config_missing(const struct config_parse *p, const char **section)
{
	size_t	si, ki;

	for (si = 0; si < nitems(config_sections); si++)
		for (ki = 0; ki < config_sections[si].nkeys; ki++) {
			if (config_sections[si].open != NULL ||
			    !config_sections[si].keys[ki].required ||
			    (p->seen[si] & (UINT32_C(1) << ki)))
				continue;
			*section = config_sections[si].name;
			return config_sections[si].keys[ki].name;
		}
	return NULL;
}

/*
 * What needs the whole file: every peer has a key and is not this node, and
 * every member of a grouping is a peer, whose index it records. Returns 0,
 * or the line of the first problem with msg.
 */
static int
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

static void
config_ini_setup(void)
{
	ini_stop_on_first_error = true;
	ini_allow_multiline = false;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_LINE_MAX;
}

/*
 * Reads FILE into cfg; see config.h. cfg's previous contents are not freed.
 * The file is opened here rather than by ini_parse so that a read error,
 * such as FILE being a directory, is told apart from an empty file.
 */
int
config_load(struct halle_config *cfg, const char *file, char *err,
    size_t errlen)
{
	struct config_parse	 p;
	const char		*missing, *section;
	FILE			*fp;
	int			 line, read_errno;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.line_ended = true;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->map_size = (size_t)DEFAULT_MAP_SIZE_MB << 20;
	cfg->stock_reserve_percent = DEFAULT_STOCK_RESERVE_PERCENT;
	cfg->events_keep = DEFAULT_EVENTS_KEEP;

	if ((fp = fopen(file, "r")) == NULL) {
		config_error(err, errlen, "%s: cannot open: %s", file,
		    strerror(errno));
		goto fail;
	}
	config_ini_setup();
	p.fp = fp;
	line = ini_parse_stream(config_read, &p, config_handler, &p);
	read_errno = errno;
	if (ferror(fp)) {
		fclose(fp);
		config_error(err, errlen, "%s: cannot read: %s", file,
		    strerror(read_errno));
		goto fail;
	}
	fclose(fp);

	if (line == -2) {
		config_error(err, errlen, "%s: out of memory", file);
		goto fail;
	}
	if (line == 0 && p.msg[0] != '\0')
		line = p.line;	/* config_read stopped at a NUL byte */
	if (line != 0) {
		config_error(err, errlen, "%s:%d: %s", file, line,
		    p.msg[0] != '\0' ? p.msg : "syntax error");
		goto fail;
	}
	if ((missing = config_missing(&p, &section)) != NULL) {
		config_error(err, errlen, "%s: missing '%s' in [%s]", file,
		    missing, section);
		goto fail;
	}
	if ((line = config_resolve(cfg, p.msg, sizeof(p.msg))) != 0) {
		config_error(err, errlen, "%s:%d: %s", file, line, p.msg);
		goto fail;
	}
	if (cfg->timezone == NULL &&
	    (cfg->timezone = strdup(DEFAULT_TIMEZONE)) == NULL) {
		config_error(err, errlen, "%s: out of memory", file);
		goto fail;
	}
	if (cfg->dfc_base == NULL && config_default_dfc_base(cfg) == -1) {
		config_error(err, errlen, "%s: out of memory", file);
		goto fail;
	}
	if ((cfg->path = strdup(file)) == NULL) {
		config_error(err, errlen, "%s: out of memory", file);
		goto fail;
	}
	return 0;
 fail:
	config_free(cfg);
	return -1;
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

/* Frees what config_load allocated and zeroes cfg; safe to call twice. */
void
config_free(struct halle_config *cfg)
{
	size_t	i, j;

	for (i = 0; i < cfg->npeers; i++) {
		free(cfg->peers[i].name);
		free(cfg->peers[i].endpoint);
	}
	free(cfg->peers);
	for (i = 0; i < cfg->ngroupings; i++) {
		for (j = 0; j < cfg->groupings[i].nmembers; j++)
			free(cfg->groupings[i].members[j]);
		free(cfg->groupings[i].members);
		free(cfg->groupings[i].member_peers);
		free(cfg->groupings[i].name);
	}
	free(cfg->groupings);
	free(cfg->path);
	free(cfg->name);
	free(cfg->data_dir);
	free(cfg->key_file);
	free(cfg->control);
	free(cfg->listen);
	free(cfg->timezone);
	free(cfg->metrics_listen);
	free(cfg->dfc_base);
	memset(cfg, 0, sizeof(*cfg));
}
