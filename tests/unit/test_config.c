/*
 * test_config: config_load against the fixture files in
 * $HALLE_TEST_DATA/config. Valid files are checked field by field; each bad
 * file must fail with one exact message, "FILE:LINE: reason" or
 * "FILE: reason", and leave the struct empty. The keys in the peer fixtures
 * are SHA-256 digests of the peers' names: any 64 hex digits will do.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MIB	((size_t)1 << 20)

#define KEY_B \
	"2466d03dec5e996ab99416b75e1a80301d8f5f429ceab2638de95007eecd84c1"
#define KEY_C \
	"5f39b969d3166862f38d6cf1ab01f0b7c09c392e36c899781546a783005c668b"
#define KEY_D \
	"6b64cf83b341fc9646c2f2e06b8abfa2ac329c72f3f2283bdd5f15d9e97f82ed"
#define KEY_L \
	"fc66f021c67d064c1490a12b5a4d4d2f5167ca692a16ca12f1f3a4cda29a6fa9"
/* 63 characters, the longest name; inih alone would keep 44 of them. */
#define LONG_NAME \
	"communaute-de-communes-du-pays-de-la-vallee-de-la-haute-riviere"
#define NAME_RULE \
	"want 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'"

static char	data_dir[PATH_MAX];

static int
setup_data_dir(void **state)
{
	const char	*root;
	int		 n;

	if ((root = getenv("HALLE_TEST_DATA")) == NULL || root[0] == '\0') {
		fprintf(stderr, "HALLE_TEST_DATA is not set or empty\n");
		return -1;
	}
	n = snprintf(data_dir, sizeof(data_dir), "%s/config", root);
	return (n < 0 || (size_t)n >= sizeof(data_dir)) ? -1 : 0;
}

static void
fixture_path(char *path, size_t len, const char *fixture)
{
	int	n;

	n = snprintf(path, len, "%s/%s", data_dir, fixture);
	assert_true(n > 0 && (size_t)n < len);
}

static void
assert_config_empty(const struct halle_config *cfg)
{
	struct halle_config	zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/* Loads a fixture that must be valid; the caller frees cfg. */
static void
load_ok(struct halle_config *cfg, const char *fixture, char *path,
    size_t pathlen)
{
	char	err[1024] = "";

	fixture_path(path, pathlen, fixture);
	if (config_load(cfg, path, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, path);
}

/* A line of 0 means the message has no line number. */
static void
load_fails_path(const char *path, int line, const char *reason)
{
	struct halle_config	cfg;
	char			want[PATH_MAX + 512], err[sizeof(want)];

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", path, line, reason);
	else
		snprintf(want, sizeof(want), "%s: %s", path, reason);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_config_empty(&cfg);
	config_free(&cfg);
}

static void
load_fails(const char *fixture, int line, const char *reason)
{
	char	path[PATH_MAX];

	fixture_path(path, sizeof(path), fixture);
	load_fails_path(path, line, reason);
}

static void
test_valid(void **state)
{
	struct halle_config	cfg;
	char			path[PATH_MAX];

	load_ok(&cfg, "valid.conf", path, sizeof(path));
	assert_string_equal(cfg.name, "commune-a");
	assert_string_equal(cfg.data_dir, "/var/lib/halle");
	assert_string_equal(cfg.key_file, "/var/lib/halle/node.key");
	assert_string_equal(cfg.control, "/run/halle/control.sock");
	assert_string_equal(cfg.listen, "tcp://0.0.0.0:7420");
	assert_string_equal(cfg.timezone, "Asia/Tokyo");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.map_size, 256 * MIB);
	assert_int_equal(cfg.npeers, 0);
	assert_null(cfg.peers);
	assert_int_equal(cfg.ngroupings, 0);
	assert_null(cfg.groupings);
	/* No grouping: this node shares none, even with itself. */
	assert_int_equal(config_shares_grouping(&cfg, NULL, NULL), 0);
	config_free(&cfg);
	assert_config_empty(&cfg);
	config_free(&cfg);
	assert_config_empty(&cfg);
}

static void
test_defaults(void **state)
{
	struct halle_config	cfg;
	char			path[PATH_MAX];

	load_ok(&cfg, "defaults.conf", path, sizeof(path));
	assert_string_equal(cfg.name, "b");
	assert_string_equal(cfg.data_dir, "data");
	assert_string_equal(cfg.key_file, "data/node.key");
	assert_string_equal(cfg.control, "control.sock");
	assert_string_equal(cfg.listen, "tcp://[::1]:7420");
	assert_string_equal(cfg.timezone, "Europe/Paris");
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.map_size, 64 * MIB);
	assert_null(cfg.metrics_listen);
	assert_string_equal(cfg.dfc_base, "https://b.halle.invalid/dfc/");
	assert_int_equal(cfg.events_keep, 100000);
	config_free(&cfg);
}

