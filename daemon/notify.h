/*
 * notify: tells the service manager how halled is doing, the way
 * sd_notify(3) does, without libsystemd.
 *
 * systemd (Type=notify) sets $NOTIFY_SOCKET to a Unix datagram socket, a
 * path or an abstract name written with a leading '@'; each state change is
 * one datagram of "KEY=VALUE" lines:
 *
 *   READY=1 STATUS=... MAINPID=...   the node serves (start, after a reload)
 *   RELOADING=1 MONOTONIC_USEC=...   SIGHUP: re-reading the configuration
 *   STOPPING=1                       SIGTERM or SIGINT: shutting down
 *   WATCHDOG=1                       every $WATCHDOG_USEC / 2, from the loop
 *
 * Without $NOTIFY_SOCKET every function does nothing: halled runs the same
 * under systemd, another supervisor or a shell. A message that cannot be
 * sent is logged and dropped; it never stops the daemon.
 */
#ifndef HALLE_NOTIFY_H
#define HALLE_NOTIFY_H

#include <event2/event.h>

/*
 * Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (honoured when $WATCHDOG_PID is
 * unset or is this process) and, when the watchdog is on, adds a timer to
 * base that sends WATCHDOG=1 every half period: a loop that stops turning
 * stops the pings, and systemd restarts the daemon. Call once, before the
 * loop runs. 0, or -1 when a variable is set but unusable (logged; halled
 * goes on without notifications, or without the watchdog).
 */
int	notify_init(struct event_base *base);

/*
 * READY=1, MAINPID and STATUS= the formatted text (one line, which
 * `systemctl status` shows). Also ends a reload.
 */
void	notify_ready(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* RELOADING=1: follow it with notify_ready when the reload is over. */
void	notify_reloading(void);

/* STOPPING=1: the daemon is shutting down. */
void	notify_stopping(void);

/* Stops the watchdog timer and closes the socket; before event_base_free. */
void	notify_free(void);

#endif
