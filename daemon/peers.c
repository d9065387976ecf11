/*
 * peers: see peers.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "events.h"
#include "log.h"
#include "peers.h"
#include "status.h"
#include "sync.h"
#include "zap.h"

#define PEERS_TICK_MS		200
#define PEERS_SILENT_MS		5000	/* in CONNECTING, for a peer that dials us */
#define PEERS_PUMP_BUDGET	512	/* messages per socket per pump */
#define PEERS_PUMP_MS		50	/* ms of work per pump */

struct link {
	char		 name[SYNC_NAME_MAX];
	unsigned char	 key[KEY_PUBLIC_LEN];
	unsigned char	 curve_key[crypto_box_PUBLICKEYBYTES];
	char		*endpoint;		/* NULL: the peer dials us */
	void		*dealer;
	struct event	*ev;
	unsigned char	 route[256];		/* ROUTER routing id */
	size_t		 route_len;
	uint64_t	 bytes_in, bytes_out;	/* peer protocol payloads */
	void		*monitor;		/* the DEALER's events */
	struct event	*monitor_ev, *redial;
	int		 key_refused;		/* the peer's ZAP said no */
	int		 redial_s;		/* back-off, seconds */
};

struct peers {
	struct event_base	*base;
	struct node		*node;
	void			*zmq;
	struct zap		 zap;		/* its socket is ours */
	void			*router;
	struct event		*zap_ev, *router_ev, *tick, *pump;
	struct link		*links;
	size_t			 nlinks;
	struct sync		*sync;
	int			 own_dirty;	/* own records to push */
	unsigned char		 curve_public[crypto_box_PUBLICKEYBYTES];
	unsigned char		 curve_secret[crypto_box_SECRETKEYBYTES];
};

static void	peers_pump(struct peers *);

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ZAP: a CURVE client whose key is a configured peer's is that peer. */
static int
admit_link(void *arg, const unsigned char *client_key)
{
	struct peers *p = arg;
	size_t k;

	for (k = 0; k < p->nlinks; k++)
		if (memcmp(p->links[k].curve_key, client_key, 32) == 0)
			return (int)k;
	return -1;
}

/* Receiving */

static void
deliver(struct peers *p, int peer, const void *data, size_t len)
{
	p->links[peer].bytes_in += len;
	sync_on_message(p->sync, peer, data, len);
}

/* A message on the ROUTER: [routing id][payload], payload names its peer. */
static int
router_recv_one(struct peers *p)
{
	zmq_msg_t id, msg;
	const char *user;
	struct link *l;
	long peer;
	int more = 0;
	size_t len = sizeof(more);

	zmq_msg_init(&id);
	if (zmq_msg_recv(&id, p->router, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&id);
		return 0;
	}
	zmq_getsockopt(p->router, ZMQ_RCVMORE, &more, &len);
	if (!more) {
		zmq_msg_close(&id);
		return 1;
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, p->router, ZMQ_DONTWAIT) == -1)
		goto done;
	zmq_getsockopt(p->router, ZMQ_RCVMORE, &more, &len);
	while (more) {		/* a well-behaved peer sends one frame */
		zmq_msg_t extra;

		zmq_msg_init(&extra);
		zmq_msg_recv(&extra, p->router, ZMQ_DONTWAIT);
		zmq_msg_close(&extra);
		zmq_getsockopt(p->router, ZMQ_RCVMORE, &more, &len);
	}
	user = zmq_msg_gets(&msg, "User-Id");
	peer = user != NULL && *user ? strtol(user, NULL, 10) : -1;
	if (peer < 0 || (size_t)peer >= p->nlinks)
		goto done;
	l = &p->links[peer];
	if (l->dealer == NULL && (l->route_len != zmq_msg_size(&id) ||
	    memcmp(l->route, zmq_msg_data(&id), l->route_len) != 0) &&
	    zmq_msg_size(&id) <= sizeof(l->route)) {
		/* The peer (re)connected to us: a new link. */
		if (l->route_len != 0)
			sync_on_disconnect(p->sync, (int)peer);
		memcpy(l->route, zmq_msg_data(&id), zmq_msg_size(&id));
		l->route_len = zmq_msg_size(&id);
		log_info("peers: %s connected to us", l->name);
		sync_on_connect(p->sync, (int)peer);
	}
	deliver(p, (int)peer, zmq_msg_data(&msg), zmq_msg_size(&msg));
