// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark helper for `make bench`:
 *   retisc-bench decode PLUGIN_DIR N   decode+write N synthetic raw events
 *                                       (common, task, kernel, skb-tracking)
 *                                       to a temp file, 5 runs, median rate
 *   retisc-bench decode-real PLUGIN_DIR N
 *                                       the same with the events of `gen`
 *   retisc-bench gen PLUGIN_DIR FILE N  write N realistic events (the bytes a
 *                                       collect with -c skb-tracking,skb,skb-drop
 *                                       --skb-sections meta would decode) to
 *                                       FILE, as `retisc sort`/`print` input
 *   retisc-bench empty-tp TP[,TP...] SECONDS
 *                                       attach an empty raw tracepoint program
 *   retisc-bench fused-tp TP[,TP...] SECONDS
 *                                       attach the hand-fused reference
 *                                       (tests/bench/fused.bpf.c) and read its ring
 *                                       to each TP for SECONDS, or until
 *                                       SIGINT/SIGTERM when 0 (the floor)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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
#include "plugins/skb-drop/skb_drop.h"
#include "plugins/skb/skb.h"
#include "tests/bench/empty.skel.h"
#include "tests/bench/fused.skel.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *sym(void *priv, uint32_t id)
{
	static const char *const names[] = {"net:net_dev_start_xmit", "net:netif_receive_skb",
					    "skb:kfree_skb"};

	(void)priv;
	return id < 3 ? names[id] : NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t put_section(uint8_t *buf, size_t off, uint8_t owner, uint8_t type, const void *obj,
			  size_t size)
{
	struct retisc_section_hdr h = {owner, type, (uint16_t)size};

	memcpy(buf + off, &h, sizeof(h));
	memcpy(buf + off + sizeof(h), obj, size);
	return off + sizeof(h) + size;
}

/* The decode figure of the first benchmark: the smallest tracked event. */
static size_t build_event(uint8_t *buf, uint64_t i)
{
	struct retisc_raw_common c = {.timestamp = 1000000000ull + i, .smp_id = (uint32_t)(i & 1)};
	struct retisc_raw_task t = {.pid_tgid = (4242ull << 32) | 4243};
	struct retisc_raw_kernel k = {
		.probe_id = (uint32_t)(i & 1), .stack_id = -1, .probe_type = RETISC_PROBE_RAW_TP};
	struct retisc_raw_skb_tracking s = {.orig_head = 0xffff888100cda000ull + (i / 2) * 0x800,
					    .timestamp = 1000000000ull + (i & ~1ull),
					    .skb = 0xffff88811bee7800ull};
	size_t off = 0;

	memcpy(t.comm, "ping", 5);
	off = put_section(buf, off, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &c, sizeof(c));
	off = put_section(buf, off, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t));
	off = put_section(buf, off, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &k, sizeof(k));
	return put_section(buf, off, RETISC_OWNER_SKB_TRACKING, 1, &s, sizeof(s));
}

/*
 * Realistic traffic for sort and print: GEN_INFLIGHT packets in flight at
 * once, events of different packets interleaved at random, each packet
 * forwarded through a middle namespace (start_xmit, receive, start_xmit,
 * receive) and one in eight dropped at the end (kfree_skb). Buffer
 * addresses are reused the way slab objects are, so sort sees ids come back.
 */
#define GEN_INFLIGHT 256
#define GEN_STEPS 4

struct gen_pkt {
	uint64_t id;
	uint64_t first_ts;
	int step;
	int last_step;
};

struct gen {
	struct gen_pkt pkts[GEN_INFLIGHT];
	uint64_t next_id;
	uint64_t ts;
	uint64_t rng;
};

static uint32_t gen_rand(struct gen *g)
{
	g->rng = g->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(g->rng >> 33);
}

static void gen_new_pkt(struct gen *g, struct gen_pkt *p)
{
	p->id = g->next_id++;
	p->step = 0;
	p->first_ts = 0;
	p->last_step = GEN_STEPS - 1 + (p->id % 8 == 0);
}

