/*
 * log: one line per event on stderr, with a timestamp and a level.
 *
 *   2026-11-28T12:00:00Z info  control: listening on /run/halle/control.sock
 *
 * log_warn appends strerror(errno); log_warnx does not. log_fatalx logs at
 * error level and exits with 1.
 */
#ifndef HALLE_LOG_H
#define HALLE_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Parses "debug", "info", "warn", "error"; returns -1 if none. */
int	log_level_parse(const char *s);

void	log_init(enum log_level level, const char *progname);
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
