/*
 * test_config: config_load against the fixture files in
 * $HALLE_TEST_DATA/config. Valid files are checked field by field; each bad
 * file must fail with one exact message, "FILE:LINE: reason" or
 * "FILE: reason", and leave the struct empty.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define MIB	((size_t)1 << 20)

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

static void
test_unknown_key(void **state)
{
	load_fails("unknown-key.conf", 7, "unknown key 'colour' in [node]");
}

/* inih reports no section lines: the line is that of the first key in it. */
static void
test_unknown_section(void **state)
{
	load_fails("unknown-section.conf", 9, "unknown section [peer]");
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
	load_fails("empty-value.conf", 2, "'name' must not be empty");
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
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_outside_section),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_empty_value),
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
