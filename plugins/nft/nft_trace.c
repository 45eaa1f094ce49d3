// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector, netlink path (doc/collectors.md §7.7): nf_tables' trace
 * messages, read from the NFNLGRP_NFTRACE group of NETLINK_NETFILTER as
 * `nft monitor trace` does, where kprobes on __nft_trace_packet cannot be
 * attached.
 *
 * nftables and netlink are per network namespace: the collector listens in
 * its own and in every named one (/run/netns/<name>) present at start. A
 * helper thread enters each with setns() and opens the namespace's sockets
 * (and libnftables context) there; a socket keeps its namespace, so one
 * listener thread then reads them all, and the main thread removes the
 * trace tables through the contexts at the end without entering anything.
 *
 * Per namespace: a trace socket (trace messages, plus the ruleset's
 * NFT_MSG_NEWGEN notifications, which invalidate the handle cache in
 * order with the messages), a query socket (table and chain dumps: trace
 * messages carry names, the nft section also wants handles), and with
 * --allow-system-changes the table `inet retisc_trace` whose prerouting and
 * output base chains set `meta nftrace` on every packet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "nft_int.h"

#define NETNS_DIR "/run/netns"
#define MAX_NS 256
#define RECV_BUF (64 * 1024)
#define RCVBUF_BYTES (8 * 1024 * 1024)
/* How long the bus thread waits for the listener (retisc_nft_nl__sync()). */
#define SYNC_WAIT_NS 20000000ull
/* A lookup miss refreshes the handle cache at most this often. */
#define REFRESH_NS 100000000ull
/* Trace ids remembered for the messages without header bytes. */
#define ID_CACHE 64
/* Reads of one socket per turn of the listener, so that a flood in one
 * namespace does not starve the others nor the expiry. */
#define READS_PER_TURN 4096

/* Wake a thread waiting on an eventfd (nothing to do when that fails: the
 * counter is already non-zero, or the thread is gone). */
static void evfd_poke(int fd)
{
	uint64_t one = 1;
	ssize_t r = write(fd, &one, sizeof(one));

	(void)r;
}

/* -------------------------------------------------------------------------
 * Messages.
 */

static void copy_attr(const struct nftnl_trace *t, uint16_t attr, uint8_t *dst, size_t cap,
		      size_t *len)
{
	uint32_t n = 0;
	const void *p = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_data(t, attr, &n) : NULL;

	*len = p ? (n < cap ? n : cap) : 0;
	if (*len)
		memcpy(dst, p, *len);
}

static void copy_str(const struct nftnl_trace *t, uint16_t attr, char *dst, size_t cap)
{
	const char *s = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_str(t, attr) : NULL;

	snprintf(dst, cap, "%s", s ? s : "");
}

