/*
 * timeutil: see timeutil.h. Calendar arithmetic goes through mktime at
 * local noon, which is never inside a daylight-saving gap.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static const char *const weekday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

int
timeutil_set_timezone(const char *name)
{
	char path[512];
	FILE *f;

	if (name[0] == '/' || strstr(name, "..") != NULL)
		return -1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	fclose(f);
	setenv("TZ", name, 1);
	tzset();
	return 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_date_prefix(const char *s, struct civil_date *d)
{
	if (digits(s, 4, &d->year) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &d->month) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d->day) == -1)
		return -1;
	if (d->year < 1970 || d->year > 9999 || d->month < 1 ||
	    d->month > 12 || d->day < 1 ||
	    d->day > days_in_month(d->year, d->month))
		return -1;
	return 0;
}

int
timeutil_parse_date(const char *s, struct civil_date *d)
{
	if (strlen(s) != 10)
		return -1;
	return parse_date_prefix(s, d);
}

void
timeutil_format_date(const struct civil_date *d, char out[11])
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d->year % 10000u,
	    (unsigned)d->month % 100u, (unsigned)d->day % 100u);
}

int
timeutil_parse_hhmm(const char *s, uint32_t *minutes)
{
	int h, m;

	if (strlen(s) != 5 || digits(s, 2, &h) == -1 || s[2] != ':' ||
	    digits(s + 3, 2, &m) == -1 || h > 23 || m > 59)
		return -1;
	*minutes = (uint32_t)(h * 60 + m);
	return 0;
}

void
timeutil_format_hhmm(uint32_t minutes, char out[6])
{
	snprintf(out, 6, "%02u:%02u", (unsigned)(minutes / 60) % 100u,
	    (unsigned)minutes % 60u);
}

int
timeutil_parse_weekday(const char *s)
{
	int i;

	for (i = 0; i < 7; i++)
		if (strcasecmp(s, weekday_names[i]) == 0)
			return i;
	return -1;
}

const char *
timeutil_weekday_name(int weekday)
{
	return weekday >= 0 && weekday < 7 ? weekday_names[weekday] : "?";
}

static time_t
local_mktime(int year, int month, int day, int hour, int min, int sec)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int
timeutil_local_instant(const struct civil_date *d, uint32_t minutes, time_t *out)
{
	time_t t;

	t = local_mktime(d->year, d->month, d->day, (int)(minutes / 60),
	    (int)(minutes % 60), 0);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

void
timeutil_local_date(time_t t, struct civil_date *d)
{
	struct tm tm;

	localtime_r(&t, &tm);
	d->year = tm.tm_year + 1900;
	d->month = tm.tm_mon + 1;
	d->day = tm.tm_mday;
}

int
timeutil_weekday(const struct civil_date *d)
{
	struct tm tm;
	time_t t;

	t = local_mktime(d->year, d->month, d->day, 12, 0, 0);
	localtime_r(&t, &tm);
	return tm.tm_wday;
}

void
timeutil_add_days(struct civil_date *d, int days)
{
	time_t t;

	t = local_mktime(d->year, d->month, d->day + days, 12, 0, 0);
	timeutil_local_date(t, d);
}

int
timeutil_parse_instant(const char *s, time_t *out)
{
	struct civil_date d;
	const char *p;
	int h, m, sec = 0, oh, om, sign;
	time_t t;

	if (strlen(s) < 16 || parse_date_prefix(s, &d) == -1 ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) == -1 ||
	    s[13] != ':' || digits(s + 14, 2, &m) == -1 || h > 23 || m > 59)
		return -1;
	p = s + 16;
	if (*p == ':') {
		if (digits(p + 1, 2, &sec) == -1 || sec > 59)
			return -1;
		p += 3;
	}
	if (*p == '\0') {
		t = local_mktime(d.year, d.month, d.day, h, m, sec);
		if (t == (time_t)-1)
			return -1;
		*out = t;
		return 0;
	}
	if (strcmp(p, "Z") == 0) {
		oh = om = 0;
		sign = 1;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    digits(p + 1, 2, &oh) == 0 && p[3] == ':' &&
	    digits(p + 4, 2, &om) == 0 && oh <= 14 && om <= 59) {
		sign = *p == '-' ? -1 : 1;
	} else
		return -1;
	/* Days since the epoch of a proleptic Gregorian date. */
	{
		int y = d.year - (d.month <= 2);
		int era = y / 400;
		int yoe = y - era * 400;
		int doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 +
		    d.day - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		long long days = (long long)era * 146097 + doe - 719468;

		t = (time_t)(days * 86400 + h * 3600 + m * 60 + sec -
		    sign * (oh * 3600 + om * 60));
	}
	*out = t;
	return 0;
}

void
timeutil_format_instant(time_t t, char *out, size_t len)
{
	struct tm tm;
	long off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60,
	    labs(off) % 60);
}

int64_t
timeutil_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
