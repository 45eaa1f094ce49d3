// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal ovs-vswitchd for the VM lane's --ovs-track test
 * (tests/vm/init.sh, test_ovs_track): Debian's ovs-vswitchd has no USDT
 * probes, so this program, installed as /usr/sbin/ovs-vswitchd, handles
 * the upcalls of a two-port datapath made with ovs-dpctl for real and
 * fires OVS's USDT probes around that work (same provider:name notes and
 * argument layouts as OVS: tests/live/ovs_vswitchd_replay.c).
 *
 * Real: the datapath sends its upcalls to this program's netlink socket
 * (per-CPU dispatch, OVS_DP_CMD_SET, as ovs-dpctl creates datapaths; the
 * vports' upcall pids too, OVS_VPORT_CMD_SET), which receives each
 * OVS_PACKET_CMD_MISS and sends the packet back with
 * OVS_PACKET_CMD_EXECUTE and an output action to the other port, so
 * traffic between the ports flows through userspace. Replayed: the USDT
 * probes (recv_upcall with the received packet's bytes, op_flow_put
 * without a real flow put, which keeps every packet an upcall,
 * op_flow_execute with the bytes sent back), fired by a thread named
 * handler1 as a handler of ovs-vswitchd would.
 *
 * Usage: ovs-vswitchd DATAPATH PORT_A PORT_B; prints "ready" once the
 * ports point to it, then one line per upcall handled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sdt.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>

#define BUF_SZ 65536

struct msg {
	char buf[BUF_SZ] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
};

static int ctl_fd, up_fd, dp_ifindex;
static uint32_t up_pid, port_a, port_b;
static uint16_t dp_family, vport_family, packet_family;
static uint32_t seq;

static void die(const char *what, int err)
{
	fprintf(stderr, "ovs-vswitchd (mini): %s: %s\n", what, strerror(err));
	exit(1);
}

static void msg_init(struct msg *m, uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags,
		     bool ovs)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN + sizeof(struct ovs_header));
	m->nh = (struct nlmsghdr *)m->buf;
	m->nh->nlmsg_type = family;
	m->nh->nlmsg_flags = NLM_F_REQUEST | flags;
	m->nh->nlmsg_seq = ++seq;
	m->nh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	g = NLMSG_DATA(m->nh);
	g->cmd = cmd;
	g->version = version;
	if (ovs) {
		struct ovs_header *oh = (void *)((char *)g + GENL_HDRLEN);

		oh->dp_ifindex = dp_ifindex;
		m->nh->nlmsg_len += sizeof(*oh);
	}
}

static struct nlattr *attr_put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (void *)(m->buf + NLMSG_ALIGN(m->nh->nlmsg_len));

	if (NLMSG_ALIGN(m->nh->nlmsg_len) + NLA_HDRLEN + NLA_ALIGN(len) > BUF_SZ)
		die("message too big", EMSGSIZE);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nh->nlmsg_len = NLMSG_ALIGN(m->nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static void nest_end(struct msg *m, struct nlattr *nest)
{
	nest->nla_len = (uint16_t)(m->buf + m->nh->nlmsg_len - (char *)nest);
}

/* Send m on fd; with ack, wait for the answer (its payload copied to
 * reply when not NULL). */
static int transact(int fd, struct msg *m, struct msg *reply)
{
	static struct msg in;
	struct msg *r = reply ? reply : &in;

	if (send(fd, m->buf, m->nh->nlmsg_len, 0) < 0)
		return -errno;
	if (!(m->nh->nlmsg_flags & NLM_F_ACK) && !reply)
		return 0;
	for (;;) {
		ssize_t n = recv(fd, r->buf, BUF_SZ, 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)r->buf;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != m->nh->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				int err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;

				if (err || !reply)
					return err;
				continue;
			}
			r->nh = nh;
			return 0;
		}
	}
}

/* The first attribute of type in [start, start + len). */
static const struct nlattr *attr_find(const void *start, size_t len, uint16_t type)
{
	const struct nlattr *a = start;

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		size_t step = NLA_ALIGN((size_t)a->nla_len);

		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (step >= len)
			break;
		len -= step;
		a = (const void *)((const char *)a + step);
	}
	return NULL;
}

static uint16_t family(const char *name)
{
	static struct msg m, r;
	const struct nlattr *id;
	int err;

	msg_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0, false);
	attr_put(&m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	err = transact(ctl_fd, &m, &r);
	if (err)
		die(name, -err);
	id = attr_find((char *)NLMSG_DATA(r.nh) + GENL_HDRLEN,
		       r.nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, CTRL_ATTR_FAMILY_ID);
	if (!id)
		die(name, ENOENT);
	return *(const uint16_t *)((const char *)id + NLA_HDRLEN);
}

static int nl_socket(uint32_t *pid)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t l = sizeof(sa);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &l))
		die("netlink socket", errno);
	if (pid)
		*pid = sa.nl_pid;
	return fd;
}

/* The vport's upcalls go to this program's socket. */
static void vport_listen(uint32_t port)
{
	static struct msg m;
	int err;

	msg_init(&m, vport_family, OVS_VPORT_CMD_SET, OVS_VPORT_VERSION, NLM_F_ACK, true);
	attr_put(&m, OVS_VPORT_ATTR_PORT_NO, &port, sizeof(port));
	attr_put(&m, OVS_VPORT_ATTR_UPCALL_PID, &up_pid, sizeof(up_pid));
	err = transact(ctl_fd, &m, NULL);
	if (err)
		die("OVS_VPORT_CMD_SET", -err);
}

