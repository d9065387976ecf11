/*
 * fuzz_peer: libFuzzer target for the peer protocol as a node receives it
 * (lib/sync*.c, and behind them ingest and the views).
 *
 * One real node ("fuzz-node") and its sync engine live for the whole run;
 * the engine has one configured peer ("fuzz-peer") and one grouping
 * holding it, and a fixed session, so that seeds from make_corpus carry
 * the sessions the engine expects and reach every message handler. Each
 * input is one message from the peer:
 *
 *   link down?  sync_on_connect(0), then the peer's HELLO (peer goes UP)
 *   sync_on_message(0, input)
 *   every 8th input: sync_on_tick() on a fake clock (+250 ms an input)
 *   every 256th input: sync_on_disconnect(0)
 *   drain the outbox: every message must be for peer 0, within the size
 *   limit, and decode as a PeerMessage
 *
 * The engine and the store keep their state from one input to the next
 * (that is how a peer talks), so a crash may need the inputs before it:
 * libFuzzer's crash file alone may not reproduce it. Run with
 * -runs=N CORPUS_DIR, or rerun the session with the same -seed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "peer.pb-c.h"
#include "sync.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TICK_EVERY		8
#define DISCONNECT_EVERY	256
#define MS_PER_INPUT		250

static struct node		 fuzz_node;
static struct halle_config	 fuzz_cfg;
static struct sync		*engine;
static int64_t			 now_ms = 1000;
static uint64_t			 inputs;
static int			 verbose;	/* HALLE_FUZZ_LOG set */

static void __attribute__((noreturn))
bug(const char *what)
{
	fprintf(stderr, "fuzz_peer: BUG: %s\n", what);
	abort();
}

static void
engine_close(void)
{
	sync_destroy(&engine);
}

static void
engine_open(void)
{
	static unsigned char members[1][KEY_PUBLIC_LEN];
	struct sync_peer_config peer;
	struct sync_grouping_config grouping;
	struct sync_config cfg;
	struct node_key key;

	fuzz_node_open(&fuzz_node, &fuzz_cfg, "fuzz-node");
	fuzz_key(&key, "fuzz-peer");
	memset(&peer, 0, sizeof(peer));
	snprintf(peer.name, sizeof(peer.name), "fuzz-peer");
	memcpy(peer.key, key.public_key, KEY_PUBLIC_LEN);
	memcpy(members[0], key.public_key, KEY_PUBLIC_LEN);
	memset(&grouping, 0, sizeof(grouping));
	snprintf(grouping.name, sizeof(grouping.name), "fuzz-grouping");
	grouping.members = (const unsigned char (*)[KEY_PUBLIC_LEN])members;
	grouping.nmembers = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.peers = &peer;
	cfg.npeers = 1;
	cfg.groupings = &grouping;
	cfg.ngroupings = 1;
	cfg.session = FUZZ_ENGINE_SESSION;
	if ((engine = sync_new(&fuzz_node, &cfg)) == NULL) {
		fprintf(stderr, "fuzz_peer: sync_new failed\n");
		exit(1);
	}
	/* Registered after the node's, so it runs first. */
	atexit(engine_close);
	sync_on_tick(engine, now_ms);
	verbose = getenv("HALLE_FUZZ_LOG") != NULL;
}

/* Takes every queued message; checks what the engine sends. */
static void
drain(void)
{
	Halle__PeerMessage *m;
	uint8_t *msg;
	size_t len;
	int peer;

	while (sync_next_output(engine, &peer, &msg, &len) == 1) {
		if (peer != 0)
			bug("a message for a peer that does not exist");
		if (len > SYNC_MAX_MESSAGE)
			bug("a message over the size limit");
		if ((m = halle__peer_message__unpack(NULL, len, msg)) == NULL)
			bug("a message that does not decode");
		if (m->session != FUZZ_ENGINE_SESSION)
			bug("a message without the engine's session");
		halle__peer_message__free_unpacked(m, NULL);
		free(msg);
	}
}

/* Link up, and the peer's HELLO naming our session: the peer is UP. */
static void
connect_peer(void)
{
	uint8_t *hello;
	size_t len;

	sync_on_connect(engine, 0);
	if (fuzz_peer_hello(&hello, &len) == -1)
		bug("out of memory");
	sync_on_message(engine, 0, hello, len);
	free(hello);
	drain();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_peer_stats st;

	if (engine == NULL)
		engine_open();
	inputs++;
	now_ms += MS_PER_INPUT;
	if (sync_peer_stats(engine, 0, &st) == -1)
		bug("no stats for peer 0");
	if (st.state == SYNC_DOWN)
		connect_peer();
	sync_on_message(engine, 0, data, size);
	if (inputs % TICK_EVERY == 0)
		sync_on_tick(engine, now_ms);
	drain();
	(void)sync_own_feed_safe(engine);
	if (verbose && sync_peer_stats(engine, 0, &st) == 0)
		fprintf(stderr, "fuzz_peer: input %llu: %s, %llu records in, "
		    "%llu out, %llu rejected; last error: %s\n",
		    (unsigned long long)inputs, sync_state_name(st.state),
		    (unsigned long long)st.records_in,
		    (unsigned long long)st.records_out,
		    (unsigned long long)st.rejected, st.last_error);
	if (inputs % DISCONNECT_EVERY == 0)
		sync_on_disconnect(engine, 0);
	return 0;
}
