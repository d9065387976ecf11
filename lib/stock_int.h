/*
 * stock_int: what stock.c and stock_work.c share: the stored row of one
 * market's rights and the builder of StockRights records. Not for use
 * outside lib/stock*.c.
 */
#ifndef HALLE_STOCK_INT_H
#define HALLE_STOCK_INT_H

#include "dbkey.h"
#include "ids.h"
#include "stock.h"

#define RIGHTS_GRANTED_ONCE	1	/* stock_row.flags: the home decided */
#define STOCK_MAX_TOTAL		1000000000ULL	/* the API's stock limit */

/* What is stored: the rights and a flag word. */
struct stock_row {
	struct stock_rights	 r;
	uint64_t		 flags;
};

static inline uint64_t
stock_sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static inline uint64_t
stock_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A row (zeroes when absent; 0, or -1 on a store error) and its write. */
int	stock_row_get(struct store_txn *t, const char *producer,
	    const char *date, const char *sku, const char *market,
	    struct stock_row *row);
int	stock_row_put(struct store_txn *t, const char *producer,
	    const char *date, const char *sku, const char *market,
	    const struct stock_row *row);
/* Marks (producer, date) for stock_work. 0 or -1. */
int	stock_mark_due(struct store_txn *t, const char *producer,
	    const char *date);
/* 1 when key is this node's. */
int	stock_is_me(const struct node_txn *nt, const unsigned char *key);

/* Builds StockRights records: one per (producer, date). */
struct rights_out {
	Halle__StockRights	 sr;
	Halle__StockRight	*lines;
	Halle__StockRight      **ptrs;
	char		       (*skus)[DBKEY_SKU_MAX];
	char		       (*markets)[ID_MAX];
	size_t			 cap;
};

/* One StockRights record being built, with room for cap lines. 0 or -1. */
int	rights_out_init(struct rights_out *o, const char *producer,
	    const char *date, size_t cap);
void	rights_out_add(struct rights_out *o, const char *sku,
	    const char *market, uint64_t total, uint64_t recall);
void	rights_out_free(struct rights_out *o);
/* Appends the record if it has lines (then frees): 1, 0 if empty, -1. */
int	rights_out_write(struct node_txn *nt, struct rights_out *o,
	    uint32_t kind);

#endif
