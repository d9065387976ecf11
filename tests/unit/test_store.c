/*
 * test_store: the LMDB store in a temporary directory.
 *
 * Values put are read back, deleted and scanned by prefix, and survive a
 * close and a reopen. A store opened with a map of a few pages grows when a
 * write fills it: the write is run again from the start in a fresh
 * transaction, so what is committed is exactly one run's worth. A store
 * another process holds open cannot be opened; a backup is private (0600)
 * whatever the umask.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "store.h"

#define KIB		((size_t)1024)
#define MIB		(KIB * KIB)
#define TINY_MAP	(64 * KIB)	/* 16 pages of 4 KiB */
#define BIG_VALUE	(100 * KIB)
#define BIG_COUNT	200		/* 200 x 100 KiB: 20 MB */

struct fixture {
	char		 dir[PATH_MAX];
	struct store	*store;
};

static void
open_store(struct fixture *f, size_t map_size)
{
	char err[512] = "";

	if (store_open(&f->store, f->dir, map_size, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	assert_non_null(f->store);
}

static void
reopen(struct fixture *f, size_t map_size)
{
	store_close(&f->store);
	assert_null(f->store);
	open_store(f, map_size);
}

static int
setup(void **state)
{
	struct fixture *f;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if (make_temp_dir(f->dir, sizeof(f->dir), "halle-test-store") == -1) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(&f->store);
	remove_tree(f->dir);
	free(f);
	return 0;
}

/* Runs fn in a write transaction that must commit. */
static void
write_ok(struct store *s, store_write_fn fn, void *arg)
{
	char err[512] = "";
	int rc;

	rc = store_write(s, fn, arg, err, sizeof(err));
	if (rc != 0)
		fail_msg("store_write returned %d: %s", rc, err);
}

/* 0 and a copy of the value, 1 when absent. */
static int
get_copy(struct store *s, enum store_db db, const char *key, char *out,
    size_t outlen)
{
	struct store_txn t;
	const void *v;
	size_t vlen;
	int rc;

	assert_int_equal(store_read_begin(s, &t), 0);
	rc = store_get(&t, db, key, strlen(key), &v, &vlen);
	assert_true(rc == 0 || rc == 1);
	if (rc == 0) {
		assert_true(vlen < outlen);
		memcpy(out, v, vlen);
		out[vlen] = '\0';
	}
	assert_int_equal(t.ret, 0);
	store_read_end(&t);
	assert_null(t.txn);
	return rc;
}

static void
assert_value(struct store *s, enum store_db db, const char *key,
    const char *want)
{
	char got[256];

	if (get_copy(s, db, key, got, sizeof(got)) != 0)
		fail_msg("%s: absent, want '%s'", key, want);
	assert_string_equal(got, want);
}

static void
assert_absent(struct store *s, enum store_db db, const char *key)
{
	char got[256];

	assert_int_equal(get_copy(s, db, key, got, sizeof(got)), 1);
}

/* Put, get, delete and scan */

static const char *const pairs[][2] = {
	{ "a:1", "one" }, { "a:2", "two" }, { "a:3", "three" },
	{ "a", "just a" }, { "a:", "a colon" }, { "ab", "a b" },
	{ "b:1", "b one" }, { "`", "before a" },
};
#define NPAIRS	(sizeof(pairs) / sizeof(pairs[0]))

static int
put_pairs(struct store_txn *t, void *arg)
{
	enum store_db db = *(enum store_db *)arg;
	size_t i;

	for (i = 0; i < NPAIRS; i++)
		store_put(t, db, pairs[i][0], strlen(pairs[i][0]), pairs[i][1],
		    strlen(pairs[i][1]) + 1);
	return 0;
}

static int
delete_some(struct store_txn *t, void *arg)
{
	/* One present, one absent: both are fine. */
	assert_int_equal(store_del(t, STORE_VIEWS, "a:2", 3), 0);
	assert_int_equal(store_del(t, STORE_VIEWS, "no such key", 11), 0);
	/* Overwrite one. */
	assert_int_equal(store_put(t, STORE_VIEWS, "a:3", 3, "THREE", 6), 0);
	return 0;
}

struct scan_ctx {
	char	 keys[16][16];
	size_t	 n;
	size_t	 stop_after;	/* 0: never */
	int	 fail;
};

static int
collect(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct scan_ctx *ctx = arg;

	if (ctx->fail)
		return -1;
	assert_true(ctx->n < 16 && klen < 16);
	memcpy(ctx->keys[ctx->n], key, klen);
	ctx->keys[ctx->n][klen] = '\0';
	ctx->n++;
	return ctx->stop_after != 0 && ctx->n == ctx->stop_after ? 1 : 0;
}

static int
scan(struct store *s, enum store_db db, const char *prefix,
    struct scan_ctx *ctx)
{
	struct store_txn t;
	int rc;

	assert_int_equal(store_read_begin(s, &t), 0);
	rc = store_scan(&t, db, prefix, prefix ? strlen(prefix) : 0, collect,
	    ctx);
	store_read_end(&t);
	return rc;
}

static void
test_put_get_del_scan(void **state)
{
	struct fixture *f = *state;
	struct scan_ctx ctx;
	enum store_db db = STORE_VIEWS;
	size_t i;

	open_store(f, 1 * MIB);
	write_ok(f->store, put_pairs, &db);
	for (i = 0; i < NPAIRS; i++)
		assert_value(f->store, STORE_VIEWS, pairs[i][0], pairs[i][1]);
	assert_absent(f->store, STORE_VIEWS, "a:4");
	assert_absent(f->store, STORE_VIEWS, "a:10");
	/* The databases are separate. */
	for (i = 0; i < NPAIRS; i++) {
		assert_absent(f->store, STORE_INDEX, pairs[i][0]);
		assert_absent(f->store, STORE_META, pairs[i][0]);
	}

	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, "a:", &ctx), 0);
	assert_int_equal(ctx.n, 4);
	assert_string_equal(ctx.keys[0], "a:");
	assert_string_equal(ctx.keys[1], "a:1");
	assert_string_equal(ctx.keys[2], "a:2");
	assert_string_equal(ctx.keys[3], "a:3");

	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, "a", &ctx), 0);
	assert_int_equal(ctx.n, 6);
	assert_string_equal(ctx.keys[0], "a");
	assert_string_equal(ctx.keys[5], "ab");

	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, "c", &ctx), 0);
	assert_int_equal(ctx.n, 0);
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_INDEX, "a", &ctx), 0);
	assert_int_equal(ctx.n, 0);

	/* No prefix: every key, in order. */
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, NULL, &ctx), 0);
	assert_int_equal(ctx.n, NPAIRS);
	assert_string_equal(ctx.keys[0], "`");
	assert_string_equal(ctx.keys[NPAIRS - 1], "b:1");

	/* The callback stops the scan (1) or fails it (-1). */
	memset(&ctx, 0, sizeof(ctx));
	ctx.stop_after = 2;
	assert_int_equal(scan(f->store, STORE_VIEWS, "a:", &ctx), 0);
	assert_int_equal(ctx.n, 2);
	memset(&ctx, 0, sizeof(ctx));
	ctx.fail = 1;
	assert_int_equal(scan(f->store, STORE_VIEWS, "a:", &ctx), -1);
	assert_int_equal(ctx.n, 0);

	write_ok(f->store, delete_some, NULL);
	assert_absent(f->store, STORE_VIEWS, "a:2");
	assert_value(f->store, STORE_VIEWS, "a:3", "THREE");
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, "a:", &ctx), 0);
	assert_int_equal(ctx.n, 3);

	/* Close and reopen: all there. */
	reopen(f, 1 * MIB);
	assert_value(f->store, STORE_VIEWS, "a:1", "one");
	assert_absent(f->store, STORE_VIEWS, "a:2");
	assert_value(f->store, STORE_VIEWS, "a:3", "THREE");
	assert_value(f->store, STORE_VIEWS, "b:1", "b one");
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(scan(f->store, STORE_VIEWS, NULL, &ctx), 0);
	assert_int_equal(ctx.n, NPAIRS - 1);
}

