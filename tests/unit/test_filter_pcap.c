// SPDX-License-Identifier: GPL-2.0-only
/*
 * -f translation checked against libpcap itself: each expression is compiled
 * by libpcap, translated to eBPF by retisc, and the generated instructions
 * run in the kernel (BPF_PROG_TEST_RUN of a raw tracepoint harness) over
 * hand-built packets; the verdict must equal pcap_offline_filter()'s on the
 * same bytes. Also: translator errors and limits. Running needs root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn
#include <linux/filter.h>

#include "filter.h"
#include "testutil.h"

#define VAL_PKT 0
#define VAL_PTR 256
#define VAL_CTX 264 /* struct { u64 data; u32 len; u32 linear; } */
#define VAL_SIZE 280

#define I(c, d, s, o, i)                                                                           \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static int map_fd = -1;

struct pkt {
	const char *name;
	uint8_t data[256];
	size_t len;
};

static size_t put(uint8_t *p, const char *hex)
{
	size_t n = 0;
	unsigned int b;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &b);
		p[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

static struct pkt pkts[8];
static size_t npkts;

static void add_pkt(const char *name, const char *hex)
{
	pkts[npkts].name = name;
	pkts[npkts].len = put(pkts[npkts].data, hex);
	npkts++;
}

static int setup(void **state)
{
	(void)state;
	/* ICMP echo request 192.168.125.10 -> .11 (doc/events.md example 1). */
	add_pkt("icmp-echo",
		"fa5cbd8ecc01a6c211715945 0800"
		"4500005 4a3f94000400 11b49c0a87d0ac0a87d0b"
		"0800405a714c0001 edfdd967000000 00b31f0d00000000 00101112131415161718");
	/* ICMP echo reply 10.0.0.2 -> 10.0.0.1. */
	add_pkt("icmp-reply", "020000000001020000000002 0800"
			      "450000 1c 0001 0000 4001 0000 0a000002 0a000001"
			      "0000 ffff 0001 0001");
	/* TCP SYN 10.0.0.1:34567 -> 10.0.0.2:80. */
	add_pkt("tcp-syn-80", "020000000002020000000001 0800"
			      "45000028 0001 4000 4006 0000 0a000001 0a000002"
			      "8707 0050 00000001 00000000 5002 ffff 0000 0000");
	/* TCP ACK 10.0.0.1:34567 -> 10.0.0.3:443. */
	add_pkt("tcp-ack-443", "020000000002020000000001 0800"
			       "45000028 0001 4000 4006 0000 0a000001 0a000003"
			       "8707 01bb 00000001 00000001 5010 ffff 0000 0000");
	/* UDP 10.1.2.3:53 -> 10.0.0.1:5353, VLAN 100 tagged. */
	add_pkt("udp-vlan", "020000000001020000000009 8100 0064 0800"
			    "4500001c 0001 0000 4011 0000 0a010203 0a000001"
			    "0035 14e9 0008 0000");
	/* IPv6 TCP SYN 1111::1 -> 1111::2 port 80 (doc/events.md example 3). */
	add_pkt("ipv6-syn", "aeb04a6abfaf9e1d3d319e3b 86dd"
			    "6006f48a00280640 11110000000000000000000000000001"
			    "11110000000000000000000000000002"
			    "db640050b211c1c000000000a002fd20 22530000"
			    "020405a00402080a53fd1e8200000000 01030307");
	/* ARP who-has 10.0.0.2 tell 10.0.0.1, broadcast. */
	add_pkt("arp", "ffffffffffff020000000001 0806"
		       "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002");
	/* Truncated IPv4 header (only 10 bytes of IP). */
	add_pkt("truncated", "020000000002020000000001 0800 45000028000140004006");
	if (geteuid() == 0) {
		map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pcap_test", 4, VAL_SIZE, 1, NULL);
		if (map_fd < 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (map_fd >= 0)
		close(map_fd);
	return 0;
}

/* Harness: look up the packet value, build the filter context in the map
 * value (the data pointer laundered into a scalar through the map), run the
 * stage, return its r0. */
static int load_harness(const struct retisc_insns *stage)
{
	struct retisc_insns p = {};
	char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 0);
	int fd;

	retisc_insns__push(&p, I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0));
	retisc_insns__push(&p, I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, map_fd));
	retisc_insns__push(&p, I(0, 0, 0, 0, 0));
	retisc_insns__push(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0));
	retisc_insns__push(&p, I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4));
	retisc_insns__push(&p, I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
	retisc_insns__push(&p, I(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0));
	retisc_insns__push(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -1));
	retisc_insns__push(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	retisc_insns__push(&p, I(BPF_STX | BPF_MEM | BPF_DW, 0, 0, VAL_PTR, 0));
	retisc_insns__push(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 1, 0, VAL_PTR, 0));
	retisc_insns__push(&p, I(BPF_STX | BPF_MEM | BPF_DW, 0, 1, VAL_CTX, 0));
	retisc_insns__push(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0));
	retisc_insns__push(&p, I(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, VAL_CTX));
	for (size_t i = 0; i < stage->n; i++)
		retisc_insns__push(&p, stage->insns[i]);
	retisc_insns__push(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pcap_harness", "GPL", p.insns, p.n, &o);
	if (fd < 0) {
		o.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "pcap_harness", "GPL", p.insns,
				   p.n, &o);
		fprintf(stderr, "harness load failed: %s\n%s\n", strerror(errno),
			log + (strlen(log) > 3000 ? strlen(log) - 3000 : 0));
	}
	retisc_insns__release(&p);
	return fd;
}

