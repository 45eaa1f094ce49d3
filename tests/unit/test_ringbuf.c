// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bus thread's ring buffer reader (core/collect/ringbuf.c) against a real
 * BPF_MAP_TYPE_RINGBUF: records are produced by two tiny socket filter
 * programs run with BPF_PROG_TEST_RUN (one writes the current ktime, so
 * records carry increasing values; one reserves and discards). Needs root
 * (BPF); skipped otherwise.
 */
#include "testutil.h"

#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ringbuf.h"

#define RING_SIZE 4096

struct fixture {
	int map_fd;
	int out_fd;	/* writes one 8-byte record: bpf_ktime_get_ns() */
	int discard_fd; /* reserves 8 bytes and discards them */
	struct retisc_ringbuf *rb;
	uint64_t last;	  /* last payload seen */
	int seen;	  /* records handed to the callback */
	int stop_at;	  /* record number whose callback fails, 0: none */
	int out_of_order; /* payloads that did not increase */
	int bad_size;
};

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static int load(const struct bpf_insn *insns, size_t n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, n, &opts);
}

static int load_out(int map_fd)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),
		INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_0, -8, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return load(insns, sizeof(insns) / sizeof(insns[0]));
}

static int load_discard(int map_fd)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_reserve),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_discard),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return load(insns, sizeof(insns) / sizeof(insns[0]));
}

/* Run a program n times (one record each). */
static void run(int prog_fd, int n)
{
	uint8_t pkt[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = (unsigned int)n);

	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct fixture *f = ctx;
	uint64_t v;

	f->seen++;
	if (size != sizeof(v)) {
		f->bad_size++;
		return 0;
	}
	memcpy(&v, data, sizeof(v));
	if (v <= f->last)
		f->out_of_order++;
	f->last = v;
	return f->seen == f->stop_at ? -ECANCELED : 0;
}

static int setup(void **state)
{
	struct fixture *f;

	if (geteuid())
		return 0;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rt_ring", 0, 0, RING_SIZE, NULL);
	assert_true(f->map_fd >= 0);
	f->out_fd = load_out(f->map_fd);
	f->discard_fd = load_discard(f->map_fd);
	assert_true(f->out_fd >= 0);
	assert_true(f->discard_fd >= 0);
	f->rb = retisc_ringbuf__new(f->map_fd, on_record, f);
	assert_non_null(f->rb);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	retisc_ringbuf__free(f->rb);
	close(f->out_fd);
	close(f->discard_fd);
	close(f->map_fd);
	free(f);
	return 0;
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (geteuid())                                                                     \
			skip();                                                                    \
	} while (0)

static void test_in_order(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	run(f->out_fd, 100);
	assert_int_equal(retisc_ringbuf__avail(f->rb), 100 * 16);
	assert_int_equal(retisc_ringbuf__consume(f->rb), 100);
	assert_int_equal(f->seen, 100);
	assert_int_equal(f->out_of_order, 0);
	assert_int_equal(f->bad_size, 0);
	/* Everything consumed is given back to the producers. */
	assert_int_equal(retisc_ringbuf__avail(f->rb), 0);
	assert_int_equal(retisc_ringbuf__consume(f->rb), 0);
}

/* Records crossing the end of the ring read as one piece, in order. */
static void test_wrap_around(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	for (int round = 0; round < 5; round++) {
		run(f->out_fd, 150); /* 2400 of 4096 bytes: every round wraps */
		assert_int_equal(retisc_ringbuf__consume(f->rb), 150);
	}
	assert_int_equal(f->seen, 750);
	assert_int_equal(f->out_of_order, 0);
	assert_int_equal(f->bad_size, 0);
}

/* A full ring refuses records; the ones it took are all read. */
static void test_full_ring(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	run(f->out_fd, 400);
	/* 16 bytes a record; the kernel keeps the ring one byte short of
	 * full (producer - consumer <= size - 1): 255 records. */
	assert_int_equal(retisc_ringbuf__consume(f->rb), 255);
	run(f->out_fd, 10);
	assert_int_equal(retisc_ringbuf__consume(f->rb), 10);
	assert_int_equal(f->out_of_order, 0);
}

static void test_discarded_skipped(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	run(f->out_fd, 5);
	run(f->discard_fd, 3);
	run(f->out_fd, 5);
	assert_int_equal(retisc_ringbuf__consume(f->rb), 10);
	assert_int_equal(f->seen, 10);
	assert_int_equal(f->bad_size, 0);
	assert_int_equal(retisc_ringbuf__avail(f->rb), 0);
}

/* A failing callback stops the drain; its record counts as consumed. */
static void test_callback_stops(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	f->stop_at = 3;
	run(f->out_fd, 10);
	assert_int_equal(retisc_ringbuf__consume(f->rb), -ECANCELED);
	assert_int_equal(f->seen, 3);
	assert_int_equal(retisc_ringbuf__avail(f->rb), 7 * 16);
	assert_int_equal(retisc_ringbuf__consume(f->rb), 7);
	assert_int_equal(f->seen, 10);
	assert_int_equal(f->out_of_order, 0);
}

static void test_poll(void **state)
{
	struct fixture *f = *state;

	NEED_ROOT();
	/* Nothing written: the timeout expires. */
	assert_int_equal(retisc_ringbuf__poll(f->rb, 20), 0);
	/* bpf_ringbuf_output() without flags wakes the consumer. */
	run(f->out_fd, 4);
	assert_int_equal(retisc_ringbuf__poll(f->rb, 1000), 4);
}

static void test_not_a_ring(void **state)
{
	int fd;

	(void)state;
	NEED_ROOT();
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rt_array", 4, 8, 1, NULL);
	assert_true(fd >= 0);
	errno = 0;
	assert_null(retisc_ringbuf__new(fd, on_record, NULL));
	assert_int_equal(errno, EINVAL);
	close(fd);
	errno = 0;
	assert_null(retisc_ringbuf__new(-1, on_record, NULL));
	assert_int_not_equal(errno, 0);
	retisc_ringbuf__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discarded_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
		cmocka_unit_test(test_not_a_ring),
	};

	if (geteuid())
		fprintf(stderr, "skipping ring buffer tests: need root\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
