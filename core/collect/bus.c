// SPDX-License-Identifier: GPL-2.0-only
/* `retisc collect` event bus: ring buffer to decoder to file or text (collect_int.h). */
#include "collect_int.h"

const char *collect__probe_symbol(void *priv, uint32_t id)
{
	struct collect *c = priv;

	return id < c->n_probes ? c->probes[id].p.symbol : NULL;
}

int collect__on_event(void *priv, void *data, size_t size)
{
	struct collect *c = priv;
	struct retisc_json *ev;
	unsigned long long n;
	int err;

	ev = retisc_event__decode(&c->dc, data, size);
	if (!ev) {
		pr_warn("Skipping an event that could not be decoded: %s", strerror(errno));
		return 0;
	}
	if (c->writer) {
		err = retisc_writer__write(c->writer, ev);
		if (err && !atomic_load(&c->write_err)) {
			atomic_store(&c->write_err, err);
			pr_err("Cannot write to %s: %s; stopping (events written so far are "
			       "kept)",
			       c->o.out, strerror(-err));
			atomic_store(&c->stop_bus, true);
		}
	}
	if (!c->writer || c->o.print) {
		retisc_strbuf__reset(&c->text);
		if (!retisc_renderer__event_framed(&c->renderer, ev, &c->text))
			fwrite(c->text.buf, 1, c->text.len, stdout);
	}
	retisc_json__free(ev);
	n = atomic_fetch_add(&c->n_events, 1) + 1;
	if (c->o.stop_after && n >= c->o.stop_after) {
		if (n == c->o.stop_after)
			pr_info("Reached stop count (%llu), terminating...",
				(unsigned long long)c->o.stop_after);
		atomic_store(&c->stop_bus, true);
		return -ECANCELED;
	}
	return 0;
}

void *collect__bus_main(void *arg)
{
	struct collect *c = arg;

	while (!atomic_load(&c->stop_bus)) {
		/*
		 * The kernel side wakes us only in batches, and epoll reports
		 * nothing without a wake-up: drain after every timeout too.
		 */
		int n = retisc_ringbuf__poll(c->rb, 10);

		if (n == 0 && !atomic_load(&c->stop_bus))
			n = retisc_ringbuf__consume(c->rb);

		if (n < 0 && n != -EINTR && n != -ECANCELED) {
			pr_err("Ring buffer polling failed: %s", strerror(-n));
			break;
		}
	}
	return NULL;
}
