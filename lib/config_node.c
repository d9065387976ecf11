/*
 * config_node: the [node] section of the configuration (see config.h for
 * the keys and config_int.h for how a section is read). Each key has a
 * parse function that checks its value and stores it into struct
 * halle_config; the table at the end lists them, the required ones first.
 * The optional keys have their defaults set before the file is read
 * (config_node_defaults), or after it when they depend on it
 * (config_node_finish: dfc_base is named after the node).
 *
 * config_endpoint_check is here because [node] listens; [peer NAME] uses
 * it too for the endpoint it dials.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"

#define ZONEINFO_DIR		"/usr/share/zoneinfo"
#define DEFAULT_TIMEZONE	"Europe/Paris"
#define DEFAULT_MAP_SIZE_MB	64
#define DEFAULT_STOCK_RESERVE_PERCENT	20
#define DEFAULT_DFC_BASE	"https://%s.halle.invalid/dfc/"
#define MAP_SIZE_MB_MAX		1048576
#define DEFAULT_EVENTS_KEEP	100000	/* events.h: EVENTS_KEEP_DEFAULT */
#define EVENTS_KEEP_MAX		100000000

static int
node_name(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	if (config_name_check("name", value, msg, msglen) == -1)
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
	if (strlen(value) >= CONFIG_SOCKET_PATH_SIZE) {
		snprintf(msg, msglen, "control socket path too long "
		    "(%zu bytes, at most %zu)", strlen(value),
		    CONFIG_SOCKET_PATH_SIZE - 1);
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
int
config_endpoint_check(const char *what, bool dial, const char *value,
    char *msg, size_t msglen)
{
	const char	*host, *colon;
	size_t		 hostlen;

	if (strncmp(value, "ipc://", 6) == 0) {
		if (value[6] == '\0')
			goto bad;
		if (strlen(value + 6) >= CONFIG_SOCKET_PATH_SIZE) {
			snprintf(msg, msglen, "bad %s '%s': ipc path too "
			    "long (at most %zu bytes)", what, value,
			    CONFIG_SOCKET_PATH_SIZE - 1);
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
	if (config_endpoint_check("listen", false, value, msg, msglen) == -1)
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
node_default_dfc_base(struct halle_config *cfg)
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

/*
 * A whole number from min to max, digits only, into *n; 0, or -1 with
 * msg naming key and the range.
 */
static int
whole_number(const char *key, const char *value, unsigned long min,
    unsigned long max, unsigned long *n, char *msg, size_t msglen)
{
	char	*end;

	errno = 0;
	if (value[0] >= '0' && value[0] <= '9' &&
	    (*n = strtoul(value, &end, 10), errno == 0) && *end == '\0' &&
	    *n >= min && *n <= max)
		return 0;
	snprintf(msg, msglen, "bad %s '%s': want a whole number from %lu to "
	    "%lu", key, value, min, max);
	return -1;
}

static int
node_map_size(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	unsigned long	 mb;

	_Static_assert(MAP_SIZE_MB_MAX <= SIZE_MAX >> 20,
	    "map_size_mb in bytes fits a size_t");
	if (whole_number("map_size_mb", value, 1, MAP_SIZE_MB_MAX, &mb, msg,
	    msglen) == -1)
		return -1;
	cfg->map_size = (size_t)mb << 20;
	return 0;
}

static int
node_stock_reserve(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	unsigned long	 pct;

	if (whole_number("stock_reserve_percent", value, 0, 100, &pct, msg,
	    msglen) == -1)
		return -1;
	cfg->stock_reserve_percent = (unsigned)pct;
	return 0;
}

static int
node_events_keep(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	return whole_number("events_keep", value, 1, EVENTS_KEEP_MAX,
	    &cfg->events_keep, msg, msglen);
}

void
config_node_defaults(struct halle_config *cfg)
{
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->map_size = (size_t)DEFAULT_MAP_SIZE_MB << 20;
	cfg->stock_reserve_percent = DEFAULT_STOCK_RESERVE_PERCENT;
	cfg->events_keep = DEFAULT_EVENTS_KEEP;
}

int
config_node_finish(struct halle_config *cfg)
{
	if (cfg->timezone == NULL &&
	    (cfg->timezone = strdup(DEFAULT_TIMEZONE)) == NULL)
		return -1;
	if (cfg->dfc_base == NULL && node_default_dfc_base(cfg) == -1)
		return -1;
	return 0;
}

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

_Static_assert(nitems(node_keys) <= CONFIG_KEYS_MAX,
    "config_parse.seen is 32 bits");

const struct config_section config_section_node = {
	"node", node_keys, nitems(node_keys), NULL
};