/* inih cuts lines at 200 bytes unless told otherwise. */
static void
test_long_lines(void **state)
{
	struct halle_config	cfg;
	char			path[PATH_MAX];

	load_ok(&cfg, "long-lines.conf", path, sizeof(path));
	assert_int_equal(strlen(cfg.name), 63);
	assert_int_equal(strlen(cfg.data_dir), strlen("/srv/") + 300);
	assert_int_equal(strlen(cfg.key_file),
	    strlen("/srv/") + 300 + strlen("/node.key"));
	assert_int_equal(strlen(cfg.control), 107);
	assert_string_equal(cfg.listen, "ipc:///run/halle/peers.sock");
	config_free(&cfg);
}

/* Writes a [node] section with key = value (line 7) to path. */
static void
node_conf(char *path, size_t len, const char *key, const char *value)
{
	const char	*tmp = getenv("TMPDIR");
	FILE		*f;
	int		 fd;

	snprintf(path, len, "%s/halle-test-config.XXXXXX",
	    tmp && tmp[0] ? tmp : "/tmp");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "[node]\nname = a\ndata_dir = d\nkey_file = k\n"
	    "control = c.sock\nlisten = tcp://*:7420\n%s = %s\n", key, value);
	fclose(f);
}

static void
test_metrics_listen(void **state)
{
	static const char *const good[] = { "127.0.0.1:9742",
	    "[::1]:9742", "localhost:80", "0.0.0.0:65535" };
	static const struct { const char *value, *reason; } bad[] = {
		{ "9742", "bad metrics_listen '9742': want HOST:PORT, such as "
		    "127.0.0.1:9742" },
		{ ":9742", "bad metrics_listen ':9742': want HOST:PORT, such "
		    "as 127.0.0.1:9742" },
		{ "::1:9742", "bad metrics_listen '::1:9742': want HOST:PORT, "
		    "such as 127.0.0.1:9742" },
		{ "tcp://127.0.0.1:9742", "bad metrics_listen "
		    "'tcp://127.0.0.1:9742': want HOST:PORT, such as "
		    "127.0.0.1:9742" },
		{ "127.0.0.1:0", "bad metrics_listen '127.0.0.1:0': port must "
		    "be a number from 1 to 65535" },
		{ "127.0.0.1:http", "bad metrics_listen '127.0.0.1:http': port "
		    "must be a number from 1 to 65535" },
	};
	struct halle_config	 cfg;
	char			 path[PATH_MAX], err[1024];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		node_conf(path, sizeof(path), "metrics_listen", good[i]);
		if (config_load(&cfg, path, err, sizeof(err)) == -1)
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(cfg.metrics_listen, good[i]);
		config_free(&cfg);
		unlink(path);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		node_conf(path, sizeof(path), "metrics_listen", bad[i].value);
		load_fails_path(path, 7, bad[i].reason);
		unlink(path);
	}
}

/* dfc_base: an http(s) IRI, given its final slash when it has none. */
static void
test_dfc_base(void **state)
{
	static const struct { const char *value, *kept; } good[] = {
		{ "https://halle.example-commune.fr/dfc/",
		  "https://halle.example-commune.fr/dfc/" },
		{ "http://127.0.0.1:8080/dfc", "http://127.0.0.1:8080/dfc/" },
	};
	static const char *const bad[] = { "halle.example.fr/dfc/",
	    "https://", "ftp://example.fr/", "https://example.fr/a b/",
	    "https://example.fr/dfc/#", "https://example.fr/\"x\"/" };
	struct halle_config	 cfg;
	char			 path[PATH_MAX], err[1024], reason[256];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		node_conf(path, sizeof(path), "dfc_base", good[i].value);
		if (config_load(&cfg, path, err, sizeof(err)) == -1)
			fail_msg("%s: %s", good[i].value, err);
		assert_string_equal(cfg.dfc_base, good[i].kept);
		config_free(&cfg);
		unlink(path);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		node_conf(path, sizeof(path), "dfc_base", bad[i]);
		snprintf(reason, sizeof(reason), "bad dfc_base '%s': want an "
		    "http or https IRI such as https://halle.example.fr/dfc/",
		    bad[i]);
		load_fails_path(path, 7, reason);
		unlink(path);
	}
}

