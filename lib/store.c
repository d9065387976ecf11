/*
 * store: see store.h. The only file that includes lmdb.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "log.h"
#include "store.h"

static const char *const db_names[STORE_NDB] = {
	"records", "feeds", "views", "index", "meta"
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[STORE_NDB];
	size_t		 map_size;
	int		 lock_fd;	/* holds STORE_LOCK_FILE's lock */
};

static int
mkdir_p(const char *dir)
{
	char path[4096], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Takes the write lock of dir/STORE_LOCK_FILE for as long as the store is
 * open, and writes this process's id into the file. LMDB lets several
 * processes open one environment; two daemons writing one node's feed
 * would fork it, so the second is refused, told who holds the lock. The
 * lock is a POSIX record lock: the kernel drops it when the process dies.
 */
static int
store_lock(const char *dir, int *fdp, char *err, size_t errlen)
{
	struct flock want = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock held = want;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_LOCK_FILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETLK, &want) == -1) {
		if ((errno == EACCES || errno == EAGAIN) &&
		    fcntl(fd, F_GETLK, &held) == 0 && held.l_type != F_UNLCK)
			snprintf(err, errlen, "%s: the store is in use by "
			    "another process (pid %ld, which holds %s); one "
			    "store serves one halled", dir, (long)held.l_pid,
			    path);
		else
			snprintf(err, errlen, "%s: cannot lock: %s", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == -1 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
		log_warn("store: %s: cannot write the pid", path);
	*fdp = fd;
	return 0;
}

static int
store_open_dbs(struct store *s, int readonly)
{
	MDB_txn *txn;
	int i, rc;

	if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		return rc;
	for (i = 0; i < STORE_NDB; i++) {
		rc = mdb_dbi_open(txn, db_names[i], readonly ? 0 : MDB_CREATE,
		    &s->dbi[i]);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	return mdb_txn_commit(txn);
}

int
store_open(struct store **sp, const char *dir, size_t map_size, char *err,
    size_t errlen)
{
	struct store *s;
	MDB_envinfo info;
	int rc;

	if (mkdir_p(dir) == -1) {
		snprintf(err, errlen, "%s: cannot create data directory: %s",
		    dir, strerror(errno));
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (store_lock(dir, &s->lock_fd, err, errlen) == -1) {
		free(s);
		return -1;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_NDB)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0 ||
	    (rc = store_open_dbs(s, 0)) != 0) {
		snprintf(err, errlen, "%s: cannot open store: %s", dir,
		    mdb_strerror(rc));
		if (s->env != NULL)
			mdb_env_close(s->env);
		close(s->lock_fd);
		free(s);
		return -1;
	}
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	*sp = s;
	return 0;
}

int
store_open_reader(struct store **sp, const char *dir, char *err,
    size_t errlen)
{
	struct store *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->lock_fd = -1;
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_NDB)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_RDONLY,
	    0600)) != 0 || (rc = store_open_dbs(s, 1)) != 0) {
		snprintf(err, errlen, "%s: cannot read store: %s", dir,
		    mdb_strerror(rc));
		if (s->env != NULL)
			mdb_env_close(s->env);
		free(s);
		return -1;
	}
	*sp = s;
	return 0;
}

void
store_close(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	mdb_env_close(s->env);
	if (s->lock_fd != -1)
		close(s->lock_fd);	/* releases the lock */
	free(s);
	*sp = NULL;
}

static int
store_grow(struct store *s)
{
	size_t bigger = s->map_size * 2;
	int rc;

	if ((rc = mdb_env_set_mapsize(s->env, bigger)) != 0)
		return rc;
	log_info("store: map grown from %zu to %zu KiB", s->map_size >> 10,
	    bigger >> 10);
	s->map_size = bigger;
	return 0;
}

static int
store_txn_begin(struct store *s, struct store_txn *t, unsigned flags)
{
	MDB_txn *txn;
	int rc;

	memset(t, 0, sizeof(*t));
	t->store = s;
	rc = mdb_txn_begin(s->env, NULL, flags, &txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, flags, &txn);
	}
	if (rc != 0)
		return rc;
	t->txn = txn;
	return 0;
}

int
store_write(struct store *s, store_write_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct store_txn t;
	int attempt, rc, fn_rc;

	for (attempt = 0; attempt < 16; attempt++) {
		if ((rc = store_txn_begin(s, &t, 0)) != 0)
			break;
		fn_rc = fn(&t, arg);
		if (t.ret != 0) {
			rc = t.ret;
			mdb_txn_abort(t.txn);
		} else if (fn_rc != 0) {
			mdb_txn_abort(t.txn);
			return -1;
		} else if ((rc = mdb_txn_commit(t.txn)) == 0)
			return 0;
		if (rc != MDB_MAP_FULL)
			break;
		if ((rc = store_grow(s)) != 0)
			break;
	}
	snprintf(err, errlen, "store write failed: %s", mdb_strerror(rc));
	log_warnx("%s", err);
	return -2;
}

int
store_read_begin(struct store *s, struct store_txn *t)
{
	return store_txn_begin(s, t, MDB_RDONLY) == 0 ? 0 : -1;
}

void
store_read_end(struct store_txn *t)
{
	if (t->txn != NULL)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
}

static int
sticky(struct store_txn *t, int rc)
{
	if (rc != 0 && t->ret == 0)
		t->ret = rc;
	return rc == 0 ? 0 : -1;
}

int
store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (t->ret != 0)
		return -1;
	rc = mdb_get(t->txn, t->store->dbi[db], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (sticky(t, rc) == -1)
		return -1;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int
store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	if (t->ret != 0)
		return -1;
	return sticky(t, mdb_put(t->txn, t->store->dbi[db], &k, &v, 0));
}

int
store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (t->ret != 0)
		return -1;
	rc = mdb_del(t->txn, t->store->dbi[db], &k, NULL);
	return sticky(t, rc == MDB_NOTFOUND ? 0 : rc);
}

int
store_scan(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, store_scan_fn fn, void *arg)
{
	return store_scan_from(t, db, prefix, plen, prefix, plen, fn, arg);
}

int
store_scan_from(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, const void *from, size_t flen, store_scan_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { flen, (void *)from }, v;
	int rc, fn_rc = 0;

	if (t->ret != 0)
		return -1;
	if (sticky(t, mdb_cursor_open(t->txn, t->store->dbi[db], &cur)) == -1)
		return -1;
	rc = mdb_cursor_get(cur, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((fn_rc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    arg)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sticky(t, rc);
	return fn_rc == -1 ? -1 : 0;
}

size_t
store_entries(struct store_txn *t, enum store_db db)
{
	MDB_stat	 st;

	if (t->ret != 0 || sticky(t, mdb_stat(t->txn, t->store->dbi[db],
	    &st)) == -1)
		return 0;
	return st.ms_entries;
}

void
store_usage(struct store *s, size_t *used, size_t *map_size)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
	*map_size = info.me_mapsize;
}

int
store_backup(struct store *s, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	int fd, rc;

	if (mkdir_p(dir) == -1) {
		snprintf(err, errlen, "%s: cannot create directory: %s", dir,
		    strerror(errno));
		return -1;
	}
	/*
	 * The copy is as private as the store: 0600 whatever the umask
	 * (mdb_env_copy2 would create it 0666 less the umask).
	 */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT)) != 0 ||
	    (rc = fsync(fd) == -1 ? errno : 0) != 0) {
		snprintf(err, errlen, "%s: backup failed: %s", dir,
		    mdb_strerror(rc));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
