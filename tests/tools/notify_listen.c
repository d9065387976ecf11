/*
 * notify_listen: stands in for systemd's end of $NOTIFY_SOCKET in the
 * notify test (tests/systemd.sh).
 *
 *   notify_listen [-n COUNT] [-t SECONDS] SOCKET
 *
 * Binds a Unix datagram socket at SOCKET (a path, or an abstract name
 * written with a leading '@') and prints each datagram it receives on one
 * line of stdout, its "KEY=VALUE" lines separated by tabs:
 *
 *   READY=1<TAB>STATUS=node a serving /tmp/x/control.sock<TAB>MAINPID=42
 *
 * It exits 0 after COUNT datagrams (default: no limit) or at SIGTERM, and
 * when SECONDS pass (default 60) with status 0 if no COUNT was given, 1 if
 * fewer than COUNT came. It removes SOCKET's file when it exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	stop = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Binds a datagram socket at name. The fd, or -1 with a message. */
static int
listen_at(const char *name)
{
	struct sockaddr_un sun;
	size_t len = strlen(name);
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sun.sun_path)) {
		fprintf(stderr, "notify_listen: %s: bad socket name\n", name);
		return -1;
	}
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		unlink(name);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun,
	    offsetof(struct sockaddr_un, sun_path) + len) == -1) {
		fprintf(stderr, "notify_listen: %s: %s\n", name,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Prints one datagram on one line, its newlines made tabs. */
static void
print_datagram(char *data, ssize_t n)
{
	ssize_t i;

	for (i = 0; i < n; i++)
		if (data[i] == '\n')
			data[i] = '\t';
	printf("%.*s\n", (int)n, data);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	struct pollfd pfd;
	char data[4096];
	long long count = -1, got = 0, end, left;
	double seconds = 60;
	ssize_t n;
	int ch, rc;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		switch (ch) {
		case 'n': count = atoll(optarg); break;
		case 't': seconds = atof(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if ((pfd.fd = listen_at(argv[optind])) == -1)
		return 2;
	pfd.events = POLLIN;
	end = now_ms() + (long long)(seconds * 1000);
	while (!stop && (count < 0 || got < count) &&
	    (left = end - now_ms()) > 0) {
		rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (rc <= 0)
			continue;
		if ((n = recv(pfd.fd, data, sizeof(data), 0)) > 0) {
			print_datagram(data, n);
			got++;
		}
	}
	close(pfd.fd);
	if (argv[optind][0] != '@')
		unlink(argv[optind]);
	return (count >= 0 && got < count && !stop) ? 1 : 0;
usage:
	fprintf(stderr, "usage: notify_listen [-n COUNT] [-t SECONDS] "
	    "SOCKET\n");
	return 2;
}
