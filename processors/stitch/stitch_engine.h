/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cross-host stitching (doc/fleet.md §4): the events of several hosts are
 * grouped into series per host (tracking id), series of different hosts
 * are matched by packet identity (retisc/pkt_ident.h, never by tracking
 * id, which is per host), each host's clock offset to the first host is
 * estimated from the matched packets, and matched series become one
 * journey ordered on the first host's clock.
 *
 * Not thread-safe (processors run on the main thread).
 */
#ifndef __RETISC_STITCH_ENGINE_H
#define __RETISC_STITCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

struct stitch;

/* How a host's clock relates to the first host's (host 0). */
struct stitch_offset {
	int64_t ns;	/* add to the host's wall times */
	size_t matches; /* matched packets it was estimated from */
	bool two_way;	/* packets both ways: the link delay cancels */
	int via;	/* the host whose packets gave it: 0, else a host
			 * aligned before (this host exchanged none with 0) */
};

/* window_ns: how far apart (after the offset) two sightings of one packet
 * on two hosts may be. NULL + errno. */
struct stitch *stitch__new(const struct retisc_api *api, int64_t window_ns);
void stitch__free(struct stitch *s);
/* At most this many hosts (one bit each per journey). */
#define STITCH_MAX_HOSTS 64

/* A host; returns its index (0 is the reference clock), -E2BIG past
 * STITCH_MAX_HOSTS or -ENOMEM. */
int stitch__add_host(struct stitch *s, const char *name);
/* One event of host (owned by s from the call on, also on error). The
 * host's startup event gives its clock offset. 0 or -errno. */
int stitch__add_event(struct stitch *s, int host, struct retisc_json *ev);
/* The host's next events belong to the run of its startup event i (runs
 * of one host interleave in a stream): 0 or -EINVAL. */
int stitch__use_run(struct stitch *s, int host, size_t i);
/* Match, estimate, assemble. 0 or -errno. */
int stitch__run(struct stitch *s);

size_t stitch__n_hosts(const struct stitch *s);
const char *stitch__host_name(const struct stitch *s, int host);
const struct stitch_offset *stitch__offset(const struct stitch *s, int host);
/* Journeys in order of their first event (reference clock). */
size_t stitch__n_journeys(const struct stitch *s);
size_t stitch__journey_len(const struct stitch *s, size_t j);
/* Hosts a journey visits. */
size_t stitch__journey_hosts(const struct stitch *s, size_t j);
/* Event i of journey j (time order, reference clock): its host and time. */
const struct retisc_json *stitch__journey_event(const struct stitch *s, size_t j, size_t i,
						int *host, int64_t *wall_ns);
/* The host's startup events (one per run), in input order. */
size_t stitch__host_startups(const struct stitch *s, int host);
const struct retisc_json *stitch__host_startup(const struct stitch *s, int host, size_t i);
/* The first event of the series (one host, one tracking id) that event i
 * of journey j belongs to; NULL for an untracked event. */
const struct retisc_json *stitch__journey_head(const struct stitch *s, size_t j, size_t i);

#endif
