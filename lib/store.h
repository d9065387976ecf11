/*
 * store: the node's LMDB environment, behind a small interface.
 *
 * Named databases:
 *   records   origin(32) || seq(8, big-endian)  ->  envelope bytes, exact
 *   feeds     origin(32)                        ->  feed head (feed.h)
 *   views     "<kind>:<id>"                     ->  current entity state
 *   index     "<kind>:<key>..."                 ->  secondary keys, counters
 *   meta      name                              ->  node facts
 *
 * Writes go through store_write(), which runs a callback inside one write
 * transaction and commits it durably (fsync) before returning: what it
 * reports committed survives kill -9. Like Knot's LMDB wrapper, a failed
 * operation leaves a sticky error in the transaction, so a callback can do
 * get/put/put and check once. When the map is full, store_write aborts,
 * doubles the map and runs the callback again from the start; callbacks
 * therefore keep their state in the transaction, not in memory.
 */
#ifndef HALLE_STORE_H
#define HALLE_STORE_H

#include <stddef.h>

enum store_db {
	STORE_RECORDS,
	STORE_FEEDS,
	STORE_VIEWS,
	STORE_INDEX,
	STORE_META,
	STORE_NDB
};

struct store;

struct store_txn {
	struct store	*store;
	void		*txn;		/* MDB_txn */
	int		 ret;		/* sticky: 0 or the first LMDB error */
};

/* The lock file of a store's directory: see store_open(). */
#define STORE_LOCK_FILE	"halled.lock"

/*
 * Opens (creating if needed, mode 0700) the store in dir with an initial map
 * of map_size bytes, or the size already on disk if larger. The process
 * holds dir/STORE_LOCK_FILE locked (with its pid inside) until
 * store_close(): while it does, store_open() on dir in any other process
 * fails, naming the holder's pid. 0, or -1 with the reason in err.
 */
int	store_open(struct store **sp, const char *dir, size_t map_size,
	    char *err, size_t errlen);
/*
 * Opens the store in dir to read it while the node that owns it runs (a
 * benchmark, a tool): read-only, and without the directory's lock. 0, or
 * -1 with the reason in err. Only store_read_begin() may be used on it.
 */
int	store_open_reader(struct store **sp, const char *dir, char *err,
	    size_t errlen);
void	store_close(struct store **sp);

/*
 * Runs fn(t, arg) in a write transaction. fn returns 0 to commit, -1 to
 * abort (having recorded its own reason). Returns 0 when committed
 * durably, -1 when fn aborted, -2 on a store failure (reason in err).
 */
typedef int (*store_write_fn)(struct store_txn *t, void *arg);
int	store_write(struct store *s, store_write_fn fn, void *arg, char *err,
	    size_t errlen);

/* A read-only snapshot; 0 or -1. End it with store_read_end(). */
int	store_read_begin(struct store *s, struct store_txn *t);
void	store_read_end(struct store_txn *t);

/*
 * 0 and the value (valid until the transaction ends) when found, 1 when
 * not, -1 on error (sticky).
 */
int	store_get(struct store_txn *t, enum store_db db, const void *key,
	    size_t klen, const void **val, size_t *vlen);
/* 0, or -1 on error (sticky). */
int	store_put(struct store_txn *t, enum store_db db, const void *key,
	    size_t klen, const void *val, size_t vlen);
/* 0 whether or not the key existed, or -1 on error (sticky). */
int	store_del(struct store_txn *t, enum store_db db, const void *key,
	    size_t klen);

/*
 * Calls fn for each key starting with prefix, in key order. fn returns 0 to
 * go on, 1 to stop, -1 to fail. Returns 0, or -1 when fn or the store failed.
 */
typedef int (*store_scan_fn)(const void *key, size_t klen, const void *val,
	    size_t vlen, void *arg);
int	store_scan(struct store_txn *t, enum store_db db, const void *prefix,
	    size_t plen, store_scan_fn fn, void *arg);
/* The same, from the first key at or after from (which starts with prefix). */
int	store_scan_from(struct store_txn *t, enum store_db db,
	    const void *prefix, size_t plen, const void *from, size_t flen,
	    store_scan_fn fn, void *arg);

/* The number of keys in db as t sees it; 0 on error (sticky). */
size_t	store_entries(struct store_txn *t, enum store_db db);

/* Bytes used by the data file and the current map size. */
void	store_usage(struct store *s, size_t *used, size_t *map_size);

/*
 * Writes a compacted copy of the store into the empty directory dir, as
 * dir/data.mdb, mode 0600 whatever the umask, synced to disk.
 */
int	store_backup(struct store *s, const char *dir, char *err,
	    size_t errlen);

#endif
