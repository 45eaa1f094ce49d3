// SPDX-License-Identifier: GPL-2.0-only
/* Root's trust rule for plugins and profiles (trust.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trust.h"

int retisc_trust__check(const struct stat *st, bool dir, char *why, size_t whysz)
{
	bool open_mode = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;

	if (geteuid() != 0)
		return 0;
	if (dir && (st->st_mode & S_ISVTX))
		open_mode = false;
	if (!open_mode && st->st_uid == 0)
		return 0;
	snprintf(why, whysz, "writable by a non-root user (mode %03o, owner uid %u)",
		 (unsigned int)(st->st_mode & 07777), (unsigned int)st->st_uid);
	return -EPERM;
}

void retisc_trust__dirname(const char *path, char *dir, size_t dirsz)
{
	char *slash;

	snprintf(dir, dirsz, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, dirsz, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
}

int retisc_trust__open(const char *path, bool check, bool *bad_dir, char *why, size_t whysz)
{
	char dir[PATH_MAX];
	struct stat st;
	int fd, err;

	*bad_dir = false;
	/* O_NONBLOCK: a FIFO named like a plugin must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		err = -EINVAL;
		goto fail;
	}
	if (!check)
		return fd;
	err = retisc_trust__check(&st, false, why, whysz);
	if (err)
		goto fail;
	retisc_trust__dirname(path, dir, sizeof(dir));
	if (stat(dir, &st) == 0 && (err = retisc_trust__check(&st, true, why, whysz))) {
		*bad_dir = true;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}