int retisc_nft_msg__parse(const void *buf, struct retisc_nft_msg *m)
{
	const struct nlmsghdr *nlh = buf;
	struct retisc_nft_trace *t = &m->t;
	struct nftnl_trace *nt;
	int err = 0;

	memset(m, 0, sizeof(*m));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_TRACE)
		return -ENOENT;
	nt = nftnl_trace_alloc();
	if (!nt)
		return -ENOMEM;
	if (nftnl_trace_nlmsg_parse(nlh, nt) < 0 || !nftnl_trace_is_set(nt, NFTNL_TRACE_TABLE) ||
	    !nftnl_trace_is_set(nt, NFTNL_TRACE_CHAIN) ||
	    !nftnl_trace_is_set(nt, NFTNL_TRACE_TYPE)) {
		err = -EINVAL;
		goto out;
	}
	copy_str(nt, NFTNL_TRACE_TABLE, t->table, sizeof(t->table));
	copy_str(nt, NFTNL_TRACE_CHAIN, t->chain, sizeof(t->chain));
	copy_str(nt, NFTNL_TRACE_JUMP_TARGET, t->vchain, sizeof(t->vchain));
	t->family = nftnl_trace_get_u32(nt, NFTNL_TRACE_FAMILY);
	t->type = nftnl_trace_get_u32(nt, NFTNL_TRACE_TYPE);
	t->t_handle = t->c_handle = t->r_handle = -1;
	/* The kernel names the rule except for policies and the implicit
	 * last rule of a chain. */
	if (nftnl_trace_is_set(nt, NFTNL_TRACE_RULE_HANDLE))
		t->r_handle = (int64_t)nftnl_trace_get_u64(nt, NFTNL_TRACE_RULE_HANDLE);
	/* A policy message carries the policy instead of a verdict. */
	t->policy = t->type == NFT_TRACETYPE_POLICY;
	if (t->policy)
		t->verdict = (int32_t)nftnl_trace_get_u32(nt, NFTNL_TRACE_POLICY);
	else if (nftnl_trace_is_set(nt, NFTNL_TRACE_VERDICT))
		t->verdict = (int32_t)nftnl_trace_get_u32(nt, NFTNL_TRACE_VERDICT);
	else
		t->verdict = NFT_CONTINUE;
	t->id = nftnl_trace_get_u32(nt, NFTNL_TRACE_ID);
	t->has_iif = nftnl_trace_is_set(nt, NFTNL_TRACE_IIF);
	t->iif = t->has_iif ? nftnl_trace_get_u32(nt, NFTNL_TRACE_IIF) : 0;
	t->has_oif = nftnl_trace_is_set(nt, NFTNL_TRACE_OIF);
	t->oif = t->has_oif ? nftnl_trace_get_u32(nt, NFTNL_TRACE_OIF) : 0;
	t->mark = nftnl_trace_is_set(nt, NFTNL_TRACE_MARK)
			  ? nftnl_trace_get_u32(nt, NFTNL_TRACE_MARK)
			  : 0;
	m->nfproto = nftnl_trace_get_u32(nt, NFTNL_TRACE_NFPROTO);
	m->has_iiftype = nftnl_trace_is_set(nt, NFTNL_TRACE_IIFTYPE);
	m->iiftype = m->has_iiftype ? nftnl_trace_get_u16(nt, NFTNL_TRACE_IIFTYPE) : 0;
	copy_attr(nt, NFTNL_TRACE_LL_HEADER, m->ll, sizeof(m->ll), &m->ll_len);
	copy_attr(nt, NFTNL_TRACE_NETWORK_HEADER, m->nh, sizeof(m->nh), &m->nh_len);
	copy_attr(nt, NFTNL_TRACE_TRANSPORT_HEADER, m->th, sizeof(m->th), &m->th_len);
	if (m->nh_len)
		retisc_nft_key__from_ip(&t->key, m->nh, m->nh_len, m->th_len ? m->th : NULL,
					m->th_len);
out:
	nftnl_trace_free(nt);
	return err;
}

/* -------------------------------------------------------------------------
 * Namespaces.
 */

struct handle_ent {
	uint32_t family;
	char *table;
	char *chain; /* NULL: the table's own handle */
	int64_t handle;
};

struct id_ent {
	uint32_t id;
	bool used;
	bool pass; /* -f's answer for its packet */
	struct retisc_nft_key key;
};

struct nft_ns {
	char name[NAME_MAX + 1]; /* "" for retisc's own */
	int err;		 /* set-up result */
	struct mnl_socket *trace, *query;
	struct nft_ctx *nft; /* --allow-system-changes only */
	bool table_added;
	uint32_t seq;
	struct handle_ent *handles;
	size_t n_handles;
	bool stale;
	uint64_t refreshed;
	struct id_ent ids[ID_CACHE];
	unsigned int ids_next;
};

