/*
 * notify: see notify.h. The protocol is sd_notify(3)'s: one datagram a
 * message, sent from the main process (systemd reads the sender's pid from
 * the socket's credentials, NotifyAccess=main). The socket is non-blocking:
 * a manager that does not read loses messages, it never stalls the loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct {
	int			 fd;
	struct sockaddr_un	 addr;
	socklen_t		 addrlen;
	struct event		*watchdog;
	int			 failing;	/* the last send failed */
} notifier = { .fd = -1 };

/* Sets notifier.addr from $NOTIFY_SOCKET. 0, or -1 when unusable. */
static int
notify_address(const char *name)
{
	size_t len = strlen(name);

	if ((name[0] != '/' && name[0] != '@') ||
	    len >= sizeof(notifier.addr.sun_path)) {
		log_warnx("notify: NOTIFY_SOCKET=%s: not a Unix socket path or "
		    "@abstract name of at most %zu bytes; not notifying", name,
		    sizeof(notifier.addr.sun_path) - 1);
		return -1;
	}
	memset(&notifier.addr, 0, sizeof(notifier.addr));
	notifier.addr.sun_family = AF_UNIX;
	memcpy(notifier.addr.sun_path, name, len);
	if (name[0] == '@')
		notifier.addr.sun_path[0] = '\0';
	notifier.addrlen = offsetof(struct sockaddr_un, sun_path) + len;
	return 0;
}

static void
notify_send(const char *message)
{
	if (notifier.fd == -1)
		return;
	if (sendto(notifier.fd, message, strlen(message), MSG_NOSIGNAL,
	    (struct sockaddr *)&notifier.addr, notifier.addrlen) == -1) {
		if (!notifier.failing)
			log_warn("notify: cannot tell the service manager");
		notifier.failing = 1;
		return;
	}
	notifier.failing = 0;
}

static void
notify_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify_send("WATCHDOG=1");
}

/* Starts the WATCHDOG=1 timer when systemd asks for it. 0 or -1. */
static int
notify_watchdog_start(struct event_base *base)
{
	const char *usec_text = getenv("WATCHDOG_USEC");
	const char *pid_text = getenv("WATCHDOG_PID");
	unsigned long long usec;
	struct timeval half;
	char *end;

	if (usec_text == NULL)
		return 0;
	if (pid_text != NULL && strtol(pid_text, NULL, 10) != (long)getpid())
		return 0;	/* meant for another process */
	errno = 0;
	usec = strtoull(usec_text, &end, 10);
	if (errno != 0 || end == usec_text || *end != '\0' || usec == 0) {
		log_warnx("notify: WATCHDOG_USEC=%s: not a positive number of "
		    "microseconds; no watchdog", usec_text);
		return -1;
	}
	half.tv_sec = (time_t)(usec / 2 / 1000000);
	half.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	notifier.watchdog = event_new(base, -1, EV_PERSIST, notify_watchdog,
	    NULL);
	if (notifier.watchdog == NULL ||
	    event_add(notifier.watchdog, &half) == -1) {
		log_warnx("notify: cannot start the watchdog timer");
		if (notifier.watchdog != NULL)
			event_free(notifier.watchdog);
		notifier.watchdog = NULL;
		return -1;
	}
	log_debug("notify: watchdog every %llu ms", usec / 2 / 1000);
	return 0;
}

int
notify_init(struct event_base *base)
{
	const char *name = getenv("NOTIFY_SOCKET");

	if (name == NULL || name[0] == '\0')
		return 0;
	if (notify_address(name) == -1)
		return -1;
	notifier.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (notifier.fd == -1) {
		log_warn("notify: socket");
		return -1;
	}
	return notify_watchdog_start(base);
}

void
notify_ready(const char *fmt, ...)
{
	char status[512], message[640];
	va_list ap;

	if (notifier.fd == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	snprintf(message, sizeof(message), "READY=1\nSTATUS=%s\nMAINPID=%ld",
	    status, (long)getpid());
	notify_send(message);
}

void
notify_reloading(void)
{
	struct timespec now;
	char message[64];

	if (notifier.fd == -1)
		return;
	/* systemd 253+ asks for the time the reload began (notify-reload). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(message, sizeof(message), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)now.tv_sec * 1000000ULL +
	    (unsigned long long)now.tv_nsec / 1000ULL);
	notify_send(message);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_free(void)
{
	if (notifier.watchdog != NULL)
		event_free(notifier.watchdog);
	notifier.watchdog = NULL;
	if (notifier.fd != -1)
		close(notifier.fd);
	notifier.fd = -1;
}
