/*
 * testutil: what the unit tests share: temporary directories for the real
 * stores they open, removed when done.
 */
#ifndef HALLE_TESTUTIL_H
#define HALLE_TESTUTIL_H

#include <stddef.h>

/* Removes path and everything under it; missing paths are fine. */
void	remove_tree(const char *path);

/*
 * Makes a new directory named name.XXXXXX under $TMPDIR (or /tmp) and
 * writes its path into dir; 0, or -1 when it cannot.
 */
int	make_temp_dir(char *dir, size_t len, const char *name);

#endif
