/*
 * fuzz_member: libFuzzer target for what a dishonest member of a grouping
 * can make a node do with records it signs itself (lib/views.c,
 * lib/stock.c, the rulings of lib/views.c and lib/service_orders.c's
 * rules as views apply them).
 *
 * fuzz_record cannot get past the signature check; this target holds the
 * member's key (label "fuzz-member", fuzz_common.h) and signs whatever the
 * input describes as the next records of the member's feed, each sealed
 * to the node under test when the input asks, and offers them to a real
 * node one at a time with ingest_run(), as sync does; then the node does
 * its stock work (grants, recalls, give-backs) as its timer would.
 *
 * The node and the member share a week set up once, committed:
 *
 *   node (label "fuzz-node")            member (label "fuzz-member")
 *   producer PR_N, limited PAIN          producer PR_M, limited PAIN
 *   market MK_N, selling PR_N,           market MK_M, invites PR_N
 *   invites PR_M
 *   accepts PR_N at MK_M                 accepts PR_M at MK_N
 *   distribution DS_N on DATE            distribution DS_M on DATE
 *   order OR_N for PR_M and PR_N         (seq 1..MEMBER_BASE of its feed)
 *
 * Each input runs in one write transaction that is aborted at the end, so
 * every input starts from that same week and a crash reproduces from its
 * input alone. An input is a sequence of at most RECORDS_MAX records:
 *
 *   op (1 byte) || len (1 byte) || len bytes ... (repeated)
 *
 *   op & 0x0f   the record kind (RecordKind; 0 and 12..15 are kinds no
 *               view knows)
 *   op & 0x10   seal the body to the node under test (seal.h)
 *   op & 0x20   the len bytes are the body as they are; otherwise they
 *               drive a builder that fills the kind's message field by
 *               field (build_message): strings from a pool of the week's
 *               ids, dates and skus, numbers from a table of edges
 *   op & 0x40   the node does its stock work right after this record
 *               (it does once more after the last)
 *
 * The target aborts when a record it signed validly is not accepted as
 * the next of the feed, when the store fails, or when the node, home of
 * PR_N, confirmed and granted more of its 40 PAIN a day than it has
 * (check_stock; HALLE_FUZZ_NO_STOCK_CHECK in the environment skips it,
 * to look for other failures while an oversell is being fixed).
 *
 * Run: fuzz_member CORPUS_DIR (seeds in tests/fuzz/corpus/member); see
 * tests/fuzz/CMakeLists.txt for the flags CI uses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bodies.pb-c.h"
#include "feed.h"
#include "fuzz_common.h"
#include "ids.h"
#include "ingest.h"
#include "node.h"
#include "record.h"
#include "seal.h"
#include "service.h"
#include "stock.h"
#include "testapi.h"
#include "views.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX	8
#define DEPTH_MAX	3
#define NOW_MS		INT64_C(1894017600000)	/* 2030-01-07 12:00 UTC */
#define DATE		"2030-01-12"		/* the Saturday after */
#define STARTS_AT	INT64_C(1894442400)	/* DATE 10:00 UTC */
/*
 * The member's producer, market and distribution: ids its key makes with
 * the records that create them (seq 1, 3 and 6 of its feed; ids.h), set
 * in setup().
 */
static char		 pr_m[ID_MAX], mk_m[ID_MAX], ds_m[ID_MAX];
#define PR_M		pr_m
#define MK_M		mk_m
#define DS_M		ds_m
#define OR_M		"or-00000000a004"

static struct node		 fuzz_node;
static struct halle_config	 fuzz_cfg;
static struct node_key		 member;
static char			 pr_n[ID_MAX], mk_n[ID_MAX], ds_n[ID_MAX],
				 or_n[ID_MAX];

/* The member's feed: where its next record goes. */
struct feed_state {
	uint64_t	 seq;		/* of the last record */
	unsigned char	 hash[RECORD_HASH_LEN];
};
static struct feed_state	 base;	/* after the week's records */

static void __attribute__((noreturn))
bug(const char *what, const char *reason)
{
	fprintf(stderr, "fuzz_member: BUG: %s (%s)\n", what, reason);
	abort();
}

