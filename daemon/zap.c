/*
 * zap: see zap.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "hex.h"
#include "log.h"
#include "zap.h"

/*
 * Receives the frames of one ZAP request, at most max: how many, 0 when
 * none is waiting, -1 (what was read closed) when it has more or is cut.
 */
static int
zap_recv_frames(void *sock, zmq_msg_t *frames, int max)
{
	int n = 0, more;
	size_t len = sizeof(more);

	do {
		if (n == max)
			goto fail;
		zmq_msg_init(&frames[n]);
		if (zmq_msg_recv(&frames[n], sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&frames[n]);
			if (n == 0)
				return 0;
			goto fail;
		}
		n++;
		more = 0;
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len);
	} while (more);
	return n;
fail:
	while (n > 0)
		zmq_msg_close(&frames[--n]);
	return -1;
}

static void
zap_send(void *sock, const char *s, size_t len, int more)
{
	zmq_send(sock, s, len, more ? ZMQ_SNDMORE : 0);
}

static void
zap_stranger(struct zap *z, const unsigned char *curve_key)
{
	char hex[65];
	size_t i;

	z->strangers++;
	for (i = 0; i < z->nlogged; i++)
		if (memcmp(z->logged[i], curve_key, 32) == 0)
			return;
	if (z->nlogged < ZAP_STRANGERS_LOGGED)
		memcpy(z->logged[z->nlogged++], curve_key, 32);
	hex_encode(hex, curve_key, 32);
	log_warnx("peers: refused a handshake from unknown key %s "
	    "(X25519; logged once per key)", hex);
}

int
zap_handle(struct zap *z)
{
	zmq_msg_t f[8];
	char user[16];
	const unsigned char *client = NULL;
	int n, i, admitted = -1;

	if ((n = zap_recv_frames(z->sock, f, 8)) <= 0)
		return n;
	if (n >= 7 && zmq_msg_size(&f[5]) == 5 &&
	    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&f[6]) == 32) {
		client = zmq_msg_data(&f[6]);
		admitted = z->admit(z->arg, client);
	}
	if (admitted == -1 && client != NULL)
		zap_stranger(z, client);
	/* The reply: version, request id, status, text, user id, metadata. */
	zap_send(z->sock, "1.0", 3, 1);
	zap_send(z->sock, n > 1 ? zmq_msg_data(&f[1]) : "",
	    n > 1 ? zmq_msg_size(&f[1]) : 0, 1);
	zap_send(z->sock, admitted >= 0 ? "200" : "400", 3, 1);
	zap_send(z->sock, admitted >= 0 ? "OK" : "unknown key",
	    admitted >= 0 ? 2 : 11, 1);
	snprintf(user, sizeof(user), "%d", admitted);
	zap_send(z->sock, user, admitted >= 0 ? strlen(user) : 0, 1);
	zap_send(z->sock, "", 0, 0);
	for (i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return 1;
}

int
zap_bind(struct zap *z, void *zmq_ctx, zap_admit_fn admit, void *arg,
    char *err, size_t errlen)
{
	z->admit = admit;
	z->arg = arg;
	z->sock = zmq_socket(zmq_ctx, ZMQ_REP);
	if (z->sock == NULL || zmq_bind(z->sock, ZAP_ENDPOINT) == -1) {
		snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(errno));
		return -1;
	}
	return 0;
}
