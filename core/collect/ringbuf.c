// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF ring buffer consumer with batched position updates (see ringbuf.h).
 * Memory layout and record format: kernel/bpf/ringbuf.c. The consumer page
 * (offset 0) is writable; the producer page and the data pages follow,
 * read-only, with the data mapped twice in a row so that a record that
 * wraps around the end reads as one piece.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ringbuf.h"

struct retisc_ringbuf {
	retisc_ringbuf_cb cb;
	void *ctx;
	unsigned long *consumer_pos;
	const unsigned long *producer_pos;
	const uint8_t *data;
	size_t size;
	size_t page;
	size_t batch; /* bytes consumed between two position updates */
	int epoll_fd;
	int map_fd;
};

struct retisc_ringbuf *retisc_ringbuf__new(int map_fd, retisc_ringbuf_cb cb, void *ctx)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct epoll_event ev = {.events = EPOLLIN};
	struct retisc_ringbuf *rb;
	void *p;
	int err;

	if (!cb) {
		errno = EINVAL;
		return NULL;
	}
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries) {
		errno = EINVAL;
		return NULL;
	}
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return NULL;
	rb->cb = cb;
	rb->ctx = ctx;
	rb->map_fd = map_fd;
	rb->size = info.max_entries;
	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	rb->batch = rb->size / 16;
	rb->epoll_fd = -1;

	p = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto err_out;
	rb->consumer_pos = p;
	p = mmap(NULL, rb->page + 2 * rb->size, PROT_READ, MAP_SHARED, map_fd, (off_t)rb->page);
	if (p == MAP_FAILED)
		goto err_out;
	rb->producer_pos = p;
	rb->data = (const uint8_t *)p + rb->page;

	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epoll_fd < 0 || epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		goto err_out;
	return rb;

err_out:
	err = errno;
	retisc_ringbuf__free(rb);
	errno = err;
	return NULL;
}

/* Record length: 8-byte header (length, busy and discard bits, page
 * offset) plus the payload, rounded up to 8 bytes. */
static size_t record_span(uint32_t len)
{
	len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((size_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~(size_t)7;
}

int retisc_ringbuf__consume(struct retisc_ringbuf *rb)
{
	unsigned long cons, prod, published;
	int n = 0, err = 0;

	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	published = cons;
	for (;;) {
		prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			const uint32_t *hdr =
				(const uint32_t *)(rb->data + (cons & (rb->size - 1)));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			/* Reserved, not committed yet: later records wait. */
			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out;
			cons += record_span(len);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				n++;
				err = rb->cb(
					rb->ctx,
					(void *)((const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ),
					len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT));
				if (err < 0)
					goto out;
			}
			if (cons - published >= rb->batch) {
				__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	}
out:
	if (cons != published)
		__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	return err < 0 ? err : n;
}

int retisc_ringbuf__poll(struct retisc_ringbuf *rb, int timeout_ms)
{
	struct epoll_event ev;
	int n = epoll_wait(rb->epoll_fd, &ev, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n ? retisc_ringbuf__consume(rb) : 0;
}

size_t retisc_ringbuf__avail(const struct retisc_ringbuf *rb)
{
	unsigned long cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);

	return prod > cons ? prod - cons : 0;
}

void retisc_ringbuf__free(struct retisc_ringbuf *rb)
{
	if (!rb)
		return;
	if (rb->epoll_fd >= 0)
		close(rb->epoll_fd);
	if (rb->consumer_pos)
		munmap(rb->consumer_pos, rb->page);
	if (rb->producer_pos)
		munmap((void *)rb->producer_pos, rb->page + 2 * rb->size);
	free(rb);
}
