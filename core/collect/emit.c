// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events that collectors emit from userspace (api->event_emit(), plugin.h):
 * one FIFO, filled from any thread and drained by the bus thread, which
 * writes them among the BPF events (bus.c, doc/architecture.md §4.1). A
 * process runs one collection at a time, so the queue is process-wide: the
 * API function has no collection to name.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <retisc/json.h>

#include "collect.h"

/* Enough for bursts while the bus writes a backlog; bounded so that a
 * collector emitting faster than the output can take never eats memory. */
#define EMITQ_MAX 65536

struct emitq_node {
	struct retisc_json *ev;
	struct emitq_node *next;
};

static struct {
	pthread_mutex_t lock;
	bool open;
	struct emitq_node *head, *tail;
	size_t n;
	uint64_t dropped;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER};

int retisc_collect__emit(struct retisc_json *event)
{
	struct emitq_node *node;
	int err = 0;

	if (!event || !retisc_json__is_object(event)) {
		retisc_json__free(event);
		return -EINVAL;
	}
	node = malloc(sizeof(*node));
	pthread_mutex_lock(&q.lock);
	if (!q.open)
		err = -EAGAIN;
	else if (!node)
		err = -ENOMEM;
	else if (q.n >= EMITQ_MAX) {
		q.dropped++;
		err = -ENOBUFS;
	} else {
		node->ev = event;
		node->next = NULL;
		if (q.tail)
			q.tail->next = node;
		else
			q.head = node;
		q.tail = node;
		q.n++;
	}
	pthread_mutex_unlock(&q.lock);
	if (err) {
		free(node);
		retisc_json__free(event);
	}
	return err;
}

void retisc_emitq__open(void)
{
	pthread_mutex_lock(&q.lock);
	q.open = true;
	q.dropped = 0;
	pthread_mutex_unlock(&q.lock);
}

struct retisc_json *retisc_emitq__pop(void)
{
	struct emitq_node *node;
	struct retisc_json *ev = NULL;

	/*
	 * The bus asks before every BPF event and the queue is nearly always
	 * empty: no lock for that answer. An event pushed meanwhile is seen at
	 * the next call (and the teardown's last drain).
	 */
	if (!__atomic_load_n(&q.head, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_mutex_lock(&q.lock);
	node = q.head;
	if (node) {
		q.head = node->next;
		if (!q.head)
			q.tail = NULL;
		q.n--;
	}
	pthread_mutex_unlock(&q.lock);
	if (node) {
		ev = node->ev;
		free(node);
	}
	return ev;
}

size_t retisc_emitq__close(void)
{
	struct retisc_json *ev;
	size_t n = 0;

	pthread_mutex_lock(&q.lock);
	q.open = false;
	pthread_mutex_unlock(&q.lock);
	while ((ev = retisc_emitq__pop())) {
		retisc_json__free(ev);
		n++;
	}
	return n;
}

uint64_t retisc_emitq__dropped(void)
{
	uint64_t n;

	pthread_mutex_lock(&q.lock);
	n = q.dropped;
	pthread_mutex_unlock(&q.lock);
	return n;
}