struct retisc_nft_nl {
	struct retisc_nft_nl_cfg cfg;
	const struct retisc_api *api;
	struct nft_ns *ns;
	size_t n_ns;
	uint8_t *buf;
	int evfd;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	/* Every message queued before this time was read (sync). */
	atomic_ullong drained_to;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct retisc_nft_nl_stats st;
	struct retisc_nft_guard *guard; /* --allow-system-changes only */
	uint64_t sync_timeouts;
	bool recv_err_logged;
};

static const char *ns_label(const struct nft_ns *ns)
{
	return ns->name[0] ? ns->name : "(retisc's own)";
}

/* Run nft commands in ns through its libnftables context. */
static int ns_nft_run(struct retisc_nft_nl *nl, struct nft_ns *ns, const char *cmds, bool report)
{
	const char *e;

	if (!nft_run_cmd_from_buffer(ns->nft, cmds))
		return 0;
	e = nft_ctx_get_error_buffer(ns->nft);
	if (report)
		nl->api->log(RETISC_LOG_ERROR, "nft: %.*s", (int)strcspn(e ?: "", "\n"), e ?: "");
	return -EIO;
}

static int table_add(struct retisc_nft_nl *nl, struct nft_ns *ns)
{
	int err;

	/* A table a killed run left behind is replaced. */
	ns_nft_run(nl, ns, "delete table inet " RETISC_NFT_TRACE_TABLE, false);
	err = ns_nft_run(nl, ns,
			 "add table inet " RETISC_NFT_TRACE_TABLE "\n"
			 "add chain inet " RETISC_NFT_TRACE_TABLE " pre { type filter hook "
			 "prerouting priority " RETISC_NFT_TRACE_PRIO "; }\n"
			 "add rule inet " RETISC_NFT_TRACE_TABLE " pre meta nftrace set 1\n"
			 "add chain inet " RETISC_NFT_TRACE_TABLE " out { type filter hook output "
			 "priority " RETISC_NFT_TRACE_PRIO "; }\n"
			 "add rule inet " RETISC_NFT_TRACE_TABLE " out meta nftrace set 1\n",
			 true);
	if (err)
		return err;
	ns->table_added = true;
	nl->st.n_tab++;
	return 0;
}

static void table_del(struct retisc_nft_nl *nl, struct nft_ns *ns)
{
	if (!ns->table_added)
		return;
	ns->table_added = false;
	if (!ns_nft_run(nl, ns, "delete table inet " RETISC_NFT_TRACE_TABLE, true))
		return;
	if (ns->name[0])
		nl->api->log(RETISC_LOG_ERROR,
			     "Unable to delete " RETISC_NFT_TRACE_TABLE " in namespace %s. To "
			     "remove the table, please run: ip netns exec %s nft delete table "
			     "inet " RETISC_NFT_TRACE_TABLE,
			     ns->name, ns->name);
	else
		nl->api->log(RETISC_LOG_ERROR,
			     "Unable to delete " RETISC_NFT_TRACE_TABLE ". To remove the table, "
			     "please run: nft delete table inet " RETISC_NFT_TRACE_TABLE);
}

static struct mnl_socket *sock_open(unsigned int rcvbuf)
{
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int v = (int)rcvbuf;

	if (!sk)
		return NULL;
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(sk);
		errno = e;
		return NULL;
	}
	/* Root may go past rmem_max: trace messages come in bursts. */
	if (rcvbuf)
		setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	return sk;
}

/* In the namespace the calling thread is in. */
static int ns_open(struct retisc_nft_nl *nl, struct nft_ns *ns)
{
	struct timeval tmo = {.tv_sec = 1};

	ns->trace = sock_open(RCVBUF_BYTES);
	ns->query = ns->trace ? sock_open(0) : NULL;
	if (!ns->query)
		return -errno;
	/* A dump never blocks the listener for long. */
	setsockopt(mnl_socket_get_fd(ns->query), SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	ns->stale = true;
	if (!nl->cfg.system_changes)
		return 0;
	ns->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ns->nft)
		return -ENOMEM;
	nft_ctx_buffer_output(ns->nft);
	nft_ctx_buffer_error(ns->nft);
	return table_add(nl, ns);
}

