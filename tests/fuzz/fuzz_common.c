/*
 * fuzz_common: fixed keys, the run format and the node fixture shared by
 * the fuzz targets and make_corpus. See fuzz_common.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz_common.h"
#include "testutil.h"
#include "log.h"
#include "peer.pb-c.h"
#include "sync.h"

void
fuzz_key(struct node_key *key, const char *label)
{
	unsigned char seed[crypto_sign_SEEDBYTES];

	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz: sodium_init failed\n");
		exit(1);
	}
	crypto_generichash(seed, sizeof(seed), (const unsigned char *)label,
	    strlen(label), NULL, 0);
	crypto_sign_seed_keypair(key->public_key, key->secret_key, seed);
}

size_t
fuzz_split_run(const uint8_t *data, size_t size,
    struct ingest_bytes run[FUZZ_RUN_MAX])
{
	size_t n = 0, len;

	while (n < FUZZ_RUN_MAX && size >= 2) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		run[n].data = data;
		run[n].len = len;
		n++;
		data += len;
		size -= len;
	}
	return n;
}

int
fuzz_join_run(uint8_t **out, size_t *out_len, const struct ingest_bytes *run,
    size_t n)
{
	size_t i, len = 0;
	uint8_t *p;

	for (i = 0; i < n; i++) {
		if (run[i].len > 0xffff)
			return -1;
		len += 2 + run[i].len;
	}
	if ((*out = p = malloc(len ? len : 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		*p++ = (uint8_t)(run[i].len >> 8);
		*p++ = (uint8_t)run[i].len;
		memcpy(p, run[i].data, run[i].len);
		p += run[i].len;
	}
	*out_len = len;
	return 0;
}

static struct node		*fixture_node;
static struct halle_config	*fixture_cfg;
static char			 fixture_dir[64];

static void
fixture_close(void)
{
	node_close(fixture_node);
	config_free(fixture_cfg);
	remove_tree(fixture_dir);
}

static char *
path_in(const char *dir, const char *name)
{
	char path[160];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((s = strdup(path)) == NULL) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(1);
	}
	return s;
}

/* Writes the key file of the key derived from label, as key.c reads it. */
static void
write_key_file(const char *path, const char *label)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char line[2 * crypto_sign_SEEDBYTES + 2];
	int fd;

	crypto_generichash(seed, sizeof(seed), (const unsigned char *)label,
	    strlen(label), NULL, 0);
	hex_encode(line, seed, sizeof(seed));
	strcat(line, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1 || write(fd, line, strlen(line)) !=
	    (ssize_t)strlen(line) || close(fd) == -1) {
		perror(path);
		exit(1);
	}
}

void
fuzz_node_open(struct node *n, struct halle_config *cfg,
    const char *key_label)
{
	char err[256];

	/* Refused input is logged at warn: quiet unless asked. */
	log_init(getenv("HALLE_FUZZ_LOG") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_ERROR, "fuzz");
	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz: sodium_init failed\n");
		exit(1);
	}
	strcpy(fixture_dir, "/tmp/halle-fuzz.XXXXXX");
	if (mkdtemp(fixture_dir) == NULL) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = strdup("fuzz-node");
	cfg->data_dir = path_in(fixture_dir, "data");
	cfg->key_file = path_in(fixture_dir, "node.key");
	cfg->control = path_in(fixture_dir, "control.sock");
	cfg->listen = strdup("tcp://127.0.0.1:7420");
	cfg->timezone = strdup("UTC");
	cfg->log_level = LOG_LEVEL_ERROR;
	cfg->map_size = FUZZ_MAP_SIZE;
	write_key_file(cfg->key_file, key_label);
	memset(n, 0, sizeof(*n));
	if (node_open(n, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz: node_open: %s\n", err);
		remove_tree(fixture_dir);
		exit(1);
	}
	fixture_node = n;
	fixture_cfg = cfg;
	atexit(fixture_close);
}

int
fuzz_peer_hello(uint8_t **out, size_t *out_len)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Hello h = HALLE__HELLO__INIT;
	struct node_key peer;

	fuzz_key(&peer, "fuzz-peer");
	m.session = FUZZ_PEER_SESSION;
	m.peer_session = FUZZ_ENGINE_SESSION;
	h.version = SYNC_PROTOCOL_VERSION;
	h.min_version = SYNC_PROTOCOL_VERSION;
	h.node.data = peer.public_key;
	h.node.len = KEY_PUBLIC_LEN;
	h.name = (char *)"fuzz-peer";
	m.body_case = HALLE__PEER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	*out_len = halle__peer_message__get_packed_size(&m);
	if ((*out = malloc(*out_len ? *out_len : 1)) == NULL)
		return -1;
	halle__peer_message__pack(&m, *out);
	return 0;
}
