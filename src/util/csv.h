/*
 * CSV cells for exports (RFC 4180) that are safe to open in a spreadsheet.
 * Exported text comes from stations and operators (station ids, id tokens,
 * stop reasons, meter values), and a cell such as =HYPERLINK(...) would run
 * as a formula in Excel or LibreOffice: text cells that start with = + - @,
 * a tab or a carriage return get a leading apostrophe (OWASP's advice).
 * Plain numbers ("-12.5") are left alone so they stay numbers.
 */
#ifndef AMPGRID_UTIL_CSV_H
#define AMPGRID_UTIL_CSV_H

#include "util/strbuf.h"

#include <stdbool.h>
#include <stdint.h>

/* Appends one cell (NULL = empty), quoted when it holds , " CR or LF, and
 * neutralised as above. sep: a ',' is written before it unless first. */
void csv_cell(strbuf_t *b, const char *v, bool first);
void csv_int(strbuf_t *b, int64_t v, bool first);
/* Ends a record (CRLF, as RFC 4180 says). */
void csv_end(strbuf_t *b);
/* Whether a cell is a plain decimal number (optional sign, digits, fraction,
 * exponent), which is written as is. */
bool csv_is_number(const char *v);

#endif