/* Bytes the builder reads from; 0 once exhausted. */
struct source {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t
take(struct source *s)
{
	if (s->n == 0)
		return 0;
	s->n--;
	return *s->p++;
}

static const char *const pool[] = {
	PR_M, MK_M, DS_M, OR_M, pr_n, mk_n, ds_n, or_n, DATE, "2030-01-19",
	"PAIN", "OEUFS", "", "pr-", "2030-02-30", "mk-00000000a00g",
};
#define POOL_N	(sizeof(pool) / sizeof(pool[0]))

static const uint64_t edges[] = {
	0, 1, 2, 3, 40, 41, 1000000, 1000001, UINT32_MAX,
	UINT64_C(9007199254740991), UINT64_C(9007199254740992),
	(uint64_t)INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX,
	(uint64_t)STARTS_AT, (uint64_t)(STARTS_AT - 36 * 3600),
	(uint64_t)(STARTS_AT - 7 * 86400), (uint64_t)(NOW_MS / 1000),
};
#define EDGES_N	(sizeof(edges) / sizeof(edges[0]))

static char *
take_string(struct source *s)
{
	uint8_t b = take(s), len, i;
	char *str;

	if (b % (POOL_N + 1) < POOL_N)
		return strdup(pool[b % (POOL_N + 1)]);
	len = take(s) % 24;
	if ((str = malloc(len + 1u)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		str[i] = (char)take(s);
	str[len] = '\0';
	return str;
}

static uint64_t
take_number(struct source *s)
{
	uint8_t b = take(s);
	uint64_t v = 0;
	int i;

	switch (b >> 6) {
	case 0:
		return b & 0x3f;
	case 1:
		return (uint64_t)(b & 0x3f) << 8 | take(s);
	case 2:
		for (i = 0; i < 8; i++)
			v = v << 8 | take(s);
		return v;
	default:
		return edges[(b & 0x3f) % EDGES_N];
	}
}

static ProtobufCMessage *build_message(const ProtobufCMessageDescriptor *,
	    struct source *, int);

/* One value of field f into where; -1 when out of memory. */
static int
fill_value(const ProtobufCFieldDescriptor *f, void *where, struct source *s,
    int depth)
{
	const ProtobufCEnumDescriptor *e;
	uint64_t v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return (*(char **)where = take_string(s)) == NULL ? -1 : 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)where = build_message(f->descriptor, s,
		    depth + 1);
		return *(ProtobufCMessage **)where == NULL ? -1 : 0;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)where = take(s) & 1;
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		e = f->descriptor;
		v = take(s);
		*(int *)where = v < e->n_values ? e->values[v].value : (int)v;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)where = (double)(take_number(s) % 100000) / 8;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
		v = take_number(s);
		memcpy(where, &v, sizeof(v));
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT32:
		*(uint32_t *)where = (uint32_t)take_number(s);
		return 0;
	default:
		bug("a field type the builder does not know", f->name);
	}
}

/* The size of one value of field f in the message structure. */
static size_t
value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
		return 8;
	default:
		return 4;
	}
}

/*
 * A message of type desc, its fields filled from s; repeated fields get 0
 * to 3 values (none below DEPTH_MAX). Free with
 * protobuf_c_message_free_unpacked; NULL when out of memory.
 */
static ProtobufCMessage *
build_message(const ProtobufCMessageDescriptor *desc, struct source *s,
    int depth)
{
	ProtobufCMessage *m;
	unsigned i;
	size_t j, count, size;
	char *bytes;
	void **array;

	if ((m = calloc(1, desc->sizeof_message)) == NULL)
		return NULL;
	desc->message_init(m);
	bytes = (char *)m;
	for (i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];

		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (f->type == PROTOBUF_C_TYPE_STRING)
				*(char **)(bytes + f->offset) = NULL;
			if (fill_value(f, bytes + f->offset, s, depth) == -1)
				goto fail;
			continue;
		}
		count = depth >= DEPTH_MAX ? 0 : take(s) % 4;
		if (count == 0)
			continue;
		size = value_size(f);
		if ((array = calloc(count, size)) == NULL)
			goto fail;
		*(void **)(bytes + f->offset) = array;
		for (j = 0; j < count; j++) {
			if (fill_value(f, (char *)array + j * size, s,
			    depth) == -1)
				goto fail;
			*(size_t *)(bytes + f->quantifier_offset) = j + 1;
		}
	}
	return m;
fail:
	protobuf_c_message_free_unpacked(m, NULL);
	return NULL;
}

static const ProtobufCMessageDescriptor *
kind_descriptor(unsigned kind)
{
	switch (kind) {
	case HALLE__RECORD_KIND__RECORD_KIND_PRODUCER:
		return &halle__producer__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE:
		return &halle__catalogue__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_MARKET:
		return &halle__market__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_INVITATION:
	case HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE:
		return &halle__membership__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION:
		return &halle__distribution__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_ORDER:
		return &halle__order__descriptor;
	case HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION:
		return &halle__confirmation__descriptor;
	default:
		return &halle__stock_rights__descriptor;
	}
}

/*
 * Signs body as the next record of the member's feed (sealed to the node
 * under test when sealed) and offers it to the node. Returns 0, or -1 on
 * a store failure (nt->err filled).
 */
