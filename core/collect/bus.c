// SPDX-License-Identifier: GPL-2.0-only
/* `retisc collect` event bus: ring buffer to decoder to file or text (collect_int.h). */
#include <limits.h>

#include "collect_int.h"

const char *collect__probe_symbol(void *priv, uint32_t id)
{
	struct collect *c = priv;

	return id < c->n_probes ? c->probes[id].p.symbol : NULL;
}

const char *collect__probe_path(void *priv, uint32_t id)
{
	struct collect *c = priv;

	return id < c->n_probes ? c->probes[id].p.path : NULL;
}

/* The probe of an event's kernel section ("symbol", "probe_type"). */
static const struct retisc_probe *event_probe(const struct collect *c,
					      const struct retisc_json *kernel)
{
	const char *sym = retisc_json__get_str(retisc_json__obj_get(kernel, "symbol"), NULL);
	const char *type = retisc_json__get_str(retisc_json__obj_get(kernel, "probe_type"), NULL);
	int t = !type				  ? -1
		: !strcmp(type, "raw_tracepoint") ? RETISC_PROBE_RAW_TP
		: !strcmp(type, "kprobe")	  ? RETISC_PROBE_KPROBE
						  : RETISC_PROBE_KRETPROBE;

	for (size_t i = 0; sym && i < c->n_probes; i++)
		if (c->probes[i].p.type == t && !strcmp(c->probes[i].p.symbol, sym))
			return &c->probes[i].p;
	return NULL;
}

/*
 * --probe-stack: each frame ("func+0x1a/0x60") may name a function to
 * probe (setup.c). Every probe collects stacks in this mode; they stay in
 * the event only where --stack or the probe's /stack asked for them.
 */
static void probe_stack_event(struct collect *c, struct retisc_json *ev)
{
	struct retisc_json *kernel = retisc_json__obj_get(ev, "kernel");
	struct retisc_json *stack = retisc_json__obj_get(kernel, "stack_trace");
	const struct retisc_probe *p;

	for (size_t i = 0; stack && i < retisc_json__arr_len(stack); i++) {
		const char *frame = retisc_json__get_str(retisc_json__arr_get(stack, i), NULL);
		char func[128];

		if (!frame)
			continue;
		snprintf(func, sizeof(func), "%.*s", (int)strcspn(frame, "+ "), frame);
		if (collect__probe_stack_add(c, func) == -ENOMEM)
			break;
	}
	p = event_probe(c, kernel);
	if (stack && !c->o.stack && !(p && p->stack))
		retisc_json__free(retisc_json__obj_take(kernel, "stack_trace"));
}

/* The first write error stops the collection (doc/files.md §8). */
static void write_failed(struct collect *c, int err)
{
	char name[PATH_MAX + 64];

	atomic_store(&c->write_err, err);
	pr_err("Cannot write to %s: %s; stopping%s",
	       retisc_writer__name(c->writer, name, sizeof(name)), strerror(-err),
	       err == -ENOENT ? "" : " (events written so far are kept)");
	atomic_store(&c->stop_bus, true);
}

/* Count one event written for --stop-after: 0, or -ECANCELED at the count. */
static int count_event(struct collect *c)
{
	unsigned long long n = atomic_fetch_add(&c->n_events, 1) + 1;

	if (c->o.stop_after && n >= c->o.stop_after) {
		if (n == c->o.stop_after)
			pr_info("Reached stop count (%llu), terminating...",
				(unsigned long long)c->o.stop_after);
		atomic_store(&c->stop_bus, true);
		return -ECANCELED;
	}
	return 0;
}

/*
 * Write and/or print one event, then count it for --stop-after. Takes ev.
 * 0, or -ECANCELED once the stop count is reached (the ring buffer
 * callback's way to end a drain).
 */
static int write_event(struct collect *c, struct retisc_json *ev)
{
	int err;

	if (c->writer) {
		err = retisc_writer__write(c->writer, ev);
		if (err && !atomic_load(&c->write_err))
			write_failed(c, err);
	}
	/* --sink (sinks.c): text only when no file and no sink takes it. */
	collect__sinks_write(c, ev);
	if ((!c->writer && !c->n_sinks) || c->o.print) {
		retisc_strbuf__reset(&c->text);
		if (!retisc_renderer__event_framed(&c->renderer, ev, &c->text))
			fwrite(c->text.buf, 1, c->text.len, stdout);
	}
	retisc_json__free(ev);
	return count_event(c);
}

