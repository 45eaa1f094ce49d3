// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector, netlink path: -f on trace messages (doc/collectors.md §7.7).
 * The core compiles -f into the BPF probes (doc/filters.md §2); trace
 * messages come from netlink, so the same expression is compiled here with
 * libpcap and run with pcap_offline_filter() on the header bytes a message
 * carries, following the core's choice between its two programs
 * (doc/filters.md §1.2, §2.1): the Ethernet (L2) program when the message
 * has an Ethernet header, else the raw IP (L3, DLT_RAW) one on the network
 * header and the transport header behind it; no L3 program (link-layer
 * expressions) rejects such messages, as the core's constant reject does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "nft_int.h"

/* Snapshot length of the core's compilation (doc/filters.md §2.1). */
#define SNAPLEN 262144
#define ARPHRD_ETHER 1

/* A link-layer byte accessor ("ether[", "link [", ...) would index the IP
 * header on DLT_RAW (doc/filters.md §2.1, the core's rule). */
static bool has_link_accessor(const char *expr)
{
	static const char *const words[] = {"ether", "link", "ppp", "fddi", "tr", "wlan"};

	for (const char *p = expr; *p; p++) {
		if (p != expr && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			size_t n = strlen(words[i]);
			const char *q = p + n;

			if (strncmp(p, words[i], n) || isalnum((unsigned char)*q) || *q == '_')
				continue;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '[')
				return true;
		}
	}
	return false;
}

static struct bpf_program *compile(int dlt, const char *expr, char *err, size_t errsz)
{
	pcap_t *p = pcap_open_dead(dlt, SNAPLEN);
	struct bpf_program *prog = calloc(1, sizeof(*prog));

	if (!p || !prog) {
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		goto fail;
	}
	if (pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errsz, "libpcap error: %s", pcap_geterr(p));
		goto fail;
	}
	pcap_close(p);
	return prog;
fail:
	free(prog);
	if (p)
		pcap_close(p);
	return NULL;
}

int retisc_nft_filter__compile(struct retisc_nft_filter *f, const char *expr, char *err,
			       size_t errsz)
{
	char ignored[256];

	memset(f, 0, sizeof(*f));
	f->l2 = compile(DLT_EN10MB, expr, err, errsz);
	if (!f->l2)
		return -EINVAL;
	if (!has_link_accessor(expr))
		f->l3 = compile(DLT_RAW, expr, ignored, sizeof(ignored));
	return 0;
}

bool retisc_nft_filter__active(const struct retisc_nft_filter *f)
{
	return f && f->l2;
}

static bool run(const struct bpf_program *prog, const uint8_t *pkt, size_t caplen, size_t len)
{
	struct pcap_pkthdr h = {.caplen = (bpf_u_int32)caplen,
				.len = (bpf_u_int32)(len > caplen ? len : caplen)};

	return pcap_offline_filter(prog, &h, pkt) != 0;
}

/* The packet's length from its IP header (for pcap's `len`, `greater`). */
static size_t ip_len(const uint8_t *nh, size_t n)
{
	if (n >= 4 && nh[0] >> 4 == 4)
		return (size_t)(nh[2] << 8 | nh[3]);
	if (n >= 6 && nh[0] >> 4 == 6)
		return 40 + (size_t)(nh[4] << 8 | nh[5]);
	return n;
}

bool retisc_nft_filter__match(const struct retisc_nft_filter *f, const struct retisc_nft_msg *m)
{
	uint8_t buf[sizeof(m->ll) + sizeof(m->nh) + sizeof(m->th)];
	size_t nh_len = m->nh_len, n = 0;
	bool l2;

	if (!retisc_nft_filter__active(f))
		return true;
	if (!m->nh_len)
		return false;
	l2 = m->ll_len >= 14 && (!m->has_iiftype || m->iiftype == ARPHRD_ETHER);
	if (!l2 && !f->l3)
		return false;
	if (l2) {
		memcpy(buf, m->ll, m->ll_len);
		n = m->ll_len;
	}
	memcpy(buf + n, m->nh, nh_len);
	n += nh_len;
	/* An IPv4 header the kernel cut at 40 bytes is not followed by its
	 * transport header: leave that out rather than misplace it. */
	if (m->th_len && !(m->nh[0] >> 4 == 4 && (size_t)(m->nh[0] & 0xf) * 4 != nh_len)) {
		memcpy(buf + n, m->th, m->th_len);
		n += m->th_len;
	}
	return run(l2 ? f->l2 : f->l3, buf, n, (l2 ? m->ll_len : 0) + ip_len(m->nh, nh_len));
}

static void prog_free(void *p)
{
	if (p) {
		pcap_freecode(p);
		free(p);
	}
}

void retisc_nft_filter__release(struct retisc_nft_filter *f)
{
	prog_free(f->l2);
	prog_free(f->l3);
	f->l2 = f->l3 = NULL;
}
