/*
 * testutil: see testutil.h.
 */
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

int
make_temp_dir(char *dir, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp",
	    name);
	return mkdtemp(dir) == NULL ? -1 : 0;
}