/* A snapshot does not see what is committed after it began. */
static int
put_late(struct store_txn *t, void *arg)
{
	return store_put(t, STORE_META, "late", 4, "yes", 4);
}

static void
test_snapshot(void **state)
{
	struct fixture *f = *state;
	struct store_txn t;
	const void *v;
	size_t vlen;

	open_store(f, 1 * MIB);
	assert_int_equal(store_read_begin(f->store, &t), 0);
	write_ok(f->store, put_late, NULL);
	assert_int_equal(store_get(&t, STORE_META, "late", 4, &v, &vlen), 1);
	store_read_end(&t);
	assert_value(f->store, STORE_META, "late", "yes");
}

/* Aborting */

struct abort_arg {
	int	 calls;
};

static int
put_then_abort(struct store_txn *t, void *arg)
{
	struct abort_arg *a = arg;

	a->calls++;
	assert_int_equal(store_put(t, STORE_META, "aborted", 7, "x", 2), 0);
	assert_int_equal(store_del(t, STORE_META, "kept", 4), 0);
	return -1;
}

static int
put_kept(struct store_txn *t, void *arg)
{
	return store_put(t, STORE_META, "kept", 4, "kept", 5);
}

/* A put refused by LMDB (an empty key) sticks; later calls do nothing. */
static int
put_then_bad(struct store_txn *t, void *arg)
{
	struct abort_arg *a = arg;
	const void *v;
	size_t vlen;

	a->calls++;
	assert_int_equal(store_put(t, STORE_META, "before", 6, "x", 2), 0);
	assert_int_equal(store_put(t, STORE_META, "", 0, "x", 2), -1);
	assert_int_not_equal(t->ret, 0);
	assert_int_equal(store_put(t, STORE_META, "after", 5, "x", 2), -1);
	assert_int_equal(store_get(t, STORE_META, "kept", 4, &v, &vlen), -1);
	assert_int_equal(store_del(t, STORE_META, "kept", 4), -1);
	return 0;	/* the sticky error wins over the callback's word */
}