done:
	zmq_msg_close(&msg);
	zmq_msg_close(&id);
	return 1;
}

static int
dealer_recv_one(struct peers *p, size_t peer)
{
	zmq_msg_t msg;
	int rc;

	zmq_msg_init(&msg);
	rc = zmq_msg_recv(&msg, p->links[peer].dealer, ZMQ_DONTWAIT);
	if (rc >= 0)
		deliver(p, (int)peer, zmq_msg_data(&msg), zmq_msg_size(&msg));
	zmq_msg_close(&msg);
	return rc >= 0;
}

static int
readable(void *sock)
{
	int events = 0;
	size_t len = sizeof(events);

	if (sock == NULL || zmq_getsockopt(sock, ZMQ_EVENTS, &events,
	    &len) == -1)
		return 0;
	return (events & ZMQ_POLLIN) != 0;
}

/*
 * The DEALER's handshake events. libzmq does not dial again after the
 * peer refused our key; we do, backing off, so that a peer whose admin
 * adds this node later is reached without a restart.
 */
static void
on_redial(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;

	zmq_disconnect(l->dealer, l->endpoint);
	zmq_connect(l->dealer, l->endpoint);
}

static void
link_event(struct peers *p, struct link *l, uint16_t event)
{
	struct timeval later = { 0, 0 };

	if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		if (l->key_refused)
			log_info("peers: %s: handshake succeeded, our key is "
			    "admitted now", l->name);
		l->key_refused = 0;
		l->redial_s = 0;
		return;
	}
	if (event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		return;
	if (!l->key_refused)
		log_warnx("peers: %s refused this node's key at the handshake "
		    "(is this node in its [peer] sections?)", l->name);
	l->key_refused = 1;
	l->redial_s = l->redial_s ? (l->redial_s * 2 > 60 ? 60 :
	    l->redial_s * 2) : 2;
	later.tv_sec = l->redial_s;
	event_add(l->redial, &later);
}

static int
monitor_recv_one(struct peers *p, struct link *l)
{
	zmq_msg_t head, addr;
	uint16_t event;
	int rc;

	zmq_msg_init(&head);
	if (zmq_msg_recv(&head, l->monitor, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&head);
		return 0;
	}
	zmq_msg_init(&addr);
	rc = zmq_msg_recv(&addr, l->monitor, ZMQ_DONTWAIT);
	if (rc != -1 && zmq_msg_size(&head) >= 2) {
		memcpy(&event, zmq_msg_data(&head), sizeof(event));
		link_event(p, l, event);
	}
	zmq_msg_close(&addr);
	zmq_msg_close(&head);
	return 1;
}

/* Sending */

static void
send_one(struct peers *p, int peer, uint8_t *msg, size_t len)
{
	struct link *l = &p->links[peer];
	int rc;

	if (l->dealer != NULL)
		rc = zmq_send(l->dealer, msg, len, ZMQ_DONTWAIT);
	else if (l->route_len == 0)
		rc = -1, errno = EHOSTUNREACH;
	else if ((rc = zmq_send(p->router, l->route, l->route_len,
	    ZMQ_DONTWAIT | ZMQ_SNDMORE)) != -1)
		rc = zmq_send(p->router, msg, len, ZMQ_DONTWAIT);
	/*
	 * Not sent (no connection yet, or the high-water mark): the engine
	 * does not rely on delivery; it asks again on its next tick.
	 */
	if (rc == -1)
		log_debug("peers: %s: message of %zu bytes not sent: %s",
		    l->name, len, zmq_strerror(errno));
	else
		l->bytes_out += len;
}

static int
flush_outbox(struct peers *p)
{
	uint8_t *msg;
	size_t len;
	int peer, n = 0;

	while (sync_next_output(p->sync, &peer, &msg, &len) == 1) {
		if (peer >= 0 && (size_t)peer < p->nlinks)
			send_one(p, peer, msg, len);
		free(msg);
		n++;
	}
	return n > 0;
}

