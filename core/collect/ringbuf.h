/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * BPF ring buffer consumer (BPF_MAP_TYPE_RINGBUF), the bus thread's reader.
 *
 * libbpf's ring_buffer publishes the consumer position after every record.
 * The producers (BPF programs on the traced CPUs) read that position on
 * every reservation, so each record consumed moves its cache line back to
 * the consumer's CPU and the next event on a traced CPU misses on it. This
 * reader publishes the position after each batch of consumed bytes
 * (a sixteenth of the ring) and at the end of each drain instead.
 *
 * Single consumer: one thread at a time calls poll/consume.
 */
#ifndef __RETISC_RINGBUF_H
#define __RETISC_RINGBUF_H

#include <stddef.h>

struct retisc_ringbuf;

/* Called for every record, in order; a negative return stops the drain
 * (the record counts as consumed) and is returned by poll/consume. */
typedef int (*retisc_ringbuf_cb)(void *ctx, void *data, size_t size);

/* Map the ring of map_fd. NULL with errno set on failure (EINVAL: not a
 * ring buffer map). */
struct retisc_ringbuf *retisc_ringbuf__new(int map_fd, retisc_ringbuf_cb cb, void *ctx);

/* Wait up to timeout_ms for a wake-up, then drain. Returns the number of
 * records handled (0 on timeout) or a negative errno. */
int retisc_ringbuf__poll(struct retisc_ringbuf *rb, int timeout_ms);

/* Drain without waiting: records handled, or a negative errno. */
int retisc_ringbuf__consume(struct retisc_ringbuf *rb);

/* Bytes written by the producers and not yet consumed. */
size_t retisc_ringbuf__avail(const struct retisc_ringbuf *rb);

void retisc_ringbuf__free(struct retisc_ringbuf *rb);

#endif /* __RETISC_RINGBUF_H */