static int run(int fd, const struct pkt *pk, size_t linear, uint32_t *ret)
{
	uint8_t val[VAL_SIZE] = {};
	uint32_t key = 0, len = (uint32_t)pk->len, lin = (uint32_t)linear;
	uint64_t args[1] = {};
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = args, .ctx_size_in = sizeof(args));

	memcpy(val + VAL_PKT, pk->data, pk->len);
	memcpy(val + VAL_CTX + 8, &len, 4);
	memcpy(val + VAL_CTX + 12, &lin, 4);
	if (bpf_map_update_elem(map_fd, &key, val, 0))
		return -errno;
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	*ret = t.retval;
	return 0;
}

static void check_expr(const char *expr, int dlt)
{
	pcap_t *pc = pcap_open_dead(dlt, 262144);
	struct retisc_insns stage = {};
	struct bpf_program prog;
	char err[256] = "";
	int fd;

	assert_non_null(pc);
	if (pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		fprintf(stderr, "pcap_compile(%s): %s\n", expr, pcap_geterr(pc));
		fail();
	}
	if (retisc_filter__cbpf_to_ebpf((const struct sock_filter *)prog.bf_insns, prog.bf_len,
					&stage, err, sizeof(err))) {
		fprintf(stderr, "translate(%s): %s\n", expr, err);
		fail();
	}
	fd = load_harness(&stage);
	if (fd < 0)
		fprintf(stderr, "expression: %s\n", expr);
	assert_true(fd >= 0);
	for (size_t i = 0; i < npkts; i++) {
		const struct pkt *pk = &pkts[i];
		size_t off = dlt == DLT_RAW ? 14 : 0;
		struct pkt raw = *pk;
		struct pcap_pkthdr h = {};
		uint32_t got = 0;
		bool want;

		if (dlt == DLT_RAW) {
			/* L3 packets start at the IP header (untagged IP only). */
			if (pk->len < 14 || pk->data[12] != 0x08 || pk->data[13] != 0x00 ||
			    pk->len == off)
				continue;
			memcpy(raw.data, pk->data + off, pk->len - off);
			raw.len = pk->len - off;
		}
		h.caplen = h.len = (uint32_t)raw.len;
		want = pcap_offline_filter(&prog, &h, raw.data) != 0;
		assert_int_equal(run(fd, &raw, raw.len, &got), 0);
		if ((got != 0) != want) {
			fprintf(stderr, "'%s' on %s: retisc %s, libpcap %s\n", expr, pk->name,
				got ? "match" : "no match", want ? "match" : "no match");
			fail();
		}
	}
	close(fd);
	retisc_insns__release(&stage);
	pcap_freecode(&prog);
	pcap_close(pc);
}

static const char *const exprs[] = {
	"icmp",
	"tcp",
	"udp",
	"arp",
	"ip6",
	"ip",
	"host 10.0.0.2",
	"src host 10.0.0.1 and dst host 10.0.0.2",
	"net 10.0.0.0/24",
	"not net 10.0.0.0/24",
	"tcp port 80",
	"tcp port 80 and host 10.0.0.2",
	"port 443 or port 53",
	"icmp[icmptype] == icmp-echoreply",
	"icmp[icmptype] == icmp-echo",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-ack",
	"vlan",
	"vlan 100 and udp",
	"ip6 and tcp dst port 80",
	"ether host 02:00:00:00:00:01",
	"ether broadcast",
	"ether[12:2] = 0x0806",
	"len > 60",
	"less 64",
	"greater 100",
	"ip[8] = 64",
	"tcp[13] = 2",
	"udp[0:2] = 53",
	"ip[2:2] / 4 > 10",
	"ip[2:2] % 7 = 5",
	"portrange 50-60",
	"icmp or tcp port 80",
};

static void test_l2_matches_libpcap(void **state)
{
	(void)state;
	if (map_fd < 0)
		skip();
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		check_expr(exprs[i], DLT_EN10MB);
}

