/*
 * fuzz_config: libFuzzer target for the configuration parser
 * (lib/config*.c): each input is written to a file that config_load()
 * reads, as halled reads its configuration at start and on reload. The
 * file is an in-memory one (memfd_create), read through /proc/self/fd:
 * nothing touches the disk.
 *
 * The target aborts when config_load fails without a message naming the
 * file, or succeeds with a configuration the parser's own contract
 * (config.h) forbids: a required key missing, a grouping with no member
 * or one naming no peer, two peers with one key.
 *
 * Run: fuzz_config CORPUS_DIR (seeds in tests/fuzz/corpus/config); see
 * tests/fuzz/CMakeLists.txt for the flags CI uses.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	fd = -1;
static char	file[64];	/* /proc/self/fd/N */

static void __attribute__((noreturn))
bug(const char *what, const char *reason)
{
	fprintf(stderr, "fuzz_config: BUG: %s (%s)\n", what, reason);
	abort();
}

static void
setup(void)
{
	log_init(LOG_LEVEL_ERROR, "fuzz");
	if ((fd = memfd_create("halle.conf", 0)) == -1) {
		perror("fuzz_config: memfd_create");
		exit(1);
	}
	snprintf(file, sizeof(file), "/proc/self/fd/%d", fd);
}

static void
write_file(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) == -1 || (size > 0 &&
	    pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror(file);
		exit(1);
	}
}

static void
check_loaded(const struct halle_config *cfg)
{
	size_t i, j, k;

	if (cfg->name == NULL || cfg->data_dir == NULL ||
	    cfg->key_file == NULL || cfg->control == NULL ||
	    cfg->listen == NULL || cfg->timezone == NULL)
		bug("a configuration without a required key", file);
	for (i = 0; i < cfg->npeers; i++)
		for (j = i + 1; j < cfg->npeers; j++)
			if (memcmp(cfg->peers[i].key, cfg->peers[j].key,
			    KEY_PUBLIC_LEN) == 0)
				bug("two peers with one key",
				    cfg->peers[i].name);
	for (i = 0; i < cfg->ngroupings; i++) {
		if (cfg->groupings[i].nmembers == 0)
			bug("a grouping without members",
			    cfg->groupings[i].name);
		for (k = 0; k < cfg->groupings[i].nmembers; k++)
			if (cfg->groupings[i].member_peers[k] >= cfg->npeers ||
			    config_peer_by_name(cfg,
			    cfg->groupings[i].members[k]) == NULL)
				bug("a grouping member that is no peer",
				    cfg->groupings[i].members[k]);
	}
	(void)config_shares_grouping(cfg, NULL, NULL);
	if (cfg->npeers > 0)
		(void)config_shares_grouping(cfg, cfg->peers[0].key,
		    cfg->peers[cfg->npeers - 1].key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct halle_config cfg;
	char err[512];

	if (!ready) {
		setup();
		ready = 1;
	}
	write_file(data, size);
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	if (config_load(&cfg, file, err, sizeof(err)) == -1) {
		if (strncmp(err, file, strlen(file)) != 0)
			bug("an error that does not name the file", err);
		return 0;
	}
	check_loaded(&cfg);
	config_free(&cfg);
	return 0;
}