static void gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->ts = 1000000000ull;
	g->rng = 42;
	for (int i = 0; i < GEN_INFLIGHT; i++)
		gen_new_pkt(g, &g->pkts[i]);
}

/* An Ethernet + IPv4 + UDP (or TCP) frame of packet id. */
static uint32_t gen_frame(uint8_t *f, uint64_t id, int hop)
{
	static const uint8_t macs[3][6] = {
		{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0x02, 0, 0, 0, 0, 3}};
	bool tcp = id % 3 == 0;
	uint32_t l4 = tcp ? 32 : 8, payload = tcp ? 0 : 18 + (uint32_t)(id % 5) * 100;
	uint32_t iplen = 20 + l4 + payload, n = 0;
	uint16_t sport = (uint16_t)(10000 + id % 50000);

	memcpy(f, macs[hop ? 2 : 1], 6);
	memcpy(f + 6, macs[hop ? 1 : 0], 6);
	f[12] = 0x08;
	f[13] = 0x00;
	n = 14;
	f[n] = 0x45;
	f[n + 1] = 0;
	f[n + 2] = (uint8_t)(iplen >> 8);
	f[n + 3] = (uint8_t)iplen;
	f[n + 4] = (uint8_t)(id >> 8);
	f[n + 5] = (uint8_t)id;
	f[n + 6] = 0x40;
	f[n + 7] = 0;
	f[n + 8] = (uint8_t)(64 - hop);
	f[n + 9] = tcp ? 6 : 17;
	f[n + 10] = 0;
	f[n + 11] = 0;
	memcpy(f + n + 12, (uint8_t[]){10, 0, (uint8_t)(id >> 8), (uint8_t)id}, 4);
	memcpy(f + n + 16, (uint8_t[]){10, 1, 0, 2}, 4);
	n += 20;
	f[n] = (uint8_t)(sport >> 8);
	f[n + 1] = (uint8_t)sport;
	f[n + 2] = tcp ? 0x1f : 0x23;
	f[n + 3] = tcp ? 0x90 : 0x28;
	if (tcp) {
		memset(f + n + 4, 0, 28);
		f[n + 4] = (uint8_t)(id >> 24);
		f[n + 7] = (uint8_t)id;
		f[n + 12] = 0x80;
		f[n + 13] = 0x10;
		f[n + 14] = 0x01;
		f[n + 20] = 1;
		f[n + 21] = 1;
		f[n + 22] = 8;
		f[n + 23] = 10;
	} else {
		f[n + 4] = (uint8_t)((8 + payload) >> 8);
		f[n + 5] = (uint8_t)(8 + payload);
		f[n + 6] = 0;
		f[n + 7] = 0;
	}
	n += l4;
	for (uint32_t i = 0; i < payload; i++)
		f[n + i] = (uint8_t)(id + i);
	return n + payload;
}