static void test_l3_matches_libpcap(void **state)
{
	static const char *const l3[] = {"icmp", "tcp port 80", "host 10.0.0.2", "ip[8] = 64",
					 "net 10.0.0.0/24 and not udp"};

	(void)state;
	if (map_fd < 0)
		skip();
	for (size_t i = 0; i < sizeof(l3) / sizeof(l3[0]); i++)
		check_expr(l3[i], DLT_RAW);
}

/* A packet whose linear part is shorter than the bytes a filter reads does
 * not match (no read past the linear data, doc/filters.md §2.3). */
static void test_linear_bound(void **state)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 262144);
	struct retisc_insns stage = {};
	struct bpf_program prog;
	char err[256];
	uint32_t got = 1;
	int fd;

	(void)state;
	if (map_fd < 0)
		skip();
	assert_int_equal(pcap_compile(pc, &prog, "tcp port 80", 1, PCAP_NETMASK_UNKNOWN), 0);
	assert_int_equal(retisc_filter__cbpf_to_ebpf((const struct sock_filter *)prog.bf_insns,
						     prog.bf_len, &stage, err, sizeof(err)),
			 0);
	fd = load_harness(&stage);
	assert_true(fd >= 0);
	assert_int_equal(run(fd, &pkts[2], pkts[2].len, &got), 0);
	assert_true(got != 0);
	assert_int_equal(run(fd, &pkts[2], 30, &got), 0);
	assert_int_equal(got, 0);
	close(fd);
	retisc_insns__release(&stage);
	pcap_freecode(&prog);
	pcap_close(pc);
}

static void test_translator_errors(void **state)
{
	struct sock_filter anc[] = {{BPF_LD | BPF_W | BPF_ABS, 0, 0, 0xfffff000},
				    {BPF_RET | BPF_A, 0, 0, 0}};
	struct sock_filter bad[] = {{0xffff, 0, 0, 0}};
	struct sock_filter out_of_prog[] = {{BPF_JMP | BPF_JA, 0, 0, 5}};
	struct sock_filter *big;
	struct retisc_insns v = {};
	char err[256];

	(void)state;
	assert_int_equal(retisc_filter__cbpf_to_ebpf(anc, 0, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Failed to convert filter: program is empty");
	assert_int_equal(retisc_filter__cbpf_to_ebpf(anc, 2, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unsupported ancillary load");
	retisc_insns__release(&v);
	assert_int_equal(retisc_filter__cbpf_to_ebpf(bad, 1, &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Unknown bpf instruction: 65535");
	retisc_insns__release(&v);
	assert_int_equal(retisc_filter__cbpf_to_ebpf(out_of_prog, 1, &v, err, sizeof(err)),
			 -EINVAL);
	retisc_insns__release(&v);
	/* 300 loads of ~20 eBPF instructions each: over 4096. */
	big = calloc(301, sizeof(*big));
	for (int i = 0; i < 300; i++)
		big[i] = (struct sock_filter){BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)i};
	big[300] = (struct sock_filter){BPF_RET | BPF_A, 0, 0, 0};
	assert_int_equal(retisc_filter__cbpf_to_ebpf(big, 301, &v, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "Filter exceeds the maximum allowed size.");
	retisc_insns__release(&v);
	free(big);
}

static void test_compile_pcap_errors(void **state)
{
	struct retisc_insns l2 = {}, l3 = {};
	bool has_l3;
	char err[512];

	(void)state;
	assert_int_equal(
		retisc_filter__compile_pcap("tcp port", &l2, &l3, &has_l3, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "Could not compile the filter: libpcap error: "));
	retisc_insns__release(&l2);
	/* Link-layer only: no L3 stage. */
	assert_int_equal(
		retisc_filter__compile_pcap("ether broadcast", &l2, &l3, &has_l3, err, sizeof(err)),
		0);
	assert_false(has_l3);
	retisc_insns__release(&l2);
	assert_int_equal(retisc_filter__compile_pcap("ether[12:2] = 0x800", &l2, &l3, &has_l3, err,
						     sizeof(err)),
			 0);
	assert_false(has_l3);
	retisc_insns__release(&l2);
	assert_int_equal(
		retisc_filter__compile_pcap("tcp port 80", &l2, &l3, &has_l3, err, sizeof(err)), 0);
	assert_true(has_l3);
	retisc_insns__release(&l2);
	retisc_insns__release(&l3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l2_matches_libpcap),
		cmocka_unit_test(test_l3_matches_libpcap),
		cmocka_unit_test(test_linear_bound),
		cmocka_unit_test(test_translator_errors),
		cmocka_unit_test(test_compile_pcap_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
