// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector: the cleanup guardian (doc/collectors.md §7.8). The trace
 * tables the collector adds (`inet retisc_table` on the kprobe path,
 * `inet retisc_trace` in every namespace on the netlink path) are removed
 * by stop(); a SIGKILL (or a crash) skips stop(), and the tables would
 * stay, tracing every packet of the machine for nobody.
 *
 * So before adding a table the collector forks a child that outlives it:
 *
 *  - the parent keeps the write end of a pipe (O_CLOEXEC, so that no
 *    command of --cmd holds it), the child only the read end and stderr,
 *    and blocks in read(). The kernel closes the write end however the
 *    parent ends: read() returns 0 and the child removes the tables, then
 *    exits. After a normal stop() (which removed them itself) the parent
 *    writes one byte instead: the child exits without doing anything and
 *    the parent reaps it.
 *  - PR_SET_PDEATHSIG was the other candidate. It fires when the *thread*
 *    that forked exits, not the process, and a signal handler would then
 *    have to do the work; the pipe's EOF says "the process is gone" and
 *    nothing else, on every path, with no race against the parent dying
 *    before the child is ready (the write end is closed only then).
 *  - retisc may run threads when the collector starts (plugins, libbpf):
 *    after fork() the child may only call async-signal-safe functions. It
 *    therefore never calls libnftables: the parent builds the netlink
 *    batch (BEGIN, DELTABLE inet NAME, END) before fork(), and the child
 *    only does system calls: open() and setns() for each namespace path,
 *    socket(), sendto(), recv(), write(), _exit().
 *  - the child leaves retisc's session (setsid()) and ignores the
 *    terminal's signals: a Ctrl-C or `kill -- -PGID` aimed at retisc must
 *    not take the guardian away with it.
 *
 * Namespaces are named by path (/run/netns/NAME) and opened only at
 * cleanup, so that the guardian never holds one alive; "" is retisc's own,
 * the one the child starts in, handled first.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "nft_int.h"

#define GUARD_BATCH 512
#define GUARD_PATH 300

struct retisc_nft_guard {
	pid_t pid;
	int wfd;
	const struct retisc_api *api;
};

/* The child's whole state, filled before fork(). */
struct guard_plan {
	char batch[GUARD_BATCH];
	size_t batch_len;
	char (*paths)[GUARD_PATH]; /* "" for retisc's own namespace */
	size_t n;
	const char *table;
};

static int batch_build(struct guard_plan *p, const char *table)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(p->batch, sizeof(p->batch));
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!b || !t) {
		if (b)
			mnl_nlmsg_batch_stop(b);
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), 1);
	mnl_nlmsg_batch_next(b);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_DELTABLE, NFPROTO_INET,
				    NLM_F_ACK, 2);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), 3);
	mnl_nlmsg_batch_next(b);
	p->batch_len = mnl_nlmsg_batch_size(b);
	mnl_nlmsg_batch_stop(b);
	nftnl_table_free(t);
	return 0;
}

/* Async-signal-safe from here to the end of the child. */
static void child_say(const char *a, const char *b, const char *c)
{
	const char *parts[] = {"retisc nft guardian: ", a, b, c, "\n"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		ssize_t r = write(STDERR_FILENO, parts[i], strlen(parts[i]));

		(void)r;
	}
}

/* The table removed in the calling process's namespace: 0, or the
 * kernel's negative errno (-ENOENT: it was already gone). */
static int child_delete(const struct guard_plan *p)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	char buf[1024];
	int fd, err = -EIO;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	if (sendto(fd, p->batch, p->batch_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	/* The DELTABLE's ack (the batch markers have none). */
	n = recv(fd, buf, sizeof(buf), 0);
	if (n >= (ssize_t)(NLMSG_HDRLEN + sizeof(struct nlmsgerr))) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (nlh->nlmsg_type == NLMSG_ERROR)
			err = ((const struct nlmsgerr *)NLMSG_DATA(nlh))->error;
	} else if (n < 0) {
		err = -errno;
	}
out:
	close(fd);
	return err;
}

static void __attribute__((noreturn)) child_main(const struct guard_plan *p, int rfd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	char c;
	ssize_t n;

	setsid();
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	prctl(PR_SET_NAME, "retisc-nftguard", 0, 0, 0);
	/* Nothing of retisc's stays open here but the pipe and stderr: no BPF
	 * object, no output file, no terminal input. */
	if (rfd != 3) {
		dup2(rfd, 3);
		rfd = 3;
	}
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	syscall(SYS_close_range, 4, ~0U, 0);
	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	/* One byte: the parent removed the tables itself. */
	if (n == 1)
		_exit(0);
	for (size_t i = 0; i < p->n; i++) {
		int err;

		if (p->paths[i][0]) {
			int fd = open(p->paths[i], O_RDONLY | O_CLOEXEC);

			/* A namespace deleted meanwhile took its tables along. */
			if (fd < 0)
				continue;
			err = setns(fd, CLONE_NEWNET) ? -errno : 0;
			close(fd);
			if (err) {
				child_say("cannot enter ", p->paths[i], ": table left behind");
				continue;
			}
		}
		err = child_delete(p);
		if (err && err != -ENOENT)
			child_say("cannot delete table inet ", p->table,
				  p->paths[i][0] ? " in a namespace" : "");
	}
	_exit(0);
}

int retisc_nft_guard__start(struct retisc_nft_guard **out, const struct retisc_api *api,
			    const char *table, const char *const *ns_names, size_t n)
{
	struct retisc_nft_guard *g = calloc(1, sizeof(*g));
	struct guard_plan p = {.table = table, .n = n};
	int pfd[2] = {-1, -1};
	int err;

	*out = NULL;
	p.paths = calloc(n ?: 1, sizeof(*p.paths));
	if (!g || !p.paths) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (ns_names[i][0])
			snprintf(p.paths[i], sizeof(p.paths[i]), "/run/netns/%s", ns_names[i]);
	err = batch_build(&p, table);
	if (err)
		goto fail;
	if (pipe2(pfd, O_CLOEXEC)) {
		err = -errno;
		goto fail;
	}
	g->pid = fork();
	if (g->pid < 0) {
		err = -errno;
		goto fail;
	}
	if (!g->pid)
		child_main(&p, pfd[0]);
	close(pfd[0]);
	g->wfd = pfd[1];
	g->api = api;
	free(p.paths);
	*out = g;
	return 0;
fail:
	api->log(RETISC_LOG_WARN,
		 "nft: no cleanup guardian (%s): a SIGKILL of retisc would leave table inet %s "
		 "behind",
		 strerror(-err), table);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	free(p.paths);
	free(g);
	return err;
}

void retisc_nft_guard__release(struct retisc_nft_guard *g)
{
	ssize_t r;

	if (!g)
		return;
	r = write(g->wfd, "q", 1);
	(void)r;
	close(g->wfd);
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(g);
}