static size_t gen_event(struct gen *g, uint8_t *buf)
{
	static const char *const comms[] = {"swapper/0", "swapper/1", "iperf3", "ksoftirqd/0",
					    "curl"};
	struct gen_pkt *p = &g->pkts[gen_rand(g) % GEN_INFLIGHT];
	struct retisc_raw_common c = {.smp_id = gen_rand(g) & 1};
	struct retisc_raw_task t = {.pid_tgid = (1000ull + p->id % 7) << 32 | (1000 + p->id % 7)};
	struct retisc_raw_kernel k = {.stack_id = -1, .probe_type = RETISC_PROBE_RAW_TP};
	struct retisc_raw_skb_tracking s = {.orig_head =
						    0xffff888100000000ull + (p->id % 4096) * 0x800,
					    .skb = 0xffff888120000000ull + (p->id % 4096) * 0x100};
	struct retisc_skb_packet pk;
	struct retisc_skb_meta m = {.hash = (uint32_t)(p->id * 2654435761u), .ip_summed = 3};
	struct retisc_raw_skb_drop d = {.drop_reason = 2};
	const char *comm = comms[p->id % 5];
	uint32_t flen;
	size_t off = 0;

	g->ts += 300 + gen_rand(g) % 1400;
	if (!p->step)
		p->first_ts = g->ts;
	c.timestamp = g->ts;
	strncpy(t.comm, comm, sizeof(t.comm) - 1);
	/* start_xmit on even steps, receive on odd ones, kfree_skb last. */
	k.probe_id = p->step == GEN_STEPS ? 2 : (uint32_t)(p->step & 1);
	s.timestamp = p->first_ts;
	flen = gen_frame(pk.packet, p->id, p->step >= 2);
	pk.len = flen;
	pk.capture_len = flen < RETISC_SKB_CAPTURE_MAX ? flen : RETISC_SKB_CAPTURE_MAX;
	m.len = flen - (p->step & 1 ? 14 : 0);

	off = put_section(buf, off, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &c, sizeof(c));
	off = put_section(buf, off, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t));
	off = put_section(buf, off, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &k, sizeof(k));
	off = put_section(buf, off, RETISC_OWNER_SKB_TRACKING, 1, &s, sizeof(s));
	if (k.probe_id == 2)
		off = put_section(buf, off, RETISC_OWNER_SKB_DROP, RETISC_SKB_DROP_TYPE_REASON, &d,
				  sizeof(d));
	/* The hook trims the packet section to the bytes captured. */
	off = put_section(buf, off, RETISC_OWNER_SKB, RETISC_SKB_PACKET, &pk,
			  offsetof(struct retisc_skb_packet, packet) + pk.capture_len);
	off = put_section(buf, off, RETISC_OWNER_SKB, RETISC_SKB_META, &m, sizeof(m));
	if (p->step++ == p->last_step)
		gen_new_pkt(g, p);
	return off;
}

static struct retisc_registry *load_plugins(const char *plugin_dir)
{
	struct retisc_registry *reg = retisc_registry__new();

	if (!reg || retisc_registry__load_dir(reg, plugin_dir) <= 0) {
		fprintf(stderr, "cannot load plugins from %s\n", plugin_dir);
		retisc_registry__free(reg);
		return NULL;
	}
	return reg;
}

/* Decode and write n events from build (simple) or the generator (real). */
static int decode_write(struct retisc_decode_ctx *dc, struct retisc_writer *w, uint64_t n,
			bool real)
{
	struct retisc_strbuf line = RETISC_STRBUF_INIT;
	struct gen *g = NULL;
	uint8_t buf[1024];

	if (real) {
		g = malloc(sizeof(*g));
		if (!g)
			return 1;
		gen_init(g);
	}
	for (uint64_t i = 0; i < n; i++) {
		size_t sz = real ? gen_event(g, buf) : build_event(buf, i);
		struct retisc_json *ev;
		int err;

		/* collect's bus when no collector watches events (bus.c). */
		retisc_strbuf__reset(&line);
		err = retisc_event__encode(dc, buf, sz, &line);
		if (!err) {
			if (retisc_writer__write_line(w, line.buf, line.len))
				goto fail;
			continue;
		}
		if (err != -EAGAIN)
			goto fail;
		ev = retisc_event__decode(dc, buf, sz);
		if (!ev || retisc_writer__write(w, ev)) {
			retisc_json__free(ev);
			goto fail;
		}
		retisc_json__free(ev);
	}
	free(g);
	retisc_strbuf__release(&line);
	return 0;
fail:
	free(g);
	retisc_strbuf__release(&line);
	return 1;
}

