/*
 * testutil: see testutil.h.
 */
#define _GNU_SOURCE	/* asprintf */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed.h"
#include "ingest.h"
#include "testutil.h"

void
remove_tree(const char *path)
{
	struct dirent *de;
	struct stat st;
	char child[PATH_MAX];
	DIR *d;

	if (lstat(path, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(child, sizeof(child), "%s/%s", path,
			    de->d_name);
			remove_tree(child);
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

static char *
path_in(const char *dir, const char *file)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, file) == -1 ? NULL : p;
}

int
test_node_config(struct halle_config *cfg, const char *dir, const char *name,
    size_t map_size)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = strdup(name);
	cfg->data_dir = path_in(dir, "data");
	cfg->key_file = path_in(dir, "node.key");
	cfg->control = path_in(dir, "control.sock");
	cfg->listen = strdup("tcp://127.0.0.1:7420");
	cfg->timezone = strdup("Europe/Paris");
	cfg->log_level = LOG_LEVEL_WARN;
	cfg->map_size = map_size;
	if (asprintf(&cfg->dfc_base, "https://%s.halle.invalid/dfc/", name) ==
	    -1)
		cfg->dfc_base = NULL;
	if (!cfg->dfc_base || !cfg->name || !cfg->data_dir || !cfg->key_file || !cfg->control ||
	    !cfg->listen || !cfg->timezone) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

int
make_temp_dir(char *dir, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp",
	    name);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

int
scratch_node_open(struct scratch_node *tn, const char *name, int64_t (*clock)(void))
{
	char err[256];

	memset(tn, 0, sizeof(*tn));
	if (make_temp_dir(tn->dir, sizeof(tn->dir), name) == -1 ||
	    test_node_config(&tn->cfg, tn->dir, name, (size_t)16 << 20) == -1)
		return -1;
	if (node_open(&tn->node, &tn->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: node_open: %s\n", name, err);
		return -1;
	}
	if (clock != NULL)
		tn->node.clock_ms = clock;
	return 0;
}

void
scratch_node_close(struct scratch_node *tn)
{
	node_close(&tn->node);
	config_free(&tn->cfg);
	remove_tree(tn->dir);
}

struct carry {
	const unsigned char	*origin;
	struct ingest_bytes	*run;
	size_t			 n;
	struct ingest_report	 rep;
};

static int
carry_op(struct node_txn *nt, void *arg)
{
	struct carry *c = arg;

	return ingest_run(nt, c->origin, c->run, c->n, &c->rep);
}

/* Copies records (have, want] of origin's feed out of t. */
static int
carry_copy(struct store_txn *t, struct carry *c, uint64_t have,
    uint64_t want)
{
	const void *buf;
	size_t len;
	uint64_t s;

	c->n = want - have;
	if ((c->run = calloc(c->n, sizeof(*c->run))) == NULL)
		return -1;
	for (s = have + 1; s <= want; s++) {
		uint8_t *copy;

		if (feed_get(t, c->origin, s, &buf, &len) != 0 ||
		    (copy = malloc(len)) == NULL)
			return -1;
		memcpy(copy, buf, len);
		c->run[s - have - 1].data = copy;
		c->run[s - have - 1].len = len;
	}
	return 0;
}

long
scratch_node_carry(struct scratch_node *from, struct scratch_node *to)
{
	struct carry c = { from->node.key.public_key, NULL, 0, { 0 } };
	struct feed_head have, want;
	struct halle_error err;
	struct store_txn t;
	size_t i;
	long rc = -1;

	if (store_read_begin(to->node.store, &t) == -1)
		return -1;
	if (feed_head(&t, c.origin, &have) != 0)
		have.seq = 0;
	store_read_end(&t);
	if (store_read_begin(from->node.store, &t) == -1)
		return -1;
	if (feed_head(&t, c.origin, &want) != 0 || want.seq <= have.seq) {
		store_read_end(&t);
		return 0;
	}
	if (carry_copy(&t, &c, have.seq, want.seq) == -1)
		fprintf(stderr, "carry: cannot copy the run\n");
	else if (node_mutate(&to->node, carry_op, &c, &err) == -1)
		fprintf(stderr, "carry: %s\n", err.message);
	else if (c.rep.result != INGEST_OK)
		fprintf(stderr, "carry: refused: %s\n", c.rep.reason);
	else
		rc = (long)c.n;
	store_read_end(&t);
	for (i = 0; c.run != NULL && i < c.n; i++)
		free((void *)c.run[i].data);
	free(c.run);
	return rc;
}

struct offer_one {
	const unsigned char	*origin;
	struct ingest_bytes	 env;
	struct ingest_report	 rep;
};

static int
offer_one_op(struct node_txn *nt, void *arg)
{
	struct offer_one *o = arg;

	return ingest_run(nt, o->origin, &o->env, 1, &o->rep);
}

int
test_offer_one(struct node *n, const unsigned char *origin,
    const uint8_t *env, size_t len)
{
	struct offer_one o = { origin, { env, len }, { 0 } };
	struct halle_error err;

	if (node_mutate(n, offer_one_op, &o, &err) == -1)
		return -1;
	return (int)o.rep.result;
}
