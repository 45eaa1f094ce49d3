/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event file reader shared by print, sort, stats, pcap (doc/files.md §3, §4,
 * §6): events files and sorted series files written by retisc or by Retis
 * >= 1.5, version detection, compatibility fix-ups of older formats,
 * following of rotated sets (`file..`), stdin ("-").
 */
#ifndef __RETISC_READER_H
#define __RETISC_READER_H

#include <stdbool.h>
#include <stddef.h>

#include <retisc/json.h>

enum retisc_file_kind {
	RETISC_FILE_EVENTS = 1, /* one event object per line */
	RETISC_FILE_SERIES,	/* one array of events per line (sort -o) */
};

enum retisc_compat {
	RETISC_COMPAT_V0 = 0, /* Retis 1.5 */
	RETISC_COMPAT_V1,     /* Retis 1.6 */
	RETISC_COMPAT_V2,     /* current (1.7 and later) */
};

struct retisc_reader;

/*
 * Open an input as given on the command line (doc/files.md §6): NULL means the
 * default (`retis.data` if it is a regular file, else `retis.data.0`, both
 * following split files); "PATH" reads only PATH; "PATH.." reads PATH and
 * the following split files; "-" reads stdin (no following). Reads and
 * validates line 1 (doc/files.md §3). Returns NULL with errno set and an error
 * message in err (errsz bytes) exactly as doc/files.md words it, prefixed with
 * the file name: e.g. "retis.data: File is empty",
 * "f.json: Unsupported Retis version (1.4.0)".
 */
struct retisc_reader *retisc_reader__open(const char *input, char *err, size_t errsz);
void retisc_reader__free(struct retisc_reader *r);

enum retisc_file_kind retisc_reader__kind(const struct retisc_reader *r);
enum retisc_compat retisc_reader__compat(const struct retisc_reader *r);
/* The version string of the first file's startup event, e.g. "v1.7.0". */
const char *retisc_reader__version(const struct retisc_reader *r);
/* Path of the file being read and the 1-based number of the last line
 * returned, for error messages. */
const char *retisc_reader__path(const struct retisc_reader *r);
unsigned long retisc_reader__line(const struct retisc_reader *r);

/*
 * Next event (events files) or next series (series files; an array), fixed
 * up to the current format. Returns 1 with *out set (owned by the caller),
 * 0 at the end of the input, or a negative errno with a message in err:
 * "<path>:<line>: <what>" (e.g. "f:3: expected ',' or '}' at column 17",
 * "f:1: Cannot read event from sorted file", "f:2: blank line",
 * "f:5: Event was fixed up but parsing still failed: missing common").
 * After an error the reader can go on with the next line.
 */
int retisc_reader__next(struct retisc_reader *r, struct retisc_json **out, char *err, size_t errsz);

/*
 * Like __next(), for a caller that handles one kind only (pcap reads events
 * only, doc/processing.md §4): when the file is of the other kind, the line is
 * consumed and the call fails with -EINVAL and "<path>:<line>: Cannot read
 * event from sorted file" (kind RETISC_FILE_EVENTS) or "... Cannot read
 * series from unsorted file" (kind RETISC_FILE_SERIES).
 */
int retisc_reader__next_kind(struct retisc_reader *r, enum retisc_file_kind kind,
			     struct retisc_json **out, char *err, size_t errsz);

/*
 * For a processor that scans lines itself or parses them on other threads
 * (sort -o, print; doc/processing.md §2.7, §1.1): like __next(), but a line
 * of a current-format file comes back unparsed, in *line (*len bytes,
 * newline removed, valid until the next call), with *out NULL; the first
 * line, and every line of an older format (fix-ups), come back parsed and
 * checked in *out as __next() returns them. Same returns and errors as
 * __next() otherwise.
 */
int retisc_reader__next_line(struct retisc_reader *r, const char **line, size_t *len,
			     struct retisc_json **out, char *err, size_t errsz);

/*
 * Parse and check text, a line that __next_line() returned as line number
 * line of file path, exactly as __next() would have: 1 with *out (owned by
 * the caller), or a negative errno with "<path>:<line>: <what>" in err.
 * Reads only what does not change while r reads on: any thread.
 */
int retisc_reader__parse_line(const struct retisc_reader *r, const char *path, unsigned long line,
			      const char *text, size_t len, struct retisc_json **out, char *err,
			      size_t errsz);

/*
 * Apply the fix-ups of doc/files.md §4 for a file at level `level` to one event
 * object in place. 0, or -EEXIST ("Destination field ... already exists",
 * written to err).
 */
int retisc_compat__fixup(struct retisc_json *event, enum retisc_compat level, char *err,
			 size_t errsz);

/* Parse a Retis version string (doc/files.md §3 step 4/5) into a compat level;
 * -EINVAL / -ENOTSUP with the doc/files.md message in err. */
int retisc_compat__level(const char *version, enum retisc_compat *out, char *err, size_t errsz);

#endif