/* events_keep: a whole number from 1 to 100000000. */
static void
test_events_keep(void **state)
{
	static const char *const bad[] = { "0", "100000001", "-5", "1e3",
	    "10 events", "99999999999999999999999" };
	struct halle_config	 cfg;
	char			 path[PATH_MAX], err[1024], reason[256];
	size_t			 i;

	node_conf(path, sizeof(path), "events_keep", "250");
	if (config_load(&cfg, path, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(cfg.events_keep, 250);
	config_free(&cfg);
	unlink(path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		node_conf(path, sizeof(path), "events_keep", bad[i]);
		snprintf(reason, sizeof(reason), "bad events_keep '%s': want a "
		    "whole number from 1 to 100000000", bad[i]);
		load_fails_path(path, 7, reason);
		unlink(path);
	}
}

/*
 * A NUL byte inside a line (found by fuzz_config): the reader lost track
 * of lines, so the next section header went unnoticed and a [peer]'s key
 * was stored through peers[-1]. The file is refused, naming the line.
 */
static void
test_nul_byte(void **state)
{
	static const char text[] = "; a comment\0with a NUL byte\n"
	    "[peer b]\n"
	    "key = 2466d03dec5e996ab99416b75e1a80301d8f5f429ceab2638de95007eec"
	    "d84c1\n";
	const char	*tmp = getenv("TMPDIR");
	char		 path[PATH_MAX];
	int		 fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/halle-test-config.XXXXXX",
	    tmp && tmp[0] ? tmp : "/tmp");
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	close(fd);
	load_fails_path(path, 1, "a NUL byte in the line");
	unlink(path);
}

static void
key_from_hex(unsigned char key[KEY_PUBLIC_LEN], const char *hex)
{
	assert_int_equal(hex_decode(key, KEY_PUBLIC_LEN, hex), 0);
}

static void
assert_peer(const struct halle_config *cfg, size_t i, const char *name,
    const char *key_hex, const char *endpoint, int line)
{
	const struct config_peer	*peer = &cfg->peers[i];
	unsigned char			 key[KEY_PUBLIC_LEN];

	assert_true(i < cfg->npeers);
	assert_string_equal(peer->name, name);
	assert_string_equal(peer->key_hex, key_hex);
	key_from_hex(key, key_hex);
	assert_memory_equal(peer->key, key, KEY_PUBLIC_LEN);
	if (endpoint == NULL)
		assert_null(peer->endpoint);
	else
		assert_string_equal(peer->endpoint, endpoint);
	assert_int_equal(peer->line, line);
	assert_ptr_equal(config_peer_by_name(cfg, name), peer);
	assert_ptr_equal(config_peer_by_key(cfg, key), peer);
}

/* Members are given as pairs of name and index in cfg->peers. */
static void
assert_grouping(const struct halle_config *cfg, size_t i, const char *name,
    int line, size_t nmembers, ...)
{
	const struct config_grouping	*g = &cfg->groupings[i];
	va_list				 ap;
	size_t				 j;

	assert_true(i < cfg->ngroupings);
	assert_string_equal(g->name, name);
	assert_int_equal(g->line, line);
	assert_int_equal(g->nmembers, nmembers);
	va_start(ap, nmembers);
	for (j = 0; j < nmembers; j++) {
		assert_string_equal(g->members[j], va_arg(ap, const char *));
		assert_int_equal(g->member_peers[j], va_arg(ap, int));
	}
	va_end(ap);
}

/*
 * Peers B, C, D and L; groupings pays-de-foo {B, C} and L's {C, L}, which
 * overlap in C. D is in no grouping. This node, NULL, is in both.
 */
static void
test_peers(void **state)
{
	struct halle_config	cfg;
	char			path[PATH_MAX];
	unsigned char		b[KEY_PUBLIC_LEN], c[KEY_PUBLIC_LEN];
	unsigned char		d[KEY_PUBLIC_LEN], l[KEY_PUBLIC_LEN];
	unsigned char		unknown[KEY_PUBLIC_LEN];

	load_ok(&cfg, "peers.conf", path, sizeof(path));
	assert_string_equal(cfg.name, "commune-a");
	assert_string_equal(cfg.listen, "tcp://*:7420");

	assert_int_equal(cfg.npeers, 4);
	assert_peer(&cfg, 0, "commune-b", KEY_B, "tcp://127.0.0.1:7421", 10);
	assert_peer(&cfg, 1, "commune-c", KEY_C,
	    "ipc:///run/halle/commune-c.sock", 17);
	assert_peer(&cfg, 2, "commune-d", KEY_D, NULL, 22);
	assert_peer(&cfg, 3, LONG_NAME, KEY_L, NULL, 25);
	assert_null(config_peer_by_name(&cfg, "commune-a"));
	assert_null(config_peer_by_name(&cfg, "commune"));
	assert_null(config_peer_by_name(&cfg, "pays-de-foo"));

	assert_int_equal(cfg.ngroupings, 2);
	assert_grouping(&cfg, 0, "pays-de-foo", 14, 2, "commune-b", 0,
	    "commune-c", 1);
	assert_grouping(&cfg, 1, LONG_NAME, 28, 2, "commune-c", 1,
	    LONG_NAME, 3);

	key_from_hex(b, KEY_B);
	key_from_hex(c, KEY_C);
	key_from_hex(d, KEY_D);
	key_from_hex(l, KEY_L);
	memset(unknown, 0x5a, sizeof(unknown));
	assert_null(config_peer_by_key(&cfg, unknown));

	/* This node and each peer. */
	assert_int_equal(config_shares_grouping(&cfg, NULL, NULL), 1);
	assert_int_equal(config_shares_grouping(&cfg, NULL, b), 1);
	assert_int_equal(config_shares_grouping(&cfg, c, NULL), 1);
	assert_int_equal(config_shares_grouping(&cfg, NULL, l), 1);
	assert_int_equal(config_shares_grouping(&cfg, NULL, d), 0);
	assert_int_equal(config_shares_grouping(&cfg, d, NULL), 0);
	assert_int_equal(config_shares_grouping(&cfg, NULL, unknown), 0);
	/* Two peers, both ways round. */
	assert_int_equal(config_shares_grouping(&cfg, b, c), 1);
	assert_int_equal(config_shares_grouping(&cfg, c, b), 1);
	assert_int_equal(config_shares_grouping(&cfg, c, l), 1);
	assert_int_equal(config_shares_grouping(&cfg, l, c), 1);
	assert_int_equal(config_shares_grouping(&cfg, b, l), 0);
	assert_int_equal(config_shares_grouping(&cfg, l, b), 0);
	assert_int_equal(config_shares_grouping(&cfg, b, d), 0);
	assert_int_equal(config_shares_grouping(&cfg, d, c), 0);
	assert_int_equal(config_shares_grouping(&cfg, b, unknown), 0);
	/* A peer and itself: only when it is in some grouping. */
	assert_int_equal(config_shares_grouping(&cfg, b, b), 1);
	assert_int_equal(config_shares_grouping(&cfg, d, d), 0);

	config_free(&cfg);
	assert_config_empty(&cfg);
	config_free(&cfg);
	assert_config_empty(&cfg);
}

static void
test_peer_bad_name(void **state)
{
	load_fails("peer-no-name.conf", 9, "bad peer name '': " NAME_RULE);
	load_fails("peer-bad-name.conf", 9,
	    "bad peer name 'Commune_B': " NAME_RULE);
	load_fails("peer-name-long.conf", 9,
	    "bad peer name '" LONG_NAME "x': " NAME_RULE);
	load_fails("grouping-bad-name.conf", 12,
	    "bad grouping name '-pays': " NAME_RULE);
}

static void
test_peer_bad_key(void **state)
{
	load_fails("peer-bad-key.conf", 10, "bad key for peer 'commune-b': "
	    "want the 64 hex digits that halled --show-id prints");
	load_fails("peer-bad-key-hex.conf", 9, "bad key for peer 'commune-b': "
	    "want the 64 hex digits that halled --show-id prints");
}

/* Upper and lower case are the same key. */
static void
test_peer_duplicate_key(void **state)
{
	load_fails("peer-duplicate-key.conf", 13,
	    "key of peer 'commune-c' is already the key of peer 'commune-b'");
}

static void
test_peer_no_key(void **state)
{
	load_fails("peer-no-key.conf", 12, "peer 'commune-c' has no key");
}

static void
test_peer_bad_endpoint(void **state)
{
	load_fails("peer-bad-endpoint.conf", 10, "bad endpoint "
	    "'udp://127.0.0.1:7421': want tcp://HOST:PORT or ipc://PATH");
	load_fails("peer-endpoint-star.conf", 10, "bad endpoint "
	    "'tcp://*:7421': '*' is for listening; give the peer's host");
}

/* A section name twice, apart or one after the other. */
static void
test_duplicate_section(void **state)
{
	load_fails("peer-duplicate.conf", 15,
	    "duplicate section [peer commune-b]");
	load_fails("peer-duplicate-adjacent.conf", 11,
	    "duplicate section [peer commune-b]");
	load_fails("grouping-duplicate.conf", 15,
	    "duplicate section [grouping pays-de-foo]");
}

static void
test_peer_keys(void **state)
{
	load_fails("peer-unknown-key.conf", 10,
	    "unknown key 'address' in [peer commune-b]");
	load_fails("peer-duplicate-entry.conf", 10,
	    "duplicate key 'key' in [peer commune-b]");
	load_fails("grouping-unknown-key.conf", 12,
	    "unknown key 'name' in [grouping pays-de-foo]");
}

static void
test_peer_self(void **state)
{
	load_fails("peer-self.conf", 9,
	    "peer 'commune-a' has the name of this node");
}

static void
test_grouping_members(void **state)
{
	load_fails("grouping-unknown-member.conf", 12, "grouping "
	    "'pays-de-foo': member 'commune-x' has no [peer commune-x] "
	    "section");
	load_fails("grouping-member-twice.conf", 15,
	    "grouping 'pays-de-foo': member 'commune-b' is listed twice");
	load_fails("grouping-empty-member.conf", 15, "grouping 'pays-de-foo': "
	    "empty member name in 'commune-b, , commune-c'");
	load_fails("grouping-trailing-comma.conf", 12, "grouping "
	    "'pays-de-foo': empty member name in 'commune-b,'");
	load_fails("grouping-members-empty.conf", 9,
	    "'members' must not be empty");
}

/* [node] is last in the file: members are checked after parsing. */
static void
test_grouping_self(void **state)
{
	load_fails("grouping-self.conf", 6, "grouping 'pays-de-foo': "
	    "'commune-a' is this node; it is a member of every grouping it "
	    "declares");
}

static void
test_unknown_key(void **state)
{
	load_fails("unknown-key.conf", 7, "unknown key 'colour' in [node]");
}

/* inih reports no section lines: the line is that of the first key in it. */
static void
test_unknown_section(void **state)
{
	load_fails("unknown-section.conf", 9, "unknown section [market]");
	load_fails("unknown-section-named.conf", 9,
	    "unknown section [node commune-b]");
}

static void
test_outside_section(void **state)
{
	load_fails("outside-section.conf", 1,
	    "key 'name' is outside any section");
}

static void
test_duplicate_key(void **state)
{
	load_fails("duplicate-key.conf", 7, "duplicate key 'name' in [node]");
}

static void
test_empty_value(void **state)
{
	load_fails("empty-data-dir.conf", 3, "'data_dir' must not be empty");
}

/* The Debian package ships name empty: halled must say what to do. */
static void
test_empty_name(void **state)
{
	load_fails("empty-value.conf", 2, "name is empty: set the node's "
	    "name on this line (1 to 63 characters of a-z, 0-9 and '-'), "
	    "the name its peers will know it by");
}

static void
test_bad_name(void **state)
{
	load_fails("bad-name.conf", 2, "bad name 'Commune_A': want 1 to 63 "
	    "characters of a-z, 0-9 and '-', not starting with '-'");
	load_fails("bad-name-dash.conf", 2, "bad name '-commune': want 1 to 63 "
	    "characters of a-z, 0-9 and '-', not starting with '-'");
	load_fails("bad-name-long.conf", 2, "bad name "
	    "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn': "
	    "want 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'");
}

static void
test_bad_control(void **state)
{
	load_fails("bad-control.conf", 5,
	    "control socket path too long (108 bytes, at most 107)");
}

static void
test_bad_listen(void **state)
{
	load_fails("bad-listen.conf", 6, "bad listen 'udp://0.0.0.0:7420': "
	    "want tcp://HOST:PORT or ipc://PATH");
	load_fails("bad-listen-port.conf", 6, "bad listen "
	    "'tcp://0.0.0.0:70000': port must be a number from 1 to 65535");
	load_fails("bad-listen-ipv6.conf", 6, "bad listen 'tcp://::1:7420': "
	    "want tcp://HOST:PORT or ipc://PATH");
}

static void
test_bad_timezone(void **state)
{
	load_fails("bad-timezone.conf", 7,
	    "unknown time zone 'Mars/Olympus_Mons'");
	load_fails("bad-timezone-escape.conf", 7,
	    "unknown time zone '../../../etc/passwd'");
	load_fails("bad-timezone-absolute.conf", 7,
	    "unknown time zone '/usr/share/zoneinfo/Europe/Paris'");
	load_fails("bad-timezone-table.conf", 7,
	    "unknown time zone 'zone.tab'");
}

static void
test_bad_log_level(void **state)
{
	load_fails("bad-log-level.conf", 7, "unknown log level 'verbose': "
	    "want debug, info, warn or error");
}

static void
test_bad_map_size(void **state)
{
	load_fails("bad-map-size.conf", 7, "bad map_size_mb '1048577': "
	    "want a whole number from 1 to 1048576");
	load_fails("bad-map-size-unit.conf", 7, "bad map_size_mb '64M': "
	    "want a whole number from 1 to 1048576");
}

static void
test_missing_key(void **state)
{
	load_fails("missing-key.conf", 0, "missing 'listen' in [node]");
	load_fails("missing-several.conf", 0, "missing 'name' in [node]");
	load_fails("empty.conf", 0, "missing 'name' in [node]");
}

static void
test_unreadable(void **state)
{
	load_fails("no-such-file.conf", 0,
	    "cannot open: No such file or directory");
	/* fopen accepts a directory; reading it fails. */
	load_fails_path(data_dir, 0, "cannot read: Is a directory");
}

/* The syntax error comes first; the unknown key after it is not reached. */
static void
test_syntax_error(void **state)
{
	load_fails("syntax-error.conf", 4, "syntax error");
	load_fails("syntax-error-section.conf", 1, "syntax error");
}

static void
test_error_truncated(void **state)
{
	struct halle_config	cfg;
	char			path[PATH_MAX], err[8];

	fixture_path(path, sizeof(path), "unknown-key.conf");
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(config_load(&cfg, path, NULL, 0), -1);
	assert_config_empty(&cfg);
}

static void
test_log_level_parse(void **state)
{
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info"), LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("warn"), LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("INFO"), -1);
	assert_int_equal(log_level_parse("warning"), -1);
	assert_int_equal(log_level_parse(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_dfc_base),
		cmocka_unit_test(test_events_keep),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_peer_bad_name),
		cmocka_unit_test(test_peer_bad_key),
		cmocka_unit_test(test_peer_duplicate_key),
		cmocka_unit_test(test_peer_no_key),
		cmocka_unit_test(test_peer_bad_endpoint),
		cmocka_unit_test(test_duplicate_section),
		cmocka_unit_test(test_peer_keys),
		cmocka_unit_test(test_peer_self),
		cmocka_unit_test(test_grouping_members),
		cmocka_unit_test(test_grouping_self),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_outside_section),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_empty_name),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_bad_control),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_bad_timezone),
		cmocka_unit_test(test_bad_log_level),
		cmocka_unit_test(test_bad_map_size),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_log_level_parse),
	};

	return cmocka_run_group_tests(tests, setup_data_dir, NULL);
}