static int
offer(struct node_txn *nt, struct feed_state *fs, uint32_t kind,
    const uint8_t *body, size_t len, int sealed)
{
	const unsigned char *node_key = nt->node->key.public_key;
	struct ingest_report rep;
	struct ingest_bytes one;
	uint8_t *env, *boxed = NULL;
	size_t env_len;
	unsigned char hash[RECORD_HASH_LEN];

	if (sealed) {
		if (seal_body(&boxed, &len, body, len, node_key, &member) == -1)
			bug("seal_body failed", "");
		body = boxed;
	}
	if (record_build(&env, &env_len, hash, &member, fs->seq + 1,
	    fs->seq > 0 ? fs->hash : NULL, NOW_MS, kind, body, len,
	    sealed ? node_key : NULL) == -1)
		bug("record_build failed", "");
	free(boxed);
	one.data = env;
	one.len = env_len;
	memset(&rep, 0, sizeof(rep));
	if (ingest_run(nt, member.public_key, &one, 1, &rep) == -1) {
		free(env);
		return -1;
	}
	free(env);
	if (rep.result != INGEST_OK || rep.accepted != 1)
		bug("the member's next record was not accepted", rep.reason);
	fs->seq++;
	memcpy(fs->hash, hash, RECORD_HASH_LEN);
	return 0;
}

/* Offers a message as the member's next record. */
static int
offer_message(struct node_txn *nt, struct feed_state *fs, uint32_t kind,
    const ProtobufCMessage *m, int sealed)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *body;
	int rc;

	if ((body = malloc(len ? len : 1)) == NULL)
		bug("out of memory", "");
	protobuf_c_message_pack(m, body);
	rc = offer(nt, fs, kind, body, len, sealed);
	free(body);
	return rc;
}

/*
 * The home's rule (stock.h): what its own rulings confirmed of its
 * producer's limited PAIN, and what it granted to markets and was not
 * given back, never exceed the day's stock, whatever the member sent.
 */
static void
check_stock(struct node_txn *nt)
{
	static const char *const dates[] = { DATE, "2030-01-19" };
	const char *const markets[] = { mk_n, MK_M };
	struct stock_rights r;
	uint64_t committed;
	char why[128];
	size_t i, j;

	for (i = 0; i < 2; i++) {
		committed = stock_taken(nt->t, pr_n, dates[i], "PAIN");
		for (j = 0; j < 2; j++) {
			if (stock_rights_get(nt->t, pr_n, dates[i], "PAIN",
			    markets[j], &r) == -1)
				return;
			if (r.granted > r.released)
				committed += r.granted - r.released;
		}
		if (committed > 40) {
			snprintf(why, sizeof(why), "%s: %llu of 40", dates[i],
			    (unsigned long long)committed);
			bug("the home committed more than the day's stock",
			    why);
		}
	}
}

/* With HALLE_FUZZ_LOG: how far both feeds went, what the node holds. */
static void
report(struct node_txn *nt, const struct feed_state *fs)
{
	struct feed_head head;
	Halle__Order *o;

	if (feed_head(nt->t, nt->node->key.public_key, &head) == -1)
		return;
	fprintf(stderr, "fuzz_member: member's feed at %llu (week: %llu), "
	    "node's at %llu\n", (unsigned long long)fs->seq,
	    (unsigned long long)base.seq, (unsigned long long)head.seq);
	if ((o = views_order(nt->t, OR_M)) != NULL) {
		fprintf(stderr, "fuzz_member: %s version %llu, %zu lines\n",
		    OR_M, (unsigned long long)o->version, o->n_lines);
		view_free(o);
	}
}

struct input {
	const uint8_t	*data;
	size_t		 size;
	int		 done;	/* ran to the end: abort on purpose */
};

static int
input_op(struct node_txn *nt, void *arg)
{
	struct input *in = arg;
	struct source s = { in->data, in->size };
	struct feed_state fs = base;
	ProtobufCMessage *m;
	unsigned i, op, len;
	struct source body;
	int rc;

	for (i = 0; i < RECORDS_MAX && s.n >= 2; i++) {
		op = take(&s);
		len = take(&s);
		if (len > s.n)
			len = (unsigned)s.n;
		body.p = s.p;
		body.n = len;
		s.p += len;
		s.n -= len;
		if (op & 0x20) {
			rc = offer(nt, &fs, op & 0x0f, body.p, body.n,
			    op & 0x10);
		} else {
			m = build_message(kind_descriptor(op & 0x0f), &body, 0);
			if (m == NULL)
				bug("out of memory", "");
			rc = offer_message(nt, &fs, op & 0x0f, m, op & 0x10);
			protobuf_c_message_free_unpacked(m, NULL);
		}
		if (rc == -1 || ((op & 0x40) && stock_work(nt) == -1))
			return -1;
	}
	if (stock_work(nt) == -1 || stock_rule_queued(nt) == -1)
		return -1;
	if (getenv("HALLE_FUZZ_NO_STOCK_CHECK") == NULL)
		check_stock(nt);
	if (getenv("HALLE_FUZZ_LOG") != NULL)
		report(nt, &fs);
	in->done = 1;
	return error_set(nt->err, HALLE_E_INTERNAL, "aborted on purpose");
}

