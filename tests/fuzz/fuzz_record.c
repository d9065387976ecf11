/*
 * fuzz_record: libFuzzer target for what a node does with record bytes it
 * did not make (lib/record.c, lib/ingest.c).
 *
 * Each input is used twice:
 *
 *   1. as one envelope: record_parse(); when it parses, the signature is
 *      checked and record_follows() asked against a fixed hash;
 *   2. as a run of up to 4 envelopes (the length-prefixed format of
 *      fuzz_common.h), offered to ingest_run() through node_mutate() on
 *      one real node, as a run of the fixed origin "fuzz-origin".
 *
 * Nobody holds the secret key of that origin, so no run can be accepted:
 * the node's store stays empty and every input runs against the same
 * state (a crash reproduces from its input alone). The target aborts when
 * the store fails, or when ingest_run accepts a run, proves a fork or
 * reports a frozen feed without a valid signature of the origin.
 *
 * Run: fuzz_record CORPUS_DIR (seeds from make_corpus); see
 * tests/fuzz/CMakeLists.txt for the flags CI uses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ingest.h"
#include "node.h"
#include "record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct node		 fuzz_node;
static struct halle_config	 fuzz_cfg;
static struct node_key		 origin;
static int			 ready;
static int			 verbose;	/* HALLE_FUZZ_LOG set */

/* An arbitrary hash for record_follows to compare prev with. */
static const unsigned char fixed_hash[RECORD_HASH_LEN] = {
	0x68, 0x61, 0x6c, 0x6c, 0x65, 0x2d, 0x66, 0x75,
	0x7a, 0x7a, 0x2d, 0x70, 0x72, 0x65, 0x76, 0x00,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

static void __attribute__((noreturn))
bug(const char *what, const char *reason)
{
	fprintf(stderr, "fuzz_record: BUG: %s (%s)\n", what, reason);
	abort();
}

static void
check_parse(const uint8_t *data, size_t size)
{
	struct record r;
	char why[256];

	if (record_parse(&r, data, size, why, sizeof(why)) == -1)
		return;
	if (r.seq < 1 || r.body_len > size)
		bug("record_parse accepted a record out of shape", "");
	(void)record_verify_signature(&r);
	(void)record_follows(&r, 0, NULL);
	/* The seq always follows: only the hash decides. */
	if (record_follows(&r, r.seq - 1, fixed_hash) && r.seq > 1 &&
	    memcmp(r.prev, fixed_hash, RECORD_HASH_LEN) != 0)
		bug("record_follows accepted another prev", "");
	record_free(&r);
}

struct offer {
	const struct ingest_bytes	*run;
	size_t				 n;
	struct ingest_report		 rep;
};

static int
offer_op(struct node_txn *nt, void *arg)
{
	struct offer *o = arg;

	return ingest_run(nt, origin.public_key, o->run, o->n, &o->rep);
}

/* 1 when the last envelope of the run is the origin's, validly signed. */
static int
last_is_signed(const struct ingest_bytes *run, size_t n)
{
	struct record r;
	char why[256];
	int ok;

	if (n == 0 || record_parse(&r, run[n - 1].data, run[n - 1].len, why,
	    sizeof(why)) == -1)
		return 0;
	ok = memcmp(r.origin, origin.public_key, KEY_PUBLIC_LEN) == 0 &&
	    record_verify_signature(&r) == 0;
	record_free(&r);
	return ok;
}

static void
check_ingest(const uint8_t *data, size_t size)
{
	struct ingest_bytes run[FUZZ_RUN_MAX];
	struct offer o;
	struct halle_error err;

	memset(&o, 0, sizeof(o));
	o.run = run;
	o.n = fuzz_split_run(data, size, run);
	memset(&err, 0, sizeof(err));
	if (node_mutate(&fuzz_node, offer_op, &o, &err) == -1)
		bug("node_mutate failed on a run", err.message);
	if (verbose)
		fprintf(stderr, "fuzz_record: run of %zu: result %d, %llu "
		    "accepted: %s\n", o.n, (int)o.rep.result,
		    (unsigned long long)o.rep.accepted, o.rep.reason);
	switch (o.rep.result) {
	case INGEST_OK:
		if (o.rep.accepted > 0 && !last_is_signed(run, o.n))
			bug("a run was accepted without a valid signature",
			    o.rep.reason);
		break;
	case INGEST_FORK:
	case INGEST_FROZEN:
		/* Both need two records the origin signed. */
		bug("fork or frozen feed without a signed record",
		    o.rep.reason);
	case INGEST_GAP:
	case INGEST_BAD:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		fuzz_node_open(&fuzz_node, &fuzz_cfg, "fuzz-node");
		fuzz_key(&origin, "fuzz-origin");
		verbose = getenv("HALLE_FUZZ_LOG") != NULL;
		ready = 1;
	}
	check_parse(data, size);
	check_ingest(data, size);
	return 0;
}
