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
 *   metrics_listen = 127.0.0.1:9742        ; optional: serve GET /metrics
 *                                          ; over TCP there too (default off)
 *   dfc_base  = https://halle.example.fr/dfc/  ; optional: where the @ids of
 *                                          ; DFC exports live (docs/dfc.md);
 *                                          ; https://NAME.halle.invalid/dfc/
 *   events_keep = 100000                   ; optional: events the log keeps
 *                                          ; (events.h), 1 to 100000000
 *
 *   [peer commune-b]                       ; one section per other node
 *   key      = 3b6a27bc...                 ; required: its 64-hex-digit public
 *                                          ; key, as `halled --show-id` prints
 *   endpoint = tcp://192.0.2.7:7420        ; optional: only for the peers this
 *                                          ; node dials; the others dial it
 *
 *   [grouping pays-de-foo]
 *   members = commune-b, commune-c         ; required: names of [peer] sections
 *
 * Peer and grouping names follow the rule of the node's name. This node is
 * a member of every grouping it declares, so it is not listed in members.
 * A peer may be in no grouping, or in several.
 *
 * Unknown sections and keys are errors, as are duplicate keys and sections,
 * and two peers with the same key. Relative paths are taken as they are,
 * from the directory halled runs in.
 */
#ifndef HALLE_CONFIG_H
#define HALLE_CONFIG_H

#include <stddef.h>

#include "key.h"
#include "log.h"


/* A [peer NAME] section: another node this one talks to. */
struct config_peer {
	char		*name;
	unsigned char	 key[KEY_PUBLIC_LEN];	/* Ed25519 public key */
	char		 key_hex[KEY_HEX_LEN + 1];	/* lower case */
	char		*endpoint;	/* NULL: the peer dials this node */
	int		 line;		/* of the section's first key */
};

/* A [grouping NAME] section: this node and the peers it lists. */
struct config_grouping {
	char		 *name;
	char		**members;	/* peer names, as written */
	size_t		 *member_peers;	/* each one's index in peers */
	size_t		  nmembers;	/* >= 1; this node is not counted */
	int		  line;		/* of the members key */
};

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
	char		*metrics_listen; /* HOST:PORT, or NULL: off */
	/* Share of a limited stock a producer's home keeps back (stock.h). */
	unsigned	 stock_reserve_percent;
	char		*dfc_base;	/* ends with "/"; never NULL once loaded */
	unsigned long	 events_keep;	/* newest events kept (events.h) */
	struct config_peer	*peers;		/* in file order */
	size_t			 npeers;
	struct config_grouping	*groupings;	/* in file order */
	size_t			 ngroupings;
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

/* The peer called name, or NULL. */
const struct config_peer *config_peer_by_name(const struct halle_config *cfg,
	    const char *name);
/* The peer whose public key is key, or NULL. */
const struct config_peer *config_peer_by_key(const struct halle_config *cfg,
	    const unsigned char key[KEY_PUBLIC_LEN]);

/*
 * Returns 1 when the nodes with public keys key_a and key_b are both members
 * of one grouping of cfg, 0 otherwise. NULL stands for this node, which is a
 * member of every grouping it declares (the configuration does not know this
 * node's own key): (NULL, NULL) is 1 when cfg declares any grouping. A key
 * that is no configured peer's shares nothing.
 */
int	config_shares_grouping(const struct halle_config *cfg,
	    const unsigned char key_a[KEY_PUBLIC_LEN],
	    const unsigned char key_b[KEY_PUBLIC_LEN]);


#endif