static int64_t
fixed_clock(void)
{
	return NOW_MS;
}

/* The node's part after them: memberships, a distribution, an order. */
static void
node_week_after(struct node *n)
{
	struct halle_error err;
	json_t *req;

	fuzz_must(service_market_membership(n, mk_n, 'I', PR_M, 1, &err), NULL,
	    NULL, &err);
	fuzz_must(service_market_membership(n, MK_M, 'A', pr_n, 1, &err), NULL,
	    NULL, &err);
	req = json_pack("{s:s, s:s}", "market", mk_n, "date", DATE);
	fuzz_must(testapi_distribution_open(n, req, &err), req, ds_n, &err);
	req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}",
	    "distribution", ds_n, "basket", "B1", "lines", "producer", PR_M,
	    "sku", "PAIN", "quantity", 3, "producer", pr_n, "sku", "PAIN",
	    "quantity", 2);
	fuzz_must(testapi_order_place(n, req, &err), req, or_n, &err);
	if (service_stock_work(n, &err) == -1)
		bug("setting up the week", err.message);
}

/* The member's part: its producer, catalogue, market, memberships, day. */
static int
member_week_op(struct node_txn *nt, void *arg)
{
	Halle__Producer p = HALLE__PRODUCER__INIT;
	Halle__Catalogue c = HALLE__CATALOGUE__INIT;
	Halle__Product bread = HALLE__PRODUCT__INIT, *products[] = { &bread };
	Halle__Market mk = HALLE__MARKET__INIT;
	Halle__Membership inv = HALLE__MEMBERSHIP__INIT;
	Halle__Membership acc = HALLE__MEMBERSHIP__INIT;
	Halle__Distribution d = HALLE__DISTRIBUTION__INIT;
	struct feed_state *fs = arg;

	p.id = (char *)PR_M, p.version = 1, p.name = (char *)"Ferme";
	c.producer = (char *)PR_M, c.version = 1;
	bread.sku = (char *)"PAIN", bread.name = (char *)"Pain";
	bread.price_cents = 400, bread.vat_bp = 550, bread.limited = 1;
	bread.stock_per_day = 40;
	c.products = products, c.n_products = 1;
	mk.id = (char *)MK_M, mk.version = 1, mk.name = (char *)"Marche";
	mk.scheduled = 1, mk.weekday = 6, mk.from_min = 600, mk.to_min = 720;
	mk.opens_days = 7, mk.closes_hours = 36;
	inv.market = (char *)MK_M, inv.producer = pr_n, inv.version = 1;
	inv.active = 1;
	acc.market = mk_n, acc.producer = (char *)PR_M, acc.version = 1;
	acc.active = 1;
	d.id = (char *)DS_M, d.version = 1, d.market = (char *)MK_M;
	d.date = (char *)DATE, d.from_min = 600, d.to_min = 720;
	d.starts_at = STARTS_AT, d.opens_at = STARTS_AT - 7 * 86400;
	d.closes_at = STARTS_AT - 36 * 3600;
	if (offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    &p.base, 0) == -1 ||
	    offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE,
	    &c.base, 0) == -1 ||
	    offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_MARKET,
	    &mk.base, 0) == -1 ||
	    offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_INVITATION,
	    &inv.base, 0) == -1 ||
	    offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE,
	    &acc.base, 0) == -1 ||
	    offer_message(nt, fs, HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION,
	    &d.base, 0) == -1)
		return -1;
	return 0;
}

static void
setup(void)
{
	struct halle_error err;

	fuzz_node_open(&fuzz_node, &fuzz_cfg, "fuzz-node");
	fuzz_key(&member, "fuzz-member");
	ids_bound(pr_m, "pr", member.public_key, 1);
	ids_bound(mk_m, "mk", member.public_key, 3);
	ids_bound(ds_m, "ds", member.public_key, 6);
	fuzz_node.clock_ms = fixed_clock;
	fuzz_week_start(&fuzz_node, pr_n, mk_n);
	memset(&base, 0, sizeof(base));
	if (node_mutate(&fuzz_node, member_week_op, &base, &err) == -1)
		bug("setting up the member's week", err.message);
	node_week_after(&fuzz_node);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct input in = { data, size, 0 };
	struct halle_error err;

	if (!ready) {
		setup();
		ready = 1;
	}
	memset(&err, 0, sizeof(err));
	if (node_mutate(&fuzz_node, input_op, &in, &err) == 0)
		bug("an input's transaction was committed", "");
	if (!in.done)
		bug("the store failed", err.message);
	return 0;
}