/* The set-up thread: each namespace entered in turn (setns() changes this
 * thread's namespace only), the sockets and context opened there. */
static void *setup_main(void *arg)
{
	struct retisc_nft_nl *nl = arg;

	for (size_t i = 0; i < nl->n_ns; i++) {
		struct nft_ns *ns = &nl->ns[i];

		if (ns->name[0]) {
			char path[sizeof(NETNS_DIR) + NAME_MAX + 1];
			int fd;

			snprintf(path, sizeof(path), NETNS_DIR "/%s", ns->name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET)) {
				ns->err = -errno;
				if (fd >= 0)
					close(fd);
				continue;
			}
			close(fd);
		}
		ns->err = ns_open(nl, ns);
	}
	return NULL;
}

static int ns_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nft_ns *)a)->name, ((const struct nft_ns *)b)->name);
}

/* Own namespace first, then those of /run/netns by name, each namespace once. */
static int ns_list(struct retisc_nft_nl *nl)
{
	struct stat own, *seen;
	struct dirent *d;
	DIR *dir;

	if (stat("/proc/self/ns/net", &own))
		return -errno;
	nl->ns = calloc(MAX_NS, sizeof(*nl->ns));
	seen = calloc(MAX_NS, sizeof(*seen));
	if (!nl->ns || !seen) {
		free(seen);
		return -ENOMEM;
	}
	seen[0] = own;
	nl->n_ns = 1;
	dir = opendir(NETNS_DIR);
	while (dir && (d = readdir(dir))) {
		char path[sizeof(NETNS_DIR) + NAME_MAX + 1];
		struct stat st;
		bool dup = false;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), NETNS_DIR "/%s", d->d_name);
		/* Not on nsfs: a namespace being created or deleted. */
		if (stat(path, &st) || st.st_dev != own.st_dev)
			continue;
		for (size_t i = 0; i < nl->n_ns && !dup; i++)
			dup = st.st_dev == seen[i].st_dev && st.st_ino == seen[i].st_ino;
		if (dup)
			continue;
		if (nl->n_ns == MAX_NS) {
			nl->api->log(RETISC_LOG_WARN,
				     "nft: more than %d network namespaces: trace messages of the "
				     "others are not read",
				     MAX_NS);
			break;
		}
		seen[nl->n_ns] = st;
		snprintf(nl->ns[nl->n_ns].name, sizeof(nl->ns[0].name), "%s", d->d_name);
		nl->n_ns++;
	}
	if (dir)
		closedir(dir);
	free(seen);
	qsort(nl->ns + 1, nl->n_ns - 1, sizeof(*nl->ns), ns_cmp);
	return 0;
}

/* -------------------------------------------------------------------------
 * Table and chain handles.
 */

static void handles_clear(struct nft_ns *ns)
{
	for (size_t i = 0; i < ns->n_handles; i++) {
		free(ns->handles[i].table);
		free(ns->handles[i].chain);
	}
	free(ns->handles);
	ns->handles = NULL;
	ns->n_handles = 0;
}

static int handle_add(struct nft_ns *ns, uint32_t family, const char *table, const char *chain,
		      uint64_t handle)
{
	struct handle_ent *v = realloc(ns->handles, (ns->n_handles + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ns->handles = v;
	v = &v[ns->n_handles];
	v->family = family;
	v->handle = (int64_t)handle;
	v->table = strdup(table);
	v->chain = chain ? strdup(chain) : NULL;
	if (!v->table || (chain && !v->chain)) {
		free(v->table);
		free(v->chain);
		return -ENOMEM;
	}
	ns->n_handles++;
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	int ret = MNL_CB_OK;

	if (!t)
		return MNL_CB_ERROR;
	if (!nftnl_table_nlmsg_parse(nlh, t) && nftnl_table_is_set(t, NFTNL_TABLE_NAME) &&
	    handle_add(data, nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
		       nftnl_table_get_str(t, NFTNL_TABLE_NAME), NULL,
		       nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE)))
		ret = MNL_CB_ERROR;
	nftnl_table_free(t);
	return ret;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	int ret = MNL_CB_OK;

	if (!c)
		return MNL_CB_ERROR;
	if (!nftnl_chain_nlmsg_parse(nlh, c) && nftnl_chain_is_set(c, NFTNL_CHAIN_NAME) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_TABLE) &&
	    handle_add(data, nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
		       nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
		       nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
		       nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE)))
		ret = MNL_CB_ERROR;
	nftnl_chain_free(c);
	return ret;
}