struct decode_job {
	struct retisc_decode_ctx *dc;
	struct retisc_writer *w;
	uint64_t n;
	bool real;
	int err;
	double cpu; /* seconds of CPU of the decoding thread */
};

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The CPU time of the thread that decodes (the bus thread's share, the
 * writer's thread apart) gives the events per second of one core, a
 * figure the load of a shared machine moves less than the wall clock.
 */
static void *decode_thread(void *arg)
{
	struct decode_job *j = arg;
	double t0 = thread_cpu_s();

	j->err = decode_write(j->dc, j->w, j->n, j->real);
	j->cpu = thread_cpu_s() - t0;
	return NULL;
}

/*
 * Off the main thread, like collect's bus thread: glibc's malloc locks its
 * arena once a process has threads, and that cost belongs in the figure.
 */
static int decode_write_threaded(struct retisc_decode_ctx *dc, struct retisc_writer *w, uint64_t n,
				 bool real, double *cpu)
{
	struct decode_job j = {dc, w, n, real, 1, 0};
	pthread_t t;

	if (pthread_create(&t, NULL, decode_thread, &j))
		return 1;
	pthread_join(t, NULL);
	*cpu = j.cpu;
	return j.err;
}

static int bench_decode(const char *plugin_dir, uint64_t n, bool real)
{
	struct retisc_registry *reg = load_plugins(plugin_dir);
	struct retisc_decode_ctx dc = {.symbol_of = sym, .stack_map_fd = -1};
	struct retisc_startup_info info = {.cmdline = "retisc-bench"};
	char path[] = "/tmp/retisc-bench.XXXXXX";
	double rates[5], cpu_rates[5];
	int fd;

	if (!reg)
		return 1;
	dc.reg = reg;
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	for (int r = 0; r < 5; r++) {
		struct retisc_writer *w = retisc_writer__open(path, &info, 0);
		double t0 = now_s(), cpu = 0;

		if (!w || decode_write_threaded(&dc, w, n, real, &cpu) || retisc_writer__close(w)) {
			unlink(path);
			return 1;
		}
		rates[r] = (double)n / (now_s() - t0);
		cpu_rates[r] = cpu > 0 ? (double)n / cpu : 0;
	}
	unlink(path);
	retisc_decode_ctx__release(&dc);
	qsort(rates, 5, sizeof(rates[0]), cmp_double);
	qsort(cpu_rates, 5, sizeof(cpu_rates[0]), cmp_double);
	printf("decode+write (%s): median %.0f events/s (min %.0f, max %.0f, 5 runs of %llu); "
	       "decoding thread: median %.0f events/s per CPU second\n",
	       real ? "skb-tracking, packet, skb meta, skb-drop events" : "skb-tracking events",
	       rates[2], rates[0], rates[4], (unsigned long long)n, cpu_rates[2]);
	retisc_registry__free(reg);
	return 0;
}

static int bench_gen(const char *plugin_dir, const char *path, uint64_t n)
{
	struct retisc_registry *reg = load_plugins(plugin_dir);
	struct retisc_decode_ctx dc = {.symbol_of = sym, .stack_map_fd = -1};
	struct retisc_startup_info info = {.cmdline = "retisc-bench gen"};
	struct retisc_writer *w;
	int err;

	if (!reg)
		return 1;
	dc.reg = reg;
	w = retisc_writer__open(path, &info, 0);
	if (!w) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		retisc_registry__free(reg);
		return 1;
	}
	err = decode_write(&dc, w, n, true);
	err = retisc_writer__close(w) || err;
	retisc_decode_ctx__release(&dc);
	retisc_registry__free(reg);
	return err;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* One object per tracepoint so that bpf_stats tell them apart. */
static int bench_empty(const char *tps, int seconds)
{
	struct empty *skels[16] = {};
	struct bpf_link *links[16] = {};
	char *list = strdup(tps), *save = NULL;
	int n = 0, err = 0;

	if (!list)
		return 1;
	for (char *tp = strtok_r(list, ",", &save); tp && n < 16; tp = strtok_r(NULL, ",", &save)) {
		skels[n] = empty__open_and_load();
		if (!skels[n]) {
			err = 1;
			break;
		}
		links[n] =
			bpf_program__attach_raw_tracepoint(skels[n]->progs.retisc_bench_empty, tp);
		if (libbpf_get_error(links[n])) {
			links[n] = NULL;
			fprintf(stderr, "cannot attach to %s\n", tp);
			n++;
			err = 1;
			break;
		}
		n++;
	}
	free(list);
	if (!err) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		printf("attached %d\n", n);
		fflush(stdout);
		for (int t = 0; !stop && (!seconds || t < seconds * 10); t++)
			usleep(100000);
	}
	for (int i = 0; i < n; i++) {
		bpf_link__destroy(links[i]);
		empty__destroy(skels[i]);
	}
	return err;
}