/*
 * One message of a pump's budget spent; once PEERS_PUMP_MS have passed,
 * the whole budget (a catch-up's runs take milliseconds each to commit,
 * and the control API waits for the pump to give the loop back).
 */
static void
spend(int *budget, int64_t deadline)
{
	if (--*budget > 0 && monotonic_ms() >= deadline)
		*budget = 0;
}

/*
 * Runs until no socket has anything to read and the outbox is empty, or the
 * budget is spent (then it runs again from the loop, so that the control
 * API is served in between): PEERS_PUMP_BUDGET messages or PEERS_PUMP_MS,
 * past the message being handled, whichever comes first.
 */
static void
peers_pump(struct peers *p)
{
	int64_t deadline = monotonic_ms() + PEERS_PUMP_MS;
	int progress, budget = PEERS_PUMP_BUDGET;
	size_t i;

	do {
		progress = 0;
		if (p->own_dirty) {
			p->own_dirty = 0;
			sync_local_appended(p->sync);
		}
		while (readable(p->zap.sock) && zap_handle(&p->zap) > 0)
			progress = 1;
		while (budget > 0 && readable(p->router) &&
		    router_recv_one(p)) {
			spend(&budget, deadline);
			progress = 1;
		}
		for (i = 0; i < p->nlinks; i++)
			while (readable(p->links[i].monitor) &&
			    monitor_recv_one(p, &p->links[i]))
				progress = 1;
		for (i = 0; i < p->nlinks; i++)
			while (budget > 0 && readable(p->links[i].dealer) &&
			    dealer_recv_one(p, i)) {
				spend(&budget, deadline);
				progress = 1;
			}
		progress |= flush_outbox(p);
	} while (progress && budget > 0);
	if (budget == 0) {
		/*
		 * Again once the loop has looked at the other sockets: a
		 * zero timeout, not event_active(), which libevent would run
		 * again in the same pass and starve the control socket.
		 */
		struct timeval now = { 0, 0 };

		event_add(p->pump, &now);
	}
	events_peers(p->node, p->sync);		/* links up or down */
}

static void
on_socket(evutil_socket_t fd, short what, void *arg)
{
	peers_pump(arg);
}

/*
 * A peer that dials this node and went silent: the engine tries its HELLO
 * again, but this node cannot reach it (it has no endpoint for it), so the
 * link is down until the peer speaks again.
 */
static void
forget_silent(struct peers *p, int64_t now)
{
	int64_t since;
	size_t i;

	for (i = 0; i < p->nlinks; i++) {
		struct link *l = &p->links[i];

		if (l->dealer != NULL || l->route_len == 0 ||
		    sync_peer_state(p->sync, (int)i, &since) !=
		    SYNC_CONNECTING || now - since < PEERS_SILENT_MS)
			continue;
		log_info("peers: %s: silent, link down until it dials again",
		    l->name);
		l->route_len = 0;
		sync_on_disconnect(p->sync, (int)i);
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct peers *p = arg;
	int64_t now = monotonic_ms();

	sync_on_tick(p->sync, now);
	forget_silent(p, now);
	peers_pump(p);
}

static void
on_own_append(void *arg)
{
	struct peers *p = arg;

	/* Not from inside the engine: note it, push on the next pump. */
	p->own_dirty = 1;
	event_active(p->pump, EV_TIMEOUT, 0);
}

/* Setting up */

static int
watch(struct peers *p, void *sock, struct event **ev)
{
	int fd;
	size_t len = sizeof(fd);

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) == -1)
		return -1;
	*ev = event_new(p->base, fd, EV_READ | EV_PERSIST, on_socket, p);
	return *ev == NULL ? -1 : event_add(*ev, NULL);
}

static void
common_options(void *sock)
{
	int linger = 0, hb_ivl = 2000, hb_timeout = 6000;
	int64_t max = SYNC_MAX_MESSAGE + 4096;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof(hb_ivl));
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout,
	    sizeof(hb_timeout));
}

