/*
 * progress: see progress.h. The line is formatted whole, then written
 * after a carriage return and padded with spaces over what the previous
 * line had more; stderr is unbuffered, so each redraw is one write.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define LABEL_WIDTH	16
#define BAR_WIDTH	24
#define MARKER		"<=>"

FILE *
progress_terminal(FILE *f)
{
	return (isatty(fileno(f)) ? f : NULL);
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* "12034" for counts, "512 B" or "1.5 MiB" for bytes. */
static char *
amount_format(char *buf, size_t len, enum progress_unit unit, uint64_t n)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB" };
	double			 v = (double)n;
	size_t			 u = 0;

	if (unit == PROGRESS_COUNT)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else if (n < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else {
		while ((v /= 1024) >= 1024 && u + 1 < sizeof(units) /
		    sizeof(units[0]))
			u++;
		snprintf(buf, len, "%.1f %s", v, units[u]);
	}
	return (buf);
}

/* The bar of DONE of TOTAL (> 0), and the share done in percent. */
static unsigned
bar_fill(char *bar, uint64_t done, uint64_t total)
{
	double		 share = (double)done / (double)total;
	size_t		 fill = (size_t)(share * BAR_WIDTH);
	unsigned	 percent = (unsigned)(share * 100);

	/* Rounding must not show as finished what is not. */
	if (done < total && fill == BAR_WIDTH)
		fill--;
	if (done < total && percent == 100)
		percent--;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	return (percent);
}

/* The marker of an unknown total, going back and forth with the redraws. */
static void
bar_marker(char *bar, unsigned redraws)
{
	size_t	 span = BAR_WIDTH - strlen(MARKER), at;

	at = redraws % (2 * span);
	if (at > span)
		at = 2 * span - at;
	memset(bar, ' ', BAR_WIDTH);
	memcpy(bar + at, MARKER, strlen(MARKER));
	bar[BAR_WIDTH] = '\0';
}

char *
progress_format(char *buf, size_t len, const char *label,
    enum progress_unit unit, const char *what, uint64_t done,
    uint64_t total, unsigned redraws)
{
	char		 bar[BAR_WIDTH + 1], d[32], t[32];
	const char	*sep = what != NULL ? " " : "";
	unsigned	 percent;

	if (what == NULL)
		what = "";
	if (total > 0) {
		if (done > total)
			done = total;
		percent = bar_fill(bar, done, total);
		snprintf(buf, len, "%-*s [%s] %3u%%  %s/%s%s%s", LABEL_WIDTH,
		    label, bar, percent, amount_format(d, sizeof(d), unit,
		    done), amount_format(t, sizeof(t), unit, total), sep,
		    what);
	} else {
		bar_marker(bar, redraws);
		snprintf(buf, len, "%-*s [%s]       %s%s%s", LABEL_WIDTH, label,
		    bar, amount_format(d, sizeof(d), unit, done), sep, what);
	}
	if (len > PROGRESS_LINE_MAX && strlen(buf) > PROGRESS_LINE_MAX)
		buf[PROGRESS_LINE_MAX] = '\0';
	return (buf);
}

void
progress_start(struct progress *p, FILE *out, const char *label,
    enum progress_unit unit, const char *what, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->label = label;
	p->unit = unit;
	p->what = what;
	p->total = total;
	p->drawn_ms = -1;
	p->interval_ms = PROGRESS_INTERVAL_MS;
}

static void
pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* Redraws the line, unless FORCE is 0 and it was redrawn just now. */
static void
draw(struct progress *p, int force)
{
	char	 line[PROGRESS_LINE_MAX + 1];
	int64_t	 now;
	size_t	 len;

	if (p->out == NULL)
		return;
	now = now_ms();
	if (!force && p->drawn_ms >= 0 &&
	    now - p->drawn_ms < p->interval_ms)
		return;
	progress_format(line, sizeof(line), p->label, p->unit, p->what,
	    p->done, p->total, p->redraws++);
	len = strlen(line);
	fprintf(p->out, "\r%s", line);
	if (p->width > len)
		pad(p->out, p->width - len);
	fflush(p->out);
	p->width = len;
	p->drawn_ms = now;
}

void
progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	p->done = done;
	p->total = total;
	draw(p, 0);
}

void
progress_clear(struct progress *p)
{
	if (p->out == NULL || p->width == 0)
		return;
	fputc('\r', p->out);
	pad(p->out, p->width);
	fputc('\r', p->out);
	fflush(p->out);
	p->width = 0;
	p->drawn_ms = -1;
}

void
progress_end(struct progress *p)
{
	if (p->out == NULL)
		return;
	draw(p, 1);
	fputc('\n', p->out);
	fflush(p->out);
	p->out = NULL;
}
