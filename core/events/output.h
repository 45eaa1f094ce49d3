/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event file writer (doc/files.md §1, §2, §5): JSON lines, startup event first,
 * one buffered write per line, optional size-based rotation.
 */
#ifndef __RETISC_OUTPUT_H
#define __RETISC_OUTPUT_H

#include <stdint.h>
#include <time.h>

#include <retisc/json.h>

struct retisc_writer;

struct retisc_startup_info {
	const char *cmdline;
	int64_t offset_sec; /* CLOCK_REALTIME - CLOCK_MONOTONIC, 0 <= nsec < 1e9 */
	int64_t offset_nsec;
	/* The startup event's common.timestamp; 0: now. --sink's copy and
	 * the file's are the same event (core/collect/sinks.c). */
	uint64_t timestamp;
};

/* Read the clock offset once (doc/files.md §2). */
void retisc_clock_offset(int64_t *sec, int64_t *nsec);
/* Build a startup event (split_id < 0: no split_file). NULL + errno. */
struct retisc_json *retisc_startup__new(const struct retisc_startup_info *info, int split_id,
					uint64_t limit);

/*
 * Create (truncate) path and write the startup line. rotate_limit 0 = no
 * rotation. NULL + errno (EACCES, ENOENT, ENOSPC, ...).
 */
struct retisc_writer *retisc_writer__open(const char *path, const struct retisc_startup_info *info,
					  uint64_t rotate_limit);
/* Serialise and write one event line. 0 or negative errno (e.g. -ENOSPC);
 * after an error the file still holds every line written before. */
int retisc_writer__write(struct retisc_writer *w, const struct retisc_json *event);
/* Write an already serialised line (no trailing newline). */
int retisc_writer__write_line(struct retisc_writer *w, const char *line, size_t len);
/*
 * Write the pending lines now (the bus does when it goes idle; writes do
 * when the last flush is older than 150 ms). 0 or the sticky -errno.
 */
int retisc_writer__flush(struct retisc_writer *w);
/* Flush and fsync-free close; final rename with rotation. 0 or -errno.
 * Accepts NULL. */
int retisc_writer__close(struct retisc_writer *w);
uint64_t retisc_writer__lines(const struct retisc_writer *w);
/* The file being written, for messages: the path, or with rotation the
 * path and the name it is kept as (doc/files.md §5); buf holds the latter. */
const char *retisc_writer__name(const struct retisc_writer *w, char *buf, size_t sz);

#endif
