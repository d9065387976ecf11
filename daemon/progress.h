/*
 * progress: a progress bar on a terminal, for the long work an admin waits
 * for (halled --verify, hallectl backup). One line on stderr, redrawn in
 * place:
 *
 *   checking feeds  [##########..............]  41%  12034/29000 records
 *   writing backup  [########################] 100%  30.2 MiB/30.2 MiB
 *   writing backup  [       <=>              ]       12.0 MiB
 *
 * The last form is for a total not known: the amount done, and a marker
 * that moves at each redraw so that the line shows life. The line is
 * redrawn at most every PROGRESS_INTERVAL_MS (the work may report far more
 * often), and at the end, which draws the final state and a newline: a
 * finished bar stays on the screen as the work's last word.
 *
 * Off a terminal nothing is drawn at all, so that a script or a log sees
 * exactly what it saw before: progress_terminal() says where to draw, and
 * a bar started on NULL is silent. Other output meant for the same
 * terminal goes out after progress_clear(), which blanks the line; the
 * bar comes back at the next update.
 */
#ifndef HALLE_PROGRESS_H
#define HALLE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL_MS	100	/* between two redraws, at least */
#define PROGRESS_LINE_MAX	79	/* columns, so that no line wraps */

enum progress_unit {
	PROGRESS_COUNT,		/* "12034/29000 records" */
	PROGRESS_BYTES		/* "12.0 MiB/30.2 MiB" */
};

struct progress {
	FILE			*out;		/* NULL: draws nothing */
	const char		*label;		/* "checking feeds" */
	enum progress_unit	 unit;
	const char		*what;		/* "records", for counts */
	uint64_t		 done;
	uint64_t		 total;		/* 0: not known */
	int64_t			 drawn_ms;	/* last redraw; -1: none yet */
	int64_t			 interval_ms;	/* PROGRESS_INTERVAL_MS */
	unsigned		 redraws;	/* moves the unknown marker */
	size_t			 width;		/* of the line on screen */
};

/* F when it is a terminal, else NULL: where a bar may be drawn. */
FILE	*progress_terminal(FILE *f);

/*
 * Starts a bar on OUT (NULL: a silent one) for TOTAL units (0: not known)
 * of what UNIT and WHAT say. Nothing is drawn before the first update.
 * LABEL and WHAT must live as long as the bar.
 */
void	progress_start(struct progress *p, FILE *out, const char *label,
	    enum progress_unit unit, const char *what, uint64_t total);

/*
 * DONE units of TOTAL (0: not known) are done; redraws the line unless it
 * was redrawn less than PROGRESS_INTERVAL_MS ago.
 */
void	progress_update(struct progress *p, uint64_t done, uint64_t total);

/* Blanks the bar's line, for other output; it comes back at the update. */
void	progress_clear(struct progress *p);

/* Draws the bar as it stands and ends its line; the bar is then silent. */
void	progress_end(struct progress *p);

/*
 * The line of a bar of LABEL at DONE of TOTAL, written into buf (at most
 * PROGRESS_LINE_MAX columns); REDRAWS places the marker of an unknown
 * total. Returns buf. The renderer's whole look, for its tests.
 */
char	*progress_format(char *buf, size_t len, const char *label,
	    enum progress_unit unit, const char *what, uint64_t done,
	    uint64_t total, unsigned redraws);

#endif
