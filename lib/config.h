/*
 * config: the node's INI configuration file.
 *
 *   [node]
 *   name      = commune-a                  ; required, [a-z0-9-], 1..63 chars
 *   data_dir  = /var/lib/halle             ; required: the LMDB store lives here
 *   key_file  = /var/lib/halle/node.key    ; required: the Ed25519 key
 *   control   = /run/halle/control.sock    ; required: the control API socket
 *   listen    = tcp://0.0.0.0:7420         ; required: the endpoint peers use
 *   timezone  = Europe/Paris               ; optional, the default
 *   log_level = info                       ; optional: debug, info, warn, error
 *   map_size_mb = 64                       ; optional: initial LMDB map, grows
 *
 * Unknown sections and keys are errors, as are duplicate keys. Relative paths
 * are taken as they are, from the directory halled runs in.
 */
#ifndef HALLE_CONFIG_H
#define HALLE_CONFIG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

struct halle_config {
	char		*path;		/* the file it was read from */
	char		*name;
	char		*data_dir;
	char		*key_file;
	char		*control;
	char		*listen;
	char		*timezone;
	enum log_level	 log_level;
	size_t		 map_size;	/* bytes */
};

/*
 * Reads and validates FILE into cfg. On error returns -1 and writes into
 * err a message of the form "FILE:LINE: reason" (or "FILE: reason" when no
 * line applies, such as a missing required key or an unreadable file); cfg is
 * then left empty. Returns 0 on success; release with config_free().
 */
int	config_load(struct halle_config *cfg, const char *file, char *err,
	    size_t errlen);
void	config_free(struct halle_config *cfg);

/* Parses "debug", "info", "warn", "error"; returns -1 if none. */
int	log_level_parse(const char *s);

#endif
