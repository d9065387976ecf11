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
#include "ids.h"
#include "service.h"
#include "testapi.h"
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
static char			 fixture_dir[64];	/* in TMPDIR */

static void
fixture_close(void)
{
	if (fixture_node == NULL)
		return;
	node_close(fixture_node);
	config_free(fixture_cfg);
	remove_tree(fixture_dir);
	fixture_node = NULL;
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
	static int registered;
	char err[256];

	fixture_close();	/* the node opened before, if any */
	/* Refused input is logged at warn: quiet unless asked. */
	log_init(getenv("HALLE_FUZZ_LOG") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_ERROR, "fuzz");
	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz: sodium_init failed\n");
		exit(1);
	}
	snprintf(fixture_dir, sizeof(fixture_dir), "%s/halle-fuzz.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 40 ?
	    getenv("TMPDIR") : "/tmp");
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
	if (!registered)
		atexit(fixture_close);
	registered = 1;
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

void
fuzz_must(json_t *answer, json_t *req, char *id, const struct halle_error *err)
{
	json_t *v;

	json_decref(req);
	if (answer == NULL) {
		fprintf(stderr, "fuzz: setting up: %s\n", err->message);
		abort();
	}
	if (id != NULL) {
		if (!json_is_string(v = json_object_get(answer, "id"))) {
			fprintf(stderr, "fuzz: setting up: no id answered\n");
			abort();
		}
		snprintf(id, ID_MAX, "%s", json_string_value(v));
	}
	json_decref(answer);
}

void
fuzz_week_start(struct node *n, char *producer, char *market)
{
	struct halle_error err;
	json_t *req;

	req = json_pack("{s:s, s:s}", "name", "Fournil", "town", "Ici");
	fuzz_must(testapi_producer_add(n, req, &err), req, producer, &err);
	req = json_pack("{s:[{s:s, s:s, s:i, s:i, s:i}, {s:s, s:s, s:i, "
	    "s:i}]}", "products", "sku", "PAIN", "name", "Pain", "price_cents",
	    450, "vat_bp", 550, "stock_per_day", 40, "sku", "OEUFS", "name",
	    "Oeufs", "price_cents", 300, "vat_bp", 550);
	fuzz_must(testapi_catalogue_publish(n, producer, req, &err), req, NULL,
	    &err);
	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", "Halle",
	    "place", "Place", "town", "Ici", "weekday", "sat", "from", "10:00",
	    "to", "12:00");
	fuzz_must(testapi_market_add(n, req, &err), req, market, &err);
	fuzz_must(service_market_membership(n, market, 'I', producer, 1, &err),
	    NULL, NULL, &err);
	fuzz_must(service_market_membership(n, market, 'A', producer, 1, &err),
	    NULL, NULL, &err);
}
