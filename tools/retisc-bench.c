// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark helper for `make bench`:
 *   retisc-bench decode PLUGIN_DIR N   decode+write N synthetic raw events
 *                                       (common, task, kernel, skb-tracking)
 *                                       to a temp file, 5 runs, median rate
 *   retisc-bench empty-tp TP SECONDS    attach an empty raw tracepoint program
 *                                       to TP for SECONDS (the floor)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <retisc/event.h>

#include "collect.h"
#include "output.h"
#include "registry.h"
#include "tests/bench/empty.skel.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *sym(void *priv, uint32_t id)
{
	(void)priv;
	return id ? "net:netif_receive_skb" : "net:net_dev_start_xmit";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t build_event(uint8_t *buf, uint64_t i)
{
	struct retisc_section_hdr h;
	struct retisc_raw_common c = { .timestamp = 1000000000ull + i, .smp_id = (uint32_t)(i & 1) };
	struct retisc_raw_task t = { .pid_tgid = (4242ull << 32) | 4243 };
	struct retisc_raw_kernel k = { .probe_id = (uint32_t)(i & 1), .stack_id = -1,
				       .probe_type = RETISC_PROBE_RAW_TP };
	struct retisc_raw_skb_tracking s = { .orig_head = 0xffff888100cda000ull + (i / 2) * 0x800,
					     .timestamp = 1000000000ull + (i & ~1ull),
					     .skb = 0xffff88811bee7800ull };
	size_t off = 0;

	memcpy(t.comm, "ping", 5);
#define PUT(owner, type, obj)                                                                      \
	do {                                                                                       \
		h = (struct retisc_section_hdr){ owner, type, sizeof(obj) };                        \
		memcpy(buf + off, &h, sizeof(h));                                                  \
		memcpy(buf + off + sizeof(h), &obj, sizeof(obj));                                  \
		off += sizeof(h) + sizeof(obj);                                                    \
	} while (0)
	PUT(RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, c);
	PUT(RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, t);
	PUT(RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, k);
	PUT(RETISC_OWNER_SKB_TRACKING, 1, s);
	return off;
}

static int bench_decode(const char *plugin_dir, uint64_t n)
{
	struct retisc_registry *reg = retisc_registry__new();
	struct retisc_decode_ctx dc = { .symbol_of = sym, .stack_map_fd = -1 };
	struct retisc_startup_info info = { .cmdline = "retisc-bench" };
	char path[] = "/tmp/retisc-bench.XXXXXX";
	double rates[5];
	uint8_t buf[512];
	int fd;

	if (!reg || retisc_registry__load_dir(reg, plugin_dir) <= 0) {
		fprintf(stderr, "cannot load plugins from %s\n", plugin_dir);
		return 1;
	}
	dc.reg = reg;
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	for (int r = 0; r < 5; r++) {
		struct retisc_writer *w = retisc_writer__open(path, &info, 0);
		double t0 = now_s();

		if (!w)
			return 1;
		for (uint64_t i = 0; i < n; i++) {
			size_t sz = build_event(buf, i);
			struct retisc_json *ev = retisc_event__decode(&dc, buf, sz);

			if (!ev || retisc_writer__write(w, ev))
				return 1;
			retisc_json__free(ev);
		}
		if (retisc_writer__close(w))
			return 1;
		rates[r] = (double)n / (now_s() - t0);
	}
	unlink(path);
	qsort(rates, 5, sizeof(rates[0]), cmp_double);
	printf("decode+write (skb-tracking events): median %.0f events/s (min %.0f, max %.0f, "
	       "5 runs of %llu)\n",
	       rates[2], rates[0], rates[4], (unsigned long long)n);
	retisc_registry__free(reg);
	return 0;
}

static int bench_empty(const char *tp, int seconds)
{
	struct empty *skel = empty__open_and_load();
	struct bpf_link *link;

	if (!skel)
		return 1;
	link = bpf_program__attach_raw_tracepoint(skel->progs.retisc_bench_empty, tp);
	if (libbpf_get_error(link)) {
		fprintf(stderr, "cannot attach to %s\n", tp);
		return 1;
	}
	sleep((unsigned int)seconds);
	bpf_link__destroy(link);
	empty__destroy(skel);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "decode"))
		return bench_decode(argv[2], strtoull(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "empty-tp"))
		return bench_empty(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: retisc-bench decode PLUGIN_DIR N | empty-tp TP SECONDS\n");
	return 2;
}
