// SPDX-License-Identifier: GPL-2.0-only
/*
 * UDP traffic for `make bench` (tests/bench/bench.py):
 *   retisc-flood send ADDR PORT SECONDS [PPS [PAYLOAD]]
 *       send PAYLOAD-byte datagrams (default 18: 60-byte frames) to
 *       ADDR:PORT for SECONDS, as fast as possible or paced at PPS; prints
 *       "sent N seconds S"
 *   retisc-flood recv PORT
 *       count datagrams received on PORT until SIGINT/SIGTERM; prints
 *       "received N seconds S" (S: from the first to the last datagram)
 *
 * sendmmsg/recvmmsg batches keep the syscall cost out of the way, so that
 * the per-packet cost of the stack (and of whatever traces it) bounds the
 * rate.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 1472

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull),
			      .tv_nsec = (long)(t % 1000000000ull)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

static int flood_send(const char *addr, int port, double seconds, double pps, size_t payload)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static char buf[MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = {buf, payload};
	uint64_t sent = 0, start, end, t;
	unsigned int batch = BATCH;
	int fd;

	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1 || payload > MAX_PAYLOAD) {
		fprintf(stderr, "bad address or payload size\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* Paced runs sleep between batches: a small batch keeps bursts short
	 * (the consumer sees a steady rate) and the default 50 us timer slack
	 * would skew the pace. */
	if (pps > 0) {
		prctl(PR_SET_TIMERSLACK, 1UL);
		batch = pps < 200000 ? 8 : 32;
	}
	start = now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	while (!stop && (t = now_ns()) < end) {
		int n;

		if (pps > 0) {
			uint64_t due = start + (uint64_t)((double)sent * 1e9 / pps);

			if (due > t) {
				sleep_until(due);
				continue;
			}
		}
		memcpy(buf, &sent, sizeof(sent) < payload ? sizeof(sent) : payload);
		n = sendmmsg(fd, msgs, batch, 0);
		if (n < 0) {
			/* Full device queue or a transient error: the rate is what goes through. */
			if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED ||
			    errno == EINTR)
				continue;
			perror("sendmmsg");
			return 1;
		}
		sent += (uint64_t)n;
	}
	printf("sent %llu seconds %.6f\n", (unsigned long long)sent,
	       (double)(now_ns() - start) / 1e9);
	close(fd);
	return 0;
}

static int flood_recv(int port)
{
	struct sockaddr_in me = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	static char bufs[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	uint64_t got = 0, first = 0, last = 0;
	int fd, sz = 8 << 20;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		perror("bind");
		return 1;
	}
	/* Ride out scheduling hiccups of the receiver without socket drops. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last = now_ns();
		if (!got)
			first = last;
		got += (uint64_t)n;
	}
	printf("received %llu seconds %.6f\n", (unsigned long long)got,
	       (double)(last - first) / 1e9);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};

	/* No SA_RESTART: a signal must end a blocking poll or sleep. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "send"))
		return flood_send(argv[2], atoi(argv[3]), atof(argv[4]),
				  argc > 5 ? atof(argv[5]) : 0,
				  argc > 6 ? (size_t)atoi(argv[6]) : 18);
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return flood_recv(atoi(argv[2]));
	fprintf(stderr, "usage: retisc-flood send ADDR PORT SECONDS [PPS [PAYLOAD]]\n"
			"       retisc-flood recv PORT\n");
	return 2;
}
