/*
 * ctl_csv: CSV as RFC 4180 writes it, for hallectl's --csv.
 *
 *   basket,producer,sku,product,quantity,pending,given\r\n
 *   "Panier 12, rue des Lilas",Ferme du Moulin,PAIN-1KG,Pain,2,no,\r\n
 *   "Le ""grand"" panier",Maraîcher Dupont,CAROTTES-1KG,Carottes,3,no,\r\n
 *
 * Lines end with CRLF, the last one too. A field is quoted when it holds
 * the separator, a double quote, CR or LF, and a double quote inside is
 * doubled; any other field goes as it is, so that an empty field is
 * empty. Text is UTF-8 as it came; the other control characters (not
 * tab, CR or LF) are replaced with '?', as hallectl's tables do, since a
 * name comes from the network and the file may well be shown on a
 * terminal. The separator is ',' unless --csv-sep says otherwise (';' for
 * spreadsheets set to French conventions).
 *
 * Writes go to a stdio stream; its errors are the caller's to check
 * (hallectl flushes stdout and checks it once, at the end).
 */
#ifndef HALLE_CTL_CSV_H
#define HALLE_CTL_CSV_H

#include <stddef.h>
#include <stdio.h>

struct ctl_csv {
	FILE	*out;
	char	 sep;
	size_t	 fields;		/* written on the current line */
};

/*
 * 0 and *sep when TEXT is a separator --csv-sep may take: one printable
 * ASCII byte other than the double quote, or a tab; never CR or LF. -1
 * otherwise.
 */
int	ctl_csv_sep_parse(const char *text, char *sep);

/* Starts writing CSV with the separator SEP on OUT. */
void	ctl_csv_init(struct ctl_csv *csv, FILE *out, char sep);

/* Writes one field of the current line (NULL is empty). */
void	ctl_csv_field(struct ctl_csv *csv, const char *text);

/* Ends the current line with CRLF. */
void	ctl_csv_line_end(struct ctl_csv *csv);

/* Writes a whole line of N fields. */
void	ctl_csv_line(struct ctl_csv *csv, const char *const *fields,
	    size_t n);

#endif
