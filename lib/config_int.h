/*
 * config_int.h: what the files of the configuration parser share, and
 * nothing outside lib/config*.c includes.
 *
 *   config.c        the reader: inih, line numbers, section headers,
 *                   which key of which section, required keys, the
 *                   order of the checks; config_load and config_free
 *   config_node.c   [node]: its keys, their checks and defaults
 *   config_peers.c  [peer NAME] and [grouping NAME]: their keys, what
 *                   needs the whole file (config_resolve), and the
 *                   lookups halled makes at run time
 *
 * A section is a struct config_section: a table of its keys, each with a
 * parse function that checks a value and stores it into struct
 * halle_config, and for a named section ("[peer NAME]") the function that
 * opens a new element. config.c lists the sections; adding one means a
 * table in its own file and a row there.
 */
#ifndef HALLE_CONFIG_INT_H
#define HALLE_CONFIG_INT_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define CONFIG_NAME_MAX		63	/* node, peer and grouping names */
#define CONFIG_KEYS_MAX		32	/* of a section: the bits of a mask */
#define CONFIG_SOCKET_PATH_SIZE	sizeof(((struct sockaddr_un *)NULL)->sun_path)

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
	size_t			 nkeys;		/* <= CONFIG_KEYS_MAX */
	config_open_fn		 open;
};

/* config_node.c */
extern const struct config_section	config_section_node;

/* Sets the defaults of [node]'s optional keys, before the file is read. */
void	config_node_defaults(struct halle_config *cfg);
/*
 * Fills the defaults that depend on the file (the time zone, dfc_base named
 * after the node) once it is read; 0, or -1 out of memory.
 */
int	config_node_finish(struct halle_config *cfg);

/*
 * Checks the ZeroMQ endpoint in value, the key called what: tcp://HOST:PORT
 * or ipc://PATH; an endpoint to dial cannot have '*' for its host. 0, or
 * -1 with msg.
 */
int	config_endpoint_check(const char *what, bool dial, const char *value,
	    char *msg, size_t msglen);

/* config_peers.c */
extern const struct config_section	config_section_peer;
extern const struct config_section	config_section_grouping;

/*
 * What needs the whole file: every peer has a key and is not this node, and
 * every member of a grouping is a peer, whose index it records. Returns 0,
 * or the line of the first problem with msg.
 */
int	config_resolve(struct halle_config *cfg, char *msg, size_t msglen);

/* config.c */

/* *field = strdup(value); 0, or -1 with msg "out of memory". */
int	config_strdup(char **field, const char *value, char *msg,
	    size_t msglen);
/* Checks a node, peer or grouping name; what names it in msg. 0 or -1. */
int	config_name_check(const char *what, const char *value, char *msg,
	    size_t msglen);

#endif