static int
start_router(struct peers *p, const char *listen, char *err, size_t errlen)
{
	int one = 1;

	if (zap_bind(&p->zap, p->zmq, admit_link, p, err, errlen) == -1)
		return -1;
	p->router = zmq_socket(p->zmq, ZMQ_ROUTER);
	if (p->router == NULL) {
		snprintf(err, errlen, "ROUTER: %s", zmq_strerror(errno));
		return -1;
	}
	common_options(p->router);
	zmq_setsockopt(p->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	zmq_setsockopt(p->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
	zmq_setsockopt(p->router, ZMQ_CURVE_SECRETKEY, p->curve_secret, 32);
	zmq_setsockopt(p->router, ZMQ_ZAP_DOMAIN, "halle", 5);
	if (zmq_bind(p->router, listen) == -1) {
		snprintf(err, errlen, "%s: cannot listen: %s", listen,
		    zmq_strerror(errno));
		return -1;
	}
	if (watch(p, p->zap.sock, &p->zap_ev) == -1 ||
	    watch(p, p->router, &p->router_ev) == -1) {
		snprintf(err, errlen, "cannot watch the peer sockets");
		return -1;
	}
	return 0;
}

static int
start_dealer(struct peers *p, struct link *l, char *err, size_t errlen)
{
	int hwm = 64, ivl = 200, ivl_max = 10000, zero = 0;
	char monitor[64];

	if ((l->dealer = zmq_socket(p->zmq, ZMQ_DEALER)) == NULL) {
		snprintf(err, errlen, "DEALER: %s", zmq_strerror(errno));
		return -1;
	}
	common_options(l->dealer);
	/*
	 * Messages wait for the connection (the first HELLO then goes out
	 * as soon as the handshake is done), but only a few: the engine
	 * resends what matters, and a stale message is dropped by session.
	 */
	zmq_setsockopt(l->dealer, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(l->dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
	zmq_setsockopt(l->dealer, ZMQ_RECONNECT_IVL_MAX, &ivl_max,
	    sizeof(ivl_max));
	zmq_setsockopt(l->dealer, ZMQ_CURVE_SERVERKEY, l->curve_key, 32);
	zmq_setsockopt(l->dealer, ZMQ_CURVE_PUBLICKEY, p->curve_public, 32);
	zmq_setsockopt(l->dealer, ZMQ_CURVE_SECRETKEY, p->curve_secret, 32);
	snprintf(monitor, sizeof(monitor), "inproc://halle-monitor-%p",
	    (void *)l);
	if (zmq_socket_monitor(l->dealer, monitor,
	    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
	    == -1 || (l->monitor = zmq_socket(p->zmq, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(l->monitor, ZMQ_LINGER, &zero, sizeof(zero)) == -1 ||
	    zmq_connect(l->monitor, monitor) == -1 ||
	    watch(p, l->monitor, &l->monitor_ev) == -1 ||
	    (l->redial = evtimer_new(p->base, on_redial, l)) == NULL) {
		snprintf(err, errlen, "peer %s: cannot watch its link: %s",
		    l->name, zmq_strerror(errno));
		return -1;
	}
	if (zmq_connect(l->dealer, l->endpoint) == -1) {
		snprintf(err, errlen, "peer %s: cannot connect to %s: %s",
		    l->name, l->endpoint, zmq_strerror(errno));
		return -1;
	}
	if (watch(p, l->dealer, &l->ev) == -1) {
		snprintf(err, errlen, "cannot watch the peer sockets");
		return -1;
	}
	return 0;
}

static int
copy_config(struct peers *p, const struct halle_config *cfg, char *err,
    size_t errlen)
{
	size_t i;

	if ((p->links = calloc(cfg->npeers, sizeof(*p->links))) == NULL)
		goto nomem;
	p->nlinks = cfg->npeers;
	for (i = 0; i < cfg->npeers; i++) {
		struct link *l = &p->links[i];

		snprintf(l->name, sizeof(l->name), "%s", cfg->peers[i].name);
		memcpy(l->key, cfg->peers[i].key, KEY_PUBLIC_LEN);
		if (crypto_sign_ed25519_pk_to_curve25519(l->curve_key,
		    l->key) != 0) {
			snprintf(err, errlen, "peer %s: key is not a valid "
			    "Ed25519 public key", l->name);
			return -1;
		}
		if (cfg->peers[i].endpoint != NULL &&
		    (l->endpoint = strdup(cfg->peers[i].endpoint)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void
groupings_free(struct sync_grouping_config *gc, size_t n)
{
	size_t i;

	for (i = 0; gc != NULL && i < n; i++)
		free((void *)gc[i].members);
	free(gc);
}

/*
 * The engine's groupings from the configuration's: each one's peers by
 * key, then this node. Freed by groupings_free (the engine copies them).
 */
static struct sync_grouping_config *
groupings_config(struct peers *p, const struct halle_config *cfg)
{
	struct sync_grouping_config *gc;
	unsigned char (*members)[KEY_PUBLIC_LEN];
	size_t i, j;

	if ((gc = calloc(cfg->ngroupings + 1, sizeof(*gc))) == NULL)
		return NULL;
	for (i = 0; i < cfg->ngroupings; i++) {
		const struct config_grouping *cg = &cfg->groupings[i];

		snprintf(gc[i].name, sizeof(gc[i].name), "%s", cg->name);
		if ((members = calloc(cg->nmembers + 1,
		    sizeof(*members))) == NULL) {
			groupings_free(gc, i);
			return NULL;
		}
		for (j = 0; j < cg->nmembers; j++)
			memcpy(members[j], cfg->peers[cg->member_peers[j]].key,
			    KEY_PUBLIC_LEN);
		memcpy(members[j], p->node->key.public_key, KEY_PUBLIC_LEN);
		gc[i].members = (const unsigned char (*)[KEY_PUBLIC_LEN])
		    members;
		gc[i].nmembers = cg->nmembers + 1;
	}
	return gc;
}

static int
start_sync(struct peers *p, const struct halle_config *cfg)
{
	struct sync_peer_config *pc;
	struct sync_grouping_config *gc;
	struct sync_config sc;
	size_t i;

	pc = calloc(p->nlinks + 1, sizeof(*pc));
	gc = groupings_config(p, cfg);
	if (pc == NULL || gc == NULL) {
		free(pc);
		groupings_free(gc, cfg->ngroupings);
		return -1;
	}
	for (i = 0; i < p->nlinks; i++) {
		snprintf(pc[i].name, sizeof(pc[i].name), "%s",
		    p->links[i].name);
		memcpy(pc[i].key, p->links[i].key, KEY_PUBLIC_LEN);
		pc[i].dialled = p->links[i].endpoint != NULL;
	}
	memset(&sc, 0, sizeof(sc));
	sc.peers = pc;
	sc.npeers = p->nlinks;
	sc.groupings = gc;
	sc.ngroupings = cfg->ngroupings;
	p->sync = sync_new(p->node, &sc);
	free(pc);
	groupings_free(gc, cfg->ngroupings);
	if (p->sync == NULL)
		return -1;
	sync_on_tick(p->sync, monotonic_ms());
	return 0;
}

int
peers_start(struct peers **pp, struct event_base *base, struct node *n,
    const struct halle_config *cfg, char *err, size_t errlen)
{
	struct timeval tick = { 0, PEERS_TICK_MS * 1000 };
	struct peers *p;
	size_t i;

	*pp = NULL;
	if (cfg->npeers == 0)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->base = base;
	p->node = n;
	*pp = p;
	if (copy_config(p, cfg, err, errlen) == -1)
		goto fail;
	if (crypto_sign_ed25519_pk_to_curve25519(p->curve_public,
	    n->key.public_key) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(p->curve_secret,
	    n->key.secret_key) != 0) {
		snprintf(err, errlen, "the node key has no X25519 form");
		goto fail;
	}
	if ((p->zmq = zmq_ctx_new()) == NULL) {
		snprintf(err, errlen, "ZeroMQ: %s", zmq_strerror(errno));
		goto fail;
	}
	/* The ZAP handler first: without it libzmq admits every client. */
	if (start_router(p, cfg->listen, err, errlen) == -1)
		goto fail;
	for (i = 0; i < p->nlinks; i++)
		if (p->links[i].endpoint != NULL &&
		    start_dealer(p, &p->links[i], err, errlen) == -1)
			goto fail;
	if (start_sync(p, cfg) == -1) {
		snprintf(err, errlen, "cannot start the sync engine");
		goto fail;
	}
	p->pump = event_new(base, -1, 0, on_socket, p);
	p->tick = event_new(base, -1, EV_PERSIST, on_tick, p);
	if (p->pump == NULL || p->tick == NULL ||
	    event_add(p->tick, &tick) == -1) {
		snprintf(err, errlen, "cannot schedule the sync engine");
		goto fail;
	}
	for (i = 0; i < p->nlinks; i++)
		if (p->links[i].dealer != NULL)
			sync_on_connect(p->sync, (int)i);
	n->on_own_append = on_own_append;
	n->on_own_append_arg = p;
	log_info("peers: listening on %s, %zu peers, %zu groupings",
	    cfg->listen, p->nlinks, cfg->ngroupings);
	peers_pump(p);
	return 0;
fail:
	peers_stop(pp);
	return -1;
}

static void
close_socket(void **sock, struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	if (*sock != NULL)
		zmq_close(*sock);
	*ev = NULL;
	*sock = NULL;
}

void
peers_stop(struct peers **pp)
{
	struct peers *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	if (p->node->on_own_append_arg == p) {
		p->node->on_own_append = NULL;
		p->node->on_own_append_arg = NULL;
	}
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->pump != NULL)
		event_free(p->pump);
	sync_destroy(&p->sync);
	for (i = 0; i < p->nlinks; i++) {
		if (p->links[i].redial != NULL)
			event_free(p->links[i].redial);
		close_socket(&p->links[i].monitor, &p->links[i].monitor_ev);
		close_socket(&p->links[i].dealer, &p->links[i].ev);
		free(p->links[i].endpoint);
	}
	close_socket(&p->router, &p->router_ev);
	close_socket(&p->zap.sock, &p->zap_ev);
	if (p->zmq != NULL)
		zmq_ctx_term(p->zmq);
	free(p->links);
	sodium_memzero(p->curve_secret, sizeof(p->curve_secret));
	free(p);
	*pp = NULL;
}

/* Status */

/* The figures of one link: the transport's and the engine's. */
static void
link_status(struct peer_status *ps, const struct link *l,
    const struct sync_peer_stats *ss, int64_t now)
{
	ps->name = l->name;
	memcpy(ps->key, l->key, KEY_PUBLIC_LEN);
	hex_encode(ps->id, l->key, KEY_PUBLIC_LEN);
	ps->endpoint = l->endpoint;
	ps->state = ss->state;
	ps->key_refused = l->key_refused;
	ps->since_s = ss->since_ms <= 0 ? -1 : (now - ss->since_ms) / 1000;
	ps->last_seen_s = ss->last_seen_ms <= 0 ? -1 :
	    (now - ss->last_seen_ms) / 1000;
	ps->rtt_ms = ss->rtt_ms < 0 ? -1 : ss->rtt_ms;
	ps->records_in = ss->records_in;
	ps->records_out = ss->records_out;
	ps->rejected = ss->rejected;
	ps->forks = ss->forks;
	ps->lag_in = ss->lag_in;
	ps->lag_out = ss->lag_out;
	ps->bytes_in = l->bytes_in;
	ps->bytes_out = l->bytes_out;
	ps->bytes_in_flight = ss->inflight_bytes;
	ps->to_go = ss->to_go;
	ps->rate = ss->rate;
	ps->time_left_s = ss->time_left_s;
	snprintf(ps->last_error, sizeof(ps->last_error), "%s",
	    l->key_refused ? "the peer refused this node's key at the "
	    "handshake" : ss->last_error);
}

int
peers_status(struct peers *p, struct daemon_status *st)
{
	struct sync_peer_stats *ss;
	int64_t now = monotonic_ms();
	size_t i;

	if (p == NULL)
		return 0;
	if ((st->peers = calloc(p->nlinks + 1, sizeof(*st->peers))) == NULL ||
	    (ss = calloc(p->nlinks + 1, sizeof(*ss))) == NULL)
		return -1;
	st->linked = 1;
	st->handshakes_refused = p->zap.strangers;
	if (sync_peers_stats(p->sync, ss) == -1) {
		free(ss);
		return -1;
	}
	for (i = 0; i < p->nlinks; i++) {
		link_status(&st->peers[st->npeers], &p->links[i], &ss[i], now);
		st->peers[st->npeers++].awaited =
		    sync_own_feed_awaits(p->sync, (int)i);
	}
	free(ss);
	return 0;
}
