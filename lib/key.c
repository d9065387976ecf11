/*
 * key: creating, checking and loading the node's key file. See key.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "key.h"

static int
key_create(const char *path, char *err, size_t errlen)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char line[2 * crypto_sign_SEEDBYTES + 2];
	int fd;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot create key file: %s", path,
		    strerror(errno));
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	hex_encode(line, seed, sizeof(seed));
	sodium_memzero(seed, sizeof(seed));
	strcat(line, "\n");
	n = write(fd, line, strlen(line));
	sodium_memzero(line, sizeof(line));
	if (n != (ssize_t)(2 * crypto_sign_SEEDBYTES + 1) || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: cannot write key file: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

static int
key_read(struct node_key *key, const char *path, char *err, size_t errlen)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char buf[256];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: cannot open key file: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: key file is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: key file is accessible by group or "
		    "others (mode %04o): run chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read key file: %s", path,
		    strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (hex_decode(seed, sizeof(seed), buf) == -1) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen, "%s: key file does not hold a 64-digit "
		    "hex key", path);
		return -1;
	}
	sodium_memzero(buf, sizeof(buf));
	crypto_sign_seed_keypair(key->public_key, key->secret_key, seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

int
key_load_or_create(struct node_key *key, const char *path, int *created,
    char *err, size_t errlen)
{
	int absent;

	if (created != NULL)
		*created = 0;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	absent = access(path, F_OK) == -1 && errno == ENOENT;
	if (absent && key_create(path, err, errlen) == -1)
		return -1;
	if (key_read(key, path, err, errlen) == -1)
		return -1;
	if (created != NULL)
		*created = absent;
	return 0;
}
