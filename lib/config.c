/*
 * config: reads and checks the node's INI file (the format is in config.h).
 *
 * libinih calls config_handler once for each "key = value" line. Every known
 * section has a table of its keys, each with a parse function that checks
 * the value and stores it into struct halle_config. Adding a section (peers
 * and groupings will come) means writing a table and adding a row to
 * config_sections.
 *
 * This build of inih does not tell the handler its line number. Instead
 * ini_parse_file returns the number of the first line that failed, because
 * the handler returned 0 or because the line is not INI syntax. We ask inih
 * to stop at the first error, so the line it returns is the one our handler
 * rejected if the handler left a message, and a syntax error otherwise.
 *
 * inih is set up the same way before every parse, through the global knobs
 * of the Debian build: stop at the first error; no multi-line values, so an
 * indented "key = value" is an ordinary line and not a continuation of the
 * previous value; and a line buffer on the heap that may grow to
 * CONFIG_LINE_MAX, so a long path is read whole rather than cut at 200 bytes.
 */
#include <sys/socket.h>
#include <sys/un.h>

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
#define SOCKET_PATH_SIZE	sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define ZONEINFO_DIR		"/usr/share/zoneinfo"
#define DEFAULT_TIMEZONE	"Europe/Paris"
#define DEFAULT_MAP_SIZE_MB	64
#define MAP_SIZE_MB_MAX		1048576

/* Checks a non-empty value and stores it; on error writes msg, returns -1. */
typedef int	(*config_parse_fn)(struct halle_config *, const char *value,
		    char *msg, size_t msglen);

struct config_key {
	const char	*name;
	bool		 required;
	config_parse_fn	 parse;
};

struct config_section {
	const char		*name;
	const struct config_key	*keys;
	size_t			 nkeys;
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
};

static const struct config_section config_sections[] = {
	{ "node",	node_keys,	nitems(node_keys) },
};

/* What the handler carries from one line to the next. */
struct config_parse {
	struct halle_config	*cfg;
	uint32_t		 seen[nitems(config_sections)];	/* key bits */
	char			 msg[CONFIG_MSG_MAX];	/* first error, or "" */
};

_Static_assert(nitems(node_keys) <= 32, "config_parse.seen is 32 bits");

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(log_level_names); i++)
		if (strcmp(s, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

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

static int
node_name(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	size_t	n;

	n = strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (value[n] != '\0' || n > NODE_NAME_MAX || value[0] == '-') {
		snprintf(msg, msglen, "bad name '%s': want 1 to %d characters "
		    "of a-z, 0-9 and '-', not starting with '-'", value,
		    NODE_NAME_MAX);
		return -1;
	}
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
 * tcp://HOST:PORT, where HOST is a name, an address, '*' or a bracketed IPv6
 * address, or ipc://PATH with PATH short enough for a unix socket.
 */
static int
node_listen(struct halle_config *cfg, const char *value, char *msg,
    size_t msglen)
{
	const char	*host, *colon;
	size_t		 hostlen;

	if (strncmp(value, "ipc://", 6) == 0) {
		if (value[6] == '\0')
			goto bad;
		if (strlen(value + 6) >= SOCKET_PATH_SIZE) {
			snprintf(msg, msglen, "bad listen '%s': ipc path too "
			    "long (at most %zu bytes)", value,
			    SOCKET_PATH_SIZE - 1);
			return -1;
		}
		return config_strdup(&cfg->listen, value, msg, msglen);
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
		snprintf(msg, msglen, "bad listen '%s': port must be a number "
		    "from 1 to 65535", value);
		return -1;
	}
	return config_strdup(&cfg->listen, value, msg, msglen);
 bad:
	snprintf(msg, msglen, "bad listen '%s': want tcp://HOST:PORT or "
	    "ipc://PATH", value);
	return -1;
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

/* Called by inih for each key; returns 0 to make ini_parse stop. */
static int
config_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_parse		*p = user;
	const struct config_section	*s = NULL;
	const struct config_key		*k = NULL;
	size_t				 si, ki;

	if (p->msg[0] != '\0')
		return 0;
	if (section[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "key '%s' is outside any "
		    "section", key);
		return 0;
	}
	for (si = 0; si < nitems(config_sections); si++)
		if (strcmp(section, config_sections[si].name) == 0) {
			s = &config_sections[si];
			break;
		}
	if (s == NULL) {
		snprintf(p->msg, sizeof(p->msg), "unknown section [%s]",
		    section);
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
	if (value[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "'%s' must not be empty", key);
		return 0;
	}
	return k->parse(p->cfg, value, p->msg, sizeof(p->msg)) == 0;
}

/* The first required key not seen, in table order; NULL if none. */
static const char *
config_missing(const struct config_parse *p, const char **section)
{
	size_t	si, ki;

	for (si = 0; si < nitems(config_sections); si++)
		for (ki = 0; ki < config_sections[si].nkeys; ki++) {
			if (!config_sections[si].keys[ki].required ||
			    (p->seen[si] & (UINT32_C(1) << ki)))
				continue;
			*section = config_sections[si].name;
			return config_sections[si].keys[ki].name;
		}
	return NULL;
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
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->map_size = (size_t)DEFAULT_MAP_SIZE_MB << 20;

	if ((fp = fopen(file, "r")) == NULL) {
		config_error(err, errlen, "%s: cannot open: %s", file,
		    strerror(errno));
		goto fail;
	}
	config_ini_setup();
	line = ini_parse_file(fp, config_handler, &p);
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
	if (cfg->timezone == NULL &&
	    (cfg->timezone = strdup(DEFAULT_TIMEZONE)) == NULL) {
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

/* Frees what config_load allocated and zeroes cfg; safe to call twice. */
void
config_free(struct halle_config *cfg)
{
	free(cfg->path);
	free(cfg->name);
	free(cfg->data_dir);
	free(cfg->key_file);
	free(cfg->control);
	free(cfg->listen);
	free(cfg->timezone);
	memset(cfg, 0, sizeof(*cfg));
}
