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
	if (!cfg->name || !cfg->data_dir || !cfg->key_file || !cfg->control ||
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