static void
test_abort(void **state)
{
	struct fixture *f = *state;
	struct abort_arg a = { 0 };
	char err[512] = "";

	open_store(f, 1 * MIB);
	write_ok(f->store, put_kept, NULL);
	assert_int_equal(store_write(f->store, put_then_abort, &a, err,
	    sizeof(err)), -1);
	assert_int_equal(a.calls, 1);
	assert_absent(f->store, STORE_META, "aborted");
	assert_value(f->store, STORE_META, "kept", "kept");

	a.calls = 0;
	assert_int_equal(store_write(f->store, put_then_bad, &a, err,
	    sizeof(err)), -2);
	assert_int_equal(a.calls, 1);
	assert_true(strncmp(err, "store write failed: ", 20) == 0);
	assert_absent(f->store, STORE_META, "before");
	assert_absent(f->store, STORE_META, "after");
	assert_value(f->store, STORE_META, "kept", "kept");

	reopen(f, 1 * MIB);
	assert_absent(f->store, STORE_META, "aborted");
	assert_absent(f->store, STORE_META, "before");
	assert_value(f->store, STORE_META, "kept", "kept");
}

/* Growth */

static void
fill_value(unsigned char *buf, size_t len, unsigned seed)
{
	size_t i;
	uint32_t x = seed * 2654435761u + 1;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

struct big_arg {
	unsigned char	*buf;
	unsigned	 index;		/* one value: this one */
	unsigned	 count;		/* several values: 0..count-1 */
	int		 calls;
};

static void
big_key(char *key, size_t len, unsigned i)
{
	snprintf(key, len, "big:%04u", i);
}

static int
put_one_big(struct store_txn *t, void *arg)
{
	struct big_arg *a = arg;
	char key[32];

	a->calls++;
	big_key(key, sizeof(key), a->index);
	fill_value(a->buf, BIG_VALUE, a->index);
	return store_put(t, STORE_RECORDS, key, strlen(key), a->buf,
	    BIG_VALUE);
}

static void
assert_big_values(struct store *s, unsigned count, unsigned char *want)
{
	struct store_txn t;
	const void *v;
	size_t vlen;
	char key[32];
	unsigned i;

	assert_int_equal(store_read_begin(s, &t), 0);
	for (i = 0; i < count; i++) {
		big_key(key, sizeof(key), i);
		if (store_get(&t, STORE_RECORDS, key, strlen(key), &v,
		    &vlen) != 0)
			fail_msg("%s is missing", key);
		fill_value(want, BIG_VALUE, i);
		assert_int_equal(vlen, BIG_VALUE);
		assert_memory_equal(v, want, BIG_VALUE);
	}
	big_key(key, sizeof(key), count);
	assert_int_equal(store_get(&t, STORE_RECORDS, key, strlen(key), &v,
	    &vlen), 1);
	store_read_end(&t);
}

static int
count_keys(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t
big_count(struct store *s)
{
	struct store_txn t;
	size_t n = 0;

	assert_int_equal(store_read_begin(s, &t), 0);
	assert_int_equal(store_scan(&t, STORE_RECORDS, "big:", 4, count_keys,
	    &n), 0);
	store_read_end(&t);
	return n;
}

static void
test_tiny_map(void **state)
{
	struct fixture *f = *state;
	size_t used, map;

	open_store(f, TINY_MAP);
	store_usage(f->store, &used, &map);
	assert_int_equal(map, TINY_MAP);
	assert_true(used > 0 && used <= map);
}

static void
test_growth(void **state)
{
	struct fixture *f = *state;
	struct big_arg a = { NULL, 0, 0, 0 };
	unsigned char *want;
	size_t used, map, grown;
	unsigned i;

	a.buf = malloc(BIG_VALUE);
	want = malloc(BIG_VALUE);
	assert_non_null(a.buf);
	assert_non_null(want);
	open_store(f, TINY_MAP);
	for (i = 0; i < BIG_COUNT; i++) {
		a.index = i;
		write_ok(f->store, put_one_big, &a);
	}
	/* Some writes had to grow the map and run again. */
	assert_true(a.calls > BIG_COUNT);
	store_usage(f->store, &used, &grown);
	print_message("%d calls for %d writes; %zu bytes used, map %zu\n",
	    a.calls, BIG_COUNT, used, grown);
	assert_true(grown > TINY_MAP);
	assert_true(used >= (size_t)BIG_COUNT * BIG_VALUE);
	assert_true(used <= grown);
	/* Doubled each time: a power-of-two multiple of the first map. */
	assert_int_equal(grown % TINY_MAP, 0);
	assert_int_equal((grown / TINY_MAP) & (grown / TINY_MAP - 1), 0);
	assert_big_values(f->store, BIG_COUNT, want);

	/* Reopened with the tiny map, the store keeps the size it has. */
	reopen(f, TINY_MAP);
	store_usage(f->store, &used, &map);
	assert_true(map >= used);
	assert_true(used >= (size_t)BIG_COUNT * BIG_VALUE);
	assert_big_values(f->store, BIG_COUNT, want);
	assert_int_equal(big_count(f->store), BIG_COUNT);

	/* And it grows again when needed. */
	a.calls = 0;
	for (i = BIG_COUNT; i < BIG_COUNT + 20; i++) {
		a.index = i;
		write_ok(f->store, put_one_big, &a);
	}
	assert_true(a.calls >= 20);
	assert_big_values(f->store, BIG_COUNT + 20, want);
	free(a.buf);
	free(want);
}

/*
 * One write of many big values into a tiny map: it fills the map, is
 * aborted and run again in a bigger one. A counter kept in the store shows
 * that exactly one run was committed.
 */
static int
put_many_big(struct store_txn *t, void *arg)
{
	struct big_arg *a = arg;
	const void *v;
	size_t vlen;
	uint64_t runs = 0;
	unsigned i;
	char key[32];

	a->calls++;
	if (store_get(t, STORE_META, "runs", 4, &v, &vlen) == 0) {
		assert_int_equal(vlen, sizeof(runs));
		memcpy(&runs, v, sizeof(runs));
	}
	runs++;
	store_put(t, STORE_META, "runs", 4, &runs, sizeof(runs));
	for (i = 0; i < a->count; i++) {
		big_key(key, sizeof(key), i);
		fill_value(a->buf, BIG_VALUE, i);
		if (store_put(t, STORE_RECORDS, key, strlen(key), a->buf,
		    BIG_VALUE) == -1)
			return -1;	/* the sticky error says why */
	}
	return 0;
}

static void
test_retry_from_scratch(void **state)
{
	struct fixture *f = *state;
	struct big_arg a = { NULL, 0, 40, 0 };
	unsigned char *want;
	const void *v;
	struct store_txn t;
	size_t vlen, used, map;
	uint64_t runs;

	a.buf = malloc(BIG_VALUE);
	want = malloc(BIG_VALUE);
	assert_non_null(a.buf);
	assert_non_null(want);
	open_store(f, TINY_MAP);
	write_ok(f->store, put_many_big, &a);
	print_message("%d calls for one write of %u x %zu bytes\n", a.calls,
	    a.count, BIG_VALUE);
	assert_true(a.calls > 1);
	store_usage(f->store, &used, &map);
	assert_true(map > TINY_MAP);

	assert_int_equal(store_read_begin(f->store, &t), 0);
	assert_int_equal(store_get(&t, STORE_META, "runs", 4, &v, &vlen), 0);
	assert_int_equal(vlen, sizeof(runs));
	memcpy(&runs, v, sizeof(runs));
	assert_int_equal(runs, 1);
	store_read_end(&t);
	assert_int_equal(big_count(f->store), a.count);
	assert_big_values(f->store, a.count, want);

	/* Once more in the grown map: one run, the counter at 2. */
	a.calls = 0;
	write_ok(f->store, put_many_big, &a);
	assert_int_equal(big_count(f->store), a.count);
	assert_int_equal(store_read_begin(f->store, &t), 0);
	assert_int_equal(store_get(&t, STORE_META, "runs", 4, &v, &vlen), 0);
	memcpy(&runs, v, sizeof(runs));
	assert_int_equal(runs, 2);
	store_read_end(&t);

	reopen(f, TINY_MAP);
	assert_big_values(f->store, a.count, want);
	free(a.buf);
	free(want);
}

static void
test_open_fails(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char path[PATH_MAX + 32], err[512] = "";
	FILE *fp;

	/* The directory is a regular file. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(&s, path, MIB, err, sizeof(err)), -1);
	assert_null(s);
	assert_non_null(strstr(err, path));

	/* Nested directories are created. */
	snprintf(path, sizeof(path), "%s/a/b/c", f->dir);
	assert_int_equal(store_open(&s, path, MIB, err, sizeof(err)), 0);
	store_close(&s);
	assert_null(s);
	store_close(&s);
}

/*
 * A child process opens the store and holds it: store_open() here fails
 * and names the child's pid; once the child has exited it succeeds.
 */
static void
test_lock_other_process(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char err[512] = "", want[64], c = 0;
	int opened[2], quit[2], status;
	pid_t child;

	assert_int_equal(pipe(opened), 0);
	assert_int_equal(pipe(quit), 0);
	if ((child = fork()) == 0) {
		close(opened[0]);
		close(quit[1]);
		if (store_open(&s, f->dir, MIB, err, sizeof(err)) == -1)
			_exit(1);
		if (write(opened[1], "o", 1) != 1)
			_exit(1);
		(void)read(quit[0], &c, 1);	/* until the parent closes it */
		store_close(&s);
		_exit(0);
	}
	assert_true(child > 0);
	close(opened[1]);
	close(quit[0]);
	assert_int_equal(read(opened[0], &c, 1), 1);

	assert_int_equal(store_open(&s, f->dir, MIB, err, sizeof(err)), -1);
	assert_null(s);
	snprintf(want, sizeof(want), "pid %ld", (long)child);
	if (strstr(err, want) == NULL || strstr(err, f->dir) == NULL)
		fail_msg("the refusal does not name %s and %s: %s", f->dir,
		    want, err);

	close(quit[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(opened[0]);
	open_store(f, MIB);
}

/* Under umask 022, a backup into an existing directory is still 0600. */
static void
test_backup_private(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX + 32], file[PATH_MAX + 64], err[512] = "";
	struct stat st;
	mode_t old;
	int rc;

	open_store(f, MIB);
	snprintf(dir, sizeof(dir), "%s/backup", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	old = umask(022);
	rc = store_backup(f->store, dir, err, sizeof(err));
	umask(old);
	if (rc != 0)
		fail_msg("store_backup: %s", err);
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(st.st_size > 0);
	/* A second backup into the same directory is refused. */
	assert_int_equal(store_backup(f->store, dir, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_del_scan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_from_scratch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_private, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