/* One dump request on the query socket, each answer through cb. */
static int dump(struct retisc_nft_nl *nl, struct nft_ns *ns, uint16_t type, mnl_cb_t cb)
{
	uint32_t seq = ++ns->seq, portid = mnl_socket_get_portid(ns->query);
	struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	nlh = nftnl_nlmsg_build_hdr((char *)nl->buf, type, NFPROTO_UNSPEC, NLM_F_DUMP, seq);
	if (mnl_socket_sendto(ns->query, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(ns->query, nl->buf, RECV_BUF);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nl->buf, (size_t)n, seq, portid, cb, ns);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static void handles_refresh(struct retisc_nft_nl *nl, struct nft_ns *ns)
{
	int err;

	handles_clear(ns);
	ns->stale = false;
	ns->refreshed = retisc_nft_now();
	err = dump(nl, ns, NFT_MSG_GETTABLE, table_cb) ?: dump(nl, ns, NFT_MSG_GETCHAIN, chain_cb);
	if (err)
		nl->api->log(RETISC_LOG_DEBUG,
			     "nft: cannot list tables and chains in namespace %s: %s", ns_label(ns),
			     strerror(-err));
}

static int64_t handle_find(const struct nft_ns *ns, uint32_t family, const char *table,
			   const char *chain)
{
	for (size_t i = 0; i < ns->n_handles; i++) {
		const struct handle_ent *h = &ns->handles[i];

		if (h->family == family && !strcmp(h->table, table) && !h->chain == !chain &&
		    (!chain || !strcmp(h->chain, chain)))
			return h->handle;
	}
	return -1;
}

/* Trace messages name tables and chains; the section has their handles
 * too (doc/events.md §4.13): cached per namespace, refreshed after a
 * ruleset change and on a miss. */
static void handles_lookup(struct retisc_nft_nl *nl, struct nft_ns *ns, struct retisc_nft_trace *t)
{
	for (int pass = 0; pass < 2; pass++) {
		if (ns->stale || (pass && retisc_nft_now() - ns->refreshed > REFRESH_NS))
			handles_refresh(nl, ns);
		t->t_handle = handle_find(ns, t->family, t->table, NULL);
		t->c_handle = handle_find(ns, t->family, t->table, t->chain);
		if (t->t_handle >= 0 && t->c_handle >= 0)
			return;
	}
}

/* -------------------------------------------------------------------------
 * Reading messages.
 */

static struct id_ent *id_find(struct nft_ns *ns, uint32_t id)
{
	for (unsigned int i = 0; i < ID_CACHE; i++) {
		struct id_ent *e = &ns->ids[(ns->ids_next + ID_CACHE - 1 - i) % ID_CACHE];

		if (e->used && e->id == id)
			return e;
	}
	return NULL;
}

static void ns_trace(struct retisc_nft_nl *nl, struct nft_ns *ns, const struct nlmsghdr *nlh,
		     uint64_t now)
{
	struct retisc_nft_msg m;
	struct id_ent *ie;
	bool pass;
	int bit, err;

	nl->st.received++;
	err = retisc_nft_msg__parse(nlh, &m);
	if (err) {
		nl->api->log(RETISC_LOG_DEBUG, "nft: skipping a trace message: %s", strerror(-err));
		return;
	}
	/*
	 * Only the first message of each chain traversal carries the packet's
	 * headers; the others share its trace id.
	 */
	if (m.nh_len) {
		pass = retisc_nft_filter__match(nl->cfg.filter, &m);
		ie = &ns->ids[ns->ids_next++ % ID_CACHE];
		*ie = (struct id_ent){.id = m.t.id, .used = true, .pass = pass, .key = m.t.key};
	} else if ((ie = id_find(ns, m.t.id))) {
		pass = ie->pass;
		m.t.key = ie->key;
	} else {
		pass = !retisc_nft_filter__active(nl->cfg.filter);
	}
	if (!strcmp(m.t.table, RETISC_NFT_TRACE_TABLE)) {
		nl->st.own++;
		return;
	}
	if (!pass) {
		nl->st.filtered++;
		return;
	}
	bit = retisc_nft_verdict_bit(m.t.verdict);
	if (bit < 0 || !(nl->cfg.verdicts & (1ull << bit))) {
		nl->st.verdicts++;
		return;
	}
	handles_lookup(nl, ns, &m.t);
	m.t.recv_ts = now;
	retisc_nft_matcher__add_trace(nl->cfg.matcher, &m.t);
}

/* Read what ns's socket holds; true when it was read dry. */
static bool ns_read(struct retisc_nft_nl *nl, struct nft_ns *ns)
{
	int fd = mnl_socket_get_fd(ns->trace);

	for (int reads = 0; reads < READS_PER_TURN; reads++) {
		ssize_t n = recv(fd, nl->buf, RECV_BUF, MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const void *)nl->buf;
		uint64_t now;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The socket overran: messages were lost, go on. */
			if (errno == ENOBUFS) {
				nl->st.lost++;
				continue;
			}
			if (errno != EAGAIN && !nl->recv_err_logged) {
				nl->recv_err_logged = true;
				nl->api->log(RETISC_LOG_WARN,
					     "nft: reading trace messages in namespace %s: %s",
					     ns_label(ns), strerror(errno));
			}
			return true;
		}
		now = retisc_nft_now();
		for (len = (int)n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
				continue;
			if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWGEN)
				ns->stale = true;
			else if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_TRACE)
				ns_trace(nl, ns, nlh, now);
		}
	}
	return false;
}

