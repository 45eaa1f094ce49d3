/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What root may load or read: plugins (code) and profiles (command lines).
 * A file, or the directory holding it, that another user can write would
 * hand root to that user. One module for both, so that the rule cannot
 * drift between them.
 *
 * The rule, applied only when running as root (euid 0): the node is owned
 * by root and not writable by group or others; a directory with the sticky
 * bit (/tmp, mode 1777) is fine, since nobody else can replace or rename
 * root's files in it.
 */
#ifndef __RETISC_TRUST_H
#define __RETISC_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * 0 if st (of a directory when dir) passes the rule, else -EPERM with why
 * set to "writable by a non-root user (mode 0755, owner uid 1000)".
 */
int retisc_trust__check(const struct stat *st, bool dir, char *why, size_t whysz);

/* The directory holding path, as a string: "." or "/" included. */
void retisc_trust__dirname(const char *path, char *dir, size_t dirsz);

/*
 * Open path read-only (O_CLOEXEC) and check the opened file, so that the
 * file checked is the file used (no window between check and use), then
 * its directory. Returns the fd, or a negative errno: -EPERM with why set
 * and *bad_dir true when the directory failed, -EINVAL when path is not a
 * regular file. With check false the rule is skipped (the caller's
 * override), the file is still opened and must still be regular.
 */
int retisc_trust__open(const char *path, bool check, bool *bad_dir, char *why, size_t whysz);

#endif
