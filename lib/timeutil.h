/*
 * timeutil: dates, times of day and instants in the node's time zone.
 *
 * A commune speaks local time: "Saturday 10:00, orders close Thursday
 * 20:00". The node sets the process time zone once at start (TZ, from the
 * configuration) and converts with mktime/localtime_r; instants are kept as
 * seconds since the epoch (UTC) everywhere else.
 */
#ifndef HALLE_TIMEUTIL_H
#define HALLE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct civil_date {
	int	year, month, day;	/* 2026, 1..12, 1..31 */
};

/* Makes name the process time zone; 0, or -1 when unknown. */
int	timeutil_set_timezone(const char *name);

/* "YYYY-MM-DD", a real calendar date; 0 or -1. */
int	timeutil_parse_date(const char *s, struct civil_date *d);
void	timeutil_format_date(const struct civil_date *d, char out[11]);
/* "HH:MM" into minutes after midnight (0..1439); 0 or -1. */
int	timeutil_parse_hhmm(const char *s, uint32_t *minutes);
void	timeutil_format_hhmm(uint32_t minutes, char out[6]);
/* "sun".."sat" into 0..6; -1 when none. */
int	timeutil_parse_weekday(const char *s);
const char *timeutil_weekday_name(int weekday);

/* The instant of a local date and time of day; 0 or -1. */
int	timeutil_local_instant(const struct civil_date *d, uint32_t minutes,
	    time_t *out);
/* The local date of an instant. */
void	timeutil_local_date(time_t t, struct civil_date *d);
/* 0 = Sunday ... 6 = Saturday. */
int	timeutil_weekday(const struct civil_date *d);
/* d + days, across months and years. */
void	timeutil_add_days(struct civil_date *d, int days);

/*
 * ISO 8601 instant: "YYYY-MM-DDTHH:MM[:SS]" followed by "Z", "+HH:MM" or
 * nothing (local time); 0 or -1.
 */
int	timeutil_parse_instant(const char *s, time_t *out);
/* "2026-12-05T10:00:00+01:00" in local time; out holds at least 26 bytes. */
void	timeutil_format_instant(time_t t, char *out, size_t len);

/* Milliseconds since the epoch, from the real-time clock. */
int64_t	timeutil_now_ms(void);

#endif