/* Read the sockets; when all were read dry, every message queued before
 * t0 was read (what retisc_nft_nl__sync() waits for). */
static void drain_all(struct retisc_nft_nl *nl)
{
	uint64_t t0 = retisc_nft_now(), v;
	ssize_t r = read(nl->evfd, &v, sizeof(v));
	bool dry = true;

	(void)r;
	for (size_t i = 0; i < nl->n_ns; i++)
		if (!nl->ns[i].err && !ns_read(nl, &nl->ns[i]))
			dry = false;
	if (!dry)
		return;
	pthread_mutex_lock(&nl->lock);
	atomic_store(&nl->drained_to, t0);
	pthread_cond_broadcast(&nl->cond);
	pthread_mutex_unlock(&nl->lock);
}

static void *listen_main(void *arg)
{
	struct retisc_nft_nl *nl = arg;
	struct pollfd *fds = calloc(nl->n_ns + 1, sizeof(*fds));
	size_t n = 0;

	if (!fds)
		return NULL;
	fds[n++] = (struct pollfd){.fd = nl->evfd, .events = POLLIN};
	for (size_t i = 0; i < nl->n_ns; i++)
		if (!nl->ns[i].err)
			fds[n++] = (struct pollfd){.fd = mnl_socket_get_fd(nl->ns[i].trace),
						   .events = POLLIN};
	while (!atomic_load(&nl->stop)) {
		poll(fds, n, 100);
		drain_all(nl);
		retisc_nft_matcher__expire(nl->cfg.matcher, retisc_nft_now());
	}
	free(fds);
	return NULL;
}