/*
 * The datapath's per-CPU upcall ports (the dispatch mode ovs-dpctl sets
 * up): every CPU's upcalls to this program's socket too.
 */
static void dp_listen(void)
{
	static struct msg m;
	long n = sysconf(_SC_NPROCESSORS_CONF);
	uint32_t features = OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS |
			    OVS_DP_F_DISPATCH_UPCALL_PER_CPU,
		 pids[256];
	int err;

	if (n < 1 || n > 256)
		n = 256;
	for (long i = 0; i < n; i++)
		pids[i] = up_pid;
	msg_init(&m, dp_family, OVS_DP_CMD_SET, OVS_DATAPATH_VERSION, NLM_F_ACK, true);
	attr_put(&m, OVS_DP_ATTR_USER_FEATURES, &features, sizeof(features));
	attr_put(&m, OVS_DP_ATTR_PER_CPU_PIDS, pids, (size_t)n * sizeof(pids[0]));
	err = transact(ctl_fd, &m, NULL);
	if (err)
		die("OVS_DP_CMD_SET", -err);
}

/* One upcall: the packet back to the datapath, out of the other port. */
static void handle(const struct nlmsghdr *nh)
{
	static struct msg m;
	const struct genlmsghdr *g = NLMSG_DATA(nh);
	const char *attrs = (const char *)g + GENL_HDRLEN + sizeof(struct ovs_header);
	size_t len = nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN - sizeof(struct ovs_header);
	const struct nlattr *pkt = attr_find(attrs, len, OVS_PACKET_ATTR_PACKET);
	const struct nlattr *key = attr_find(attrs, len, OVS_PACKET_ATTR_KEY), *in;
	const char *dpif = "system@ovs-system", *data;
	char put[64] = {0}, flow[64] = {0}, execute[64] = {0};
	const void *pput = put, *pflow = flow, *pexec = execute, *preq = &m;
	uint32_t type = g->cmd == OVS_PACKET_CMD_MISS ? 0 : 1, key_len, out;
	size_t size;
	struct nlattr *acts;
	int err;

	if (!pkt || !key)
		return;
	data = (const char *)pkt + NLA_HDRLEN;
	size = pkt->nla_len - NLA_HDRLEN;
	key_len = key->nla_len - NLA_HDRLEN;
	in = attr_find((const char *)key + NLA_HDRLEN, key_len, OVS_KEY_ATTR_IN_PORT);
	if (!in)
		return;
	out = *(const uint32_t *)((const char *)in + NLA_HDRLEN) == port_a ? port_b : port_a;
	DTRACE_PROBE6(dpif_recv, recv_upcall, dpif, type, data, size, key, key_len);
	DTRACE_PROBE4(dpif_netlink_operate__, op_flow_put, dpif, pput, pflow, preq);
	DTRACE_PROBE5(dpif_netlink_operate__, op_flow_execute, dpif, pexec, data, size, preq);
	msg_init(&m, packet_family, OVS_PACKET_CMD_EXECUTE, OVS_PACKET_VERSION, NLM_F_ACK, true);
	attr_put(&m, OVS_PACKET_ATTR_PACKET, data, size);
	attr_put(&m, OVS_PACKET_ATTR_KEY, (const char *)key + NLA_HDRLEN, key_len);
	acts = attr_put(&m, OVS_PACKET_ATTR_ACTIONS, NULL, 0);
	attr_put(&m, OVS_ACTION_ATTR_OUTPUT, &out, sizeof(out));
	nest_end(&m, acts);
	err = transact(ctl_fd, &m, NULL);
	printf("upcall %zu bytes -> port %u: %s\n", size, out, err ? strerror(-err) : "executed");
}

static void *handler(void *arg)
{
	static struct msg in;

	(void)arg;
	pthread_setname_np(pthread_self(), "handler1");
	for (;;) {
		ssize_t n = recv(up_fd, in.buf, BUF_SZ, 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)in.buf;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			die("upcall socket", errno);
		}
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == packet_family)
				handle(nh);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 4) {
		fprintf(stderr, "usage: ovs-vswitchd DATAPATH PORT_A PORT_B\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dp_ifindex = (int)if_nametoindex(argv[1]);
	if (!dp_ifindex)
		die(argv[1], errno);
	port_a = (uint32_t)atoi(argv[2]);
	port_b = (uint32_t)atoi(argv[3]);
	ctl_fd = nl_socket(NULL);
	up_fd = nl_socket(&up_pid);
	dp_family = family(OVS_DATAPATH_FAMILY);
	vport_family = family(OVS_VPORT_FAMILY);
	packet_family = family(OVS_PACKET_FAMILY);
	dp_listen();
	vport_listen(port_a);
	vport_listen(port_b);
	if (pthread_create(&t, NULL, handler, NULL))
		die("thread", errno);
	usleep(20000); /* handler1 has its name */
	printf("ready\n");
	for (;;) {
		DTRACE_PROBE(main, run_start);
		sleep(1);
	}
}
