/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw `mark` section, shared by the hook and the plugin: fixed-width types
 * only, no includes (the hook gets the types from vmlinux.h, userspace from
 * <linux/types.h>).
 */
#ifndef __MARK_H
#define __MARK_H

#define MARK_DATA_TYPE 1

struct mark_raw {
	__u32 mark;
	__u32 priority;
};

#endif
