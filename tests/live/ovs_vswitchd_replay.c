// SPDX-License-Identifier: GPL-2.0-only
/*
 * A stand-in for ovs-vswitchd built with --enable-usdt-probes (Debian's is
 * built without), for the --ovs-track tests (tests/live/ovs.sh, the VM
 * lane): built as a binary named ovs-vswitchd, it declares the USDT notes
 * retisc attaches to, with OVS's argument layouts (main:run_start;
 * dpif_recv:recv_upcall: dpif name, upcall type, packet data, packet size,
 * key, key length; dpif_netlink_operate__:op_flow_put: dpif, put, flow,
 * request; op_flow_execute: dpif, execute, packet data, packet size,
 * request), and replays what a handler thread does with a batch of
 * upcalls: one recv_upcall per packet, then per packet a flow put and an
 * execute, in order.
 *
 * Usage: ovs-vswitchd [PACKET_HEX...]: prints "ready" once its threads
 * (handler1, handler2, revalidator3) run, then on each SIGUSR1 replays:
 *   handler1: the batch of every packet given (default: three made-up
 *             frames), the last one with an execute only (no put);
 *   revalidator3: a flow put (no batch: retisc must ignore it);
 *   handler2: a batch of one more frame (put, execute).
 * Each replayed upcall's queue id (plugins/ovs/ovs_jhash.h, the userspace
 * side of the hash) is printed as "q <handler> <id>" on stdout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>

#include "ovs_jhash.h"

#define MAX_PKTS 16

struct pkt {
	uint8_t data[256];
	size_t len;
};

static struct pkt pkts[MAX_PKTS + 1];
static int n_pkts;
static volatile sig_atomic_t go;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int round_no, done_h1, done_reval;
static const char dpif_name[] = "system@ovs-system";

/* A made-up Ethernet/IPv4/UDP frame whose bytes depend on seed. */
static void make_frame(struct pkt *p, int seed)
{
	static const uint8_t hdr[] = {0x02, 0,	  0,	0, 0, 0x02, 0x02, 0, 0,	   0, 0,    0x01,
				      0x08, 0x00, 0x45, 0, 0, 0x24, 0,	  0, 0x40, 0, 0x40, 0x11,
				      0,    0,	  10,	0, 0, 1,    10,	  0, 0,	   2};

	memset(p, 0, sizeof(*p));
	memcpy(p->data, hdr, sizeof(hdr));
	p->data[35] = (uint8_t)(1000 + seed); /* UDP source port, low byte */
	p->data[37] = (uint8_t)(2000 + seed); /* destination port */
	memset(p->data + 42, 'a' + seed, 30); /* payload */
	p->len = 72;
}

static int hex_frame(struct pkt *p, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (n > sizeof(p->data) || strlen(hex) % 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		p->data[i] = (uint8_t)b;
	}
	p->len = n;
	return 0;
}

static void recv_upcall(const struct pkt *p, const char *who)
{
	uint32_t type = 0; /* DPIF_UC_MISS */
	uint8_t key[40] = {0};
	uint32_t key_len = sizeof(key);
	const void *data = p->data;
	size_t size = p->len;

	DTRACE_PROBE6(dpif_recv, recv_upcall, dpif_name, type, data, size, key, key_len);
	printf("q %s %u\n", who, retisc_ovs_queue_id(p->data, (uint32_t)p->len));
}

static void op_put(void)
{
	char put[64] = {0}, flow[64] = {0}, request[64] = {0};
	const void *dpif = dpif_name, *pput = put, *pflow = flow, *preq = request;

	DTRACE_PROBE4(dpif_netlink_operate__, op_flow_put, dpif, pput, pflow, preq);
}

static void op_execute(const struct pkt *p)
{
	char execute[64] = {0}, request[64] = {0};
	const void *dpif = dpif_name, *pexec = execute, *data = p->data, *preq = request;
	size_t size = p->len;

	DTRACE_PROBE5(dpif_netlink_operate__, op_flow_execute, dpif, pexec, data, size, preq);
}

/* Wait for round r's turn of who (0: handler1, 1: revalidator, 2: handler2). */
static void wait_turn(int r, int who)
{
	pthread_mutex_lock(&lock);
	while (round_no < r || (who >= 1 && done_h1 < r) || (who == 2 && done_reval < r))
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void *handler1(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "handler1");
	for (int r = 1;; r++) {
		wait_turn(r, 0);
		for (int i = 0; i < n_pkts; i++)
			recv_upcall(&pkts[i], "handler1");
		for (int i = 0; i < n_pkts; i++) {
			if (i < n_pkts - 1 || n_pkts == 1)
				op_put();
			op_execute(&pkts[i]);
		}
		fflush(stdout);
		pthread_mutex_lock(&lock);
		done_h1 = r;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *revalidator(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "revalidator3");
	for (int r = 1;; r++) {
		wait_turn(r, 1);
		op_put();
		pthread_mutex_lock(&lock);
		done_reval = r;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *handler2(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "handler2");
	for (int r = 1;; r++) {
		wait_turn(r, 2);
		recv_upcall(&pkts[MAX_PKTS], "handler2");
		op_put();
		op_execute(&pkts[MAX_PKTS]);
		fflush(stdout);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	go++;
}

int main(int argc, char **argv)
{
	pthread_t t[3];
	int seen = 0;

	for (int i = 1; i < argc && n_pkts < MAX_PKTS; i++) {
		if (hex_frame(&pkts[n_pkts++], argv[i])) {
			fprintf(stderr, "ovs-vswitchd (replay): bad frame '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!n_pkts)
		for (; n_pkts < 3; n_pkts++)
			make_frame(&pkts[n_pkts], n_pkts);
	make_frame(&pkts[MAX_PKTS], 9);
	signal(SIGUSR1, on_usr1);
	if (pthread_create(&t[0], NULL, handler1, NULL) ||
	    pthread_create(&t[1], NULL, revalidator, NULL) ||
	    pthread_create(&t[2], NULL, handler2, NULL))
		return 1;
	usleep(50000); /* the threads have their names */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		DTRACE_PROBE(main, run_start);
		if (go != seen) {
			seen = go;
			pthread_mutex_lock(&lock);
			round_no++;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
		}
		usleep(10000);
	}
	return 0;
}