/*
 * The direct path (doc/architecture.md §4.3): the event as a line, no
 * tree. 0 or -ECANCELED when written; -EAGAIN when it needs the tree path.
 */
static int write_direct(struct collect *c, const void *data, size_t size)
{
	int err;

	retisc_strbuf__reset(&c->line);
	err = retisc_event__encode(&c->dc, data, size, &c->line);
	if (err)
		return -EAGAIN;
	/* What collectors emitted meanwhile goes first (plugin.h, event_emit). */
	err = collect__emit_drain(c);
	if (err)
		return err;
	err = retisc_writer__write_line(c->writer, c->line.buf, c->line.len);
	if (err && !atomic_load(&c->write_err))
		write_failed(c, err);
	return count_event(c);
}

static bool stop_count_reached(const struct collect *c)
{
	return c->o.stop_after && atomic_load(&c->n_events) >= c->o.stop_after;
}

/*
 * Write what collectors emitted (emit.c), oldest first, with their keys in
 * rank order. Past --stop-after they are dropped. 0 or -ECANCELED.
 */
int collect__emit_drain(struct collect *c)
{
	struct retisc_json *ev;
	int err = 0;

	while ((ev = retisc_emitq__pop())) {
		if (err || stop_count_reached(c)) {
			retisc_json__free(ev);
			err = -ECANCELED;
			continue;
		}
		if (retisc_event__sort_sections(c->reg, ev)) {
			pr_warn("Skipping an emitted event whose sections cannot be ordered");
			retisc_json__free(ev);
			continue;
		}
		err = write_event(c, ev);
	}
	return err;
}

int collect__on_event(void *priv, void *data, size_t size)
{
	struct collect *c = priv;
	struct retisc_json *ev;
	int err;

	if (c->direct) {
		err = write_direct(c, data, size);
		if (err != -EAGAIN)
			return err;
	}
	ev = retisc_event__decode(&c->dc, data, size);
	if (!ev) {
		pr_warn("Skipping an event that could not be decoded: %s", strerror(errno));
		return 0;
	}
	if (c->o.probe_stack)
		probe_stack_event(c, ev);
	/* Collectors that watch the packets' events (plugin.h, on_event). */
	for (size_t i = 0; i < c->n_inited; i++)
		if (c->colls[i]->on_event)
			c->colls[i]->on_event(c->colls[i]->priv, ev);
	/* What they emitted meanwhile goes first (plugin.h, event_emit). */
	err = collect__emit_drain(c);
	if (err) {
		retisc_json__free(ev);
		return err;
	}
	return write_event(c, ev);
}

/*
 * The bus thread's nice value (doc/architecture.md §4.2): under a flood on
 * every CPU, the traffic's threads and softirqs leave the bus too little
 * CPU at nice 0 and the ring overflows (14-23% of the events lost with a
 * sender on each of two CPUs). At -10 the scheduler gives it about nine
 * times a nice-0 thread's share, and the traced traffic slows instead.
 */
#define BUS_NICE (-10)

void *collect__bus_main(void *arg)
{
	struct collect *c = arg;

	/* setpriority() on a thread id sets that thread only (Linux). */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), BUS_NICE))
		pr_debug("Cannot raise the bus thread's priority: %s", strerror(errno));

	while (!atomic_load(&c->stop_bus)) {
		/*
		 * The kernel side wakes us only in batches, and epoll reports
		 * nothing without a wake-up: drain after every timeout too.
		 */
		int n = retisc_ringbuf__poll(c->rb, 10);

		if (n == 0 && !atomic_load(&c->stop_bus))
			n = retisc_ringbuf__consume(c->rb);
		/* Idle: what was decoded reaches the file now (doc/files.md §8). */
		if (n == 0 && c->writer) {
			int err = retisc_writer__flush(c->writer);

			if (err && !atomic_load(&c->write_err))
				write_failed(c, err);
		}

		if (n < 0 && n != -EINTR && n != -ECANCELED) {
			pr_err("Ring buffer polling failed: %s", strerror(-n));
			break;
		}
		if (n == 0)
			collect__sinks_flush(c);
		/* Emitted events are written even when no BPF event comes. */
		collect__emit_drain(c);
	}
	return NULL;
}
