/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc's version, and the Retis event format its files are written in
 * (doc/files.md §3: Retis reads retis_version to choose its fix-ups, so the
 * startup event keeps it and adds retisc_version).
 */
#ifndef __RETISC_VERSION_H
#define __RETISC_VERSION_H

#define RETISC_VERSION "0.1.0"
#define RETISC_EVENT_FORMAT "v1.7.0"

#endif