static int fused_record(void *ctx, void *data, size_t size)
{
	(void)data, (void)size;
	++*(unsigned long long *)ctx;
	return 0;
}

/*
 * The hand-fused reference on each tracepoint, one object each (bpf_stats
 * tell them apart) sharing the first one's id map and ring, whose records
 * are read and counted as retisc's bus would read its own.
 */
static int bench_fused(const char *tps, int seconds)
{
	struct fused *skels[16] = {};
	struct bpf_link *links[16] = {};
	struct ring_buffer *rb = NULL;
	char *list = strdup(tps), *save = NULL;
	unsigned long long records = 0;
	int n = 0, err = 0;

	if (!list)
		return 1;
	for (char *tp = strtok_r(list, ",", &save); tp && n < 16; tp = strtok_r(NULL, ",", &save)) {
		struct fused *f = fused__open();

		if (!f) {
			err = 1;
			break;
		}
		skels[n++] = f;
		f->rodata->fused_kind = !strcmp(tp, "kfree_skb")     ? 1
					: !strcmp(tp, "consume_skb") ? 2
								     : 0;
		f->rodata->fused_probe_id = (__u32)n;
		if (n > 1 &&
		    (bpf_map__reuse_fd(f->maps.fused_ids, bpf_map__fd(skels[0]->maps.fused_ids)) ||
		     bpf_map__reuse_fd(f->maps.fused_ring,
				       bpf_map__fd(skels[0]->maps.fused_ring)))) {
			err = 1;
			break;
		}
		if (fused__load(f)) {
			err = 1;
			break;
		}
		links[n - 1] = bpf_program__attach_raw_tracepoint(f->progs.retisc_bench_fused, tp);
		if (libbpf_get_error(links[n - 1])) {
			links[n - 1] = NULL;
			fprintf(stderr, "cannot attach to %s\n", tp);
			err = 1;
			break;
		}
	}
	free(list);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skels[0]->maps.fused_ring), fused_record,
				      &records, NULL);
		err = !rb;
	}
	if (!err) {
		struct timespec t0, t;

		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		printf("attached %d\n", n);
		fflush(stdout);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			/* The program does not wake readers: drain every 10 ms. */
			usleep(10000);
			ring_buffer__consume(rb);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (!stop && (!seconds || t.tv_sec - t0.tv_sec < seconds));
		ring_buffer__consume(rb);
		printf("records %llu\n", records);
	}
	ring_buffer__free(rb);
	for (int i = 0; i < n; i++) {
		bpf_link__destroy(links[i]);
		fused__destroy(skels[i]);
	}
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "decode"))
		return bench_decode(argv[2], strtoull(argv[3], NULL, 10), false);
	if (argc == 4 && !strcmp(argv[1], "decode-real"))
		return bench_decode(argv[2], strtoull(argv[3], NULL, 10), true);
	if (argc == 5 && !strcmp(argv[1], "gen"))
		return bench_gen(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "empty-tp"))
		return bench_empty(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "fused-tp"))
		return bench_fused(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: retisc-bench decode|decode-real PLUGIN_DIR N\n"
			"       retisc-bench gen PLUGIN_DIR FILE N\n"
			"       retisc-bench empty-tp TP[,TP...] SECONDS\n"
			"       retisc-bench fused-tp TP[,TP...] SECONDS\n");
	return 2;
}