void retisc_nft_nl__sync(struct retisc_nft_nl *nl, uint64_t ts)
{
	struct timespec deadline;
	uint64_t end;

	if (!nl || atomic_load(&nl->drained_to) >= ts)
		return;
	end = retisc_nft_now() + SYNC_WAIT_NS;
	deadline = (struct timespec){.tv_sec = (time_t)(end / 1000000000ull),
				     .tv_nsec = (long)(end % 1000000000ull)};
	pthread_mutex_lock(&nl->lock);
	if (nl->running)
		evfd_poke(nl->evfd);
	while (nl->running && atomic_load(&nl->drained_to) < ts) {
		if (pthread_cond_timedwait(&nl->cond, &nl->lock, &deadline) == ETIMEDOUT) {
			nl->sync_timeouts++;
			break;
		}
	}
	pthread_mutex_unlock(&nl->lock);
}

/* -------------------------------------------------------------------------
 * Life cycle.
 */

int retisc_nft_nl__probe(char *reason, size_t reason_sz)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *sk = sock_open(0);
	int grp = NFNLGRP_NFTRACE, err = 0;
	struct nlmsghdr *nlh;
	uint32_t seq = 1;
	ssize_t n;

	if (!sk) {
		err = -errno;
		snprintf(reason, reason_sz,
			 "kprobes are not available and a NETLINK_NETFILTER socket cannot be "
			 "opened for nf_tables trace messages (%s)",
			 strerror(-err));
		return err;
	}
	/* nf_tables must answer: its generation id is the smallest request.
	 * Asked before joining the group, so that only the answer comes. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, 0, seq);
	if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		err = -errno;
	n = err ? -1 : mnl_socket_recvfrom(sk, buf, sizeof(buf));
	if (!err &&
	    (n < 0 || mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(sk), NULL, NULL) < 0))
		err = -errno;
	if (err) {
		snprintf(reason, reason_sz,
			 "kprobes are not available and nf_tables does not answer on netlink "
			 "(%s)",
			 strerror(-err));
		goto out;
	}
	/* Joining needs CAP_NET_ADMIN in the namespace. */
	if (mnl_socket_setsockopt(sk, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		err = -errno;
		snprintf(reason, reason_sz,
			 "kprobes are not available and nf_tables trace messages cannot be read "
			 "(joining NFNLGRP_NFTRACE: %s)",
			 strerror(-err));
	}
out:
	mnl_socket_close(sk);
	return err;
}

struct retisc_nft_nl *retisc_nft_nl__new(const struct retisc_nft_nl_cfg *cfg)
{
	struct retisc_nft_nl *nl = calloc(1, sizeof(*nl));
	pthread_condattr_t ca;
	pthread_t setup;
	int err;

	if (!nl)
		return NULL;
	nl->cfg = *cfg;
	nl->api = cfg->api;
	nl->evfd = -1;
	pthread_mutex_init(&nl->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&nl->cond, &ca);
	pthread_condattr_destroy(&ca);
	nl->buf = malloc(RECV_BUF);
	nl->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!nl->buf || nl->evfd < 0) {
		err = nl->buf ? -errno : -ENOMEM;
		goto fail;
	}
	err = ns_list(nl);
	if (err)
		goto fail;
	/* Before any table exists, so that no SIGKILL finds one unguarded
	 * (doc/collectors.md §7.8); a namespace without one is a no-op then. */
	if (nl->cfg.system_changes) {
		const char **names = calloc(nl->n_ns, sizeof(*names));

		for (size_t i = 0; names && i < nl->n_ns; i++)
			names[i] = nl->ns[i].name;
		if (names)
			retisc_nft_guard__start(&nl->guard, nl->api, RETISC_NFT_TRACE_TABLE, names,
						nl->n_ns);
		free(names);
	}
	/* The set-up thread's namespace changes; ours never does. */
	err = -pthread_create(&setup, NULL, setup_main, nl);
	if (err)
		goto fail;
	pthread_join(setup, NULL);
	if (nl->ns[0].err) {
		err = nl->ns[0].err;
		nl->api->log(RETISC_LOG_ERROR, "nft: cannot %s: %s",
			     nl->ns[0].table_added || !nl->ns[0].nft
				     ? "listen to nf_tables trace messages"
				     : "add the trace table inet " RETISC_NFT_TRACE_TABLE,
			     strerror(-err));
		goto fail;
	}
	for (size_t i = 1; i < nl->n_ns; i++) {
		struct nft_ns *ns = &nl->ns[i];

		if (!ns->err) {
			nl->st.n_ns++;
			continue;
		}
		/* A namespace deleted since the listing is no loss. */
		nl->api->log(ns->err == -ENOENT ? RETISC_LOG_DEBUG : RETISC_LOG_WARN,
			     "nft: namespace %s left out (%s%s): its trace messages are not read",
			     ns->name,
			     ns->nft && !ns->table_added ? "cannot add the trace table: " : "",
			     strerror(-ns->err));
	}
	nl->st.n_ns++;
	return nl;
