/* mtx_lines.h: the bulk parser of a MatrixMarket coordinate body (`row column value` lines), in C
 * with run-time CPU dispatch.
 *
 * A "plain" line is, within the 16 bytes from its start, 1–8 decimal digits, one space, 1–8
 * digits, one space, 1–8 digits and "\n" — what a counts matrix almost always holds. The parser
 * reads plain lines from `text` until the first line that is not plain (or that starts fewer
 * than 16 bytes before the end, or `max_lines` lines) and stops there, before that line, for the
 * caller's general parser; it never judges a line wrong. Values up to 8 digits are exact as
 * integers. The SSE4.1 variant classifies a line's 16 bytes at once and converts the row and
 * column together; `ck_mtx_lines_reference` is the plain byte-by-byte twin that tests compare it
 * with. The Swift caller is Sources/tokenize/MatrixMarketReader.swift.
 */
#ifndef SCGRN_MTX_LINES_H
#define SCGRN_MTX_LINES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Parses plain lines from text[0..<length]: line i gives rows[i], columns[i], values[i] (as
 * written, no range check). Returns the number of lines parsed (at most max_lines) and sets
 * *consumed to their bytes, newlines included. Uses the best variant this CPU runs. */
long ck_mtx_lines(const unsigned char *text, long length, unsigned *rows, unsigned *columns,
                  unsigned *values, long max_lines, long *consumed);

/* The same, one byte at a time: the reference. */
long ck_mtx_lines_reference(const unsigned char *text, long length, unsigned *rows, unsigned *columns,
                            unsigned *values, long max_lines, long *consumed);

/* 1 when ck_mtx_lines uses a vector variant (SSE4.1), 0 when it is the reference itself. */
int ck_mtx_lines_accelerated(void);

#ifdef __cplusplus
}
#endif

#endif
