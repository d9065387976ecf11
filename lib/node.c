/*
 * node: see node.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "node.h"
#include "record.h"
#include "seal.h"
#include "timeutil.h"
#include "views.h"

int
node_open(struct node *n, const struct halle_config *cfg, char *err,
    size_t errlen)
{
	memset(n, 0, sizeof(*n));
	n->cfg = cfg;
	n->clock_ms = tu_now_ms;
	if (tu_set_timezone(cfg->timezone) == -1) {
		snprintf(err, errlen, "unknown time zone '%s'", cfg->timezone);
		return -1;
	}
	if (key_load_or_create(&n->key, cfg->key_file, err, errlen) == -1)
		return -1;
	hex_encode(n->id_hex, n->key.public_key, KEY_PUBLIC_LEN);
	if (store_open(&n->store, cfg->data_dir, cfg->map_size, err,
	    errlen) == -1)
		return -1;
	n->started = time(NULL);
	return 0;
}

void
node_close(struct node *n)
{
	store_close(&n->store);
}

int64_t
node_now_ms(const struct node *n)
{
	return n->clock_ms();
}

int
node_may_write(const struct node *n)
{
	return !n->hold_rulings;
}

struct mutate_ctx {
	struct node		*node;
	node_op_fn		 fn;
	void			*arg;
	struct halle_error	*err;
	int64_t			 now_ms;
};

static int
mutate_run(struct store_txn *t, void *arg)
{
	struct mutate_ctx *ctx = arg;
	struct node_txn nt = { ctx->node, t, ctx->now_ms, ctx->err };

	return ctx->fn(&nt, ctx->arg);
}

int
node_mutate(struct node *n, node_op_fn fn, void *arg, struct halle_error *err)
{
	struct mutate_ctx ctx = { n, fn, arg, err, node_now_ms(n) };
	char why[256];
	int rc;

	n->appended = 0;
	rc = store_write(n->store, mutate_run, &ctx, why, sizeof(why));
	if (rc == -2)
		return herr(err, HALLE_E_STORE, "%s", why);
	if (rc == 0 && n->appended && n->on_own_append != NULL)
		n->on_own_append(n->on_own_append_arg);
	return rc;
}

#define RECOVERING_KEY	"recovering"

int
node_recovering(struct node *n)
{
	struct store_txn t;
	const void *v;
	size_t vlen;
	int rc;

	if (store_read_begin(n->store, &t) == -1)
		return 1;	/* unknown: the safe answer */
	rc = store_get(&t, STORE_META, RECOVERING_KEY,
	    strlen(RECOVERING_KEY), &v, &vlen);
	store_read_end(&t);
	return rc != 1;
}

static int
recovering_op(struct store_txn *t, void *arg)
{
	if (*(int *)arg)
		return store_put(t, STORE_META, RECOVERING_KEY,
		    strlen(RECOVERING_KEY), "1", 1);
	return store_del(t, STORE_META, RECOVERING_KEY,
	    strlen(RECOVERING_KEY));
}

int
node_set_recovering(struct node *n, int on)
{
	char why[256];

	return store_write(n->store, recovering_op, &on, why,
	    sizeof(why)) == 0 ? 0 : -1;
}

int
node_append(struct node_txn *nt, uint32_t kind, const ProtobufCMessage *msg)
{
	return node_append_sealed(nt, kind, msg, NULL);
}

int
node_append_sealed(struct node_txn *nt, uint32_t kind,
    const ProtobufCMessage *msg, const unsigned char *recipient)
{
	struct node *n = nt->node;
	struct feed_head head;
	struct record r;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *body, *buf;
	size_t body_len, len;
	char why[128];
	int rc;

	if (feed_head(nt->t, n->key.public_key, &head) == -1)
		return herr(nt->err, HALLE_E_STORE, "cannot read feed head");
	body_len = protobuf_c_message_get_packed_size(msg);
	if ((body = malloc(body_len ? body_len : 1)) == NULL)
		return herr(nt->err, HALLE_E_INTERNAL, "out of memory");
	protobuf_c_message_pack(msg, body);
	if (recipient != NULL) {
		uint8_t *sealed;
		size_t sealed_len;

		rc = seal_body(&sealed, &sealed_len, body, body_len, recipient,
		    &n->key);
		free(body);
		if (rc == -1)
			return herr(nt->err, HALLE_E_INTERNAL, "cannot seal a "
			    "record for that node's key");
		body = sealed;
		body_len = sealed_len;
	}
	rc = record_build_to(&buf, &len, hash, &n->key, head.seq + 1,
	    head.seq ? head.hash : NULL, nt->now_ms, kind, body, body_len,
	    recipient);
	free(body);
	if (rc == -1)
		return herr(nt->err, HALLE_E_INTERNAL, "out of memory");
	if (len > RECORD_MAX_BYTES) {
		free(buf);
		return herr(nt->err, HALLE_E_BODY_TOO_LARGE,
		    "the record would be larger than 256 KiB");
	}
	if (record_parse(&r, buf, len, why, sizeof(why)) == -1) {
		free(buf);
		return herr(nt->err, HALLE_E_INTERNAL, "own record: %s", why);
	}
	rc = feed_append(nt->t, &r, buf, len);
	free(buf);
	if (rc == -1) {
		record_free(&r);
		return herr(nt->err, HALLE_E_STORE, "cannot append to feed");
	}
	n->appended = 1;
	rc = views_apply(nt, &r);
	record_free(&r);
	return rc;
}