fail:
	retisc_nft_nl__free(nl);
	errno = -err;
	return NULL;
}

int retisc_nft_nl__start(struct retisc_nft_nl *nl)
{
	int groups[] = {NFNLGRP_NFTRACE, NFNLGRP_NFTABLES};
	int err;

	for (size_t i = 0; i < nl->n_ns; i++) {
		struct nft_ns *ns = &nl->ns[i];

		for (size_t g = 0; !ns->err && g < sizeof(groups) / sizeof(groups[0]); g++)
			if (mnl_socket_setsockopt(ns->trace, NETLINK_ADD_MEMBERSHIP, &groups[g],
						  sizeof(groups[g])) < 0)
				ns->err = -errno;
		if (ns->err && i == 0)
			return ns->err;
	}
	atomic_store(&nl->drained_to, retisc_nft_now());
	err = -pthread_create(&nl->thread, NULL, listen_main, nl);
	if (err)
		return err;
	pthread_mutex_lock(&nl->lock);
	nl->running = true;
	pthread_mutex_unlock(&nl->lock);
	return 0;
}

void retisc_nft_nl__stop(struct retisc_nft_nl *nl)
{
	if (!nl || !nl->running)
		return;
	atomic_store(&nl->stop, true);
	evfd_poke(nl->evfd);
	pthread_join(nl->thread, NULL);
	pthread_mutex_lock(&nl->lock);
	nl->running = false;
	pthread_cond_broadcast(&nl->cond);
	pthread_mutex_unlock(&nl->lock);
	/* What came since the thread's last turn. */
	drain_all(nl);
	if (nl->sync_timeouts)
		nl->api->log(RETISC_LOG_DEBUG,
			     "nft: the bus thread waited for trace messages in vain %llu time(s)",
			     (unsigned long long)nl->sync_timeouts);
}

void retisc_nft_nl__stats(struct retisc_nft_nl *nl, struct retisc_nft_nl_stats *out)
{
	*out = nl->st;
}

void retisc_nft_nl__free(struct retisc_nft_nl *nl)
{
	if (!nl)
		return;
	retisc_nft_nl__stop(nl);
	for (size_t i = 0; nl->ns && i < nl->n_ns; i++) {
		struct nft_ns *ns = &nl->ns[i];

		table_del(nl, ns);
		if (ns->nft)
			nft_ctx_free(ns->nft);
		if (ns->trace)
			mnl_socket_close(ns->trace);
		if (ns->query)
			mnl_socket_close(ns->query);
		handles_clear(ns);
	}
	retisc_nft_guard__release(nl->guard);
	free(nl->ns);
	free(nl->buf);
	if (nl->evfd >= 0)
		close(nl->evfd);
	pthread_cond_destroy(&nl->cond);
	pthread_mutex_destroy(&nl->lock);
	free(nl);
}
